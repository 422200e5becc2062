#include "ui/panels/features/feature_history.h"

namespace mono::ui {

void FeatureHistory::visit(qint64 id) {
    if (current() == id) return;
    m_entries.resize(m_at + 1);
    m_entries.append(id);
    if (m_entries.size() > kMaxEntries) m_entries.removeFirst();
    m_at = m_entries.size() - 1;
}

qint64 FeatureHistory::back() {
    if (!canGoBack()) return -1;
    return m_entries[--m_at];
}

qint64 FeatureHistory::forward() {
    if (!canGoForward()) return -1;
    return m_entries[++m_at];
}

void FeatureHistory::clear() {
    m_entries.clear();
    m_at = -1;
}

}  // namespace mono::ui
