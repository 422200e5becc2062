#include "ui/main/style.h"

#include <QApplication>
#include <QFile>
#include <QPalette>
#include <QStyleFactory>

#include <utility>

// Q_INIT_RESOURCE must be called outside a namespace; the resources live in the
// static monoscope_ui library, whose initializer the linker may otherwise drop.
static void initMonoscopeResources() {
    Q_INIT_RESOURCE(resources);
}

namespace mono::ui {

namespace {

// Rules for the explorer's widgets, in the light theme's colours.
const char* const kExplorerSheet = R"(
QLabel#featureTitle { font-size: 14pt; font-weight: bold; color: #111827; }
QLabel#workspaceName { font-size: 12pt; font-weight: bold; color: #111827; }
QLabel#statValue { color: #111827; font-weight: bold; }
QLabel#hint { color: #6b7280; }
QLineEdit { background: #ffffff; border: 1px solid #d5d9df; border-radius: 4px; padding: 3px 5px;
            color: #111827; }
QLineEdit:focus { border-color: #2563eb; }
QTableView, QListWidget, QTreeWidget { background: #ffffff; alternate-background-color: #f3f4f6;
    border: 1px solid #dde1e6; color: #111827; selection-background-color: #2563eb;
    selection-color: #fffffe; gridline-color: #e2e5ea; }
QHeaderView::section { background: #f5f6f8; color: #374151; border: none;
    border-bottom: 1px solid #dde1e6; border-right: 1px solid #e2e5ea; padding: 4px 6px; }
QScrollArea > QWidget > QWidget#dashboardContent { background: #f5f6f8; }
QPushButton#steerButton, QPushButton[primary="true"] { background: #2563eb; border-color: #1d4ed8;
    color: #fffffe; font-weight: bold; }
QPushButton#steerButton:disabled, QPushButton[primary="true"]:disabled { background: #a9c0f2;
    border-color: #a9c0f2; color: #f4f7fd; }
QProgressBar#jobProgress { border: 1px solid #dde1e6; border-radius: 3px; background: #e5e7eb;
    text-align: center; color: #111827; height: 16px; }
QProgressBar#jobProgress::chunk { background: #2563eb; border-radius: 3px; }
QDockWidget { color: #374151; }
QTableView:focus, QListWidget:focus, QTreeWidget:focus, QPlainTextEdit:focus, QTextEdit:focus {
    border: 2px solid #2563eb; }
QLineEdit:focus { border: 2px solid #2563eb; padding: 2px 4px; }
QPushButton:focus { border: 2px solid #2563eb; padding: 4px 15px; }
QPushButton#steerButton:focus, QPushButton[primary="true"]:focus { border: 2px solid #111827; }
QToolButton:focus { border: 2px solid #2563eb; border-radius: 3px; }
)";

// Light colour → dark colour. Text colours become light, surfaces dark.
const std::pair<const char*, const char*> kDarkMap[] = {
    {"#f5f6f8", "#1b1e23"}, {"#ffffff", "#23272e"}, {"#fcfcfd", "#202328"}, {"#f3f4f6", "#272b32"},
    {"#f0f4fa", "#2c323b"}, {"#e3e9f2", "#323944"}, {"#e2e5ea", "#30353d"}, {"#dde1e6", "#363b44"},
    {"#d5d9df", "#3b414b"}, {"#c7ccd4", "#4a515c"}, {"#aab3c0", "#5b6472"}, {"#e1e4e8", "#30353d"},
    {"#e5e7eb", "#2f343c"}, {"#cfe0ff", "#1e3a6e"}, {"#a9c0f2", "#2b3f66"}, {"#f4f7fd", "#7d8796"},
    {"#a0a6ae", "#6b7280"}, {"#111827", "#e8eaed"}, {"#1f2937", "#dfe2e6"}, {"#374151", "#c9cdd3"},
    {"#4b5563", "#aeb4bd"}, {"#6b7280", "#9aa1ab"}, {"#2563eb", "#3b82f6"}, {"#1d4ed8", "#2563eb"},
};

QString darkSheet(QString sheet) {
    for (const auto& [from, to] : kDarkMap)
        sheet.replace(QLatin1String(from), QLatin1String(to), Qt::CaseInsensitive);
    return sheet;
}

QPalette lightPalette(const QPalette& standard) {
    QPalette palette = standard;
    palette.setColor(QPalette::Window, QColor(0xf5, 0xf6, 0xf8));
    palette.setColor(QPalette::Base, Qt::white);
    palette.setColor(QPalette::AlternateBase, QColor(0xf3, 0xf4, 0xf6));
    palette.setColor(QPalette::Text, QColor(0x11, 0x18, 0x27));
    palette.setColor(QPalette::WindowText, QColor(0x1f, 0x29, 0x37));
    palette.setColor(QPalette::ButtonText, QColor(0x1f, 0x29, 0x37));
    palette.setColor(QPalette::Highlight, QColor(0x25, 0x63, 0xeb));
    palette.setColor(QPalette::PlaceholderText, QColor(0x9c, 0xa3, 0xaf));
    palette.setColor(QPalette::Link, QColor(0x25, 0x63, 0xeb));
    return palette;
}

QPalette darkPalette(const QPalette& standard) {
    QPalette palette = standard;
    palette.setColor(QPalette::Window, QColor(0x1b, 0x1e, 0x23));
    palette.setColor(QPalette::Base, QColor(0x23, 0x27, 0x2e));
    palette.setColor(QPalette::AlternateBase, QColor(0x27, 0x2b, 0x32));
    palette.setColor(QPalette::Button, QColor(0x2a, 0x2f, 0x36));
    palette.setColor(QPalette::Text, QColor(0xe8, 0xea, 0xed));
    palette.setColor(QPalette::WindowText, QColor(0xdf, 0xe2, 0xe6));
    palette.setColor(QPalette::ButtonText, QColor(0xdf, 0xe2, 0xe6));
    palette.setColor(QPalette::BrightText, Qt::white);
    palette.setColor(QPalette::ToolTipBase, QColor(0x2a, 0x2f, 0x36));
    palette.setColor(QPalette::ToolTipText, QColor(0xe8, 0xea, 0xed));
    palette.setColor(QPalette::Highlight, QColor(0x3b, 0x82, 0xf6));
    palette.setColor(QPalette::HighlightedText, Qt::white);
    palette.setColor(QPalette::PlaceholderText, QColor(0x7d, 0x87, 0x96));
    palette.setColor(QPalette::Link, QColor(0x60, 0xa5, 0xfa));
    palette.setColor(QPalette::Disabled, QPalette::Text, QColor(0x6b, 0x72, 0x80));
    palette.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x6b, 0x72, 0x80));
    return palette;
}

}  // namespace

void applyTheme(QApplication& app, Theme theme) {
    initMonoscopeResources();
    if (QStyle* fusion = QStyleFactory::create(QStringLiteral("Fusion"))) app.setStyle(fusion);
    const QPalette standard = app.style()->standardPalette();
    app.setPalette(theme == Theme::kDark ? darkPalette(standard) : lightPalette(standard));
    QString sheet;
    if (QFile style(QStringLiteral(":/style/light.qss")); style.open(QIODevice::ReadOnly))
        sheet = QString::fromUtf8(style.readAll());
    sheet += QString::fromLatin1(kExplorerSheet);
    app.setStyleSheet(theme == Theme::kDark ? darkSheet(sheet) : sheet);
}

void applyLightStyle(QApplication& app) {
    applyTheme(app, Theme::kLight);
}

QString themeName(Theme theme) {
    return theme == Theme::kDark ? QStringLiteral("dark") : QStringLiteral("light");
}

Theme themeFromName(const QString& name) {
    return name == QStringLiteral("dark") ? Theme::kDark : Theme::kLight;
}

}  // namespace mono::ui
