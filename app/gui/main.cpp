// monoscope: the desktop application.
//
//   monoscope [WORKSPACE | MODEL] [--tokenizer FILE] [--sae NAME] [--feature ID] [--dark | --light]
//             [--screenshot DIR [--size WxH] [--shots a,b,...]]
//
// WORKSPACE is a folder with a monoscope.json; MODEL is a Hugging Face folder,
// a .gguf file or a llama2.c .bin (its tokenizer .bin is found beside it unless
// --tokenizer names one). With --screenshot the window renders each main view
// to DIR/<view>.png and exits (use QT_QPA_PLATFORM=offscreen on a machine
// without a display); --feature picks the feature the Features view shows,
// --size the window size (default 1440x917) and --shots which pictures.

#include <QApplication>
#include <QCommandLineParser>
#include <QSettings>

#include <cstdio>
#include <exception>
#include <new>
#include <thread>

#include "core/base/version.h"
#include "core/workspace/workspace.h"
#include "ui/main/main_window.h"
#include "ui/main/screenshots.h"
#include "ui/main/style.h"
#include "ui/session/workspace_session.h"
#include "ui/widgets/error_reporter.h"
#ifdef MONO_HAVE_CUDA
#include "gpu/device_info.h"
#endif

namespace {

// What the status bar says about compute: the CPU, and a GPU when one was built and found.
QString deviceDescription() {
    QString text = QStringLiteral("CPU, %1 threads").arg(std::thread::hardware_concurrency());
#ifdef MONO_HAVE_CUDA
    std::string why;
    const auto gpus = mono::gpu::listDevices(&why);
    if (!gpus.empty())
        text += QStringLiteral(" · CUDA: %1").arg(QString::fromStdString(gpus.front().name));
#endif
    return text;
}

void reportFatal(const char* what) {
    std::fprintf(stderr, "monoscope: error: %s\n", what);
}

// Reports the exception being handled; call it only inside a catch block.
void reportCaughtException() {
    try {
        throw;
    } catch (const std::bad_alloc&) {
        reportFatal("out of memory (an allocation failed)");
    } catch (const std::exception& e) {
        reportFatal(e.what());
    } catch (...) {
        reportFatal("an unknown exception");
    }
}

// Qt cannot carry an exception through its event loop; one thrown in a slot or
// an event handler would end the program with std::terminate. Here it becomes
// an error message and exit code 1 instead.
class GuardedApplication final : public QApplication {
public:
    using QApplication::QApplication;

    bool notify(QObject* receiver, QEvent* event) override {
        try {
            return QApplication::notify(receiver, event);
        } catch (...) {
            reportCaughtException();
        }
        QCoreApplication::exit(1);
        return false;
    }
};

int runMonoscope(int argc, char** argv) {
    GuardedApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Monoscope"));
    QApplication::setOrganizationName(QStringLiteral("Monoscope"));
    QApplication::setApplicationVersion(QString::fromLatin1(mono::kVersion));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("A microscope for the features inside language models."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(
        QStringLiteral("path"),
        QStringLiteral("A workspace folder, or a model to open: a Hugging Face folder, a .gguf "
                       "file or a llama2.c .bin."),
        QStringLiteral("[WORKSPACE | MODEL]"));
    const QCommandLineOption tokenizerOption(
        QStringLiteral("tokenizer"),
        QStringLiteral("The tokenizer of a llama2.c model (default: one found beside it)."),
        QStringLiteral("FILE"));
    const QCommandLineOption screenshotOption(
        QStringLiteral("screenshot"),
        QStringLiteral("Render each main view to DIR/<view>.png, then exit."),
        QStringLiteral("DIR"));
    const QCommandLineOption featureOption(
        QStringLiteral("feature"), QStringLiteral("The feature to show in the Features view."),
        QStringLiteral("ID"));
    const QCommandLineOption saeOption(
        QStringLiteral("sae"),
        QStringLiteral("The workspace's SAE to explore (default: the first analysed)."),
        QStringLiteral("NAME"));
    const QCommandLineOption darkOption(QStringLiteral("dark"),
                                        QStringLiteral("Use the dark theme."));
    const QCommandLineOption lightOption(QStringLiteral("light"),
                                         QStringLiteral("Use the light theme."));
    const QCommandLineOption sizeOption(
        QStringLiteral("size"),
        QStringLiteral("With --screenshot: the window size, e.g. 1024x700 (default 1440x917)."),
        QStringLiteral("WxH"));
    const QCommandLineOption shotsOption(
        QStringLiteral("shots"),
        QStringLiteral("With --screenshot: the pictures to take, comma-separated (features, "
                       "feature-dashboard, inspector, jobs, generate, steer, quant)."),
        QStringLiteral("LIST"));
    parser.addOption(sizeOption);
    parser.addOption(shotsOption);
    parser.addOption(tokenizerOption);
    parser.addOption(screenshotOption);
    parser.addOption(featureOption);
    parser.addOption(saeOption);
    parser.addOption(darkOption);
    parser.addOption(lightOption);
    parser.process(app);
    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1) parser.showHelp(1);

    const bool screenshot = parser.isSet(screenshotOption);
    mono::ui::Theme theme =
        mono::ui::themeFromName(QSettings().value(QStringLiteral("appearance/theme")).toString());
    if (screenshot) theme = mono::ui::Theme::kLight;
    if (parser.isSet(darkOption)) theme = mono::ui::Theme::kDark;
    if (parser.isSet(lightOption)) theme = mono::ui::Theme::kLight;
    mono::ui::applyTheme(app, theme);

    mono::ui::MainWindow window;
    window.setDeviceDescription(deviceDescription());
    if (screenshot) {
        window.setErrorReporter(mono::ui::stderrErrorReporter());
        window.setRememberRecent(false);
        QSize size(1440, 917);  // the default window a new user gets on a 1080p screen
        if (parser.isSet(sizeOption)) {
            const QStringList wh = parser.value(sizeOption).split(QLatin1Char('x'));
            if (wh.size() == 2 && wh[0].toInt() > 0 && wh[1].toInt() > 0)
                size = QSize(wh[0].toInt(), wh[1].toInt());
            else
                std::fprintf(stderr, "monoscope: --size wants WxH, e.g. 1024x700\n");
        }
        window.resize(size);
    }
    if (theme != window.theme()) window.setTheme(theme);
    window.show();
    if (!positional.isEmpty()) {
        const QString path = positional.front();
        if (mono::ws::isWorkspace(path.toStdString())) {
            if (window.openWorkspace(path) && parser.isSet(saeOption)) {
                const mono::Status st = window.workspace()->selectSae(parser.value(saeOption));
                if (!st.ok()) std::fprintf(stderr, "monoscope: %s\n", st.toString().c_str());
            }
        } else
            window.openModel(path, parser.value(tokenizerOption));
    }
    if (screenshot) {
        mono::ui::ScreenshotOptions options;
        options.dir = parser.value(screenshotOption);
        if (parser.isSet(featureOption)) options.feature = parser.value(featureOption).toLongLong();
        if (parser.isSet(shotsOption))
            options.shots = parser.value(shotsOption).split(QLatin1Char(','), Qt::SkipEmptyParts);
        return mono::ui::takeScreenshots(window, options);
    }
    return app.exec();
}

}  // namespace

// The last line of defence outside the event loop (start-up and shut-down):
// anything that escapes becomes a message and exit code 1, never an abort.
int main(int argc, char** argv) {
    try {
        return runMonoscope(argc, argv);
    } catch (...) {
        reportCaughtException();
    }
    return 1;
}
