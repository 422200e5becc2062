#pragma once
// The screenshot mode (`monoscope --screenshot DIR`): renders each main view of
// the window to DIR/<view>.png with QWidget::grab() once the view is ready (a
// model given on the command line loaded, a short continuation generated).

#include <QString>

#include <functional>

namespace mono::ui {

class MainWindow;

// Starts photographing (asynchronously; the event loop must run) and calls
// done(exitCode) on the GUI thread: 0 when every image was written, 1 when one
// could not be written, 2 when a view was not ready within `timeoutMs`, 3 when
// a model failed to load (the images are still written).
// Messages go to stderr.
void takeScreenshots(MainWindow* window, const QString& dir, int timeoutMs,
                     std::function<void(int)> done);

}  // namespace mono::ui
