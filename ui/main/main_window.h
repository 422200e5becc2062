#pragma once
// The application's main window, centred on a workspace: the views (Features,
// Inspector, Jobs, Generate — and any panel added with addView) in tabs, the
// workspace sidebar docked at the left, the status bar with the current model,
// SAE and device. It owns the ModelSession and WorkspaceSession every view
// reads, the recent lists and window state (QSettings), the theme, and the
// list of views the screenshot mode photographs.

#include <QList>
#include <QMainWindow>

#include <functional>

#include "ui/main/style.h"
#include "ui/widgets/error_reporter.h"

class QAction;
class QDockWidget;
class QLabel;
class QMenu;
class QTabWidget;

namespace mono::ui {

class FeaturesView;
class GeneratePanel;
class JobsPanel;
class ModelSession;
class PromptInspector;
class WorkspaceSession;
class WorkspaceSidebar;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    QTabWidget* panels() const { return m_panels; }
    ModelSession* session() const { return m_session; }
    WorkspaceSession* workspace() const { return m_workspace; }
    GeneratePanel* generatePanel() const { return m_generate; }
    FeaturesView* featuresView() const { return m_features; }
    PromptInspector* inspector() const { return m_inspector; }
    JobsPanel* jobsPanel() const { return m_jobs; }
    WorkspaceSidebar* sidebar() const { return m_sidebar; }

    // Opens the workspace folder `dir`. On bad input (not a workspace, a broken
    // manifest) reports a clear error, keeps what was open, and returns false.
    bool openWorkspace(const QString& dir);
    // Asks for a folder, then openWorkspace().
    void openWorkspaceInteractive();
    // Runs the new-workspace wizard; on Finish creates the workspace, opens it
    // and starts capture → train → analyse in the Jobs view.
    void newWorkspaceInteractive();
    // Opens a model (folder, .gguf, or .bin with an optional tokenizer .bin).
    void openModel(const QString& path, const QString& tokenizerPath = {});

    // Brings a view into a state worth photographing, then calls its argument.
    using Prepare = std::function<void(std::function<void()> ready)>;
    // Adds a view as a tab (e.g. the steering panel): `name` is its screenshot
    // file name, `title` its tab text; `prepare` (optional) runs in screenshot
    // mode once the workspace's model and SAE have loaded. Returns the tab index.
    int addView(const QString& name, const QString& title, QWidget* widget, Prepare prepare = {});
    // Switches to the view named `name`; false when there is none.
    bool showView(const QString& name);

    // Where every panel reports failures (default: message boxes over this window).
    void setErrorReporter(const ErrorReporter& reporter);
    // Whether opened models/workspaces go to the recent lists and the window
    // state is saved in QSettings (default: yes).
    void setRememberRecent(bool remember) { m_rememberRecent = remember; }
    // The feature the screenshot mode shows (default: the strongest one).
    void setScreenshotFeature(qint64 id) { m_screenshotFeature = id; }

    // The status bar's device field ("CPU, 16 threads"); app/ knows what was built.
    void setDeviceDescription(const QString& text);

    void setTheme(Theme theme);
    Theme theme() const { return m_theme; }

    // The main views: a short name for file names ("features") and the tab's widget.
    struct View {
        QString name;
        QWidget* widget = nullptr;
        Prepare prepare;  // see addView
    };
    QList<View> views() const;
    // Brings `view` into a state worth photographing, then calls `ready`.
    void prepareView(const View& view, std::function<void()> ready);

    static constexpr int kMaxRecent = 8;

signals:
    // "Steer with this feature" in a dashboard; the steering panel listens.
    void steerRequested(int featureId);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildMenus();
    void rebuildRecentMenu();
    void rebuildRecentWorkspacesMenu();
    void rememberModel(const QString& path, const QString& tokenizerPath);
    void rememberWorkspace(const QString& dir);
    void updateModelStatus();
    void updateSaeStatus();
    void updateTitle();
    void restoreWindowState();
    void openFeature(qint64 id);
    void prepareFeaturesView(std::function<void()> ready);
    void prepareInspector(std::function<void()> ready);
    // Calls `fn` once the workspace's model and SAE have loaded (or failed).
    void whenLoaded(std::function<void()> fn);

    ModelSession* m_session = nullptr;
    WorkspaceSession* m_workspace = nullptr;
    QTabWidget* m_panels = nullptr;
    FeaturesView* m_features = nullptr;
    PromptInspector* m_inspector = nullptr;
    JobsPanel* m_jobs = nullptr;
    GeneratePanel* m_generate = nullptr;
    WorkspaceSidebar* m_sidebar = nullptr;
    QDockWidget* m_sidebarDock = nullptr;
    QList<View> m_views;
    QMenu* m_recentMenu = nullptr;
    QMenu* m_recentWorkspacesMenu = nullptr;
    QMenu* m_viewMenu = nullptr;
    QAction* m_darkAction = nullptr;
    QLabel* m_modelStatus = nullptr;
    QLabel* m_saeStatus = nullptr;
    QLabel* m_deviceStatus = nullptr;
    ErrorReporter m_reportError;
    Theme m_theme = Theme::kLight;
    bool m_rememberRecent = true;
    qint64 m_screenshotFeature = -1;
};

}  // namespace mono::ui
