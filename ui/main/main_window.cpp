#include "ui/main/main_window.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>

#include <qcustomplot.h>
#include <thread>

#include "core/base/version.h"
#include "core/model/config.h"
#include "core/model/model.h"
#include "core/sae/sae.h"
#include "core/workspace/workspace.h"
#include "ui/main/new_workspace_wizard.h"
#include "ui/main/workspace_sidebar.h"
#include "ui/panels/compare/compare_view.h"
#include "ui/panels/features/feature_browser.h"
#include "ui/panels/features/feature_dashboard.h"
#include "ui/panels/features/features_view.h"
#include "ui/panels/generate/generate_panel.h"
#include "ui/panels/generate/open_model_dialog.h"
#include "ui/panels/inspector/prompt_inspector.h"
#include "ui/panels/jobs/jobs_panel.h"
#include "ui/panels/jobs/training_monitor.h"
#include "ui/panels/quant/outlier_panel.h"
#include "ui/panels/quant/quant_view.h"
#include "ui/panels/steer/steering_panel.h"
#include "ui/session/model_session.h"
#include "ui/session/workspace_session.h"
#include "ui/widgets/plot_style.h"
#include "ui/widgets/plot_tools.h"

namespace mono::ui {

namespace {
const QString kRecentPathsKey = QStringLiteral("recentModels/paths");
const QString kRecentTokenizersKey = QStringLiteral("recentModels/tokenizers");
const QString kRecentWorkspacesKey = QStringLiteral("recentWorkspaces/paths");
const QString kGeometryKey = QStringLiteral("window/geometry");
const QString kStateKey = QStringLiteral("window/state");
const QString kSplitterKey = QStringLiteral("window/featuresSplitter");
const QString kViewKey = QStringLiteral("window/view");
const QString kThemeKey = QStringLiteral("appearance/theme");
const QString kLastSaeKey = QStringLiteral("recentWorkspaces/lastSae");  // {absolute dir: SAE}
// The sidebar's width when the window has room for it.
constexpr int kSidebarWidth = 215;
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(QStringLiteral("Monoscope"));
    resize(1440, 900);
    m_reportError = messageBoxErrorReporter(this);
    m_session = new ModelSession(this);
    m_workspace = new WorkspaceSession(m_session, this);

    m_panels = new QTabWidget(this);
    m_panels->setDocumentMode(true);
    m_views = buildMainViews(m_session, m_workspace);
    m_tabs = m_views.tabs();
    for (const ViewTab& tab : m_tabs) m_panels->addTab(tab.widget, tab.title);
    setCentralWidget(m_panels);

    m_sidebar = new WorkspaceSidebar(m_workspace);
    m_sidebarDock = new QDockWidget(tr("Workspace"), this);
    m_sidebarDock->setObjectName(QStringLiteral("workspaceDock"));
    m_sidebarDock->setWidget(m_sidebar);
    m_sidebarDock->setFeatures(QDockWidget::DockWidgetClosable | QDockWidget::DockWidgetMovable);
    m_sidebarDock->setMinimumWidth(190);
    addDockWidget(Qt::LeftDockWidgetArea, m_sidebarDock);
    resizeDocks({m_sidebarDock}, {kSidebarWidth}, Qt::Horizontal);
    buildMenus();

    m_modelStatus = new QLabel;
    m_modelStatus->setObjectName(QStringLiteral("modelStatus"));
    m_saeStatus = new QLabel;
    m_saeStatus->setObjectName(QStringLiteral("saeStatus"));
    m_deviceStatus = new QLabel;
    m_deviceStatus->setObjectName(QStringLiteral("deviceStatus"));
    statusBar()->addPermanentWidget(m_modelStatus);
    statusBar()->addPermanentWidget(m_saeStatus);
    statusBar()->addPermanentWidget(m_deviceStatus);
    setDeviceDescription(tr("CPU, %1 threads").arg(std::thread::hardware_concurrency()));

