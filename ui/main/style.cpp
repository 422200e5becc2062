#include "ui/main/style.h"

#include <QApplication>
#include <QFile>
#include <QPalette>
#include <QStyleFactory>

// Q_INIT_RESOURCE must be called outside a namespace; the resources live in the
// static monoscope_ui library, whose initializer the linker may otherwise drop.
static void initMonoscopeResources() {
    Q_INIT_RESOURCE(resources);
}

namespace mono::ui {

void applyLightStyle(QApplication& app) {
    initMonoscopeResources();
    if (QStyle* fusion = QStyleFactory::create(QStringLiteral("Fusion"))) app.setStyle(fusion);
    QPalette palette = app.style()->standardPalette();
    palette.setColor(QPalette::Window, QColor(0xf5, 0xf6, 0xf8));
    palette.setColor(QPalette::Base, Qt::white);
    palette.setColor(QPalette::AlternateBase, QColor(0xf3, 0xf4, 0xf6));
    palette.setColor(QPalette::Text, QColor(0x11, 0x18, 0x27));
    palette.setColor(QPalette::WindowText, QColor(0x1f, 0x29, 0x37));
    palette.setColor(QPalette::ButtonText, QColor(0x1f, 0x29, 0x37));
    palette.setColor(QPalette::Highlight, QColor(0x25, 0x63, 0xeb));
    palette.setColor(QPalette::PlaceholderText, QColor(0x9c, 0xa3, 0xaf));
    app.setPalette(palette);
    if (QFile style(QStringLiteral(":/style/light.qss")); style.open(QIODevice::ReadOnly))
        app.setStyleSheet(QString::fromUtf8(style.readAll()));
}

}  // namespace mono::ui
