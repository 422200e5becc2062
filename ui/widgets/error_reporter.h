#pragma once
// How a panel tells the user that something failed. The default shows a modal
// QMessageBox; tests and unattended runs install their own (capture the text,
// print it) so that nothing blocks on a dialog.

#include <QString>

#include <functional>

class QWidget;

namespace mono::ui {

// title: what was attempted ("Could not open the model"); message: the Status text.
using ErrorReporter = std::function<void(const QString& title, const QString& message)>;

// A reporter that shows QMessageBox::warning over `parent` (which must outlive it).
ErrorReporter messageBoxErrorReporter(QWidget* parent);

// A reporter that prints "title: message" to stderr.
ErrorReporter stderrErrorReporter();

}  // namespace mono::ui