    connect(m_session, &ModelSession::loadStarted, this, [this](const QString& path) {
        m_modelStatus->setText(tr("Loading %1…").arg(ModelSession::displayNameOf(path)));
    });
    connect(m_session, &ModelSession::loadFailed, this,
            [this](const QString& path, const QString&) {
                // The Generate panel shows the error dialog (one per failure).
                statusBar()->showMessage(
                    tr("Could not open %1").arg(ModelSession::displayNameOf(path)), 8000);
                updateModelStatus();
            });
    connect(m_session, &ModelSession::modelChanged, this, [this] {
        updateModelStatus();
        const LoadedModel& m = m_session->current();
        if (m_rememberRecent && !m.path.isEmpty()) rememberModel(m.path, m.tokenizerPath);
    });
    // A model that cannot run the open SAE is refused at open, not when the inspector fails.
    m_session->setAcceptor(
        [this](const model::Model& model) { return m_workspace->checkModel(model); });
    connect(m_workspace, &WorkspaceSession::workspaceChanged, this, &MainWindow::updateTitle);
    connect(m_workspace, &WorkspaceSession::saeSelected, this, &MainWindow::updateSaeStatus);
    connect(m_workspace, &WorkspaceSession::saeSelected, this, [this](const QString& name) {
        m_views.features->setLinkContext(m_workspace->dir(), name);
        if (!m_rememberRecent || !m_workspace->isOpen()) return;
        QSettings settings;
        QVariantMap last = settings.value(kLastSaeKey).toMap();
        last.insert(QFileInfo(m_workspace->dir()).absoluteFilePath(), name);
        settings.setValue(kLastSaeKey, last);
    });
    connect(m_workspace, &WorkspaceSession::saeLoaded, this, &MainWindow::updateSaeStatus);
    connect(m_workspace, &WorkspaceSession::failed, this,
            [this](const QString& title, const QString& message) {
                updateSaeStatus();
                m_reportError(title, message);
            });
    // Per-feature quality metrics and token effects on hover.
    m_views.features->dashboard()->setWorkspaceSession(m_workspace);
    // The steering panel has taken the feature already (views.cpp).
    connect(m_views.features->dashboard(), &FeatureDashboard::steerRequested, this,
            [this] { showView(QStringLiteral("steer")); });
    connect(m_views.inspector, &PromptInspector::featureRequested, this, &MainWindow::openFeature);
    connect(m_views.quant->outlierPanel(), &OutlierPanel::featureRequested, this,
            &MainWindow::openFeature);
    // A feature of either compared SAE: that SAE becomes the one explored.
    connect(m_views.compare, &CompareView::featureRequested, this,
            [this](const QString& sae, qint64 id) {
                if (sae != m_workspace->currentSae())
                    if (const Status st = m_workspace->selectSae(sae); !st.ok()) {
                        m_reportError(tr("Could not open %1").arg(sae),
                                      QString::fromStdString(st.toString()));
                        return;
                    }
                openFeature(id);
            });
    connect(
        m_views.compare, &CompareView::failed, this,
        [this](const QString& title, const QString& message) { m_reportError(title, message); });
    // Hover values and "Save as PNG / PDF" on every plot of every view.
    for (QCustomPlot* plot : findChildren<QCustomPlot*>()) PlotTools::attach(plot);
    setErrorReporter(m_reportError);
    updateModelStatus();
    updateSaeStatus();
    restoreWindowState();
}

MainWindow::~MainWindow() = default;

bool MainWindow::showView(const QString& name) {
    for (const ViewTab& v : m_tabs)
        if (v.name == name) {
            m_panels->setCurrentWidget(v.widget);
            return true;
        }
    return false;
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* create =
        file->addAction(tr("&New Workspace…"), this, &MainWindow::newWorkspaceInteractive);
    create->setShortcut(QKeySequence::New);
    create->setStatusTip(tr("Create a workspace: model, corpus, hook point and SAE settings"));
    QAction* open =
        file->addAction(tr("&Open Workspace…"), this, &MainWindow::openWorkspaceInteractive);
    open->setShortcut(QKeySequence::Open);
    open->setStatusTip(tr("Open a workspace folder (one with a monoscope.json)"));
    m_recentWorkspacesMenu = file->addMenu(tr("Open &Recent Workspace"));
    m_recentWorkspacesMenu->setObjectName(QStringLiteral("recentWorkspacesMenu"));
    connect(m_recentWorkspacesMenu, &QMenu::aboutToShow, this,
            &MainWindow::rebuildRecentWorkspacesMenu);
    rebuildRecentWorkspacesMenu();
    file->addSeparator();
    QAction* openModelAction = file->addAction(tr("Open &Model…"), this, [this] {
        m_panels->setCurrentWidget(m_views.generate);
        m_views.generate->openModelInteractive();
    });
    openModelAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    openModelAction->setStatusTip(
        tr("Open a .gguf, a llama2.c .bin, or a file in a Hugging Face folder"));
    file->addAction(tr("Open Model &Folder…"), this, [this] {
        if (const auto source = askForModelFolder(this)) openModel(source->path);
    });
    m_recentMenu = file->addMenu(tr("Recent Mo&dels"));
    m_recentMenu->setObjectName(QStringLiteral("recentMenu"));
    connect(m_recentMenu, &QMenu::aboutToShow, this, &MainWindow::rebuildRecentMenu);
    rebuildRecentMenu();
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), qApp, &QApplication::quit);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* features = menuBar()->addMenu(tr("F&eatures"));
    QAction* find = features->addAction(tr("&Find Features…"), this, [this] {
        m_panels->setCurrentWidget(m_views.features);
        m_views.features->browser()->focusSearch();
    });
    find->setShortcut(QKeySequence::Find);
    QAction* list = features->addAction(tr("Go to Feature &List"), this, [this] {
        m_panels->setCurrentWidget(m_views.features);
        m_views.features->browser()->table()->setFocus(Qt::ShortcutFocusReason);
    });
    list->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    QAction* label = features->addAction(tr("Edit &Label"), this, [this] {
        m_panels->setCurrentWidget(m_views.features);
        m_views.features->dashboard()->labelEdit()->setFocus(Qt::ShortcutFocusReason);
    });
    label->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    QAction* inspect = features->addAction(
        tr("&Inspect a Prompt"), this, [this] { m_panels->setCurrentWidget(m_views.inspector); });
    inspect->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));

    // Ctrl+1 … Ctrl+9 switch views, in tab order.
    QMenu* view = menuBar()->addMenu(tr("&View"));
    for (int i = 0; i < m_tabs.size() && i < 9; ++i) {
        QWidget* widget = m_tabs[i].widget;
        QAction* action = view->addAction(m_tabs[i].title, this,
                                          [this, widget] { m_panels->setCurrentWidget(widget); });
        action->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)));
    }
    QMenu* appearance = menuBar()->addMenu(tr("&Appearance"));
    QAction* sidebar = m_sidebarDock->toggleViewAction();
    sidebar->setText(tr("Workspace &Sidebar"));
    sidebar->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_B));
    appearance->addAction(sidebar);
    m_darkAction = appearance->addAction(tr("&Dark Theme"));
    m_darkAction->setCheckable(true);
    m_darkAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D));
    connect(m_darkAction, &QAction::toggled, this,
            [this](bool dark) { setTheme(dark ? Theme::kDark : Theme::kLight); });

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Monoscope"), this, [this] {
        QMessageBox::about(this, tr("About Monoscope"),
                           tr("Monoscope %1\nA microscope for the features inside language models.")
                               .arg(QString::fromLatin1(kVersion)));
    });
}

