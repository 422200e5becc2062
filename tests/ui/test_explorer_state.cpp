// The explorer kept in step with itself (issue #25): one unit for density,
// visible tokens, the inspector's real count, the sidebar after a job, a
// model of another width refused, list and dashboard in step, filters reset
// with the workspace, the SAE used last, the wizard's message, a cancelled
// job, back / forward, go to an id, related-feature captions, the empty list,
// search highlights, export, chips and plots. Driven through the real widgets
// on the small stories260K workspace of ui_workspace_fixture.

#include <QApplication>
#include <QDockWidget>
#include <QFile>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QScrollArea>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QtTest>

#include <qcustomplot.h>
#include <algorithm>
#include <filesystem>
#include <set>

#include "core/features/cofiring.h"
#include "core/features/feature_store.h"
#include "tests/support/test_support.h"
#include "tests/ui/ui_workspace_fixture.h"
#include "ui/jobs/job_history.h"
#include "ui/jobs/job_runner.h"
#include "ui/main/main_window.h"
#include "ui/main/new_workspace_wizard.h"
#include "ui/main/workspace_sidebar.h"
#include "ui/models/feature_table_model.h"
#include "ui/panels/features/dashboard_text.h"
#include "ui/panels/features/feature_browser.h"
#include "ui/panels/features/feature_dashboard.h"
#include "ui/panels/features/feature_exporter.h"
#include "ui/panels/features/features_view.h"
#include "ui/panels/inspector/prompt_inspector.h"
#include "ui/panels/jobs/job_progress_view.h"
#include "ui/panels/jobs/jobs_panel.h"
#include "ui/panels/steer/feature_chip.h"
#include "ui/panels/steer/steering_panel.h"
#include "ui/panels/steer/sweep_view.h"
#include "ui/session/feature_store_handle.h"
#include "ui/session/model_session.h"
#include "ui/session/workspace_session.h"
#include "ui/widgets/density_histogram_view.h"
#include "ui/widgets/display_format.h"
#include "ui/widgets/plot_tools.h"
#include "ui/widgets/token_strip.h"

using namespace mono;
using namespace mono::ui;
using mono::test::qpath;
namespace fs = std::filesystem;

namespace {

struct Reported {
    QString title, message;
};

std::unique_ptr<MainWindow> openWindow(const fs::path& dir, QList<Reported>* errors,
                                       bool remember = false) {
    auto window = std::make_unique<MainWindow>();
    window->setRememberRecent(remember);
    window->setErrorReporter([errors](const QString& title, const QString& message) {
        errors->append({title, message});
    });
    window->show();
    window->openWorkspace(qpath(dir));
    return window;
}

bool waitLoaded(MainWindow* window) {
    return QTest::qWaitFor(
        [window] { return window->session()->hasModel() && window->workspace()->sae() != nullptr; },
        30000);
}

void copyTree(const fs::path& from, const fs::path& to) {
    fs::create_directories(to);
    fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
}

}  // namespace

class TestExplorerState : public QObject {
    Q_OBJECT
    fs::path m_root;
    test::UiWorkspace m_ws;

private slots:
    void initTestCase() {
        MONO_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        test::isolateSettings(QStringLiteral("test_ui_explorer_state"));
        m_root = test::tempDir();
        auto built = test::buildUiWorkspace(m_root);
        QVERIFY2(built.ok(), qPrintable(QString::fromStdString(built.status().toString())));
        m_ws = *built;
    }

    void densityReadsInOneUnit_data() {
        QTest::addColumn<double>("density");
        QTest::addColumn<QString>("text");
        QTest::newRow("small") << 3.9e-5 << QStringLiteral("0.0039 %");
        QTest::newRow("beside it") << 1.54e-4 << QStringLiteral("0.0154 %");
        QTest::newRow("large") << 0.1234 << QStringLiteral("12.3 %");
        QTest::newRow("whole") << 1.0 << QStringLiteral("100 %");
        QTest::newRow("dead") << 0.0 << QStringLiteral("0 %");
    }
    void densityReadsInOneUnit() {
        QFETCH(double, density);
        QFETCH(QString, text);
        QCOMPARE(formatDensity(density), text);
    }

