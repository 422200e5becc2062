// The explorer, driven through its real widgets on a workspace built from a
// small real model (stories260K): browse, select, read a dashboard, label and
// reopen, search, filter by density, inspect a prompt, and bad input.

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QPlainTextEdit>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QtTest>

#include <filesystem>
#include <fstream>

#include "core/features/feature_store.h"
#include "core/sae/sae.h"
#include "core/sae/sae_io.h"
#include "tests/support/test_support.h"
#include "tests/ui/ui_workspace_fixture.h"
#include "ui/main/main_window.h"
#include "ui/models/feature_table_model.h"
#include "ui/panels/features/feature_browser.h"
#include "ui/panels/features/feature_dashboard.h"
#include "ui/panels/features/features_view.h"
#include "ui/panels/inspector/prompt_inspector.h"
#include "ui/session/feature_store_handle.h"
#include "ui/session/model_session.h"
#include "ui/session/workspace_session.h"
#include "ui/widgets/density_histogram_view.h"
#include "ui/widgets/token_strip.h"

using namespace mono;
using namespace mono::ui;
using mono::test::qpath;
namespace fs = std::filesystem;

namespace {

struct Reported {
    QString title, message;
};

// A window on `dir` whose errors go to `errors`, with the model and SAE loaded.
std::unique_ptr<MainWindow> openWindow(const fs::path& dir, QList<Reported>* errors) {
    auto window = std::make_unique<MainWindow>();
    window->setRememberRecent(false);
    window->setErrorReporter([errors](const QString& title, const QString& message) {
        errors->append({title, message});
    });
    window->show();
    if (!window->openWorkspace(qpath(dir))) return window;
    return window;
}

bool waitLoaded(MainWindow* window) {
    return QTest::qWaitFor(
        [window] { return window->session()->hasModel() && window->workspace()->sae() != nullptr; },
        30000);
}

// The text of a top example exactly as core stores it.
QString exampleText(const features::Example& e) {
    QString text;
    for (const std::string& s : e.strings) text += QString::fromStdString(s);
    return text;
}

}  // namespace

class TestExplorer : public QObject {
    Q_OBJECT
    fs::path m_root;
    test::UiWorkspace m_ws;

private slots:
    void initTestCase() {
        MONO_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        test::isolateSettings(QStringLiteral("test_ui_explorer"));
        m_root = test::tempDir();
        QElapsedTimer clock;
        clock.start();
        auto built = test::buildUiWorkspace(m_root);
        QVERIFY2(built.ok(), qPrintable(QString::fromStdString(built.status().toString())));
        m_ws = *built;
        qInfo("built the workspace in %.1f s", clock.elapsed() / 1000.0);
    }

    void tableModelIsAValidVirtualModel() {
        FeatureStoreHandle handle;
        const fs::path storePath = m_ws.dir / "features" / (m_ws.saeName + ".sqlite");
        MONO_VERIFY_OK(handle.open(qpath(storePath)));
        FeatureTableModel model(&handle);
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(model.rowCount(), 256);
        QCOMPARE(model.featureId(17), 17);
        model.sort(FeatureTableModel::kDensityColumn, Qt::DescendingOrder);
        QCOMPARE(model.sortKey(), features::SortKey::kDensity);
        auto top = handle.store()->page({{}, features::SortKey::kDensity, true, 0, 3});
        QVERIFY(top.ok());
        QCOMPARE(model.featureId(0), top->rows[0].id);
        QCOMPARE(model.featureId(2), top->rows[2].id);
        QCOMPARE(model.rowOf(top->rows[2].id), 2);
        features::FeatureFilter alive;
        alive.aliveOnly = true;
        model.setFilter(alive);
        QVERIFY(model.rowCount() > 0);
        for (int row = 0; row < model.rowCount(); ++row)
            QVERIFY(model.data(model.index(row, FeatureTableModel::kMaxColumn)).toString() !=
                    QStringLiteral("0.000"));
        QVERIFY(model.lastError().isEmpty());
    }

