// The Generate panel against real models: open stories260K (llama2.c .bin +
// tok512.bin) through the same path as the dialog, generate greedily and
// compare with llama2.c's reference text; the GUI thread keeps ticking while a
// slow model generates; Stop cancels; files that are not models become
// reported errors, never crashes. Also the main window's command-line path.

#include <QCheckBox>
#include <QGroupBox>
#include <QLabel>
#include <QMenu>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTimer>
#include <QtTest>

#include <filesystem>

#include "core/model/config.h"
#include "core/model/model.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/support/test_support.h"
#include "ui/main/main_window.h"
#include "ui/panels/generate/generate_panel.h"
#include "ui/panels/generate/open_model_dialog.h"
#include "ui/session/model_session.h"

using namespace mono;
using namespace mono::ui;
namespace fs = std::filesystem;

namespace {

QString qpath(const fs::path& p) {
    return QString::fromStdString(p.string());
}

struct Reported {
    QString title;
    QString message;
};

// A panel over its own session whose errors are captured instead of shown.
struct PanelFixture {
    ModelSession session;
    GeneratePanel panel{&session};
    QList<Reported> errors;
    PanelFixture() {
        panel.setErrorReporter([this](const QString& title, const QString& message) {
            errors.append({title, message});
        });
        panel.resize(1100, 700);
        panel.show();
    }
    QPushButton* button(const char* name) {
        return panel.findChild<QPushButton*>(QString::fromLatin1(name));
    }
    QString configText() const {
        QStringList texts;
        const auto* box = panel.findChild<QGroupBox*>(QStringLiteral("configBox"));
        for (const QLabel* label : box->findChildren<QLabel*>())
            if (label->isVisibleTo(&panel)) texts.append(label->text());
        return texts.join(QLatin1Char('\n'));
    }
};

// A Llama of random weights, large enough that each token takes milliseconds,
// with stories260K's vocabulary (512) so that tok512.bin can decode its output.
Result<LoadedModel> slowRandomModel(const fs::path& tokPath) {
    model::ModelConfig c = model::llamaConfig(
        "random-llama", {.dModel = 256,
                         .nLayers = 4,
                         .nHeads = 4,
                         .nKvHeads = 4,
                         .dMlp = 768,
                         .vocabSize = 512,
                         .maxSeqLen = 8192});  // room for a run that outlasts 800 ms
    c.rope = model::RopeLayout::kInterleaved;
    c.tiedEmbeddings = true;
    c.bosId = 1;
    c.eosId = 2;
    MONO_ASSIGN_OR_RETURN(auto m, model::Model::random(c, 7));
    MONO_ASSIGN_OR_RETURN(auto tok, tok::loadTokenizer(tokPath.string()));
    return LoadedModel{m, tok, QStringLiteral("random-llama"), qpath(tokPath)};
}

}  // namespace