    void densityColumnIsPercentOnEveryRow() {
        FeatureStoreHandle handle;
        MONO_VERIFY_OK(handle.open(qpath(m_ws.dir / "features" / (m_ws.saeName + ".sqlite"))));
        FeatureTableModel model(&handle);
        model.sort(FeatureTableModel::kDensityColumn, Qt::AscendingOrder);
        for (int row = 0; row < model.rowCount(); ++row) {
            const QString cell =
                model.data(model.index(row, FeatureTableModel::kDensityColumn)).toString();
            QVERIFY2(cell.endsWith(QStringLiteral(" %")), qPrintable(cell));
            QVERIFY2(!cell.contains(QLatin1Char('e')), qPrintable(cell));
        }
    }

    void tokensAreVisibleAndElided() {
        QCOMPARE(visibleToken(QStringLiteral("\n")), QStringLiteral("↵"));
        QCOMPARE(visibleToken(QStringLiteral("  ")), QStringLiteral("␣␣"));
        QCOMPARE(visibleToken(QStringLiteral(" the")), QStringLiteral(" the"));
        QCOMPARE(visibleToken(QString(QChar(0xFFFD))), QStringLiteral("⟨byte⟩"));
        const QString run(40, QLatin1Char('_'));
        const QString elided = visibleToken(run, kLogitTokenChars);
        QCOMPARE(elided.size(), kLogitTokenChars);
        QVERIFY(elided.contains(QStringLiteral("…")));
        QCOMPARE(formatFixed(-0.0001, 3), QStringLiteral("0.000"));
        QCOMPARE(formatFixed(-0.25, 2), QStringLiteral("-0.25"));

        std::vector<features::LogitEffect> effects{
            {1, run.toStdString(), -1.5f}, {2, "\n", -1.0f}, {3, "\xEF\xBF\xBD", -0.5f}};
        const QString html = logitEffectsHtml(effects, false);
        QVERIFY(!html.contains(QString(kLogitTokenChars + 1, QLatin1Char('_'))));
        QVERIFY(html.contains(QStringLiteral("↵")));
        QVERIFY(html.contains(QStringLiteral("#3")));  // a byte token says which token it is
    }

    void inspectorCountsEveryFiringFeature() {
        QList<Reported> errors;
        auto window = openWindow(m_ws.dir, &errors);
        QVERIFY(waitLoaded(window.get()));
        PromptInspector* inspector = window->inspector();
        inspector->setPrompt(QStringLiteral(
            "Once upon a time, there was a little girl named Lily. She liked to play outside "
            "with her dog in the big green park near her house every day."));
        QSignalSpy done(inspector, &PromptInspector::inspected);
        inspector->inspect();
        QVERIFY(done.wait(30000));
        const auto& result = inspector->result();
        std::set<int64_t> firing;
        for (const auto& t : result.tokens)
            for (const auto& a : t.top) firing.insert(a.id);
        QCOMPARE(result.featuresFiring, static_cast<int64_t>(firing.size()));
        QVERIFY(result.featuresFiring >= static_cast<int64_t>(result.ranked.size()));
        QVERIFY2(inspector->statusText().contains(
                     QStringLiteral("%1 features fire").arg(result.featuresFiring)),
                 qPrintable(inspector->statusText()));
    }

    void sidebarListsAnSaeTrainedInJobs() {
        QList<Reported> errors;
        auto window = openWindow(m_ws.dir, &errors);
        QVERIFY(waitLoaded(window.get()));
        QListWidget* list = window->sidebar()->saeList();
        QVERIFY(list->findItems(QStringLiteral("fresh-64"), Qt::MatchExactly).isEmpty());
        JobsPanel* jobs = window->jobsPanel();
        TrainJobSpec spec = jobs->trainSpecFromForm();
        spec.saeName = "fresh-64";
        spec.features = 64;
        spec.k = 4;
        spec.tokens = 8000;
        spec.batchSize = 256;
        jobs->startTraining(spec);
        QTRY_VERIFY_WITH_TIMEOUT(!jobs->isBusy(), 60000);
        QVERIFY2(errors.isEmpty(), qPrintable(errors.value(0).message));
        QCOMPARE(list->findItems(QStringLiteral("fresh-64"), Qt::MatchExactly).size(), 1);
        // 8000 tokens over the 5000 captured: the log says that they repeat.
        QVERIFY(jobs->log().join(QLatin1Char('\n')).contains(QStringLiteral("passes over")));
        // The run is in the workspace's history with its metrics, and a new window shows it.
        const QList<JobRecord> history = readJobHistory(qpath(m_ws.dir));
        QVERIFY(!history.isEmpty());
        QCOMPARE(history.last().label, QStringLiteral("Train fresh-64"));
        QCOMPARE(history.last().outcome, QStringLiteral("succeeded"));
        QVERIFY(history.last().metrics.contains(QStringLiteral("final_loss")));
        {
            QList<Reported> more;
            auto again = openWindow(m_ws.dir, &more);
            QVERIFY(
                again->jobsPanel()->log().join(QLatin1Char('\n')).contains(history.last().summary));
        }
        fs::remove_all(m_ws.dir / "saes" / "fresh-64");
    }

