#include "ui/main/main_window.h"

#include <QApplication>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>

#include "core/base/version.h"
#include "core/model/config.h"
#include "core/model/model.h"
#include "ui/main/model_session.h"
#include "ui/main/open_model_dialog.h"
#include "ui/panels/generate/generate_panel.h"

namespace mono::ui {

namespace {
const QString kRecentPathsKey = QStringLiteral("recentModels/paths");
const QString kRecentTokenizersKey = QStringLiteral("recentModels/tokenizers");
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(QStringLiteral("Monoscope"));
    resize(1280, 800);
    m_session = new ModelSession(this);
    m_panels = new QTabWidget(this);
    m_panels->setDocumentMode(true);
    m_generate = new GeneratePanel(m_session);
    m_panels->addTab(m_generate, tr("Generate"));
    setCentralWidget(m_panels);
    buildMenus();

    m_modelStatus = new QLabel;
    m_modelStatus->setObjectName(QStringLiteral("modelStatus"));
    statusBar()->addPermanentWidget(m_modelStatus);
    connect(m_session, &ModelSession::loadStarted, this, [this](const QString& path) {
        m_modelStatus->setText(tr("Loading %1…").arg(ModelSession::displayNameOf(path)));
    });
    connect(m_session, &ModelSession::loadFailed, this,
            [this](const QString& path, const QString&) {
                statusBar()->showMessage(
                    tr("Could not open %1").arg(ModelSession::displayNameOf(path)), 8000);
                updateModelStatus();
            });
    connect(m_session, &ModelSession::modelChanged, this, [this] {
        updateModelStatus();
        const LoadedModel& m = m_session->current();
        if (m_rememberRecent && !m.path.isEmpty()) rememberModel(m.path, m.tokenizerPath);
    });
    updateModelStatus();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open =
        file->addAction(tr("&Open Model…"), this, [this] { m_generate->openModelInteractive(); });
    open->setShortcut(QKeySequence::Open);
    open->setStatusTip(tr("Open a .gguf, a llama2.c .bin, or a file in a Hugging Face folder"));
    file->addAction(tr("Open Model &Folder…"), this, [this] {
        if (const auto source = askForModelFolder(this)) openModel(source->path);
    });
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    m_recentMenu->setObjectName(QStringLiteral("recentMenu"));
    connect(m_recentMenu, &QMenu::aboutToShow, this, &MainWindow::rebuildRecentMenu);
    rebuildRecentMenu();
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), qApp, &QApplication::quit);
    quit->setShortcut(QKeySequence::Quit);

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

void MainWindow::updateModelStatus() {
    if (!m_session->hasModel()) {
        m_modelStatus->setText(tr("No model loaded"));
        setWindowTitle(QStringLiteral("Monoscope"));
        return;
    }
    const model::ModelConfig& c = m_session->current().model->config();
    m_modelStatus->setText(
        tr("Model: %1 — %2, %3 layers, d_model %4")
            .arg(m_session->displayName(), QString::fromLatin1(model::archName(c.arch)))
            .arg(c.nLayers)
            .arg(c.dModel));
    m_modelStatus->setToolTip(m_session->current().path);
    setWindowTitle(tr("%1 — Monoscope").arg(m_session->displayName()));
}

void MainWindow::openModel(const QString& path, const QString& tokenizerPath) {
    m_panels->setCurrentWidget(m_generate);
    m_generate->openModel(path, tokenizerPath);
}

void MainWindow::setErrorReporter(const ErrorReporter& reporter) {
    m_generate->setErrorReporter(reporter);
}

QList<MainWindow::View> MainWindow::views() const {
    return {View{QStringLiteral("generate"), m_generate}};
}

void MainWindow::prepareView(const View& view, std::function<void()> ready) {
    m_panels->setCurrentWidget(view.widget);
    if (view.widget == m_generate) {
        m_generate->prepareForScreenshot(std::move(ready));
        return;
    }
    ready();
}

}  // namespace mono::ui
