#pragma once
// PromptInspector ("search via inference"): type text, run it through the model
// and the SAE on a worker thread, and see which features fire — the prompt's
// tokens shaded by a chosen feature's activation, and the ranked list of
// features (by activation relative to each feature's maximum in the store).
// Clicking a feature in the list opens its dashboard (featureRequested).
// Hovering the shaded prompt computes the chosen feature's token effects (the
// change in each later token's log-probability when it is ablated) on a worker.

#include <QHash>
#include <QWidget>

#include <memory>
#include <vector>

#include "core/features/inference_search.h"
#include "ui/widgets/error_reporter.h"

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace mono::ui {

class JobRunner;
class TokenEffectsService;
class TokenStrip;
class WorkspaceSession;

class PromptInspector : public QWidget {
    Q_OBJECT
public:
    // `session` must outlive the inspector.
    explicit PromptInspector(WorkspaceSession* session, QWidget* parent = nullptr);
    ~PromptInspector() override;

    void setErrorReporter(ErrorReporter reporter) { m_reportError = std::move(reporter); }
    void setPrompt(const QString& text);
    QString prompt() const;
    // Whether a model and an SAE are loaded, so inspect() can run.
    bool canInspect() const;
    bool isBusy() const;

    const features::PromptResult& result() const { return m_result; }
    // The feature whose activation shades the tokens (-1: none).
    qint64 heatmapFeature() const { return m_heatmapFeature; }
    void setHeatmapFeature(qint64 id);
    TokenStrip* heatmap() const { return m_heatmap; }
    TokenEffectsService* tokenEffects() const { return m_effects; }
    QTableWidget* rankedTable() const { return m_ranked; }
    // The line beside Inspect ("30 tokens, 412 features fire (the 100 strongest listed)").
    QString statusText() const;

public slots:
    void inspect();

signals:
    void featureRequested(qint64 id);
    void inspected();  // a result arrived
    void inspectFailed(const QString& message);

private:
    void updateActions();
    void showResult();
    void showTokenDetails(int tokenIndex);
    std::vector<int32_t> promptTokens() const;
    void connectTokenEffects();

    WorkspaceSession* m_session;
    JobRunner* m_runner;
    TokenEffectsService* m_effects;
    ErrorReporter m_reportError;
    features::PromptResult m_result;
    QHash<qint64, QString> m_labels;
    qint64 m_heatmapFeature = -1;
    // Each feature's max activation in the store, for scores; per store path.
    QString m_storeMaxPath;
    std::shared_ptr<const std::vector<float>> m_storeMax;

    QPlainTextEdit* m_prompt = nullptr;
    QPushButton* m_inspect = nullptr;
    QLabel* m_status = nullptr;
    QSpinBox* m_feature = nullptr;
    TokenStrip* m_heatmap = nullptr;
    QLabel* m_tokenDetails = nullptr;
    QTableWidget* m_ranked = nullptr;
};

}  // namespace mono::ui
