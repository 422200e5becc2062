#include "ui/widgets/error_reporter.h"

#include <QMessageBox>
#include <QPointer>
#include <QWidget>

#include <cstdio>

namespace mono::ui {

ErrorReporter messageBoxErrorReporter(QWidget* parent) {
    return [guard = QPointer<QWidget>(parent)](const QString& title, const QString& message) {
        QMessageBox box(QMessageBox::Warning, title, title, QMessageBox::Ok, guard.data());
        box.setInformativeText(message);
        box.setTextInteractionFlags(Qt::TextSelectableByMouse);
        box.exec();
    };
}

ErrorReporter stderrErrorReporter() {
    return [](const QString& title, const QString& message) {
        std::fprintf(stderr, "%s: %s\n", qUtf8Printable(title), qUtf8Printable(message));
    };
}

}  // namespace mono::ui