class TestGeneratePanel : public QObject {
    Q_OBJECT
private slots:
    void greedyContinuationMatchesReference_data() {
        QTest::addColumn<QString>("prompt");
        QTest::addColumn<QString>("reference");
        QTest::newRow("from BOS") << QString() << QStringLiteral("expected_greedy_t0_n256.txt");
        QTest::newRow("prompt") << QStringLiteral("Once upon a time")
                                << QStringLiteral("expected_greedy_prompt_OnceUponATime_n64.txt");
    }
    void greedyContinuationMatchesReference() {
        QFETCH(QString, prompt);
        QFETCH(QString, reference);
        MONO_REQUIRE_SHARED(dir, "models/stories260K");
        const QString expected =
            QString::fromStdString(test::readFile(dir / reference.toStdString()));
        QVERIFY(expected.startsWith(QStringLiteral("Once upon a time")));

        PanelFixture f;
        QSignalSpy changed(&f.session, &ModelSession::modelChanged);
        f.panel.openModel(qpath(dir / "stories260K.bin"), qpath(dir / "tok512.bin"));
        // Loading is a job: the indicator shows until the model arrives.
        QVERIFY(f.session.isLoading());
        QVERIFY(f.panel.findChild<QProgressBar*>(QStringLiteral("loadingIndicator"))->isVisible());
        QTRY_COMPARE_WITH_TIMEOUT(changed.count(), 1, 20000);
        QVERIFY2(f.errors.isEmpty(), qPrintable(f.errors.value(0).message));
        QVERIFY(!f.panel.findChild<QProgressBar*>(QStringLiteral("loadingIndicator"))->isVisible());

        // The configuration view shows stories260K's shape.
        // New rows in a visible form are shown by a queued event (QLayout::addChildWidget).
        QTRY_VERIFY2_WITH_TIMEOUT(f.configText().contains(QStringLiteral("Llama")),
                                  qPrintable(f.configText()), 5000);
        const QString config = f.configText();
        QVERIFY2(config.contains(QStringLiteral("8 query, 4 key/value (head dim 8)")),
                 qPrintable(config));
        QVERIFY2(config.contains(QStringLiteral("172")), qPrintable(config));  // d_mlp
        QVERIFY2(config.contains(QStringLiteral("512 tokens")), qPrintable(config));
        QVERIFY2(config.contains(QStringLiteral("RoPE, interleaved")), qPrintable(config));
        QVERIFY2(config.contains(QStringLiteral("tok512.bin")), qPrintable(config));

        GenerateSettings s;
        s.maxNewTokens = 40;
        s.temperature = 0.0;
        f.panel.setSettings(s);
        f.panel.setPrompt(prompt);
        QSignalSpy finished(&f.panel, &GeneratePanel::generationFinished);
        QPushButton* generate = f.button("generateButton");
        QVERIFY(generate->isEnabled());
        QTest::mouseClick(generate, Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
        QCOMPARE(finished.at(0).at(0).toBool(), true);
        QVERIFY2(f.errors.isEmpty(), qPrintable(f.errors.value(0).message));

        const QString shown =
            f.panel.findChild<QPlainTextEdit*>(QStringLiteral("outputView"))->toPlainText();
        QCOMPARE(shown, f.panel.outputText());
        QCOMPARE(shown, prompt + f.panel.continuationText());
        QCOMPARE(f.panel.generatedTokens(), 40);
        QVERIFY2(shown.size() > 80, qPrintable(shown));
        QVERIFY2(shown.startsWith(QStringLiteral("Once upon a time")), qPrintable(shown));
        QVERIFY2(expected.startsWith(shown),
                 qPrintable(QStringLiteral("shown:    %1\nexpected: %2")
                                .arg(shown, expected.left(shown.size()))));
        QVERIFY(f.panel.findChild<QLabel*>(QStringLiteral("outcomeLabel"))
                    ->text()
                    .contains(QStringLiteral("40 tokens")));
    }

    // The panel's bf16 switch reaches the load, and the configuration says how
    // the weights are held and how much memory they take.
    void weightStorageIsChosenAndShown() {
        MONO_REQUIRE_SHARED(dir, "models/stories260K");
        qint64 bytes[2] = {0, 0};
        for (const bool bf16 : {false, true}) {
            PanelFixture f;
            auto* check = f.panel.findChild<QCheckBox*>(QStringLiteral("bf16WeightsCheck"));
            QVERIFY(check);
            check->setChecked(bf16);
            QSignalSpy changed(&f.session, &ModelSession::modelChanged);
            f.panel.openModel(qpath(dir / "stories260K.bin"), qpath(dir / "tok512.bin"));
            QTRY_COMPARE_WITH_TIMEOUT(changed.count(), 1, 20000);
            QVERIFY2(f.errors.isEmpty(), qPrintable(f.errors.value(0).message));
            const model::Model& m = *f.session.current().model;
            QCOMPARE(m.weightStorage() == model::WeightStorage::kBf16, bf16);
            bytes[bf16] = m.weightBytes();
            const QString shown = bf16 ? QStringLiteral("bfloat16") : QStringLiteral("float32");
            QTRY_VERIFY2_WITH_TIMEOUT(f.configText().contains(shown), qPrintable(f.configText()),
                                      5000);
            QVERIFY2(f.configText().contains(QLocale().formattedDataSize(bytes[bf16])),
                     qPrintable(f.configText()));
        }
        // Every linear and the embedding in 2 bytes instead of 4.
        QVERIFY2(bytes[1] < bytes[0] * 6 / 10, qPrintable(QString::number(bytes[1])));
    }

    void windowStaysResponsiveWhileGenerating() {
        MONO_REQUIRE_SHARED(tokPath, "models/stories260K/tok512.bin");
        PanelFixture f;
        auto loaded = slowRandomModel(tokPath);
        MONO_VERIFY_RESULT(loaded);
        f.session.setModel(*loaded);

        GenerateSettings s;
        s.maxNewTokens = 8000;
        s.temperature = 1.0;
        s.seed = 3;
        s.stopAtEos = false;
        f.panel.setSettings(s);

        // A 20 ms timer on the GUI thread: record the longest gap between ticks,
        // and how often new tokens had arrived while the job was running. The run is
        // stopped after 800 ms, 10 tokens and 3 arrivals (or 20 s), so that the test
        // takes about the same time on a fast or a busy machine.
        QElapsedTimer clock;
        bool stopped = false;
        QElapsedTimer sinceTick;
        qint64 maxGap = 0;
        int growths = 0;
        int lastTokens = 0;
        QTimer ticker;
        ticker.setInterval(20);
        connect(&ticker, &QTimer::timeout, this, [&] {
            maxGap = std::max(maxGap, sinceTick.restart());
            // Tokens, not characters: a random model's byte tokens often decode to nothing yet.
            const int tokens = f.panel.generatedTokens();
            if (f.panel.isGenerating() && tokens > lastTokens) ++growths;
            lastTokens = tokens;
            const bool enough = clock.elapsed() >= 800 && tokens >= 10 && growths >= 3;
            if (!stopped && (enough || clock.elapsed() >= 20000)) {
                stopped = true;
                f.panel.stop();
            }
        });
        QSignalSpy finished(&f.panel, &GeneratePanel::generationFinished);
        clock.start();
        sinceTick.start();
        ticker.start();
        f.panel.generate();
        QVERIFY(f.panel.isGenerating());
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120000);
        ticker.stop();
        const qint64 took = clock.elapsed();
        QVERIFY2(f.errors.isEmpty(), qPrintable(f.errors.value(0).message));
        QCOMPARE(finished.at(0).at(0).toBool(), true);
        const int tokens = f.panel.generatedTokens();
        qInfo("generated %d tokens in %lld ms; longest GUI gap %lld ms; tokens arrived in %d ticks",
              tokens, took, maxGap, growths);
        // Otherwise the test proves nothing: the generation must outlast many ticks.
        QVERIFY2(took >= 300, qPrintable(QStringLiteral("generation took only %1 ms").arg(took)));
        QVERIFY2(maxGap <= 250, qPrintable(QStringLiteral("GUI thread stalled %1 ms").arg(maxGap)));
        QVERIFY2(growths >= 3,
                 qPrintable(QStringLiteral("tokens arrived in only %1 ticks").arg(growths)));
        QVERIFY(tokens >= 10);
    }

