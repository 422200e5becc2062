#pragma once
// The application's main window, centred on a workspace: the views (Features,
// Inspector, Jobs, Generate, Steering, Quantization: views.cpp) in tabs, the workspace sidebar
// docked at the left, the status bar with the current model, SAE and device. It owns the
// ModelSession and WorkspaceSession every view reads, the recent lists and window state (QSettings)
// and the theme.

#include <QList>
#include <QMainWindow>

#include "ui/main/style.h"
#include "ui/main/views.h"
#include "ui/widgets/error_reporter.h"

class QAction;
class QDockWidget;
class QLabel;
class QMenu;
class QTabWidget;

namespace mono::ui {

class ModelSession;
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
    FeaturesView* featuresView() const { return m_views.features; }
    PromptInspector* inspector() const { return m_views.inspector; }
    JobsPanel* jobsPanel() const { return m_views.jobs; }
    GeneratePanel* generatePanel() const { return m_views.generate; }
    SteeringPanel* steeringPanel() const { return m_views.steering; }
    QuantView* quantView() const { return m_views.quant; }
    CompareView* compareView() const { return m_views.compare; }
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

    // Switches to the view named `name` (see views()); false when there is none.
    bool showView(const QString& name);

    // Where every panel reports failures (default: message boxes over this window).
    void setErrorReporter(const ErrorReporter& reporter);
    // Whether opened models/workspaces go to the recent lists and the window
    // state is saved in QSettings (default: yes).
    void setRememberRecent(bool remember) { m_rememberRecent = remember; }
    // The status bar's device field ("CPU, 16 threads"); app/ knows what was built.
    void setDeviceDescription(const QString& text);

    void setTheme(Theme theme);
    Theme theme() const { return m_theme; }

    // The tabs, in order.
    QList<ViewTab> views() const { return m_tabs; }

    static constexpr int kMaxRecent = 8;

protected:
    void closeEvent(QCloseEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

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

    ModelSession* m_session = nullptr;
    WorkspaceSession* m_workspace = nullptr;
    QTabWidget* m_panels = nullptr;
    MainViews m_views;
    QList<ViewTab> m_tabs;
    WorkspaceSidebar* m_sidebar = nullptr;
    QDockWidget* m_sidebarDock = nullptr;
    QMenu* m_recentMenu = nullptr;
    QMenu* m_recentWorkspacesMenu = nullptr;
    QAction* m_darkAction = nullptr;
    QLabel* m_modelStatus = nullptr;
    QLabel* m_saeStatus = nullptr;
    QLabel* m_deviceStatus = nullptr;
    ErrorReporter m_reportError;
    Theme m_theme = Theme::kLight;
    bool m_rememberRecent = true;
};

}  // namespace mono::ui
