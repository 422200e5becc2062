// The Jobs view on a real workspace (stories260K, captured in the test): a
// training run draws its curves live while the GUI thread stays responsive,
// Cancel leaves a checkpoint that Resume continues from, and the new-workspace
// wizard's plan runs capture → train → analyse into a browsable feature store.

#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QtTest>

#include <qcustomplot.h>
#include <filesystem>

#include "tests/support/test_support.h"
#include "tests/ui/ui_workspace_fixture.h"
#include "ui/jobs/job_runner.h"
#include "ui/main/main_window.h"
#include "ui/main/new_workspace_wizard.h"
#include "ui/main/workspace_sidebar.h"
#include "ui/models/feature_table_model.h"
#include "ui/panels/features/feature_browser.h"
#include "ui/panels/features/features_view.h"
#include "ui/panels/jobs/job_progress_view.h"
#include "ui/panels/jobs/jobs_panel.h"
#include "ui/panels/jobs/training_monitor.h"
#include "ui/session/feature_store_handle.h"
#include "ui/session/workspace_session.h"

using namespace mono;
using namespace mono::ui;
using mono::test::qpath;
namespace fs = std::filesystem;

namespace {

struct Reported {
    QString title, message;
};

std::unique_ptr<MainWindow> openWindow(const fs::path& dir, QList<Reported>* errors) {
    auto window = std::make_unique<MainWindow>();
    window->setRememberRecent(false);
    window->setErrorReporter([errors](const QString& title, const QString& message) {
        errors->append({title, message});
    });
    window->show();
    window->openWorkspace(qpath(dir));
    window->showView(QStringLiteral("jobs"));
    return window;
}

// Measures how late a 20 ms timer on the GUI thread fires.
class TickWatch : public QObject {
public:
    TickWatch() {
        m_timer.setTimerType(Qt::PreciseTimer);
        m_timer.setInterval(20);
        connect(&m_timer, &QTimer::timeout, this, [this] {
            const qint64 now = m_clock.nsecsElapsed();
            m_maxGapMs = std::max(m_maxGapMs, (now - m_last) / 1e6);
            m_last = now;
            ++m_ticks;
        });
    }
    void start() {
        m_clock.start();
        m_last = 0;
        m_timer.start();
    }
    void stop() { m_timer.stop(); }
    double maxGapMs() const { return m_maxGapMs; }
    int ticks() const { return m_ticks; }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_last = 0;
    double m_maxGapMs = 0;
    int m_ticks = 0;
};

}  // namespace

class TestJobs : public QObject {
    Q_OBJECT
    fs::path m_root;
    test::UiWorkspace m_ws;

private slots:
    void initTestCase() {
        MONO_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        test::isolateSettings(QStringLiteral("test_ui_jobs"));
        m_root = test::tempDir();
        auto built = test::buildUiWorkspace(m_root, /*train=*/false);
        QVERIFY2(built.ok(), qPrintable(QString::fromStdString(built.status().toString())));
        m_ws = *built;
    }

    void formatsDurations() {
        QCOMPARE(JobProgressView::formatDuration(0), QStringLiteral("0:00"));
        QCOMPARE(JobProgressView::formatDuration(65.4), QStringLiteral("1:05"));
        QCOMPARE(JobProgressView::formatDuration(3725), QStringLiteral("1:02:05"));
    }

