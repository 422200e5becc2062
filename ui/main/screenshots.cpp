#include "ui/main/screenshots.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDeadlineTimer>
#include <QDir>
#include <QEventLoop>
#include <QPixmap>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>

#include "ui/jobs/job_runner.h"
#include "ui/jobs/workspace_jobs.h"
#include "ui/main/main_window.h"
#include "ui/models/feature_table_model.h"
#include "ui/panels/compare/compare_view.h"
#include "ui/panels/features/feature_browser.h"
#include "ui/panels/features/feature_dashboard.h"
#include "ui/panels/features/feature_map_view.h"
#include "ui/panels/features/features_view.h"
#include "ui/panels/generate/generate_panel.h"
#include "ui/panels/inspector/prompt_inspector.h"
#include "ui/panels/jobs/jobs_panel.h"
#include "ui/panels/quant/outlier_panel.h"
#include "ui/panels/quant/quant_view.h"
#include "ui/panels/steer/steering_panel.h"
#include "ui/session/feature_store_handle.h"
#include "ui/session/model_session.h"
#include "ui/session/workspace_session.h"

namespace mono::ui {

namespace {

// Pending layout and paint events settle before a grab.
constexpr int kSettleMs = 150;

// Runs the event loop until a condition holds. One deadline covers every wait
// of a run, so a view that never gets ready ends the run instead of hanging it.
class EventWait {
public:
    explicit EventWait(int timeoutMs) : m_deadline(timeoutMs) {}

    // Makes `signal` wake the current wait to check its condition again.
    template <class Sender, class Signal>
    void wakeOn(const Sender* sender, Signal signal) {
        QObject::connect(sender, signal, &m_loop, [this] { m_loop.quit(); });
    }

    // False when the deadline passed first.
    bool until(const std::function<bool()>& done) {
        QTimer deadline;
        deadline.setSingleShot(true);
        QObject::connect(&deadline, &QTimer::timeout, &m_loop, &QEventLoop::quit);
        while (!done()) {
            if (m_deadline.hasExpired()) return false;
            deadline.start(std::chrono::milliseconds(m_deadline.remainingTime()));
            m_loop.exec();
        }
        return true;
    }

    // A loop of its own: the wake signals must not cut the pause short.
    static void pause(int ms) {
        QEventLoop loop;
        QTimer::singleShot(ms, &loop, &QEventLoop::quit);
        loop.exec();
    }

private:
    QDeadlineTimer m_deadline;
    QEventLoop m_loop;
};

class ScreenshotRun {
public:
    ScreenshotRun(MainWindow& window, const ScreenshotOptions& options);
    int run();

private:
    // Each brings its view into a state worth showing; false when time ran out.
    bool prepareFeatures();
    bool prepareDashboard();
    bool prepareMap();
    bool prepareInspector();
    bool prepareJobs();
    bool prepareGenerate();
    bool prepareSteering();
    bool prepareQuant();
    bool prepareOutliers();
    bool prepareOutliersRotated();
    bool prepareReport();
    bool prepareCompare();
    // Waits for the workspace's model and SAE to load (or fail).
    bool loaded();
    void shoot(const QString& name);

