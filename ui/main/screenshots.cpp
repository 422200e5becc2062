#include "ui/main/screenshots.h"

#include <QDir>
#include <QPixmap>
#include <QPointer>
#include <QTimer>

#include <cstdio>
#include <memory>

#include "ui/main/main_window.h"
#include "ui/session/model_session.h"

namespace mono::ui {

namespace {

// Walks the views one after the other; owned by shared_ptrs in its own callbacks.
struct ScreenshotRun : std::enable_shared_from_this<ScreenshotRun> {
    QPointer<MainWindow> window;
    QDir dir;
    QList<MainWindow::View> views;
    int next = 0;
    int exitCode = 0;
    bool done = false;
    std::function<void(int)> onDone;
    QTimer* watchdog = nullptr;

    void finish(int code) {
        if (done) return;
        done = true;
        if (watchdog) watchdog->deleteLater();
        onDone(code);
    }

    void step() {
        if (done) return;
        if (!window) return finish(1);
        if (next >= views.size()) return finish(exitCode);
        const MainWindow::View view = views[next];
        auto self = shared_from_this();
        window->prepareView(view, [self, view] {
            // Let pending layout and paint events settle before grabbing.
            QTimer::singleShot(150, self->window, [self, view] { self->shoot(view); });
        });
    }

    void shoot(const MainWindow::View& view) {
        if (done || !window) return;
        const QString file = dir.absoluteFilePath(view.name + QStringLiteral(".png"));
        const QPixmap image = window->grab();
        if (image.save(file)) {
            std::fprintf(stderr, "monoscope: wrote %s (%dx%d)\n", qUtf8Printable(file),
                         image.width(), image.height());
        } else {
            std::fprintf(stderr, "monoscope: could not write %s\n", qUtf8Printable(file));
            exitCode = 1;
        }
        ++next;
        step();
    }
};

}  // namespace

void takeScreenshots(MainWindow* window, const QString& dir, int timeoutMs,
                     std::function<void(int)> done) {
    auto run = std::make_shared<ScreenshotRun>();
    run->window = window;
    run->dir = QDir(dir);
    run->onDone = std::move(done);
    if (!run->dir.exists() && !QDir().mkpath(dir)) {
        std::fprintf(stderr, "monoscope: cannot create %s\n", qUtf8Printable(dir));
        QTimer::singleShot(0, window, [run] { run->finish(1); });
        return;
    }
    run->views = window->views();
    // A model that failed to load still gets its (empty) picture, but the run fails.
    QObject::connect(window->session(), &ModelSession::loadFailed, window,
                     [run](const QString&, const QString&) {
                         if (run->exitCode == 0) run->exitCode = 3;
                     });
    run->watchdog = new QTimer(window);
    run->watchdog->setSingleShot(true);
    QObject::connect(run->watchdog, &QTimer::timeout, window, [run] {
        std::fprintf(stderr, "monoscope: a view was not ready for its screenshot in time\n");
        run->finish(2);
    });
    run->watchdog->start(timeoutMs);
    QTimer::singleShot(0, window, [run] { run->step(); });
}

}  // namespace mono::ui
