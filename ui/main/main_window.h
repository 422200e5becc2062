#pragma once
// The application's main window: menus, status bar and the panels at its centre.

#include <QMainWindow>

class QTabWidget;

namespace mono::ui {

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

    QTabWidget* panels() const { return m_panels; }

private:
    void buildMenus();

    QTabWidget* m_panels = nullptr;
};

}  // namespace mono::ui