    QObject m_context;  // ends the run's own connections with it
    MainWindow& m_window;
    const ScreenshotOptions m_options;
    QDir m_dir;
    EventWait m_wait;
    int m_exitCode = 0;
};

ScreenshotRun::ScreenshotRun(MainWindow& window, const ScreenshotOptions& options)
    : m_window(window), m_options(options), m_dir(options.dir), m_wait(options.timeoutMs) {
    // Every outcome the preparations wait for, model and SAE loads included.
    m_wait.wakeOn(window.session(), &ModelSession::busyChanged);
    m_wait.wakeOn(window.workspace(), &WorkspaceSession::saeLoaded);
    m_wait.wakeOn(window.workspace(), &WorkspaceSession::failed);
    m_wait.wakeOn(window.inspector(), &PromptInspector::inspected);
    m_wait.wakeOn(window.inspector(), &PromptInspector::inspectFailed);
    m_wait.wakeOn(window.jobsPanel()->runner(), &JobRunner::finished);
    m_wait.wakeOn(window.generatePanel(), &GeneratePanel::generationFinished);
    m_wait.wakeOn(window.steeringPanel(), &SteeringPanel::saeLoaded);
    m_wait.wakeOn(window.steeringPanel(), &SteeringPanel::steeringFinished);
    m_wait.wakeOn(window.quantView()->runner(), &JobRunner::finished);
    m_wait.wakeOn(window.compareView()->runner(), &JobRunner::finished);
    m_wait.wakeOn(window.featuresView()->mapView()->runner(), &JobRunner::finished);
    // A model that fails to load still gets its (empty) picture, but the run fails.
    QObject::connect(window.session(), &ModelSession::loadFailed, &m_context, [this] {
        if (m_exitCode == 0) m_exitCode = 3;
    });
}

int ScreenshotRun::run() {
    struct Shot {
        const char* file;
        const char* view;
        bool (ScreenshotRun::*prepare)();
    };
    static constexpr Shot kShots[] = {
        {"features", "features", &ScreenshotRun::prepareFeatures},
        // The dashboard is taller than the window: its lower half gets a picture of its own.
        {"feature-dashboard", "features", &ScreenshotRun::prepareDashboard},
        {"feature-map", "features", &ScreenshotRun::prepareMap},
        {"inspector", "inspector", &ScreenshotRun::prepareInspector},
        {"jobs", "jobs", &ScreenshotRun::prepareJobs},
        {"generate", "generate", &ScreenshotRun::prepareGenerate},
        {"steer", "steer", &ScreenshotRun::prepareSteering},
        {"quant", "quant", &ScreenshotRun::prepareQuant},
        {"quant-outliers", "quant", &ScreenshotRun::prepareOutliers},
        {"quant-outliers-rotated", "quant", &ScreenshotRun::prepareOutliersRotated},
        {"quant-report", "quant", &ScreenshotRun::prepareReport},
        {"compare", "compare", &ScreenshotRun::prepareCompare},
    };
    if (!m_dir.exists() && !QDir().mkpath(m_options.dir)) {
        std::fprintf(stderr, "monoscope: cannot create %s\n", qUtf8Printable(m_options.dir));
        return 1;
    }
    for (const Shot& shot : kShots) {
        if (!m_options.shots.isEmpty() && !m_options.shots.contains(QLatin1String(shot.file)))
            continue;
        m_window.showView(QString::fromLatin1(shot.view));
        if (!(this->*shot.prepare)()) {
            std::fprintf(stderr,
                         "monoscope: the %s view was not ready for its screenshot in time\n",
                         shot.file);
            return 2;
        }
        EventWait::pause(kSettleMs);
        shoot(QString::fromLatin1(shot.file));
    }
    return m_exitCode;
}

void ScreenshotRun::shoot(const QString& name) {
    const QString file = m_dir.absoluteFilePath(name + QStringLiteral(".png"));
    const QPixmap image = m_window.grab();
    if (image.save(file)) {
        std::fprintf(stderr, "monoscope: wrote %s (%dx%d)\n", qUtf8Printable(file), image.width(),
                     image.height());
    } else {
        std::fprintf(stderr, "monoscope: could not write %s\n", qUtf8Printable(file));
        m_exitCode = 1;
    }
}

bool ScreenshotRun::loaded() {
    const ModelSession* models = m_window.session();
    const WorkspaceSession* workspace = m_window.workspace();
    return m_wait.until(
        [models, workspace] { return !models->isLoading() && !workspace->isSaeLoading(); });
}

bool ScreenshotRun::prepareFeatures() {
    if (!loaded()) return false;
    if (!m_window.workspace()->store()->isOpen()) return true;
    // The strongest features make the most telling list; the chosen one (or
    // the strongest) fills the dashboard.
    FeaturesView* view = m_window.featuresView();
    view->tabs()->setCurrentWidget(view->dashboard());
    FeatureBrowser* browser = view->browser();
    browser->table()->sortByColumn(FeatureTableModel::kMaxColumn, Qt::DescendingOrder);
    const qint64 id = m_options.feature >= 0 ? m_options.feature : browser->model()->featureId(0);
    if (!browser->selectFeature(id)) view->openFeature(id);
    browser->table()->setFocus();
    return true;
}

bool ScreenshotRun::prepareDashboard() {
    if (!prepareFeatures()) return false;
    m_window.featuresView()->dashboard()->revealEffects();
    return true;
}

// The map beside the list (computed first when the store has none), the
// current feature marked.
bool ScreenshotRun::prepareMap() {
    if (!prepareFeatures()) return false;
    FeaturesView* view = m_window.featuresView();
    view->showMap();
    FeatureMapView* map = view->mapView();
    if (!m_window.workspace()->store()->isOpen() || map->hasMap()) return true;
    map->computeMap();
    return m_wait.until([map] { return !map->runner()->isBusy(); });
}

bool ScreenshotRun::prepareInspector() {
    if (!loaded()) return false;
    PromptInspector* inspector = m_window.inspector();
    if (!inspector->canInspect()) return true;
    if (inspector->prompt().isEmpty())
        inspector->setPrompt(QStringLiteral(
            "Once upon a time, Lily wanted to play in my room with her dog. She saw a big shadow "
            "on the wall and laughed."));
    inspector->inspect();
    return m_wait.until([inspector] { return !inspector->isBusy(); });
}

bool ScreenshotRun::prepareJobs() {
    if (!loaded()) return false;
    JobsPanel* jobs = m_window.jobsPanel();
    if (!m_window.workspace()->isOpen() || jobs->isBusy()) return true;
    // A short real training run, so that the monitor shows real curves; it
    // writes to a temporary folder to leave the workspace as it was.
    TrainJobSpec spec = jobs->trainSpecFromForm();
    spec.saeName = "topk-512";
    spec.features = 512;
    spec.k = 16;
    spec.tokens = 1'500'000;
    spec.batchSize = 1024;
    jobs->setTrainForm(spec);
    const QTemporaryDir scratch;
    spec.outDir = QDir(scratch.path()).filePath(QStringLiteral("topk-512")).toStdString();
    jobs->startTraining(spec);
    return m_wait.until([jobs] { return !jobs->isBusy(); });
}

bool ScreenshotRun::prepareGenerate() {
    const ModelSession* models = m_window.session();
    GeneratePanel* generate = m_window.generatePanel();
    if (!m_wait.until(
            [models, generate] { return !models->isLoading() && !generate->isGenerating(); }))
        return false;
    if (!models->hasModel() || !generate->continuationText().isEmpty()) return true;
    if (generate->prompt().isEmpty()) generate->setPrompt(QStringLiteral("Once upon a time"));
    GenerateSettings settings = generate->settings();
    settings.maxNewTokens = std::min(settings.maxNewTokens, 256);
    generate->setSettings(settings);
    generate->generate();
    return m_wait.until([generate] { return !generate->isGenerating(); });
}

bool ScreenshotRun::prepareSteering() {
    if (!loaded()) return false;
    SteeringPanel* panel = m_window.steeringPanel();
    // The panel loads the selected SAE itself.
    if (!m_wait.until([panel] { return !panel->isBusy(); })) return false;
    const qint64 id = m_window.featuresView()->dashboard()->currentFeature();
    if (!panel->hasSae() || id < 0) return true;
    panel->setPrompt(QStringLiteral("Once upon a time"));
    panel->steerFeature(static_cast<int>(id));
    panel->steer();
    return m_wait.until([panel] { return !panel->isBusy(); });
}

bool ScreenshotRun::prepareQuant() {
    if (!loaded()) return false;
    QuantView* view = m_window.quantView();
    view->tabs()->setCurrentIndex(0);
    view->calibrate();
    return m_wait.until([view] { return !view->runner()->isBusy(); });
}

// The Outliers tab of the same calibration, the strongest outlier channel selected.
bool ScreenshotRun::prepareOutliers() {
    QuantView* view = m_window.quantView();
    if (view->outlierPanel()->outlierTable()->rowCount() == 0 && !prepareQuant()) return false;
    view->tabs()->setCurrentIndex(1);
    OutlierPanel* panel = view->outlierPanel();
    panel->rotationToggle()->setChecked(false);
    if (panel->outlierTable()->rowCount() > 0) panel->outlierTable()->selectRow(0);
    return true;
}

// The end-to-end report at the default settings (O1, per-channel, rotation on).
bool ScreenshotRun::prepareReport() {
    if (!loaded()) return false;
    QuantView* view = m_window.quantView();
    view->tabs()->setCurrentIndex(2);
    view->runReport();
    return m_wait.until([view] { return !view->runner()->isBusy(); });
}

bool ScreenshotRun::prepareOutliersRotated() {
    if (!prepareOutliers()) return false;
    OutlierPanel* panel = m_window.quantView()->outlierPanel();
    panel->rotationToggle()->setChecked(true);
    panel->sortedToggle()->setChecked(true);
    return true;
}

// The first two SAEs of the workspace, when it has two.
bool ScreenshotRun::prepareCompare() {
    CompareView* view = m_window.compareView();
    if (view->saeA()->count() < 2) return true;
    view->saeA()->setCurrentIndex(0);
    view->saeB()->setCurrentIndex(1);
    view->compare();
    return m_wait.until([view] { return !view->runner()->isBusy(); });
}

}  // namespace

int takeScreenshots(MainWindow& window, const ScreenshotOptions& options) {
    ScreenshotRun run(window, options);
    return run.run();
}

}  // namespace mono::ui