    void anEvaluationShowsInTheSidebarFromThenOn() {
        QList<Reported> errors;
        auto window = openWindow(m_ws.dir, &errors);
        QVERIFY(waitLoaded(window.get()));
        QVERIFY(!window->sidebar()->storeInfoText().contains(QStringLiteral("Evaluated")));
        EvalJobSpec spec;
        spec.workspaceDir = m_ws.dir.string();
        spec.saeName = m_ws.saeName;
        spec.tokens = 2000;
        window->jobsPanel()->startEvaluation(spec);
        QTRY_VERIFY_WITH_TIMEOUT(!window->jobsPanel()->isBusy(), 60000);
        QVERIFY2(errors.isEmpty(), qPrintable(errors.value(0).message));
        QVERIFY(fs::exists(m_ws.dir / "saes" / m_ws.saeName / "eval.json"));
        QVERIFY2(window->sidebar()->storeInfoText().contains(QStringLiteral("Evaluated: EV")),
                 qPrintable(window->sidebar()->storeInfoText()));
        QList<Reported> more;
        auto again = openWindow(m_ws.dir, &more);
        QTRY_VERIFY(again->sidebar()->storeInfoText().contains(QStringLiteral("Evaluated: EV")));
        fs::remove(m_ws.dir / "saes" / m_ws.saeName / "eval.json");
    }

    void aModelOfAnotherWidthIsRefused() {
        MONO_REQUIRE_SHARED(gpt2, "models/tiny-random-gpt2");
        QList<Reported> errors;
        auto window = openWindow(m_ws.dir, &errors);
        QVERIFY(waitLoaded(window.get()));
        const QString before = window->session()->current().path;
        window->openModel(qpath(gpt2));
        QTRY_VERIFY_WITH_TIMEOUT(!errors.isEmpty(), 30000);
        QVERIFY2(errors[0].message.contains(QStringLiteral("d_in 64")) &&
                     errors[0].message.contains(QStringLiteral("width 32")),
                 qPrintable(errors[0].message));
        QTRY_VERIFY(!window->session()->isLoading());
        QCOMPARE(window->session()->current().path, before);  // the model before stays
        const QString details = window->sidebar()->detailsText();
        QVERIFY2(details.contains(QStringLiteral("stories260K.bin")), qPrintable(details));
        QVERIFY(!details.contains(QStringLiteral("tiny-random-gpt2")));
        QVERIFY(window->inspector()->canInspect());
    }

    void listAndDashboardStayInStep() {
        QList<Reported> errors;
        auto window = openWindow(m_ws.dir, &errors);
        QVERIFY(waitLoaded(window.get()));
        FeatureBrowser* browser = window->featuresView()->browser();
        FeatureDashboard* dashboard = window->featuresView()->dashboard();
        browser->table()->sortByColumn(FeatureTableModel::kMaxColumn, Qt::DescendingOrder);
        QVERIFY(browser->selectFeature(browser->model()->featureId(0)));
        // The inspector's double-click goes through featureRequested.
        const qint64 other = browser->model()->featureId(5);
        emit window->inspector()->featureRequested(other);
        QCOMPARE(dashboard->currentFeature(), other);
        QCOMPARE(browser->selectedFeature(), other);
        // A feature the filter hides: shown, and no other row stays highlighted.
        browser->searchBox()->setText(QStringLiteral("zzqxjw"));
        browser->applyFilterNow();
        QCOMPARE(browser->model()->rowCount(), 0);
        emit window->inspector()->featureRequested(7);
        QCOMPARE(dashboard->currentFeature(), 7);
        QCOMPARE(browser->selectedFeature(), -1);
        QVERIFY(!browser->table()->selectionModel()->hasSelection());
    }

