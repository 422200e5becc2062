#pragma once
// The application's main window: menus, status bar and the panels at its
// centre. It owns the ModelSession every panel reads, the recent-models list
// (QSettings) and the list of main views the screenshot mode photographs.

#include <QList>
#include <QMainWindow>

#include <functional>

#include "ui/widgets/error_reporter.h"

class QLabel;
class QMenu;
class QTabWidget;

namespace mono::ui {

class GeneratePanel;
class ModelSession;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    QTabWidget* panels() const { return m_panels; }
    ModelSession* session() const { return m_session; }
    GeneratePanel* generatePanel() const { return m_generate; }

    // Opens a model (folder, .gguf, or .bin with an optional tokenizer .bin).
    void openModel(const QString& path, const QString& tokenizerPath = {});

    // Where every panel reports failures (default: message boxes over this window).
    void setErrorReporter(const ErrorReporter& reporter);
    // Whether opened models go to the recent list in QSettings (default: yes).
    void setRememberRecent(bool remember) { m_rememberRecent = remember; }

    // The main views: a short name for file names ("generate") and the tab's widget.
    struct View {
        QString name;
        QWidget* widget = nullptr;
    };
    QList<View> views() const;
    // Brings `view` into a state worth photographing, then calls `ready`.
    void prepareView(const View& view, std::function<void()> ready);

    static constexpr int kMaxRecent = 8;

private:
    void buildMenus();
    void rebuildRecentMenu();
    void rememberModel(const QString& path, const QString& tokenizerPath);
    void updateModelStatus();

    ModelSession* m_session = nullptr;
    QTabWidget* m_panels = nullptr;
    GeneratePanel* m_generate = nullptr;
    QMenu* m_recentMenu = nullptr;
    QLabel* m_modelStatus = nullptr;
    bool m_rememberRecent = true;
};

}  // namespace mono::ui