    void stopCancels() {
        MONO_REQUIRE_SHARED(tokPath, "models/stories260K/tok512.bin");
        PanelFixture f;
        auto loaded = slowRandomModel(tokPath);
        MONO_VERIFY_RESULT(loaded);
        f.session.setModel(*loaded);
        GenerateSettings s;
        s.maxNewTokens = 1000;
        s.stopAtEos = false;
        f.panel.setSettings(s);

        QSignalSpy finished(&f.panel, &GeneratePanel::generationFinished);
        QPushButton* stop = f.button("stopButton");
        QVERIFY(!stop->isEnabled());
        f.panel.generate();
        QVERIFY(stop->isEnabled());
        QVERIFY(!f.button("generateButton")->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(f.panel.generatedTokens() >= 3, 30000);
        QTest::mouseClick(stop, Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 3000);
        QCOMPARE(finished.at(0).at(0).toBool(), true);  // stopping is not a failure
        QVERIFY2(f.errors.isEmpty(), qPrintable(f.errors.value(0).message));
        const int n = f.panel.generatedTokens();
        QVERIFY2(n < 1000, qPrintable(QString::number(n)));
        QVERIFY(!f.panel.isGenerating());
        QVERIFY(f.panel.findChild<QLabel*>(QStringLiteral("outcomeLabel"))
                    ->text()
                    .startsWith(QStringLiteral("Stopped")));
        QVERIFY(f.button("generateButton")->isEnabled());
        QVERIFY(!stop->isEnabled());
        QTest::qWait(100);  // nothing trickles in after the stop was acknowledged
        QCOMPARE(f.panel.generatedTokens(), n);
    }

    void badFilesAreReportedNotFatal_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("expectInMessage");
        QTest::newRow("text file") << QStringLiteral("text") << QStringLiteral("notes.txt");
        QTest::newRow("truncated gguf") << QStringLiteral("gguf") << QStringLiteral("broken.gguf");
        QTest::newRow("garbage bin") << QStringLiteral("bin") << QStringLiteral("garbage.bin");
        QTest::newRow("bin without tokenizer")
            << QStringLiteral("lonely") << QStringLiteral("tokenizer");
        QTest::newRow("missing") << QStringLiteral("missing") << QStringLiteral("nowhere");
        QTest::newRow("empty folder") << QStringLiteral("folder") << QStringLiteral("empty");
    }
    void badFilesAreReportedNotFatal() {
        QFETCH(QString, kind);
        QFETCH(QString, expectInMessage);
        MONO_REQUIRE_SHARED(dir, "models/stories260K");
        const fs::path tmp = test::tempDir();
        fs::path bad;
        if (kind == QLatin1String("text")) {
            bad = tmp / "notes.txt";
            test::writeFile(bad, "these are notes, not a model\n");
        } else if (kind == QLatin1String("gguf")) {
            bad = tmp / "broken.gguf";
            test::writeFile(bad, std::string("GGUF\x03\0\0\0\x05", 9));
        } else if (kind == QLatin1String("bin")) {
            bad = tmp / "garbage.bin";
            test::writeFile(bad, std::string(64, '\x7f'));
            test::writeFile(tmp / "tokenizer.bin", test::readFile(dir / "tok512.bin"));
        } else if (kind == QLatin1String("lonely")) {
            fs::create_directories(tmp / "lonely");
            bad = tmp / "lonely" / "stories260K.bin";
            fs::copy_file(dir / "stories260K.bin", bad);
        } else if (kind == QLatin1String("missing")) {
            bad = tmp / "nowhere" / "model.gguf";
        } else {
            bad = tmp / "empty";
            fs::create_directories(bad);
        }

        PanelFixture f;
        // First a good model, which a failed open must leave in place.
        QSignalSpy changed(&f.session, &ModelSession::modelChanged);
        f.panel.openModel(qpath(dir / "stories260K.bin"));  // tokenizer found beside it
        QTRY_COMPARE_WITH_TIMEOUT(changed.count(), 1, 20000);
        QVERIFY2(f.errors.isEmpty(), qPrintable(f.errors.value(0).message));
        QCOMPARE(QFileInfo(f.session.current().tokenizerPath).fileName(),
                 QStringLiteral("tok512.bin"));

        QSignalSpy failed(&f.session, &ModelSession::loadFailed);
        f.panel.openModel(qpath(bad));
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 20000);
        QTRY_VERIFY(!f.session.isLoading());
        QCOMPARE(f.errors.size(), 1);
        QVERIFY2(f.errors[0].title.startsWith(QStringLiteral("Could not open")),
                 qPrintable(f.errors[0].title));
        QVERIFY2(f.errors[0].message.contains(expectInMessage), qPrintable(f.errors[0].message));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(f.session.displayName(), QStringLiteral("stories260K.bin"));
        QVERIFY(!f.panel.findChild<QProgressBar*>(QStringLiteral("loadingIndicator"))->isVisible());