    void searchResetsWithTheWorkspaceAndTheLastSaeIsReopened() {
        const fs::path second = m_root / "second-ws";
        copyTree(m_ws.dir, second);
        copyTree(second / "saes" / m_ws.saeName, second / "saes" / "another");
        QSettings().clear();
        {
            QList<Reported> errors;
            auto window = openWindow(m_ws.dir, &errors, /*remember=*/true);
            QVERIFY(waitLoaded(window.get()));
            FeatureBrowser* browser = window->featuresView()->browser();
            browser->searchBox()->setText(QStringLiteral("zzqxjw"));
            browser->applyFilterNow();
            QCOMPARE(browser->model()->rowCount(), 0);
            QVERIFY(window->openWorkspace(qpath(second)));
            QVERIFY(browser->searchBox()->text().isEmpty());
            QTRY_COMPARE(browser->model()->rowCount(), 256);
            QVERIFY(waitLoaded(window.get()));
            // Not analysed, so not the one open() would pick by itself.
            MONO_VERIFY_OK(window->workspace()->selectSae(QStringLiteral("another")));
            window->close();
        }
        QList<Reported> errors;
        auto window = openWindow(second, &errors, /*remember=*/true);
        QCOMPARE(window->workspace()->currentSae(), QStringLiteral("another"));
        QTRY_VERIFY(!window->workspace()->isSaeLoading());
        window->close();
        QSettings().clear();
    }

    void wizardMessageClearsWhenAFileIsAdded() {
        MONO_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        NewWorkspaceWizard wizard;
        wizard.setFolder(qpath(m_root / "wizard-ws"));
        wizard.setModel(qpath(model), qpath(model.parent_path() / "tok512.bin"));
        wizard.show();
        wizard.next();
        auto* problem = wizard.currentPage()->findChild<QLabel*>(QStringLiteral("wizardProblem"));
        QVERIFY(problem);
        wizard.next();  // no corpus yet: refused, with a message
        QVERIFY(problem->text().contains(QStringLiteral("Add at least one")));
        wizard.setCorpus({qpath(m_root / "corpus.txt")});
        QVERIFY(problem->text().isEmpty());
    }

    void aCancelledJobSaysSoAndHowToResume() {
        QList<Reported> errors;
        auto window = openWindow(m_ws.dir, &errors);
        QVERIFY(waitLoaded(window.get()));
        JobsPanel* jobs = window->jobsPanel();
        auto* l1 = jobs->findChild<QWidget*>(QStringLiteral("trainL1"));
        QVERIFY(l1);
        QVERIFY(!l1->isVisibleTo(jobs));  // TopK is the default: no λ to set
        TrainJobSpec spec = jobs->trainSpecFromForm();
        spec.saeName = "cancelled-sae";
        spec.features = 128;
        spec.tokens = 50'000'000;
        spec.batchSize = 256;
        jobs->startTraining(spec);
        QTRY_VERIFY_WITH_TIMEOUT(jobs->progressView()->fraction() > 0, 30000);
        jobs->runner()->cancel();
        QTRY_VERIFY_WITH_TIMEOUT(!jobs->isBusy(), 30000);
        QCOMPARE(jobs->progressView()->outcome(), QStringLiteral("Cancelled"));
        QVERIFY2(jobs->progressView()->barText().startsWith(QStringLiteral("Cancelled at")),
                 qPrintable(jobs->progressView()->barText()));
        QVERIFY(jobs->progressView()->messageText().contains(QStringLiteral("Resume")));
        QVERIFY(!jobs->log().last().contains(QStringLiteral("start it again")));
        fs::remove_all(m_ws.dir / "saes" / "cancelled-sae");
    }

