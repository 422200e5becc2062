#pragma once
// FeatureDashboard: everything the store knows about one feature — label and
// notes (editable, saved to the store as you go), density and activation
// statistics, the activation histogram, top examples and interval samples as
// shaded token strips, the output tokens it promotes and suppresses, and its
// nearest and co-firing features as links. "Steer with this feature" hands
// the feature to the steering panel through steerRequested(). With a workspace
// session, its quality metrics (metrics.json) show beside the statistics, and
// hovering an example computes its token effects when a model is open.
// The record is read synchronously: one indexed lookup (see docs/BENCHMARKS.md).

#include <QHash>
#include <QStringList>
#include <QTimer>
#include <QWidget>

#include <vector>

#include "core/features/feature_store.h"
#include "ui/widgets/error_reporter.h"

class QCPBars;
class QCustomPlot;
class QBoxLayout;
class QLabel;
class QMenu;
class QToolButton;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QScrollArea;
class QVBoxLayout;

namespace mono::ui {

class FeatureStoreHandle;
class TokenEffectsService;
class TokenStrip;
class WorkspaceSession;

class FeatureDashboard : public QWidget {
    Q_OBJECT
public:
    // `store` must outlive the dashboard.
    explicit FeatureDashboard(FeatureStoreHandle* store, QWidget* parent = nullptr);

    void setErrorReporter(ErrorReporter reporter) { m_reportError = std::move(reporter); }
    // Enables per-feature quality metrics and token effects (`session` must
    // outlive the dashboard).
    void setWorkspaceSession(WorkspaceSession* session);
    TokenEffectsService* tokenEffects() const { return m_effectsService; }
    // The example strips shown now (top examples, then interval samples).
    QList<TokenStrip*> exampleStrips() const;
    // The per-feature quality line ("max decoder cosine 0.41 · …"), "" when none.
    QString qualityText() const;

    // Shows feature `id` (saving unsaved edits of the one shown before).
    // Returns false, and shows why, when the store has no such feature.
    bool showFeature(qint64 id);
    void clear();
    qint64 currentFeature() const { return m_id; }
    const features::FeatureRecord& record() const { return m_record; }

    // The text of each top example, as its token strip reads.
    QStringList topExampleTexts() const;
    QLineEdit* labelEdit() const { return m_label; }
    QPlainTextEdit* notesEdit() const { return m_notes; }
    // Writes the label and notes when they differ from the store. False on error (reported).
    bool saveAnnotations();
    // Scrolls so that the logit effects and related features are at the top.
    void revealEffects();
    // Underlines these search words in every example (empty: none).
    void setHighlight(const QString& text);
    // Enables the back / forward buttons (the history is the Features view's).
    void setNavigation(bool canGoBack, bool canGoForward);
    // The Export button's menu (filled by the Features view).
    QMenu* exportMenu() const;
    QToolButton* backButton() const { return m_back; }
    QToolButton* forwardButton() const { return m_forward; }

    // Below this width the side-by-side boxes stack.
    static constexpr int kStackBelowWidth = 620;

signals:
    // A link to another feature was clicked.
    void featureRequested(qint64 id);
    // "Steer with this feature" was clicked.
    void steerRequested(int featureId);
    void featureShown(qint64 id);
    void backRequested();
    void forwardRequested();

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    QWidget* buildHeader();
    QWidget* buildStats();
    QWidget* buildRelated();
    void populate();
    void fillExamples();
    void fillHistogram();
    void fillRelated();
    void fillQuality();
    // Remembers the example's tokens so hovering `strip` computes its effects.
    void watchEffects(TokenStrip* strip, const features::Example& example);
    void showEffects(const std::vector<int32_t>& tokens, qint64 feature,
                     const QVector<float>& deltas);

    FeatureStoreHandle* m_store;
    ErrorReporter m_reportError;
    qint64 m_id = -1;
    features::FeatureRecord m_record;
    QTimer m_notesTimer;  // saves notes shortly after typing stops

    QScrollArea* m_scroll = nullptr;
    QLabel* m_title = nullptr;
    QToolButton* m_back = nullptr;
    QToolButton* m_forward = nullptr;
    QToolButton* m_export = nullptr;
    QBoxLayout* m_effectsRow = nullptr;
    QBoxLayout* m_statsRow = nullptr;
    QLabel* m_empty = nullptr;
    QWidget* m_body = nullptr;
    QLineEdit* m_label = nullptr;
    QPlainTextEdit* m_notes = nullptr;
    QLabel* m_saved = nullptr;
    QPushButton* m_steer = nullptr;
    QLabel* m_density = nullptr;
    QLabel* m_fires = nullptr;
    QLabel* m_max = nullptr;
    QLabel* m_mean = nullptr;
    QLabel* m_quality = nullptr;
    WorkspaceSession* m_session = nullptr;
    TokenEffectsService* m_effectsService = nullptr;
    QHash<TokenStrip*, std::vector<int32_t>> m_stripTokens;  // the example each strip shows
    QCustomPlot* m_histogram = nullptr;
    QCPBars* m_histogramBars = nullptr;
    QLabel* m_positive = nullptr;
    QLabel* m_negative = nullptr;
    QLabel* m_neighbours = nullptr;
    QLabel* m_coFiring = nullptr;
    QVBoxLayout* m_topLayout = nullptr;
    QVBoxLayout* m_intervalLayout = nullptr;
    QWidget* m_topExamples = nullptr;
    QWidget* m_intervalExamples = nullptr;
    QLabel* m_noExamples = nullptr;
    QWidget* m_effects = nullptr;
    QList<TokenStrip*> m_topStrips;  // reused from feature to feature
    QList<TokenStrip*> m_intervalStrips;
    QList<QLabel*> m_binLabels;
    QStringList m_highlight;
};

}  // namespace mono::ui
