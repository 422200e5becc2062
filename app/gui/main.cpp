// monoscope: the desktop application.

#include <QApplication>
#include <QFile>

#include "ui/main/main_window.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Monoscope"));
    QApplication::setOrganizationName(QStringLiteral("Monoscope"));
    if (QFile style(QStringLiteral(":/style/light.qss")); style.open(QIODevice::ReadOnly))
        app.setStyleSheet(QString::fromUtf8(style.readAll()));
    mono::ui::MainWindow window;
    window.show();
    return app.exec();
}