    void backForwardAndGoToId() {
        QList<Reported> errors;
        auto window = openWindow(m_ws.dir, &errors);
        QVERIFY(waitLoaded(window.get()));
        FeaturesView* view = window->featuresView();
        FeatureDashboard* dashboard = view->dashboard();
        for (qint64 id : {3, 9, 12}) view->openFeature(id);
        QVERIFY(dashboard->backButton()->isEnabled());
        QVERIFY(!dashboard->forwardButton()->isEnabled());
        QVERIFY(view->goBack());
        QCOMPARE(dashboard->currentFeature(), 9);
        QCOMPARE(view->browser()->selectedFeature(), 9);
        dashboard->backButton()->click();
        QCOMPARE(dashboard->currentFeature(), 3);
        QVERIFY(!view->goBack());
        QVERIFY(view->goForward());
        QCOMPARE(dashboard->currentFeature(), 9);
        // Alt+Left goes back from wherever the focus is in the view (here: the list).
        window->showView(QStringLiteral("features"));
        QApplication::setActiveWindow(window.get());
        QTableView* table = view->browser()->table();
        table->setFocus();
        QTRY_COMPARE(QApplication::focusWidget(), table);
        QTest::keyClick(table, Qt::Key_Left, Qt::AltModifier);
        QCOMPARE(dashboard->currentFeature(), 3);
        // Visiting after going back drops the forward part.
        view->openFeature(20);
        QVERIFY(!view->history().canGoForward());

        QLineEdit* goTo = view->browser()->goToBox();
        goTo->setText(QStringLiteral("42"));
        QTest::keyClick(goTo, Qt::Key_Return);
        QCOMPARE(dashboard->currentFeature(), 42);
        QCOMPARE(view->browser()->selectedFeature(), 42);
        QLineEdit* search = view->browser()->searchBox();
        search->setText(QStringLiteral("#17"));
        QTest::keyClick(search, Qt::Key_Return);
        QCOMPARE(dashboard->currentFeature(), 17);
        QVERIFY(view->featureLink().endsWith(QStringLiteral("--feature 17")));
    }

    void tabLeavesTheFeatureTable() {
        QList<Reported> errors;
        auto window = openWindow(m_ws.dir, &errors);
        QVERIFY(waitLoaded(window.get()));
        QApplication::setActiveWindow(window.get());
        QTableView* table = window->featuresView()->browser()->table();
        QVERIFY(!table->tabKeyNavigation());
        table->setFocus();
        QTRY_COMPARE(QApplication::focusWidget(), table);
        QTest::keyClick(table, Qt::Key_Tab);
        QVERIFY(QApplication::focusWidget() != table);
    }

    void relatedLinksReadByCaptionAndRankByJaccard() {
        QList<Reported> errors;
        auto window = openWindow(m_ws.dir, &errors);
        QVERIFY(waitLoaded(window.get()));
        const features::FeatureStore* store = window->workspace()->store()->store();
        FeatureTableModel* model = window->featuresView()->browser()->model();
        model->sort(FeatureTableModel::kMaxColumn, Qt::DescendingOrder);
        const qint64 id = model->featureId(0);
        auto record = store->feature(id);
        QVERIFY(record.ok());
        QVERIFY(!record->neighbours.empty());
        const qint64 neighbour = record->neighbours.front().id;
        MONO_VERIFY_OK(window->workspace()->store()->setLabel(neighbour, QStringLiteral("dogs")));
        window->featuresView()->openFeature(id);
        auto* links = window->featuresView()->dashboard()->findChild<QLabel*>(
            QStringLiteral("neighbourLinks"));
        QVERIFY(links->text().contains(QStringLiteral("#%1</a>&nbsp;dogs").arg(neighbour)));
        MONO_VERIFY_OK(window->workspace()->store()->setLabel(neighbour, QString()));

        if (!record->coFiring.empty()) {
            auto page = store->page({{}, features::SortKey::kId, false, 0, 100000});
            QVERIFY(page.ok());
            QHash<qint64, double> density;
            for (const auto& row : page->rows) density.insert(row.id, row.density);
            const auto ranked =
                features::rankCoFiring(record->coFiring, record->summary.density,
                                       [&density](int64_t j) { return density.value(j); });
            auto* coFiring = window->featuresView()->dashboard()->findChild<QLabel*>(
                QStringLiteral("coFiringLinks"));
            const QString first = QStringLiteral("feature:%1'").arg(ranked.front().id);
            QVERIFY2(coFiring->text().indexOf(QStringLiteral("feature:")) ==
                         coFiring->text().indexOf(first),
                     qPrintable(coFiring->text()));
            QVERIFY(coFiring->text().contains(QStringLiteral("of its firings")));
            for (size_t i = 1; i < ranked.size(); ++i)
                QVERIFY(ranked[i - 1].jaccard >= ranked[i].jaccard);
        }
    }

