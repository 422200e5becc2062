#pragma once
// The screenshot mode (`monoscope --screenshot DIR`): brings each view of the
// main window into a state worth showing, through the panels' public slots as
// a user would (select the strongest feature, inspect a prompt, train a small
// SAE, generate, steer, calibrate), and renders the window to DIR/<view>.png
// with QWidget::grab().

#include <QString>
#include <QStringList>

namespace mono::ui {

class MainWindow;

struct ScreenshotOptions {
    QString dir;             // where the images go; created when missing
    qint64 feature = -1;     // the feature the Features view shows; -1: the strongest
    int timeoutMs = 300000;  // for the whole run
    // Which pictures (features, feature-dashboard, inspector, jobs, generate,
    // steer, quant); empty: all of them.
    QStringList shots;
};

// Photographs every view, running the event loop meanwhile, and returns the
// exit code: 0 when every image was written, 1 when one could not be written,
// 2 when a view was not ready within options.timeoutMs, 3 when a model failed
// to load (the images are still written). Messages go to stderr.
int takeScreenshots(MainWindow& window, const ScreenshotOptions& options);

}  // namespace mono::ui