void MainWindow::rebuildRecentMenu() {
    m_recentMenu->clear();
    const QSettings settings;
    const QStringList paths = settings.value(kRecentPathsKey).toStringList();
    const QStringList tokenizers = settings.value(kRecentTokenizersKey).toStringList();
    for (int i = 0; i < paths.size(); ++i) {
        const QString path = paths[i];
        const QString tok = i < tokenizers.size() ? tokenizers[i] : QString();
        QAction* action = m_recentMenu->addAction(
            QStringLiteral("&%1  %2").arg(i + 1).arg(ModelSession::displayNameOf(path)), this,
            [this, path, tok] { openModel(path, tok); });
        action->setStatusTip(path);
        action->setToolTip(path);
    }
    if (paths.isEmpty()) m_recentMenu->addAction(tr("No recent models"))->setEnabled(false);
}

void MainWindow::rebuildRecentWorkspacesMenu() {
    m_recentWorkspacesMenu->clear();
    const QStringList paths = QSettings().value(kRecentWorkspacesKey).toStringList();
    for (int i = 0; i < paths.size(); ++i) {
        const QString path = paths[i];
        QAction* action = m_recentWorkspacesMenu->addAction(
            QStringLiteral("&%1  %2").arg(i + 1).arg(QFileInfo(path).fileName()), this,
            [this, path] { openWorkspace(path); });
        action->setStatusTip(path);
        action->setToolTip(path);
    }
    if (paths.isEmpty())
        m_recentWorkspacesMenu->addAction(tr("No recent workspaces"))->setEnabled(false);
}

