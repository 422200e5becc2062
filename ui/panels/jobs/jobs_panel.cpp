#include "ui/panels/jobs/jobs_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include <memory>

#include "ui/jobs/job_history.h"
#include "ui/jobs/job_runner.h"
#include "ui/panels/jobs/job_progress_view.h"
#include "ui/panels/jobs/training_monitor.h"
#include "ui/session/workspace_session.h"

namespace mono::ui {

namespace {

QSpinBox* countBox(int min, int max, int value, int step) {
    auto* box = new QSpinBox;
    box->setRange(min, max);
    box->setValue(value);
    box->setSingleStep(step);
    box->setGroupSeparatorShown(true);
    return box;
}

QPushButton* startButton(const QString& text) {
    auto* b = new QPushButton(text);
    b->setProperty("primary", true);  // styled as the main action (style.cpp)
    return b;
}

}  // namespace

JobsPanel::JobsPanel(WorkspaceSession* session, QWidget* parent)
    : QWidget(parent), m_session(session), m_runner(new JobRunner(this)) {
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    auto* splitter = new QSplitter(Qt::Horizontal);
    layout->addWidget(splitter);

    auto* scroll = new QScrollArea;
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(buildForms());
    scroll->setMinimumWidth(330);
    splitter->addWidget(scroll);

    auto* right = new QWidget;
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(4, 0, 0, 0);
    auto* progressBox = new QGroupBox(tr("Current job"));
    auto* progressLayout = new QVBoxLayout(progressBox);
    m_progress = new JobProgressView(m_runner);
    progressLayout->addWidget(m_progress);
    rightLayout->addWidget(progressBox);
    auto* monitorBox = new QGroupBox(tr("Training monitor"));
    auto* monitorLayout = new QVBoxLayout(monitorBox);
    m_monitor = new TrainingMonitor;
    monitorLayout->addWidget(m_monitor);
    rightLayout->addWidget(monitorBox, 1);
    auto* logBox = new QGroupBox(tr("Job history (kept in the workspace)"));
    auto* logLayout = new QVBoxLayout(logBox);
    m_log = new QListWidget;
    m_log->setObjectName(QStringLiteral("jobLog"));
    m_log->setMaximumHeight(90);
    logLayout->addWidget(m_log);
    rightLayout->addWidget(logBox);
    splitter->addWidget(right);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({340, 900});

    connect(m_runner, &JobRunner::busyChanged, this, &JobsPanel::updateActions);
    connect(m_runner, &JobRunner::failed, this,
            [this](quint64, const QString& label, const QString& message) {
                m_queue.clear();
                appendLog(tr("%1 failed: %2").arg(label, message), QStringLiteral("failed"));
                if (m_reportError) m_reportError(tr("%1 failed").arg(label), message);
            });
    connect(m_runner, &JobRunner::cancelled, this, [this](quint64) {
        m_queue.clear();
        // Training resumes from its checkpoint with Resume; capture and analysis
        // continue where they stopped when started again.
        const QString how = m_currentKind == JobKind::kTrain
                                ? tr("press Resume to continue from its checkpoint")
                            : m_currentKind == JobKind::kEvaluate
                                ? tr("start it again to evaluate from the beginning")
                                : tr("start it again: it continues where it stopped");
        const QString line = tr("%1 cancelled — %2").arg(m_runner->currentLabel(), how);
        appendLog(line, QStringLiteral("cancelled"));
        m_progress->showNote(line);
    });
    connect(m_runner, &JobRunner::succeeded, this,
            [this](quint64) { emit jobSucceeded(m_runner->currentLabel()); });
    connect(m_runner, &JobRunner::finished, this, [this](quint64) {
        refreshForms();
        if (!m_queue.isEmpty()) runNext();
    });
    connect(m_session, &WorkspaceSession::workspaceChanged, this, &JobsPanel::refreshForms);
    connect(m_session, &WorkspaceSession::workspaceChanged, this, &JobsPanel::loadHistory);
    // The forms follow the SAE chosen in the sidebar.
    connect(m_session, &WorkspaceSession::saeSelected, this, [this](const QString& name) {
        m_analyseSae->setCurrentText(name);
        m_evalSae->setCurrentText(name);
    });
    refreshForms();
}

JobsPanel::~JobsPanel() = default;

QWidget* JobsPanel::buildForms() {
    auto* forms = new QWidget;
    auto* column = new QVBoxLayout(forms);
    column->setContentsMargins(0, 0, 6, 0);
    m_noWorkspace = new QLabel(tr("Open or create a workspace (File menu) to run jobs on it."));
    m_noWorkspace->setObjectName(QStringLiteral("hint"));
    m_noWorkspace->setWordWrap(true);
    column->addWidget(m_noWorkspace);

    auto* capture = new QGroupBox(tr("1  Capture activations"));
    auto* cf = new QFormLayout(capture);
    m_captureHook = new QComboBox;
    m_captureTokens = countBox(1000, 1'000'000'000, 200'000, 10'000);
    m_captureRestart = new QCheckBox(tr("Start over (discard a partial capture)"));
    m_captureStart = startButton(tr("Capture"));
    m_captureStart->setToolTip(
        tr("Run the corpus through the model and store the hook's "
           "activations. An interrupted capture resumes."));
    cf->addRow(tr("Hook"), m_captureHook);
    cf->addRow(tr("Tokens"), m_captureTokens);
    cf->addRow(m_captureRestart);
    cf->addRow(m_captureStart);
    column->addWidget(capture);

    column->addWidget(buildTrainForm());

    auto* analyse = new QGroupBox(tr("3  Analyse features"));
    auto* af = new QFormLayout(analyse);
    m_analyseSae = new QComboBox;
    m_analyseTokens = countBox(0, 2'000'000'000, 0, 10'000);
    m_analyseTokens->setSpecialValueText(tr("all"));
    m_analyseFresh = new QCheckBox(tr("Start over (ignore a partial analysis)"));
    m_analyseStart = startButton(tr("Analyse"));
    m_analyseStart->setToolTip(
        tr("Find each feature's examples, histogram, logit effects and "
           "neighbours. An interrupted analysis resumes."));
    af->addRow(tr("SAE"), m_analyseSae);
    af->addRow(tr("Tokens"), m_analyseTokens);
    af->addRow(m_analyseFresh);
    af->addRow(m_analyseStart);
    column->addWidget(analyse);

    auto* eval = new QGroupBox(tr("4  Evaluate in the model"));
    auto* ef = new QFormLayout(eval);
    m_evalSae = new QComboBox;
    m_evalTokens = countBox(1000, 100'000'000, 20'000, 10'000);
    m_evalStart = startButton(tr("Evaluate"));
    m_evalStart->setToolTip(tr("Splice the SAE into the model and measure the loss it costs"));
    ef->addRow(tr("SAE"), m_evalSae);
    ef->addRow(tr("Tokens"), m_evalTokens);
    ef->addRow(m_evalStart);
    column->addWidget(eval);
    column->addStretch(1);

    connect(m_captureStart, &QPushButton::clicked, this, [this] {
        CaptureJobSpec spec;
        spec.workspaceDir = m_session->dir().toStdString();
        spec.hook = m_captureHook->currentText().toStdString();
        spec.tokens = m_captureTokens->value();
        spec.restart = m_captureRestart->isChecked();
        startCapture(spec);
    });
    connect(m_trainStart, &QPushButton::clicked, this,
            [this] { startTraining(trainSpecFromForm()); });
    connect(m_trainResume, &QPushButton::clicked, this, [this] {
        TrainJobSpec spec = trainSpecFromForm();
        spec.resume = true;
        startTraining(spec);
    });
    connect(m_analyseStart, &QPushButton::clicked, this, [this] {
        AnalyseJobSpec spec;
        spec.workspaceDir = m_session->dir().toStdString();
        spec.saeName = m_analyseSae->currentText().toStdString();
        spec.tokens = m_analyseTokens->value();
        spec.fresh = m_analyseFresh->isChecked();
        startAnalysis(spec);
    });
    connect(m_evalStart, &QPushButton::clicked, this, [this] {
        EvalJobSpec spec;
        spec.workspaceDir = m_session->dir().toStdString();
        spec.saeName = m_evalSae->currentText().toStdString();
        spec.tokens = m_evalTokens->value();
        startEvaluation(spec);
    });
    return forms;
}

QWidget* JobsPanel::buildTrainForm() {
    auto* train = new QGroupBox(tr("2  Train an SAE"));
    auto* tf = new QFormLayout(train);
    m_trainName = new QLineEdit(QStringLiteral("topk-1024"));
    m_trainName->setObjectName(QStringLiteral("trainName"));
    m_trainArch = new QComboBox;
    m_trainArch->addItem(QStringLiteral("TopK"), int(sae::Architecture::kTopK));
    m_trainArch->addItem(QStringLiteral("BatchTopK"), int(sae::Architecture::kBatchTopK));
    m_trainArch->addItem(tr("ReLU + L1"), int(sae::Architecture::kStandard));
    m_trainFeatures = countBox(8, 1 << 22, 1024, 256);
    m_trainFeatures->setObjectName(QStringLiteral("trainFeatures"));
    m_trainK = countBox(1, 4096, 16, 1);
    m_trainK->setObjectName(QStringLiteral("trainK"));
    m_trainL1 = new QDoubleSpinBox;
    m_trainL1->setObjectName(QStringLiteral("trainL1"));
    m_trainL1->setRange(0, 1000);
    m_trainL1->setValue(5.0);
    m_trainTokens = countBox(1000, 2'000'000'000, 2'000'000, 100'000);
    m_trainTokens->setObjectName(QStringLiteral("trainTokens"));
    m_trainBatch = countBox(16, 65536, 1024, 256);
    m_trainBatch->setObjectName(QStringLiteral("trainBatch"));
    m_trainLr = new QDoubleSpinBox;
    m_trainLr->setDecimals(5);
    m_trainLr->setRange(1e-6, 1);
    m_trainLr->setSingleStep(1e-4);
    m_trainLr->setValue(4e-4);
    tf->addRow(tr("Name"), m_trainName);
    tf->addRow(tr("Architecture"), m_trainArch);
    tf->addRow(tr("Features"), m_trainFeatures);
    tf->addRow(tr("k (TopK)"), m_trainK);
    tf->addRow(tr("L1 λ (ReLU)"), m_trainL1);
    tf->addRow(tr("Training tokens"), m_trainTokens);
    tf->addRow(tr("Batch size"), m_trainBatch);
    tf->addRow(tr("Learning rate"), m_trainLr);
    auto* trainButtons = new QHBoxLayout;
    m_trainStart = startButton(tr("Train"));
    m_trainStart->setObjectName(QStringLiteral("trainButton"));
    m_trainResume = new QPushButton(tr("Resume"));
    m_trainResume->setObjectName(QStringLiteral("resumeTrainButton"));
    m_trainResume->setToolTip(
        tr("Continue the interrupted training of this SAE from its checkpoint"));
    trainButtons->addWidget(m_trainStart);
    trainButtons->addWidget(m_trainResume);
    tf->addRow(trainButtons);
    // Only the settings of the chosen architecture show: k for TopK, λ for ReLU + L1.
    const auto showArchRows = [this, tf] {
        const auto arch = sae::Architecture(m_trainArch->currentData().toInt());
        tf->setRowVisible(m_trainK, arch != sae::Architecture::kStandard);
        tf->setRowVisible(m_trainL1, arch == sae::Architecture::kStandard);
    };
    connect(m_trainArch, &QComboBox::currentIndexChanged, this, showArchRows);
    showArchRows();
    connect(m_trainName, &QLineEdit::textChanged, this, &JobsPanel::updateActions);
    return train;
}

TrainJobSpec JobsPanel::trainSpecFromForm() const {
    TrainJobSpec spec;
    spec.workspaceDir = m_session->dir().toStdString();
    spec.hook = m_captureHook->currentText().toStdString();
    spec.saeName = m_trainName->text().trimmed().toStdString();
    spec.architecture = sae::Architecture(m_trainArch->currentData().toInt());
    spec.features = m_trainFeatures->value();
    spec.k = m_trainK->value();
    spec.l1 = m_trainL1->value();
    spec.tokens = m_trainTokens->value();
    spec.batchSize = m_trainBatch->value();
    spec.lr = m_trainLr->value();
    return spec;
}

void JobsPanel::setTrainForm(const TrainJobSpec& spec) {
    m_trainName->setText(QString::fromStdString(spec.saeName));
    m_trainArch->setCurrentIndex(m_trainArch->findData(int(spec.architecture)));
    m_trainFeatures->setValue(int(spec.features));
    m_trainK->setValue(int(spec.k));
    m_trainL1->setValue(spec.l1);
    m_trainTokens->setValue(int(spec.tokens));
    m_trainBatch->setValue(int(spec.batchSize));
    m_trainLr->setValue(spec.lr);
}

void JobsPanel::refreshForms() {
    const QString hook = m_captureHook->currentText();
    const QString analyseSae = m_analyseSae->currentText();
    const QString evalSae = m_evalSae->currentText();
    m_captureHook->clear();
    m_analyseSae->clear();
    m_evalSae->clear();
    if (m_session->isOpen()) {
        m_session->refresh();
        m_captureHook->addItems(m_session->hooks());
        m_analyseSae->addItems(m_session->saeNames());
        m_evalSae->addItems(m_session->saeNames());
        if (!hook.isEmpty()) m_captureHook->setCurrentText(hook);
        m_analyseSae->setCurrentText(analyseSae.isEmpty() ? m_session->currentSae() : analyseSae);
        m_evalSae->setCurrentText(evalSae.isEmpty() ? m_session->currentSae() : evalSae);
    }
    updateActions();
}

void JobsPanel::updateActions() {
    const bool open = m_session->isOpen();
    const bool idle = !m_runner->isBusy();
    m_noWorkspace->setVisible(!open);
    m_captureStart->setEnabled(open && idle && m_captureHook->count() > 0);
    const bool named = !m_trainName->text().trimmed().isEmpty();
    m_trainStart->setEnabled(open && idle && named);
    const bool resumable =
        open && named &&
        hasTrainingCheckpoint(
            m_session->workspace()
                ? m_session->workspace()->saeDir(m_trainName->text().trimmed().toStdString())
                : std::string());
    m_trainResume->setEnabled(idle && resumable);
    m_analyseStart->setEnabled(open && idle && m_analyseSae->count() > 0);
    m_evalStart->setEnabled(open && idle && m_evalSae->count() > 0);
}

bool JobsPanel::isBusy() const {
    return m_runner->isBusy();
}

QStringList JobsPanel::log() const {
    QStringList lines;
    for (int i = 0; i < m_log->count(); ++i) lines.append(m_log->item(i)->text());
    return lines;
}

void JobsPanel::appendLog(const QString& line, const QString& outcome, const QVariantMap& metrics) {
    const QDateTime now = QDateTime::currentDateTime();
    m_log->addItem(now.toString(QStringLiteral("yyyy-MM-dd HH:mm  ")) + line);
    m_log->scrollToBottom();
    if (outcome == QStringLiteral("note") || !m_session->isOpen()) return;
    const Status st = appendJobRecord(
        m_session->dir(),
        {now.toString(Qt::ISODate), m_runner->currentLabel(), outcome, line, metrics});
    if (!st.ok())
        m_log->addItem(tr("(the job history could not be saved: %1)")
                           .arg(QString::fromStdString(st.toString())));
}

void JobsPanel::loadHistory() {
    m_log->clear();
    if (!m_session->isOpen()) return;
    for (const JobRecord& r : readJobHistory(m_session->dir())) {
        const QDateTime when = QDateTime::fromString(r.time, Qt::ISODate);
        m_log->addItem(when.toString(QStringLiteral("yyyy-MM-dd HH:mm  ")) + r.summary);
    }
    m_log->scrollToBottom();
}

void JobsPanel::runNext() {
    if (m_queue.isEmpty()) return;
    auto next = m_queue.takeFirst();
    next();
}

void JobsPanel::startCapture(const CaptureJobSpec& spec) {
    m_currentKind = JobKind::kCapture;
    m_runner->start(
        tr("Capture %1").arg(QString::fromStdString(spec.hook)),
        [spec](const Progress& progress, StopToken stop) {
            return runCaptureJob(spec, progress, std::move(stop));
        },
        [this, asked = spec.tokens](acts::CaptureSummary s) {
            appendLog(tr("Captured %1 tokens (%2 windows, %3 resumed) at %4 tokens/s")
                          .arg(s.rows)
                          .arg(s.windows)
                          .arg(s.resumedWindows)
                          .arg(s.tokensPerSecond, 0, 'f', 0),
                      QStringLiteral("succeeded"),
                      {{QStringLiteral("tokens"), qlonglong(s.rows)},
                       {QStringLiteral("tokens_asked"), qlonglong(asked)},
                       {QStringLiteral("tokens_per_s"), s.tokensPerSecond}});
            if (s.rows < asked)
                appendLog(tr("Warning: only %L1 of the %L2 tokens asked were captured: the "
                             "corpus has no more. Add text to capture more.")
                              .arg(s.rows)
                              .arg(asked));
        });
}

void JobsPanel::startTraining(const TrainJobSpec& spec) {
    const QString name = QString::fromStdString(spec.saeName.empty() ? spec.outDir : spec.saeName);
    const QString label =
        spec.resume ? tr("Resume training %1").arg(name) : tr("Train %1").arg(name);
    m_currentKind = JobKind::kTrain;
    // More training tokens than were captured means passes over the same tokens.
    const int64_t captured = capturedRows(spec.workspaceDir, spec.hook);
    if (captured > 0 && spec.tokens > captured)
        appendLog(tr("Warning: training on %L1 tokens makes about %2 passes over the %L3 "
                     "captured tokens; capture more, or train on fewer, to avoid repeating them.")
                      .arg(spec.tokens)
                      .arg(double(spec.tokens) / double(captured), 0, 'f', 1)
                      .arg(captured));
    m_monitor->startRun(label, spec.batchSize);
    m_runner->start(
        label,
        [spec](const Progress& progress, StopToken stop) {
            return runTrainJob(spec, progress, std::move(stop));
        },
        [this](TrainJobSummary s) {
            appendLog(tr("Trained %1 steps (%2 tokens), final loss %3, %4 % dead → %5")
                          .arg(s.steps)
                          .arg(s.tokens)
                          .arg(s.finalLoss, 0, 'g', 4)
                          .arg(s.deadPct, 0, 'f', 1)
                          .arg(QString::fromStdString(s.saeDir)),
                      QStringLiteral("succeeded"),
                      {{QStringLiteral("steps"), qlonglong(s.steps)},
                       {QStringLiteral("tokens"), qlonglong(s.tokens)},
                       {QStringLiteral("final_loss"), s.finalLoss},
                       {QStringLiteral("dead_pct"), s.deadPct}});
            m_session->refresh();
        });
    // Only this job's reports feed the monitor; the runner drops stale ones.
    const quint64 id = m_runner->currentId();
    auto connection = std::make_shared<QMetaObject::Connection>();
    *connection = connect(
        m_runner, &JobRunner::progressChanged, this,
        [this, id, connection](quint64 job, double, const QString&, const QVariantMap& metrics) {
            if (job != id) {
                disconnect(*connection);
                return;
            }
            m_monitor->addReport(metrics);
        });
}

void JobsPanel::startAnalysis(const AnalyseJobSpec& spec) {
    const QString name = QString::fromStdString(spec.saeName);
    m_currentKind = JobKind::kAnalyse;
    m_runner->start(
        tr("Analyse %1").arg(name),
        [spec](const Progress& progress, StopToken stop) {
            return runAnalyseJob(spec, progress, std::move(stop));
        },
        [this, name](features::AnalysisSummary s) {
            appendLog(tr("Analysed %1 features over %2 tokens (%3 resumed) in %4 s")
                          .arg(s.features)
                          .arg(s.rowsAnalysed)
                          .arg(s.rowsResumed)
                          .arg(s.seconds, 0, 'f', 1),
                      QStringLiteral("succeeded"),
                      {{QStringLiteral("features"), qlonglong(s.features)},
                       {QStringLiteral("tokens"), qlonglong(s.rowsAnalysed)},
                       {QStringLiteral("seconds"), s.seconds}});
            m_session->refresh();
            const Status st = m_session->selectSae(name);
            if (!st.ok() && m_reportError)
                m_reportError(tr("Could not open the new feature store"),
                              QString::fromStdString(st.toString()));
        });
}

void JobsPanel::startEvaluation(const EvalJobSpec& spec) {
    m_currentKind = JobKind::kEvaluate;
    m_runner->start(
        tr("Evaluate %1").arg(QString::fromStdString(spec.saeName)),
        [spec](const Progress& progress, StopToken stop) {
            return runEvalJob(spec, progress, std::move(stop));
        },
        [this](sae::ModelEvalReport r) {
            appendLog(tr("Evaluated: CE clean %1, with SAE %2 (loss recovered %3 %), EV %4, L0 %5")
                          .arg(r.ceClean, 0, 'f', 4)
                          .arg(r.ceSae, 0, 'f', 4)
                          .arg(r.ceLossRecovered * 100, 0, 'f', 1)
                          .arg(r.metrics.explainedVariance, 0, 'f', 3)
                          .arg(r.metrics.l0, 0, 'f', 1),
                      QStringLiteral("succeeded"),
                      {{QStringLiteral("ce_clean"), r.ceClean},
                       {QStringLiteral("ce_sae"), r.ceSae},
                       {QStringLiteral("ce_loss_recovered"), r.ceLossRecovered},
                       {QStringLiteral("explained_variance"), r.metrics.explainedVariance},
                       {QStringLiteral("l0"), r.metrics.l0}});
            emit m_session->saeMetricsChanged();
        });
}

void JobsPanel::startPipeline(const CaptureJobSpec& capture, const TrainJobSpec& train,
                              const AnalyseJobSpec& analyse) {
    m_queue.clear();
    m_queue.append([this, train] { startTraining(train); });
    m_queue.append([this, analyse] { startAnalysis(analyse); });
    startCapture(capture);
}

}  // namespace mono::ui