        // Still usable: the old model generates.
        GenerateSettings s;
        s.maxNewTokens = 8;
        f.panel.setSettings(s);
        QSignalSpy finished(&f.panel, &GeneratePanel::generationFinished);
        QVERIFY(f.button("generateButton")->isEnabled());
        f.panel.generate();
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
        QVERIFY(f.panel.outputText().startsWith(QStringLiteral("Once upon a time")));
    }

    void aFailedOpenSupersedesALoadInProgress() {
        MONO_REQUIRE_SHARED(dir, "models/stories260K");
        const fs::path tmp = test::tempDir();
        fs::create_directories(tmp / "lonely");
        const fs::path lonely = tmp / "lonely" / "model.bin";  // no tokenizer beside it
        fs::copy_file(dir / "stories260K.bin", lonely);

        PanelFixture f;
        QSignalSpy changed(&f.session, &ModelSession::modelChanged);
        QSignalSpy failed(&f.session, &ModelSession::loadFailed);
        f.panel.openModel(qpath(dir / "stories260K.bin"));
        QVERIFY(f.session.isLoading());
        f.panel.openModel(qpath(lonely));  // fails at once: the load before it is dropped
        QCOMPARE(failed.count(), 1);
        QVERIFY(!f.session.isLoading());
        QTest::qWait(300);
        QCOMPARE(changed.count(), 0);
        QVERIFY(!f.session.hasModel());
        QCOMPARE(f.errors.size(), 1);
        QVERIFY(f.errors[0].message.contains(QStringLiteral("tokenizer")));
        QVERIFY(!f.panel.findChild<QProgressBar*>(QStringLiteral("loadingIndicator"))->isVisible());
    }

    void tokenizerIsFoundBesideTheCheckpoint() {
        const fs::path tmp = test::tempDir();
        test::writeFile(tmp / "model.bin", "x");
        QCOMPARE(ModelSession::findTokenizerBeside(qpath(tmp / "model.bin")), QString());
        test::writeFile(tmp / "tok512.bin", "x");
        QCOMPARE(QFileInfo(ModelSession::findTokenizerBeside(qpath(tmp / "model.bin"))).fileName(),
                 QStringLiteral("tok512.bin"));
        test::writeFile(tmp / "tokenizer.bin", "x");
        QCOMPARE(QFileInfo(ModelSession::findTokenizerBeside(qpath(tmp / "model.bin"))).fileName(),
                 QStringLiteral("tokenizer.bin"));
        // Never the checkpoint itself.
        QCOMPARE(
            QFileInfo(ModelSession::findTokenizerBeside(qpath(tmp / "tokenizer.bin"))).fileName(),
            QStringLiteral("tok512.bin"));
        QVERIFY(ModelSession::needsTokenizerFile(qpath(tmp / "model.bin")));
        QVERIFY(!ModelSession::needsTokenizerFile(qpath(tmp)));
        // A file chosen inside a Hugging Face folder opens the folder.
        test::writeFile(tmp / "config.json", "{}");
        QCOMPARE(QDir(modelPathForChosenFile(qpath(tmp / "config.json"))).canonicalPath(),
                 QDir(qpath(tmp)).canonicalPath());
        QCOMPARE(modelPathForChosenFile(qpath(tmp / "model.bin")), qpath(tmp / "model.bin"));
    }

    void mainWindowOpensFromCommandLinePath() {
        MONO_REQUIRE_SHARED(bin, "models/stories260K/stories260K.gguf");
        MainWindow window;
        window.setRememberRecent(false);
        QList<Reported> errors;
        window.setErrorReporter([&errors](const QString& title, const QString& message) {
            errors.append({title, message});
        });
        window.show();
        QSignalSpy changed(window.session(), &ModelSession::modelChanged);
        window.openModel(qpath(bin));
        QTRY_COMPARE_WITH_TIMEOUT(changed.count(), 1, 20000);
        QVERIFY2(errors.isEmpty(), qPrintable(errors.value(0).message));
        const auto* status = window.statusBar()->findChild<QLabel*>(QStringLiteral("modelStatus"));
        QVERIFY(status);
        QVERIFY2(status->text().contains(QStringLiteral("stories260K.gguf")),
                 qPrintable(status->text()));
        QVERIFY(window.windowTitle().startsWith(QStringLiteral("stories260K.gguf")));
        QStringList names;
        for (const ViewTab& v : window.views()) names.append(v.name);
        QCOMPARE(names, (QStringList{QStringLiteral("features"), QStringLiteral("inspector"),
                                     QStringLiteral("jobs"), QStringLiteral("generate"),
                                     QStringLiteral("steer"), QStringLiteral("quant"),
                                     QStringLiteral("compare")}));
        QCOMPARE(window.panels()->currentWidget(), window.generatePanel());
    }

    void recentModelsAreRemembered() {
        MONO_REQUIRE_SHARED(dir, "models/stories260K");
        QStandardPaths::setTestModeEnabled(true);  // ~/.qttest, not the user's settings
        QCoreApplication::setOrganizationName(QStringLiteral("MonoscopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("test_ui_generate_panel"));
        QSettings().clear();

        MainWindow window;
        QList<Reported> errors;
        window.setErrorReporter([&errors](const QString& title, const QString& message) {
            errors.append({title, message});
        });
        QSignalSpy changed(window.session(), &ModelSession::modelChanged);
        const QString gguf = qpath(dir / "stories260K.gguf");
        const QString bin = qpath(dir / "stories260K.bin");
        for (const QString& path : {gguf, bin, gguf}) {
            const int before = changed.count();
            window.openModel(path);
            QTRY_COMPARE_WITH_TIMEOUT(changed.count(), before + 1, 20000);
        }
        QVERIFY2(errors.isEmpty(), qPrintable(errors.value(0).message));

        const QSettings settings;
        const QStringList paths =
            settings.value(QStringLiteral("recentModels/paths")).toStringList();
        const QStringList toks =
            settings.value(QStringLiteral("recentModels/tokenizers")).toStringList();
        QCOMPARE(paths.size(), 2);  // no duplicates, newest first
        QCOMPARE(toks.size(), 2);
        QCOMPARE(QFileInfo(paths[0]).fileName(), QStringLiteral("stories260K.gguf"));
        QCOMPARE(QFileInfo(paths[1]).fileName(), QStringLiteral("stories260K.bin"));
        QVERIFY(toks[0].isEmpty());
        QCOMPARE(QFileInfo(toks[1]).fileName(), QStringLiteral("tok512.bin"));

        auto* recent = window.findChild<QMenu*>(QStringLiteral("recentMenu"));
        QVERIFY(recent);
        emit recent->aboutToShow();
        const QList<QAction*> actions = recent->actions();
        QCOMPARE(actions.size(), 2);
        QVERIFY2(actions[1]->text().contains(QStringLiteral("stories260K.bin")),
                 qPrintable(actions[1]->text()));
        actions[1]->trigger();
        QTRY_COMPARE_WITH_TIMEOUT(changed.count(), 4, 20000);
        QCOMPARE(window.session()->displayName(), QStringLiteral("stories260K.bin"));
        QCOMPARE(QFileInfo(window.session()->current().tokenizerPath).fileName(),
                 QStringLiteral("tok512.bin"));
        QSettings().clear();
    }
};

QTEST_MAIN(TestGeneratePanel)
#include "test_generate_panel.moc"