    void trainingCurvesGrowWhileTheGuiStaysResponsive() {
        QList<Reported> errors;
        auto window = openWindow(m_ws.dir, &errors);
        JobsPanel* jobs = window->jobsPanel();
        TrainingMonitor* monitor = jobs->monitor();

        TrainJobSpec spec;
        spec.workspaceDir = m_ws.dir.string();
        spec.saeName = "live";
        spec.features = 256;
        spec.k = 8;
        spec.tokens = 50'000'000;  // far more than the test waits for: it cancels
        spec.batchSize = 256;
        spec.reportEverySteps = 5;

        TickWatch watch;
        watch.start();
        jobs->startTraining(spec);
        QVERIFY(jobs->isBusy());
        // Sample the point count while the job runs: it must grow in steps, not all at the end.
        QList<int> seen;
        QElapsedTimer clock;
        clock.start();
        while (jobs->isBusy() && clock.elapsed() < 40000) {
            QTest::qWait(100);
            if (seen.isEmpty() || seen.last() != monitor->pointCount())
                seen.append(monitor->pointCount());
            if (seen.size() >= 6 && clock.elapsed() > 2000) break;
        }
        const bool stillRunning = jobs->isBusy();
        watch.stop();
        QVERIFY2(errors.isEmpty(), qPrintable(errors.value(0).message));
        QVERIFY2(seen.size() >= 4,
                 qPrintable(QStringLiteral("point counts seen: %1").arg(seen.size())));
        QVERIFY(stillRunning);  // the growth above happened during the run
        QCOMPARE(monitor->plot(TrainingMonitor::kLoss)->graph(0)->dataCount(),
                 monitor->pointCount());
        QCOMPARE(monitor->plot(TrainingMonitor::kExplainedVariance)->graph(0)->dataCount(),
                 monitor->pointCount());
        // x is tokens seen: steps × batch.
        const auto* loss = monitor->plot(TrainingMonitor::kLoss)->graph(0)->data().data();
        QVERIFY(loss->at(0)->key > 0);
        QCOMPARE(std::fmod(loss->at(0)->key, 256.0), 0.0);
        QVERIFY(loss->at(loss->size() - 1)->key > loss->at(0)->key);
        QVERIFY(!jobs->progressView()->metricsText().isEmpty());
        QVERIFY(jobs->progressView()->timeText().contains(QStringLiteral("elapsed")));
        qInfo("GUI timer: %d ticks, longest gap %.1f ms; %d distinct point counts", watch.ticks(),
              watch.maxGapMs(), static_cast<int>(seen.size()));
        QVERIFY2(watch.maxGapMs() < 250, qPrintable(QString::number(watch.maxGapMs())));

        // Cancel: the job reports cancelled, leaves a checkpoint, and Resume is offered.
        QSignalSpy cancelled(jobs->runner(), &JobRunner::cancelled);
        jobs->progressView()->cancelButton()->click();
        QVERIFY(cancelled.wait(20000));
        QVERIFY(errors.isEmpty());
        QVERIFY(jobs->log().last().contains(QStringLiteral("cancelled")));
        QVERIFY(hasTrainingCheckpoint((m_ws.dir / "saes" / "live").string()));
        const double stoppedAt = loss->at(loss->size() - 1)->key;

        auto* name = jobs->findChild<QLineEdit*>(QStringLiteral("trainName"));
        auto* resume = jobs->findChild<QPushButton*>(QStringLiteral("resumeTrainButton"));
        QVERIFY(name && resume);
        QVERIFY(!resume->isEnabled());  // the form names another SAE
        jobs->findChild<QSpinBox*>(QStringLiteral("trainFeatures"))->setValue(256);
        jobs->findChild<QSpinBox*>(QStringLiteral("trainTokens"))->setValue(50'000'000);
        jobs->findChild<QSpinBox*>(QStringLiteral("trainBatch"))->setValue(256);
        name->setText(QStringLiteral("live"));
        QVERIFY(resume->isEnabled());
        // The form's k must match the checkpoint's: the spec above used k = 8.
        TrainJobSpec again = jobs->trainSpecFromForm();
        again.k = 8;
        again.resume = true;
        again.reportEverySteps = 5;
        jobs->startTraining(again);
        QTRY_VERIFY_WITH_TIMEOUT(monitor->pointCount() >= 1, 30000);
        // Resumed, not restarted: the first new point is past where it stopped.
        const auto* resumed = monitor->plot(TrainingMonitor::kLoss)->graph(0)->data().data();
        QVERIFY2(resumed->at(0)->key > stoppedAt - 256 * 5,
                 qPrintable(QStringLiteral("%1 vs %2").arg(resumed->at(0)->key).arg(stoppedAt)));
        jobs->runner()->cancel();
        QTRY_VERIFY_WITH_TIMEOUT(!jobs->isBusy(), 20000);
        QVERIFY2(errors.isEmpty(), qPrintable(errors.value(0).message));
    }

