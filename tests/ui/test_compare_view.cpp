// The Compare SAEs view: two SAEs of a workspace matched in the GUI, the
// table and families in step with core/compare, filters, and a double-click
// that opens a feature of the other SAE in the Features view.

#include <QComboBox>
#include <QLabel>
#include <QSettings>
#include <QStandardPaths>
#include <QTableView>
#include <QTreeWidget>
#include <QtTest>

#include <filesystem>

#include "core/sae/sae_io.h"
#include "core/workspace/workspace.h"
#include "tests/support/test_support.h"
#include "tests/ui/ui_workspace_fixture.h"
#include "ui/jobs/job_runner.h"
#include "ui/main/main_window.h"
#include "ui/panels/compare/compare_view.h"
#include "ui/panels/features/feature_dashboard.h"
#include "ui/panels/features/features_view.h"
#include "ui/session/workspace_session.h"

using namespace mono;
using namespace mono::ui;
using mono::test::qpath;
namespace fs = std::filesystem;

class TestCompareView : public QObject {
    Q_OBJECT
    fs::path m_root;
    test::UiWorkspace m_ws;

private slots:
    void initTestCase() {
        MONO_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        test::isolateSettings(QStringLiteral("test_ui_compare_view"));
        m_root = test::tempDir();
        auto built = test::buildUiWorkspace(m_root);
        QVERIFY2(built.ok(), qPrintable(QString::fromStdString(built.status().toString())));
        m_ws = *built;
    }

    // B holds A's decoder rows in reverse order, and two extra rows near each
    // of A's features 0 and 1: every A feature has an exact, mutual match, and
    // features 0 and 1 each split into three.
    void comparisonShowsMatchesAndFamiliesAndOpensFeatures() {
        auto ws = ws::Workspace::open(m_ws.dir.string());
        MONO_VERIFY_RESULT(ws);
        auto a = sae::loadSae(ws->saeDir(m_ws.saeName));
        MONO_VERIFY_RESULT(a);
        const int64_t F = a->dSae(), D = a->dIn();
        Matrix wDec(F + 4, D), wEnc(D, F + 4);
        Vector bEnc(F + 4);
        for (int64_t i = 0; i < F; ++i) {
            wDec.row(F - 1 - i) = a->wDec().row(i);
            wEnc.col(F - 1 - i) = a->wEnc().col(i);
            bEnc(F - 1 - i) = a->bEnc()(i);
        }
        for (int64_t s = 0; s < 4; ++s) {
            const int64_t parent = s / 2;
            Eigen::RowVectorXf nudge = Eigen::RowVectorXf::Zero(D);
            nudge(s) = 0.3f * a->wDec().row(parent).norm();
            wDec.row(F + s) = a->wDec().row(parent) + nudge;
            wEnc.col(F + s) = a->wEnc().col(parent);
            bEnc(F + s) = a->bEnc()(parent);
        }
        sae::SaeConfig c = a->config();
        c.dSae = F + 4;
        c.k = std::min<int64_t>(c.k, F + 4);
        auto b = sae::Sae::create(c, wEnc, wDec, bEnc, a->bDec());
        MONO_VERIFY_RESULT(b);
        MONO_VERIFY_OK(sae::saveSaeLens(*b, ws->saeDir("split")));

        MainWindow window;
        window.setRememberRecent(false);
        QList<QString> errors;
        window.setErrorReporter(
            [&errors](const QString& title, const QString& m) { errors << title + m; });
        window.show();
        QVERIFY(window.openWorkspace(qpath(m_ws.dir)));
        QVERIFY(window.showView(QStringLiteral("compare")));
        CompareView* view = window.findChild<CompareView*>();
        QVERIFY(view);
        view->saeA()->setCurrentText(QString::fromStdString(m_ws.saeName));
        view->saeB()->setCurrentText(QStringLiteral("split"));
        QCOMPARE(view->saeB()->currentText(), QStringLiteral("split"));
        view->compare();
        QVERIFY(QTest::qWaitFor(
            [view] { return view->summary()->text().contains(QStringLiteral("mutual")); }, 30000));
        QVERIFY2(errors.isEmpty(), qPrintable(errors.join(QLatin1Char('\n'))));
        const QString summary = view->summary()->text();
        QVERIFY2(summary.contains(QStringLiteral("%1 of A have a match in B (100.0 %)").arg(F)),
                 qPrintable(summary));
        QVERIFY2(summary.contains(QStringLiteral("%1 mutual best pairs").arg(F)),
                 qPrintable(summary));
        QVERIFY2(summary.contains(QStringLiteral("2 split families")), qPrintable(summary));

        QAbstractItemModel* rows = view->matchTable()->model();
        QCOMPARE(rows->rowCount(), int(F));
        for (int r : {0, 7, int(F) - 1}) {
            QCOMPARE(rows->index(r, 0).data().toLongLong(), qlonglong(r));
            QCOMPARE(rows->index(r, 2).data().toLongLong(), qlonglong(F - 1 - r));
            QCOMPARE(rows->index(r, 4).data().toString(), QStringLiteral("1.000"));
        }
        // A's features have labels or snippets from its store; the new SAE has no store.
        bool described = false;
        for (int r = 0; r < rows->rowCount(); ++r) {
            described = described || !rows->index(r, 1).data().toString().isEmpty();
            QVERIFY(rows->index(r, 3).data().toString().isEmpty());
        }
        QVERIFY(described);

        QTreeWidget* families = view->familyTree();
        QCOMPARE(families->topLevelItemCount(), 2);
        for (int f = 0; f < 2; ++f) {
            QTreeWidgetItem* family = families->topLevelItem(f);
            QVERIFY(family->text(0).startsWith(QStringLiteral("A #%1").arg(f)));
            QCOMPARE(family->childCount(), 3);
            QCOMPARE(family->child(0)->text(0), QStringLiteral("B #%1").arg(F - 1 - f));
        }

        view->setFilter(CompareView::Filter::kUnmatched);
        QCOMPARE(rows->rowCount(), 0);
        view->setFilter(CompareView::Filter::kMutual);
        QCOMPARE(rows->rowCount(), int(F));

        // Double-clicking B's column makes B the SAE explored; A's column opens
        // that feature of A in the Features view.
        emit view->matchTable()->doubleClicked(rows->index(5, 2));
        QCOMPARE(window.workspace()->currentSae(), QStringLiteral("split"));
        emit view->matchTable()->doubleClicked(rows->index(5, 0));
        QCOMPARE(window.workspace()->currentSae(), QString::fromStdString(m_ws.saeName));
        FeatureDashboard* dashboard = window.findChild<FeaturesView*>()->dashboard();
        QVERIFY(QTest::qWaitFor([&] { return dashboard->record().summary.id == 5; }, 10000));
        QVERIFY(window.findChild<FeaturesView*>()->isVisible());
    }

