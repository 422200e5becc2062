// monoscope: the desktop application.
//
//   monoscope [MODEL] [--tokenizer FILE] [--screenshot DIR]
//
// MODEL is a Hugging Face folder, a .gguf file or a llama2.c .bin (its
// tokenizer .bin is found beside it unless --tokenizer names one). With
// --screenshot the window renders each main view to DIR/<view>.png and exits
// (use QT_QPA_PLATFORM=offscreen on a machine without a display).

#include <QApplication>
#include <QCommandLineParser>

#include "core/base/version.h"
#include "ui/main/main_window.h"
#include "ui/main/screenshots.h"
#include "ui/main/style.h"
#include "ui/widgets/error_reporter.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Monoscope"));
    QApplication::setOrganizationName(QStringLiteral("Monoscope"));
    QApplication::setApplicationVersion(QString::fromLatin1(mono::kVersion));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("A microscope for the features inside language models."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(
        QStringLiteral("model"),
        QStringLiteral("A Hugging Face folder, a .gguf file or a llama2.c .bin to open."),
        QStringLiteral("[MODEL]"));
    const QCommandLineOption tokenizerOption(
        QStringLiteral("tokenizer"),
        QStringLiteral("The tokenizer of a llama2.c model (default: one found beside it)."),
        QStringLiteral("FILE"));
    const QCommandLineOption screenshotOption(
        QStringLiteral("screenshot"),
        QStringLiteral("Render each main view to DIR/<view>.png, then exit."),
        QStringLiteral("DIR"));
    parser.addOption(tokenizerOption);
    parser.addOption(screenshotOption);
    parser.process(app);
    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1) parser.showHelp(1);

    mono::ui::applyLightStyle(app);
    mono::ui::MainWindow window;
    const bool screenshot = parser.isSet(screenshotOption);
    if (screenshot) {
        window.setErrorReporter(mono::ui::stderrErrorReporter());
        window.setRememberRecent(false);
    }
    window.show();
    if (!positional.isEmpty()) window.openModel(positional.front(), parser.value(tokenizerOption));
    if (screenshot)
        mono::ui::takeScreenshots(&window, parser.value(screenshotOption), 180000,
                                  [](int code) { QApplication::exit(code); });
    return app.exec();
}
