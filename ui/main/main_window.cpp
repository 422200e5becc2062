#include "ui/main/main_window.h"

#include <QApplication>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>
#include <QTabWidget>

#include "core/base/version.h"

namespace mono::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(QStringLiteral("Monoscope"));
    resize(1280, 800);
    m_panels = new QTabWidget(this);
    m_panels->setDocumentMode(true);
    setCentralWidget(m_panels);
    buildMenus();
    statusBar()->showMessage(tr("No model loaded"));
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Quit"), QKeySequence::Quit, qApp, &QApplication::quit);
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Monoscope"), this, [this] {
        QMessageBox::about(this, tr("About Monoscope"),
                           tr("Monoscope %1\nA microscope for the features inside language models.")
                               .arg(QString::fromLatin1(kVersion)));
    });
}

}  // namespace mono::ui
