// Outliers meet features in the main window: with a workspace whose TopK SAE
// (stories260K, blocks.2.hook_resid_post) is analysed into a feature store,
// the outlier tab lists the features that write a selected channel with their
// top example from the store, and activating one opens its dashboard in the
// Features view (the signal wired in ui/main/main_window.cpp).

#include <QSettings>
#include <QTabWidget>
#include <QTableWidget>
#include <QtTest>

#include <filesystem>

#include "core/model/model.h"
#include "core/quant/outliers.h"
#include "core/sae/sae.h"
#include "tests/support/test_support.h"
#include "tests/ui/ui_workspace_fixture.h"
#include "ui/main/main_window.h"
#include "ui/panels/features/feature_dashboard.h"
#include "ui/panels/features/features_view.h"
#include "ui/panels/quant/channel_feature_list.h"
#include "ui/panels/quant/outlier_panel.h"
#include "ui/panels/quant/quant_view.h"
#include "ui/session/workspace_session.h"

using namespace mono;
using namespace mono::ui;

class TestUiChannelFeatures : public QObject {
    Q_OBJECT
    test::UiWorkspace m_ws;

private slots:
    void initTestCase() {
        MONO_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        test::isolateSettings(QStringLiteral("test_ui_channel_features"));
        auto built = test::buildUiWorkspace(test::tempDir());
        QVERIFY2(built.ok(), qPrintable(QString::fromStdString(built.status().toString())));
        m_ws = *built;
    }

    void featuresOfAChannelOpenTheirDashboard() {
        MainWindow window;
        window.setRememberRecent(false);
        QVERIFY(window.openWorkspace(test::qpath(m_ws.dir)));
        WorkspaceSession* session = window.workspace();
        QVERIFY(QTest::qWaitFor([&] { return session->sae() != nullptr; }, 30000));
        const int64_t dIn = session->sae()->dIn();

        auto model =
            model::Model::load((test::sharedDir() / "models/stories260K/stories260K.bin").string());
        MONO_VERIFY_RESULT(model);
        std::vector<std::vector<model::TokenId>> windows(2, std::vector<model::TokenId>(64));
        for (size_t w = 0; w < windows.size(); ++w)
            for (size_t t = 0; t < windows[w].size(); ++t)
                windows[w][t] = model::TokenId((w * 131 + t * 17) % 512);
        auto data = quant::buildOutlierData(**model, windows, nullptr, 32);
        MONO_VERIFY_RESULT(data);
        OutlierPanel* panel = window.quantView()->outlierPanel();
        panel->setData(std::make_shared<const quant::OutlierData>(std::move(*data)));

        QTableWidget* table = panel->outlierTable();
        table->selectRow(0);
        const int channel = table->item(0, 0)->text().toInt();
        QTableWidget* list = panel->featureList()->table();
        QCOMPARE(list->rowCount(), 10);
        QVERIFY2(
            panel->featureList()->message().contains(QStringLiteral("channel %1").arg(channel)),
            qPrintable(panel->featureList()->message()));
        // |W_dec| decreasing; the snippets come from the analysed store.
        int snippets = 0;
        for (int r = 0; r < list->rowCount(); ++r) {
            if (r > 0)
                QVERIFY(std::fabs(list->item(r - 1, 2)->text().toDouble()) >=
                        std::fabs(list->item(r, 2)->text().toDouble()));
            snippets += list->item(r, 4)->text().isEmpty() ? 0 : 1;
        }
        QVERIFY(snippets > 0);
        QVERIFY(dIn == int64_t(panel->shownMaxima().size()));

        // A listed feature the dashboard does not show yet, so the jump is seen.
        FeatureDashboard* dashboard = window.findChild<FeaturesView*>()->dashboard();
        int row = 0;
        while (panel->featureList()->featureAt(row) == dashboard->record().summary.id) ++row;
        const qint64 id = panel->featureList()->featureAt(row);
        emit list->itemActivated(list->item(row, 0));
        QVERIFY(QTest::qWaitFor([&] { return dashboard->record().summary.id == id; }, 10000));
    }

    void cleanupTestCase() { QSettings().clear(); }
};

QTEST_MAIN(TestUiChannelFeatures)
#include "test_ui_channel_features.moc"
