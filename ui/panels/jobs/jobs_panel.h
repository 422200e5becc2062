#pragma once
// JobsPanel: the workspace's long jobs — capture activations, train an SAE,
// analyse its features, evaluate it in the model — each a short form, run one
// at a time on a worker thread (ui/jobs). Progress, elapsed and remaining time,
// live metrics and Cancel are shown for whichever job runs; training also
// draws its curves in the TrainingMonitor. A cancelled or interrupted job is
// resumed by starting it again: capture and analysis continue where they
// stopped, training from its checkpoint ("Resume"). A capture that got fewer
// tokens than asked, and a training that would repeat the captured tokens,
// say so in the log.

#include <QList>
#include <QVariantMap>
#include <QWidget>

#include <functional>

#include "ui/jobs/workspace_jobs.h"
#include "ui/widgets/error_reporter.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QSpinBox;

namespace mono::ui {

class JobProgressView;
class JobRunner;
class TrainingMonitor;
class WorkspaceSession;

class JobsPanel : public QWidget {
    Q_OBJECT
public:
    // `session` must outlive the panel.
    explicit JobsPanel(WorkspaceSession* session, QWidget* parent = nullptr);
    ~JobsPanel() override;

    void setErrorReporter(ErrorReporter reporter) { m_reportError = std::move(reporter); }

    // Start a job now (the forms' buttons call these with the forms' values).
    void startCapture(const CaptureJobSpec& spec);
    void startTraining(const TrainJobSpec& spec);
    void startAnalysis(const AnalyseJobSpec& spec);
    void startEvaluation(const EvalJobSpec& spec);
    // Runs capture, then training, then analysis, each after the one before succeeded.
    void startPipeline(const CaptureJobSpec& capture, const TrainJobSpec& train,
                       const AnalyseJobSpec& analyse);

    bool isBusy() const;
    JobRunner* runner() const { return m_runner; }
    TrainingMonitor* monitor() const { return m_monitor; }
    JobProgressView* progressView() const { return m_progress; }
    // The outcome lines, newest last.
    QStringList log() const;

    // The training form's values.
    TrainJobSpec trainSpecFromForm() const;
    // Types `spec`'s name, architecture, sizes and rates into the training form
    // (the hook stays the capture form's).
    void setTrainForm(const TrainJobSpec& spec);

signals:
    void jobSucceeded(const QString& label);

private:
    QWidget* buildForms();
    QWidget* buildTrainForm();
    void refreshForms();
    void updateActions();
    // Adds a line to the log and, with its outcome and metrics, to the
    // workspace's job history ("note" lines are the log's alone).
    void appendLog(const QString& line, const QString& outcome = QStringLiteral("note"),
                   const QVariantMap& metrics = {});
    void loadHistory();
    void runNext();

    enum class JobKind { kCapture, kTrain, kAnalyse, kEvaluate };

    WorkspaceSession* m_session;
    JobRunner* m_runner;
    JobKind m_currentKind = JobKind::kCapture;
    ErrorReporter m_reportError;
    QList<std::function<void()>> m_queue;  // pipeline steps still to start

    JobProgressView* m_progress = nullptr;
    TrainingMonitor* m_monitor = nullptr;
    QListWidget* m_log = nullptr;

    QComboBox* m_captureHook = nullptr;
    QSpinBox* m_captureTokens = nullptr;
    QCheckBox* m_captureRestart = nullptr;
    QPushButton* m_captureStart = nullptr;

    QLineEdit* m_trainName = nullptr;
    QComboBox* m_trainArch = nullptr;
    QSpinBox* m_trainFeatures = nullptr;
    QSpinBox* m_trainK = nullptr;
    QDoubleSpinBox* m_trainL1 = nullptr;
    QSpinBox* m_trainTokens = nullptr;
    QSpinBox* m_trainBatch = nullptr;
    QDoubleSpinBox* m_trainLr = nullptr;
    QPushButton* m_trainStart = nullptr;
    QPushButton* m_trainResume = nullptr;

    QComboBox* m_analyseSae = nullptr;
    QSpinBox* m_analyseTokens = nullptr;
    QCheckBox* m_analyseFresh = nullptr;
    QPushButton* m_analyseStart = nullptr;

    QComboBox* m_evalSae = nullptr;
    QSpinBox* m_evalTokens = nullptr;
    QPushButton* m_evalStart = nullptr;
    QLabel* m_noWorkspace = nullptr;
};

}  // namespace mono::ui