    void selectingAFeatureShowsItsTopExample() {
        QList<Reported> errors;
        auto window = openWindow(m_ws.dir, &errors);
        QVERIFY(waitLoaded(window.get()));
        QVERIFY2(errors.isEmpty(), qPrintable(errors.value(0).message));
        QCOMPARE(window->workspace()->currentSae(), QString::fromStdString(m_ws.saeName));
        FeatureBrowser* browser = window->featuresView()->browser();
        FeatureDashboard* dashboard = window->featuresView()->dashboard();
        QCOMPARE(browser->model()->rowCount(), 256);

        // Strongest feature first, then walk down the list with the keyboard.
        browser->table()->sortByColumn(FeatureTableModel::kMaxColumn, Qt::DescendingOrder);
        browser->table()->setFocus();
        browser->table()->setCurrentIndex(browser->model()->index(0, 0));
        QTest::keyClick(browser->table(), Qt::Key_Down);
        const qint64 id = browser->model()->featureId(1);
        QCOMPARE(browser->selectedFeature(), id);
        QCOMPARE(dashboard->currentFeature(), id);

        auto record = window->workspace()->store()->store()->feature(id);
        QVERIFY(record.ok());
        QVERIFY(!record->topExamples.empty());
        const QStringList shown = dashboard->topExampleTexts();
        QCOMPARE(shown.size(), static_cast<qsizetype>(record->topExamples.size()));
        QCOMPARE(shown.front(), exampleText(record->topExamples.front()));
        QVERIFY(!shown.front().trimmed().isEmpty());
        // The strip shades the example token and tells its value on hover.
        auto strips = window->featuresView()->dashboard()->findChildren<TokenStrip*>();
        QVERIFY(!strips.isEmpty());
        const auto& top = record->topExamples.front();
        TokenStrip* first = nullptr;
        for (TokenStrip* s : strips)
            if (s->plainText() == shown.front()) first = s;
        QVERIFY(first);
        QCOMPARE(first->value(top.tokenIndex), top.values[static_cast<size_t>(top.tokenIndex)]);
        QVERIFY(
            first->toolTipFor(top.tokenIndex).contains(QString::number(top.activation, 'f', 3)));

        // Links to related features open their dashboards.
        if (!record->neighbours.empty()) {
            emit dashboard->featureRequested(record->neighbours.front().id);
            QCOMPARE(dashboard->currentFeature(), record->neighbours.front().id);
        }
    }

    void labelIsSavedAndSurvivesReopening() {
        const qint64 id = 5;
        const QString label = QStringLiteral("tests: a label for feature five");
        {
            QList<Reported> errors;
            auto window = openWindow(m_ws.dir, &errors);
            QVERIFY(waitLoaded(window.get()));
            QVERIFY(window->featuresView()->browser()->selectFeature(id));
            FeatureDashboard* dashboard = window->featuresView()->dashboard();
            QCOMPARE(dashboard->currentFeature(), id);
            QLineEdit* edit = dashboard->labelEdit();
            edit->setFocus();
            edit->clear();
            QTest::keyClicks(edit, label);
            QTest::keyClick(edit, Qt::Key_Return);
            dashboard->notesEdit()->setPlainText(QStringLiteral("seen in the GUI test"));
            QVERIFY(dashboard->saveAnnotations());
            QVERIFY2(errors.isEmpty(), qPrintable(errors.value(0).message));
            // The list shows the new label at once.
            FeatureTableModel* model = window->featuresView()->browser()->model();
            QCOMPARE(model->data(model->index(model->rowOf(id), FeatureTableModel::kLabelColumn))
                         .toString(),
                     label);
        }
        QList<Reported> errors;
        auto window = openWindow(m_ws.dir, &errors);
        QVERIFY(waitLoaded(window.get()));
        QVERIFY(window->featuresView()->browser()->selectFeature(id));
        QCOMPARE(window->featuresView()->dashboard()->labelEdit()->text(), label);
        QCOMPARE(window->featuresView()->dashboard()->notesEdit()->toPlainText(),
                 QStringLiteral("seen in the GUI test"));
        // The labelled filter finds exactly it.
        window->featuresView()->browser()->setKind(FeatureBrowser::Kind::kLabelled);
        QCOMPARE(window->featuresView()->browser()->model()->rowCount(), 1);
        QCOMPARE(window->featuresView()->browser()->model()->featureId(0), id);
    }