void MainWindow::rememberModel(const QString& path, const QString& tokenizerPath) {
    QSettings settings;
    QStringList paths = settings.value(kRecentPathsKey).toStringList();
    QStringList tokenizers = settings.value(kRecentTokenizersKey).toStringList();
    while (tokenizers.size() < paths.size()) tokenizers.append(QString());
    const QString absolute = QFileInfo(path).absoluteFilePath();
    const QString tok = tokenizerPath.isEmpty() || tokenizerPath == path
                            ? QString()
                            : QFileInfo(tokenizerPath).absoluteFilePath();
    for (qsizetype i = paths.indexOf(absolute); i >= 0; i = paths.indexOf(absolute)) {
        paths.removeAt(i);
        tokenizers.removeAt(i);
    }
    paths.prepend(absolute);
    tokenizers.prepend(tok);
    while (paths.size() > kMaxRecent) {
        paths.removeLast();
        tokenizers.removeLast();
    }
    settings.setValue(kRecentPathsKey, paths);
    settings.setValue(kRecentTokenizersKey, tokenizers);
}

void MainWindow::rememberWorkspace(const QString& dir) {
    QSettings settings;
    QStringList paths = settings.value(kRecentWorkspacesKey).toStringList();
    const QString absolute = QFileInfo(dir).absoluteFilePath();
    paths.removeAll(absolute);
    paths.prepend(absolute);
    while (paths.size() > kMaxRecent) paths.removeLast();
    settings.setValue(kRecentWorkspacesKey, paths);
}

void MainWindow::setDeviceDescription(const QString& text) {
    m_deviceStatus->setText(tr("Device: %1").arg(text));
}

void MainWindow::updateModelStatus() {
    if (!m_session->hasModel()) {
        if (!m_session->isLoading()) m_modelStatus->setText(tr("No model loaded"));
        updateTitle();
        return;
    }
    const model::ModelConfig& c = m_session->current().model->config();
    m_modelStatus->setText(
        tr("Model: %1 — %2, %3 layers, d_model %4")
            .arg(m_session->displayName(), QString::fromLatin1(model::archName(c.arch)))
            .arg(c.nLayers)
            .arg(c.dModel));
    m_modelStatus->setToolTip(m_session->current().path);
    updateTitle();
}

void MainWindow::updateSaeStatus() {
    const QString name = m_workspace->currentSae();
    if (name.isEmpty()) {
        m_saeStatus->setText(m_workspace->isOpen() ? tr("No SAE") : QString());
        return;
    }
    if (const auto sae = m_workspace->sae())
        m_saeStatus->setText(tr("SAE: %1 — %2 features at %3")
                                 .arg(name)
                                 .arg(sae->dSae())
                                 .arg(m_workspace->currentHook()));
    else
        m_saeStatus->setText(m_workspace->isSaeLoading() ? tr("SAE: loading %1…").arg(name)
                                                         : tr("SAE: %1 (not loaded)").arg(name));
}

void MainWindow::updateTitle() {
    if (m_workspace->isOpen())
        setWindowTitle(tr("%1 — Monoscope").arg(m_workspace->name()));
    else if (m_session->hasModel())
        setWindowTitle(tr("%1 — Monoscope").arg(m_session->displayName()));
    else
        setWindowTitle(QStringLiteral("Monoscope"));
}

void MainWindow::restoreWindowState() {
    const QSettings settings;
    if (const QByteArray g = settings.value(kGeometryKey).toByteArray(); !g.isEmpty())
        restoreGeometry(g);
    if (const QByteArray s = settings.value(kStateKey).toByteArray(); !s.isEmpty()) restoreState(s);
    if (const QByteArray s = settings.value(kSplitterKey).toByteArray(); !s.isEmpty())
        m_views.features->splitter()->restoreState(s);
    else
        m_views.features->splitter()->setSizes({640, 640});
    showView(settings.value(kViewKey, QStringLiteral("features")).toString());
    m_theme = themeFromName(settings.value(kThemeKey).toString());
    const QSignalBlocker block(m_darkAction);
    m_darkAction->setChecked(m_theme == Theme::kDark);
}

