#pragma once
// The Generate panel: open a model, see its configuration, type a prompt and
// watch the continuation stream in. Loading goes through the ModelSession;
// generation runs as a job (ui/jobs) whose tokens reach the output view through
// a TextStream, so the window stays responsive and Stop works at any token.

#include <QElapsedTimer>
#include <QWidget>

#include <memory>

#include "ui/widgets/error_reporter.h"

class QCheckBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace mono::ui {

class JobRunner;
class ModelSession;
class TextStream;

// The sampling controls' values, copied into the generation job when it starts.
struct GenerateSettings {
    int maxNewTokens = 200;
    double temperature = 0.0;  // 0: greedy
    int topK = 0;              // 0: off
    double topP = 1.0;         // 1: off
    quint64 seed = 0;
    bool stopAtEos = true;
};

class GeneratePanel : public QWidget {
    Q_OBJECT
public:
    // `session` must outlive the panel.
    explicit GeneratePanel(ModelSession* session, QWidget* parent = nullptr);
    ~GeneratePanel() override;

    // Opens a model exactly as "Open model…" does after its dialogs.
    void openModel(const QString& path, const QString& tokenizerPath = {});
    // Shows the dialogs, then opens the model.
    void openModelInteractive();

    void setErrorReporter(ErrorReporter reporter) { m_reportError = std::move(reporter); }

    GenerateSettings settings() const;
    void setSettings(const GenerateSettings& settings);
    QString prompt() const;
    void setPrompt(const QString& text);

    bool isGenerating() const;
    // The output view's text: the prompt followed by the continuation.
    QString outputText() const;
    // The generated text only.
    QString continuationText() const { return m_continuation; }
    int generatedTokens() const { return m_generatedTokens; }

public slots:
    void generate();
    void stop();

signals:
    void generationStarted();
    // ok: the continuation ended normally (length, EOS) or was stopped by the user.
    void generationFinished(bool ok);

private:
    QWidget* buildModelColumn();
    QWidget* buildGenerateColumn();
    void updateModelView();
    void updateActions();
    void onLoadStarted(const QString& path);
    void onLoadFailed(const QString& path, const QString& message);
    void appendContinuation(const QString& text, int tokens);
    void finishGeneration(const QString& summary, bool ok);
    void setOutcome(const QString& text);

    ModelSession* m_session;
    JobRunner* m_runner;
    ErrorReporter m_reportError;
    std::shared_ptr<TextStream> m_stream;
    QElapsedTimer m_clock;
    QString m_continuation;
    int m_generatedTokens = 0;
    int m_maxTokensOfRun = 0;

    // Model column.
    QLabel* m_modelName = nullptr;
    QLabel* m_modelPath = nullptr;
    QPushButton* m_openButton = nullptr;
    QCheckBox* m_bf16Weights = nullptr;
    QProgressBar* m_busy = nullptr;
    QLabel* m_busyLabel = nullptr;
    QFormLayout* m_configForm = nullptr;
    QLabel* m_configEmpty = nullptr;

    // Generate column.
    QPlainTextEdit* m_prompt = nullptr;
    QSpinBox* m_maxTokens = nullptr;
    QDoubleSpinBox* m_temperature = nullptr;
    QSpinBox* m_topK = nullptr;
    QDoubleSpinBox* m_topP = nullptr;
    QSpinBox* m_seed = nullptr;
    QCheckBox* m_stopAtEos = nullptr;
    QPushButton* m_generateButton = nullptr;
    QPushButton* m_stopButton = nullptr;
    QPlainTextEdit* m_output = nullptr;
    QLabel* m_outcome = nullptr;
};

}  // namespace mono::ui