    void searchBoxFiltersTheList() {
        QList<Reported> errors;
        auto window = openWindow(m_ws.dir, &errors);
        QVERIFY(waitLoaded(window.get()));
        FeatureBrowser* browser = window->featuresView()->browser();
        FeatureTableModel* model = browser->model();
        const int all = model->rowCount();

        // A word of some feature's top example must find that feature and fewer than all.
        auto record =
            window->workspace()->store()->store()->feature(model->featureId(0) >= 0 ? 0 : 1);
        QVERIFY(record.ok());
        QString word;
        for (const auto& e : record->topExamples)
            for (const QString& w : exampleText(e).split(QLatin1Char(' '), Qt::SkipEmptyParts))
                if (w.size() >= 4 && w.front().isLetter() && w.back().isLetter()) word = w;
        QVERIFY2(!word.isEmpty(), "no searchable word in feature 0's examples");

        browser->searchBox()->setFocus();
        QTest::keyClicks(browser->searchBox(), QStringLiteral("zzqxjw"));
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 0, 3000);
        browser->searchBox()->clear();
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), all, 3000);
        QTest::keyClicks(browser->searchBox(), word);
        QTRY_VERIFY_WITH_TIMEOUT(model->rowCount() < all, 3000);
        QVERIFY(model->rowCount() > 0);
        QVERIFY2(model->rowOf(0) >= 0, qPrintable(word));
        // What the store's own search finds is what the list shows.
        auto hits = window->workspace()->store()->store()->search(word.toStdString(), 1000);
        QVERIFY(hits.ok());
        QCOMPARE(model->rowCount(), static_cast<int>(hits->size()));
    }

    void densityBarFiltersToItsRange() {
        QList<Reported> errors;
        auto window = openWindow(m_ws.dir, &errors);
        QVERIFY(waitLoaded(window.get()));
        FeatureBrowser* browser = window->featuresView()->browser();
        DensityHistogramView* histogram = browser->histogram();
        auto density = window->workspace()->store()->store()->densityHistogram();
        QVERIFY(density.ok());
        QCOMPARE(histogram->barCount(), static_cast<int>(density->counts.size()));
        int bar = 0;
        for (int i = 0; i < histogram->barCount(); ++i)
            if (density->counts[static_cast<size_t>(i)] > density->counts[static_cast<size_t>(bar)])
                bar = i;
        QSignalSpy selected(histogram, &DensityHistogramView::rangeSelected);
        histogram->selectBar(bar);
        QCOMPARE(selected.count(), 1);
        const auto [lo, hi] = histogram->densityRange(bar);
        FeatureTableModel* model = browser->model();
        QVERIFY(model->rowCount() > 0);
        QVERIFY(model->rowCount() < 256);
        auto page = window->workspace()->store()->store()->page(
            {model->filter(), features::SortKey::kId, false, 0, 1000});
        QVERIFY(page.ok());
        for (const auto& row : page->rows) {
            QVERIFY(row.density >= lo * (1 - 1e-9));
            QVERIFY(row.density <= hi * (1 + 1e-9));
        }
        histogram->clearSelection();
        QCOMPARE(model->rowCount(), 256);
    }

    void inspectorRanksFeaturesAndOpensDashboards() {
        QList<Reported> errors;
        auto window = openWindow(m_ws.dir, &errors);
        QVERIFY(waitLoaded(window.get()));
        PromptInspector* inspector = window->inspector();
        QVERIFY(inspector->canInspect());
        inspector->setPrompt(
            QStringLiteral("Once upon a time, there was a little girl named Lily."));
        QSignalSpy done(inspector, &PromptInspector::inspected);
        inspector->inspect();
        QVERIFY(done.wait(30000));
        QVERIFY2(errors.isEmpty(), qPrintable(errors.value(0).message));
        const auto& result = inspector->result();
        QVERIFY(result.tokens.size() >= 10);
        QVERIFY(!result.ranked.empty());
        QCOMPARE(inspector->heatmap()->tokenCount(), static_cast<int>(result.tokens.size()));
        // The heatmap shades the top feature where it peaks.
        const auto& best = result.ranked.front();
        QCOMPARE(inspector->heatmapFeature(), best.id);
        QCOMPARE(inspector->heatmap()->value(best.tokenIndex), best.maxValue);
        QTableWidget* table = inspector->rankedTable();
        QCOMPARE(table->rowCount(), static_cast<int>(result.ranked.size()));
        emit table->cellDoubleClicked(0, 0);
        QCOMPARE(window->panels()->currentWidget(), window->featuresView());
        QCOMPARE(window->featuresView()->dashboard()->currentFeature(), best.id);
    }

    void notAWorkspaceIsReportedAndChangesNothing() {
        QList<Reported> errors;
        auto window = openWindow(m_ws.dir, &errors);
        QVERIFY(waitLoaded(window.get()));
        const fs::path plain = m_root / "just-a-folder";
        fs::create_directories(plain);
        test::writeFile(plain / "notes.txt", "hello");
        QVERIFY(!window->openWorkspace(qpath(plain)));
        QCOMPARE(errors.size(), 1);
        QVERIFY2(errors[0].message.contains(QStringLiteral("not a Monoscope workspace")),
                 qPrintable(errors[0].message));
        QVERIFY(!window->openWorkspace(qpath(m_root / "does-not-exist")));
        QCOMPARE(errors.size(), 2);
        // Still usable: the workspace before is open and browsable.
        QCOMPARE(QDir(window->workspace()->dir()).canonicalPath(),
                 QDir(qpath(m_ws.dir)).canonicalPath());
        QVERIFY(window->featuresView()->browser()->selectFeature(3));
        QCOMPARE(window->featuresView()->dashboard()->currentFeature(), 3);
    }

    void aModelTheEngineCannotLoadIsReported() {
        const fs::path bad = m_root / "bad-model-ws";
        fs::create_directories(bad);
        const fs::path junk = m_root / "junk.gguf";
        test::writeFile(junk, "this is not a GGUF file at all");
        test::writeFile(bad / "monoscope.json",
                        "{\"format\": \"monoscope-workspace\", \"version\": 1, \"model\": \"" +
                            junk.string() + "\", \"hooks\": [\"blocks.0.hook_resid_post\"]}");
        QList<Reported> errors;
        auto window = std::make_unique<MainWindow>();
        window->setRememberRecent(false);
        window->setErrorReporter([&errors](const QString& t, const QString& m) {
            errors.append({t, m});
        });
        window->show();
        QVERIFY(window->openWorkspace(qpath(bad)));
        QTRY_VERIFY_WITH_TIMEOUT(!errors.isEmpty(), 20000);
        QCOMPARE(errors[0].title, QStringLiteral("Could not open junk.gguf"));
        QVERIFY2(errors[0].message.contains(QStringLiteral("junk.gguf")),
                 qPrintable(errors[0].message));
        QVERIFY(!window->session()->hasModel());
        QTest::qWait(200);
        QCOMPARE(errors.size(), 1);  // one dialog per failure
        // The application is still usable: a good workspace opens after it.
        QVERIFY(window->openWorkspace(qpath(m_ws.dir)));
        QVERIFY(waitLoaded(window.get()));
    }

    void anSaeOfTheWrongWidthIsReported() {
        // An SAE for d_in 32 beside the workspace's 64-wide hook.
        sae::SaeConfig config;
        config.dIn = 32;
        config.dSae = 16;
        config.architecture = sae::Architecture::kStandard;
        config.metadata.hookName = m_ws.hook;
        auto wrong = sae::Sae::create(config, Matrix::Zero(32, 16), Matrix::Zero(16, 32),
                                      Vector::Zero(16), Vector::Zero(32));
        QVERIFY2(wrong.ok(), qPrintable(QString::fromStdString(wrong.status().toString())));
        MONO_VERIFY_OK(sae::saveSaeLens(*wrong, (m_ws.dir / "saes" / "wrong-width").string()));

        QList<Reported> errors;
        auto window = openWindow(m_ws.dir, &errors);
        QVERIFY(waitLoaded(window.get()));
        QVERIFY(errors.isEmpty());
        MONO_VERIFY_OK(window->workspace()->selectSae(QStringLiteral("wrong-width")));
        QTRY_VERIFY_WITH_TIMEOUT(!errors.isEmpty(), 10000);
        QVERIFY2(errors[0].message.contains(QStringLiteral("width 32")) &&
                     errors[0].message.contains(QStringLiteral("width 64")),
                 qPrintable(errors[0].message));
        QVERIFY(window->workspace()->sae() == nullptr);
        // Choosing the good SAE again works.
        MONO_VERIFY_OK(window->workspace()->selectSae(QString::fromStdString(m_ws.saeName)));
        QVERIFY(waitLoaded(window.get()));
        fs::remove_all(m_ws.dir / "saes" / "wrong-width");
    }

    void recentWorkspacesAndThemeArePersisted() {
        QSettings().clear();
        {
            MainWindow window;
            QList<Reported> errors;
            window.setErrorReporter([&errors](const QString& t, const QString& m) {
                errors.append({t, m});
            });
            QVERIFY(window.openWorkspace(qpath(m_ws.dir)));
            window.setTheme(Theme::kDark);
            QCOMPARE(QApplication::palette().color(QPalette::Base).lightness() < 100, true);
            window.close();  // saves the window state
        }
        const QSettings settings;
        const QStringList recent =
            settings.value(QStringLiteral("recentWorkspaces/paths")).toStringList();
        QCOMPARE(recent.size(), 1);
        QCOMPARE(QDir(recent[0]).canonicalPath(), QDir(qpath(m_ws.dir)).canonicalPath());
        QCOMPARE(settings.value(QStringLiteral("appearance/theme")).toString(),
                 QStringLiteral("dark"));
        QVERIFY(!settings.value(QStringLiteral("window/geometry")).toByteArray().isEmpty());

        MainWindow again;
        QCOMPARE(again.theme(), Theme::kDark);
        auto* menu = again.findChild<QMenu*>(QStringLiteral("recentWorkspacesMenu"));
        QVERIFY(menu);
        emit menu->aboutToShow();
        QCOMPARE(menu->actions().size(), 1);
        QList<Reported> errors;
        again.setErrorReporter([&errors](const QString& t, const QString& m) {
            errors.append({t, m});
        });
        menu->actions().front()->trigger();
        QVERIFY(again.workspace()->isOpen());
        QVERIFY(errors.isEmpty());
        again.setTheme(Theme::kLight);
        QSettings().clear();
    }

    void cleanupTestCase() { QSettings().clear(); }
};

QTEST_MAIN(TestExplorer)
#include "test_explorer.moc"