    void emptyFiltersSayWhy() {
        QList<Reported> errors;
        auto window = openWindow(m_ws.dir, &errors);
        QVERIFY(waitLoaded(window.get()));
        FeatureBrowser* browser = window->featuresView()->browser();
        QVERIFY(browser->emptyMessage().isEmpty());
        browser->setKind(FeatureBrowser::Kind::kLabelled);
        QCOMPARE(browser->model()->rowCount(), 0);
        QVERIFY2(browser->emptyMessage().contains(QStringLiteral("No labelled features yet")),
                 qPrintable(browser->emptyMessage()));
        browser->setKind(FeatureBrowser::Kind::kAll);
        QVERIFY(browser->emptyMessage().isEmpty());
    }

    void searchMatchesAreHighlightedAndTopTokenSearchWorks() {
        QList<Reported> errors;
        auto window = openWindow(m_ws.dir, &errors);
        QVERIFY(waitLoaded(window.get()));
        FeatureBrowser* browser = window->featuresView()->browser();
        const features::FeatureStore* store = window->workspace()->store()->store();
        // The strongest feature whose top token is a word (not a space or punctuation).
        auto page = store->page({{}, features::SortKey::kMaxActivation, true, 0, 100});
        QVERIFY(page.ok());
        QString token;
        qint64 wordFeature = -1;
        for (const auto& row : page->rows) {
            const QString t = topTokenOf(row.topSnippet).trimmed();
            if (t.size() >= 2 &&
                std::all_of(t.begin(), t.end(), [](QChar c) { return c.isLetter(); })) {
                token = t;
                wordFeature = row.id;
                break;
            }
        }
        QVERIFY2(!token.isEmpty(), "no feature with a word as its top token");

        browser->setSearchIn(FeatureBrowser::SearchIn::kTopToken);
        browser->searchBox()->setText(token);
        browser->applyFilterNow();
        QVERIFY(browser->model()->rowOf(wordFeature) >= 0);
        for (int r = 0; r < browser->model()->rowCount(); ++r) {
            auto rec = store->feature(browser->model()->featureId(r));
            QVERIFY(rec.ok());
            QCOMPARE(topTokenOf(rec->summary.topSnippet).trimmed().toLower(), token.toLower());
        }

        browser->setSearchIn(FeatureBrowser::SearchIn::kText);
        browser->applyFilterNow();
        QVERIFY(browser->model()->rowCount() > 0);
        // The density histogram follows the filter (matched features have examples: all live).
        QCOMPARE(browser->histogram()->filteredCount(), browser->model()->rowCount());
        QVERIFY(browser->selectFeature(browser->model()->featureId(0)));
        bool highlighted = false;
        for (TokenStrip* strip : window->featuresView()->dashboard()->findChildren<TokenStrip*>())
            for (int i = 0; i < strip->tokenCount(); ++i)
                highlighted = highlighted || (strip->isVisible() && strip->isHighlighted(i));
        QVERIFY(highlighted);
    }