void MainWindow::resizeEvent(QResizeEvent* event) {
    QMainWindow::resizeEvent(event);
    // A narrow window squeezes the sidebar; growing it again gives the room back
    // to the sidebar as well, not to the central views alone.
    if (m_sidebarDock->isVisible() && !m_sidebarDock->isFloating() &&
        m_sidebarDock->width() < kSidebarWidth && width() >= 1200)
        resizeDocks({m_sidebarDock}, {kSidebarWidth}, Qt::Horizontal);
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (m_rememberRecent) {
        QSettings settings;
        settings.setValue(kGeometryKey, saveGeometry());
        settings.setValue(kStateKey, saveState());
        settings.setValue(kSplitterKey, m_views.features->splitter()->saveState());
        for (const ViewTab& v : m_tabs)
            if (v.widget == m_panels->currentWidget()) settings.setValue(kViewKey, v.name);
    }
    m_views.features->dashboard()->saveAnnotations();
    QMainWindow::closeEvent(event);
}

void MainWindow::setTheme(Theme theme) {
    m_theme = theme;
    if (auto* app = qobject_cast<QApplication*>(QCoreApplication::instance()))
        applyTheme(*app, theme);
    {
        const QSignalBlocker block(m_darkAction);
        m_darkAction->setChecked(theme == Theme::kDark);
    }
    // Plots paint with their own colours: give them the new palette.
    for (QCustomPlot* plot : findChildren<QCustomPlot*>()) {
        stylePlot(plot);
        plot->replot(QCustomPlot::rpQueuedReplot);
    }
    m_views.jobs->monitor()->restyle();
    if (m_rememberRecent) QSettings().setValue(kThemeKey, themeName(theme));
}

bool MainWindow::openWorkspace(const QString& dir) {
    const QString lastSae = m_rememberRecent ? QSettings()
                                                   .value(kLastSaeKey)
                                                   .toMap()
                                                   .value(QFileInfo(dir).absoluteFilePath())
                                                   .toString()
                                             : QString();
    const Status st = m_workspace->open(dir, lastSae);
    if (!st.ok()) {
        m_reportError(tr("Could not open the workspace"),
                      tr("%1\n\nA workspace is a folder with a monoscope.json manifest; create "
                         "one with File ▸ New Workspace…")
                          .arg(QString::fromStdString(st.toString())));
        return false;
    }
    if (m_rememberRecent) rememberWorkspace(dir);
    statusBar()->showMessage(tr("Opened workspace %1").arg(m_workspace->name()), 4000);
    return true;
}

void MainWindow::openWorkspaceInteractive() {
    const QString dir = QFileDialog::getExistingDirectory(
        this, tr("Open Workspace"), m_workspace->isOpen() ? m_workspace->dir() : QString());
    if (!dir.isEmpty()) openWorkspace(dir);
}

void MainWindow::newWorkspaceInteractive() {
    NewWorkspaceWizard wizard(this);
    if (wizard.exec() != QDialog::Accepted) return;
    const NewWorkspacePlan plan = wizard.plan();
    auto created = ws::Workspace::create(plan.dir.toStdString(), plan.manifest);
    if (!created.ok()) {
        m_reportError(tr("Could not create the workspace"),
                      QString::fromStdString(created.status().toString()));
        return;
    }
    if (!openWorkspace(plan.dir)) return;
    m_panels->setCurrentWidget(m_views.jobs);
    CaptureJobSpec capture = plan.capture;
    TrainJobSpec train = plan.train;
    AnalyseJobSpec analyse = plan.analyse;
    capture.workspaceDir = train.workspaceDir = analyse.workspaceDir =
        m_workspace->dir().toStdString();
    m_views.jobs->startPipeline(capture, train, analyse);
}

void MainWindow::openModel(const QString& path, const QString& tokenizerPath) {
    m_panels->setCurrentWidget(m_views.generate);
    m_views.generate->openModel(path, tokenizerPath);
}

void MainWindow::openFeature(qint64 id) {
    m_panels->setCurrentWidget(m_views.features);
    m_views.features->openFeature(id);
}

void MainWindow::setErrorReporter(const ErrorReporter& reporter) {
    m_reportError = reporter;
    m_views.generate->setErrorReporter(reporter);
    m_views.features->dashboard()->setErrorReporter(reporter);
    m_views.inspector->setErrorReporter(reporter);
    m_views.jobs->setErrorReporter(reporter);
    m_views.steering->setErrorReporter(reporter);
    m_views.quant->setErrorReporter(reporter);
    m_sidebar->setErrorReporter(reporter);
}

}  // namespace mono::ui