    void wizardChecksItsPagesAndPlansTheWorkspace() {
        const fs::path models = test::sharedDir() / "models" / "stories260K";
        NewWorkspaceWizard wizard;
        wizard.show();
        const fs::path occupied = m_root / "occupied";
        fs::create_directories(occupied);
        test::writeFile(occupied / "keep.txt", "mine");
        wizard.setFolder(qpath(occupied));
        wizard.setModel(qpath(models / "stories260K.bin"));
        wizard.next();
        QCOMPARE(wizard.currentId(), 0);  // a non-empty folder is refused
        auto* problem = wizard.currentPage()->findChild<QLabel*>(QStringLiteral("wizardProblem"));
        QVERIFY(problem);
        QVERIFY2(problem->text().contains(QStringLiteral("not empty")),
                 qPrintable(problem->text()));
        const fs::path dir = m_root / "wizard-ws";
        wizard.setFolder(qpath(dir));
        wizard.next();
        QCOMPARE(wizard.currentId(), 1);
        wizard.next();
        QCOMPARE(wizard.currentId(), 1);  // no corpus yet
        wizard.setCorpus({qpath(m_root / "corpus.txt")});
        wizard.next();
        QCOMPARE(wizard.currentId(), 2);
        wizard.setHook(QStringLiteral("blocks.1.hook_resid_post"));
        wizard.next();
        QCOMPARE(wizard.currentId(), 3);
        const NewWorkspacePlan plan = wizard.plan();
        QCOMPARE(plan.dir, qpath(dir));
        QCOMPARE(plan.manifest.hooks, std::vector<std::string>{"blocks.1.hook_resid_post"});
        QCOMPARE(plan.manifest.corpus.size(), size_t(1));
        QCOMPARE(plan.train.saeName, std::string("topk-2048"));
        QCOMPARE(plan.analyse.saeName, plan.train.saeName);
        QCOMPARE(plan.capture.hook, std::string("blocks.1.hook_resid_post"));
    }

    void pipelineBuildsABrowsableWorkspace() {
        ws::Manifest manifest;
        manifest.modelPath =
            (test::sharedDir() / "models" / "stories260K" / "stories260K.bin").string();
        manifest.corpus = {(m_root / "corpus.txt").string()};
        manifest.hooks = {"blocks.1.hook_resid_post"};
        manifest.contextSize = 64;
        const fs::path dir = m_root / "pipeline-ws";
        auto created = ws::Workspace::create(dir.string(), manifest);
        QVERIFY(created.ok());

        QList<Reported> errors;
        auto window = openWindow(dir, &errors);
        QVERIFY(window->workspace()->isOpen());
        QVERIFY(!window->workspace()->store()->isOpen());  // nothing analysed yet
        CaptureJobSpec capture;
        capture.workspaceDir = dir.string();
        capture.tokens = 3000;
        TrainJobSpec train;
        train.workspaceDir = dir.string();
        train.saeName = "tiny";
        train.features = 128;
        train.k = 4;
        train.tokens = 20'000;
        train.batchSize = 256;
        AnalyseJobSpec analyse;
        analyse.workspaceDir = dir.string();
        analyse.saeName = "tiny";
        window->jobsPanel()->startPipeline(capture, train, analyse);
        QTRY_VERIFY_WITH_TIMEOUT(window->workspace()->store()->isOpen() || !errors.isEmpty(),
                                 50000);
        QVERIFY2(errors.isEmpty(), qPrintable(errors.value(0).message));
        // One line per job, and the warning that 20,000 training tokens repeat the 3,000 captured.
        const auto outcomes = [&window] {
            QStringList lines = window->jobsPanel()->log();
            lines.removeIf([](const QString& l) { return l.contains(QStringLiteral("Warning:")); });
            return lines;
        };
        QCOMPARE(outcomes().size(), 3);
        QVERIFY(window->jobsPanel()
                    ->log()
                    .join(QLatin1Char('\n'))
                    .contains(QStringLiteral("passes over the")));
        QCOMPARE(window->workspace()->currentSae(), QStringLiteral("tiny"));
        QCOMPARE(window->featuresView()->browser()->model()->rowCount(), 128);
        QVERIFY(window->workspace()->saeNames().contains(QStringLiteral("tiny")));

        // Evaluate the new SAE in the model: the report lands in the log.
        EvalJobSpec eval;
        eval.workspaceDir = dir.string();
        eval.saeName = "tiny";
        eval.tokens = 2000;
        window->jobsPanel()->startEvaluation(eval);
        QTRY_VERIFY_WITH_TIMEOUT(!window->jobsPanel()->isBusy(), 30000);
        QVERIFY2(errors.isEmpty(), qPrintable(errors.value(0).message));
        QCOMPARE(outcomes().size(), 4);
        QVERIFY2(window->jobsPanel()->log().last().contains(QStringLiteral("CE clean")),
                 qPrintable(window->jobsPanel()->log().last()));
        // ... and the SAEBench quality metrics land beside the SAE and in the sidebar.
        QVERIFY(fs::exists(dir / "saes" / "tiny" / "metrics.json"));
        QVERIFY(window->workspace()->quality() != nullptr);
        QVERIFY2(window->sidebar()->qualityText().contains(QStringLiteral("KL fidelity")),
                 qPrintable(window->sidebar()->qualityText()));
    }

    void cleanupTestCase() { QSettings().clear(); }
};

QTEST_MAIN(TestJobs)
#include "test_jobs.moc"