    void exportWritesNeuronpediaJson() {
        FeatureExporter exporter;
        QSignalSpy done(&exporter, &FeatureExporter::finished);
        const QString out = qpath(m_root / "feature-3.json");
        exporter.start(FeatureExporter::Format::kFeatureJson,
                       qpath(m_ws.dir / "features" / (m_ws.saeName + ".sqlite")), out, 3);
        QVERIFY(done.wait(20000));
        QVERIFY2(done.front().at(0).toBool(), qPrintable(done.front().at(1).toString()));
        QFile file(out);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray json = file.readAll();
        QVERIFY(json.contains("\"index\""));
        QVERIFY(json.contains("\"frac_nonzero\""));

        // A selection: the features a filter keeps, as CSV (one line each after the header).
        features::FeatureFilter some;
        some.ids = {2, 5, 11};
        const QString csv = qpath(m_root / "selected.csv");
        done.clear();
        exporter.start(FeatureExporter::Format::kListCsv,
                       qpath(m_ws.dir / "features" / (m_ws.saeName + ".sqlite")), csv, -1, some);
        QVERIFY(done.wait(20000));
        QVERIFY2(done.front().at(0).toBool(), qPrintable(done.front().at(1).toString()));
        QFile table(csv);
        QVERIFY(table.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = table.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), 4);
        QVERIFY(lines[1].startsWith("2,") && lines[2].startsWith("5,") &&
                lines[3].startsWith("11,"));
    }

    void chipsShowLabelsAndSweepAxisFitsItsPoints() {
        SteeringPanel panel;
        panel.setFeatureLabel(7, QStringLiteral("dogs and cats"));
        panel.steerFeature(7);
        auto chips = panel.findChildren<FeatureChip*>();
        QCOMPARE(chips.size(), 1);
        QCOMPARE(chips.front()->caption(), QStringLiteral("#7 dogs and cats"));

        steer::SweepReport report;
        for (double v : {0.0, 5.0, 10.0}) {
            steer::SweepPoint p;
            p.edit.value = v;
            p.fluency.deltaLoss = v == 10.0 ? 5.18 : v / 10;
            p.fluency.meanKl = v / 20;
            report.points.push_back(p);
        }
        panel.sweepView()->setReport(report, true);
        auto* plot = panel.sweepView()->findChild<QCustomPlot*>(QStringLiteral("sweepPlot"));
        QVERIFY(plot);
        QVERIFY(plot->yAxis->range().upper > 5.18 * 1.02);
        // The legend has a row of its own, above the axes, not over the curves.
        QVERIFY(plot->plotLayout()->element(0, 0) == plot->legend);
        PlotTools* tools = PlotTools::attach(plot);
        plot->replot();
        const QPointF at = plot->graph(0)->coordsToPixels(10.0, 5.18);
        QVERIFY2(tools->hoverText(at).contains(QStringLiteral("5.18")),
                 qPrintable(tools->hoverText(at)));
        const QString png = qpath(m_root / "sweep.png");
        QVERIFY(tools->save(png));
        QVERIFY(QFileInfo(png).size() > 0);
        // SVG is vector: the curves are polylines or paths, not one raster image.
        const QString svg = qpath(m_root / "sweep.svg");
        QVERIFY(tools->save(svg));
        const std::string svgText = mono::test::readFile(m_root / "sweep.svg");
        QVERIFY2(svgText.find("<svg") != std::string::npos, svgText.substr(0, 200).c_str());
        QVERIFY(svgText.find("<polyline") != std::string::npos ||
                svgText.find("<path") != std::string::npos);
        QVERIFY(svgText.find("<image") == std::string::npos);
    }

    void theLayoutFitsA1024By700Window() {
        QList<Reported> errors;
        auto window = openWindow(m_ws.dir, &errors);
        QVERIFY(waitLoaded(window.get()));
        window->resize(1024, 700);
        FeaturesView* view = window->featuresView();
        view->openFeature(3);
        QTest::qWait(100);  // layouts settle
        // Every column of the list starts inside it.
        QTableView* table = view->browser()->table();
        QHeaderView* header = table->horizontalHeader();
        for (int c = 0; c < FeatureTableModel::kColumnCount; ++c)
            QVERIFY2(header->sectionViewportPosition(c) + 20 < table->viewport()->width(),
                     qPrintable(QString::number(c)));
        // The dashboard's content is no wider than its pane, and its buttons are inside it.
        FeatureDashboard* dashboard = view->dashboard();
        auto* scroll = dashboard->findChild<QScrollArea*>();
        QVERIFY(scroll->widget()->width() <= scroll->viewport()->width());
        for (const char* name : {"steerButton", "exportButton", "featureLabelEdit"}) {
            auto* w = dashboard->findChild<QWidget*>(QString::fromLatin1(name));
            QVERIFY(w);
            const QRect at(w->mapTo(scroll->viewport(), QPoint(0, 0)), w->size());
            QVERIFY2(at.right() <= scroll->viewport()->width(), name);
        }
        // The steering controls show their whole labels.
        window->showView(QStringLiteral("steer"));
        QTest::qWait(100);
        SteeringPanel* steering = window->steeringPanel();
        for (QLabel* label : steering->findChildren<QLabel*>()) {
            if (!label->isVisible() || label->wordWrap() || label->text().isEmpty()) continue;
            QVERIFY2(label->width() >= label->minimumSizeHint().width(), qPrintable(label->text()));
            QVERIFY2(label->mapTo(steering, QPoint(label->width(), 0)).x() <= steering->width(),
                     qPrintable(label->text()));
        }

        // A narrow window squeezes the sidebar; a wide one gives it its room back.
        auto* dock = window->findChild<QDockWidget*>(QStringLiteral("workspaceDock"));
        QVERIFY(dock);
        window->resizeDocks({dock}, {120}, Qt::Horizontal);
        QTest::qWait(50);
        window->resize(1440, 917);
        QTRY_VERIFY(dock->width() >= 200);
    }

    void cleanupTestCase() { QSettings().clear(); }
};

QTEST_MAIN(TestExplorerState)
#include "test_explorer_state.moc"