    // Two SAEs that read other widths: an error in the summary, no crash.
    void saesOfOtherWidthsAreReported() {
        auto ws = ws::Workspace::open(m_ws.dir.string());
        MONO_VERIFY_RESULT(ws);
        const int64_t D = 8, F = 16;
        sae::SaeConfig c;
        c.dIn = D;
        c.dSae = F;
        auto other = sae::Sae::create(c, Matrix::Ones(D, F), Matrix::Ones(F, D), Vector::Zero(F),
                                      Vector::Zero(D));
        MONO_VERIFY_RESULT(other);
        MONO_VERIFY_OK(sae::saveSaeLens(*other, ws->saeDir("narrow-input")));
        MainWindow window;
        window.setRememberRecent(false);
        QList<QString> errors;
        window.setErrorReporter(
            [&errors](const QString& title, const QString& m) { errors << title + m; });
        QVERIFY(window.openWorkspace(qpath(m_ws.dir)));
        CompareView* view = window.findChild<CompareView*>();
        view->saeA()->setCurrentText(QString::fromStdString(m_ws.saeName));
        view->saeB()->setCurrentText(QStringLiteral("narrow-input"));
        view->compare();
        QVERIFY(QTest::qWaitFor([&] { return !errors.isEmpty(); }, 30000));
        QVERIFY2(errors.first().contains(QStringLiteral("different widths")),
                 qPrintable(errors.first()));
        QVERIFY(view->summary()->text().contains(QStringLiteral("different widths")));
        QCOMPARE(view->matchTable()->model()->rowCount(), 0);
    }

    void cleanupTestCase() { QSettings().clear(); }
};

QTEST_MAIN(TestCompareView)
#include "test_compare_view.moc"
