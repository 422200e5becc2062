#pragma once
// FeatureHistory: the features a researcher has looked at, in order, with a
// cursor — back and forward as in a web browser. Visiting a feature after
// going back drops the forward part. Plain data; the Features view drives it.

#include <QList>

namespace mono::ui {

class FeatureHistory {
public:
    static constexpr int kMaxEntries = 200;

    // Records `id` as the current feature (nothing when it already is).
    void visit(qint64 id);
    bool canGoBack() const { return m_at > 0; }
    bool canGoForward() const { return m_at + 1 < m_entries.size(); }
    // Moves the cursor and returns the feature there; -1 when it cannot move.
    qint64 back();
    qint64 forward();
    qint64 current() const { return m_at >= 0 ? m_entries[m_at] : -1; }
    void clear();

private:
    QList<qint64> m_entries;
    qsizetype m_at = -1;
};

}  // namespace mono::ui
