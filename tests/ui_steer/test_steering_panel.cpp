// The steering panel against a real workspace built from ../shared (stories260K,
// a TopK SAE trained and analysed in the test): "Steer with this feature" on a
// dashboard adds the feature to the panel; Steer streams a baseline and a
// steered continuation that both appear and differ; the baseline is plain
// generation with the same seed and sampler; a sweep fills its table and plot.
// Screenshot: $MONO_SCREENSHOT_DIR/steering.png when that variable is set.

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QTextEdit>
#include <QtTest>

#include <qcustomplot.h>

#include "core/model/generate.h"
#include "core/model/model.h"
#include "core/model/model_files.h"
#include "core/workspace/workspace.h"
#include "tests/support/test_support.h"
#include "tests/ui/ui_workspace_fixture.h"
#include "ui/panels/features/feature_dashboard.h"
#include "ui/panels/steer/steering_panel.h"
#include "ui/panels/steer/sweep_view.h"
#include "ui/session/feature_store_handle.h"

using namespace mono;
using namespace mono::ui;

class TestSteeringPanel : public QObject {
    Q_OBJECT
    test::UiWorkspace m_ws;
    std::shared_ptr<model::Model> m_model;
    std::shared_ptr<const tok::Tokenizer> m_tok;
    QString m_saeDir, m_storePath;
    QStringList m_errors;

    void makePanel(SteeringPanel& panel) {
        panel.setErrorReporter(
            [this](const QString& t, const QString& m) { m_errors.append(t + u": "_qs + m); });
        panel.setModel(m_model, m_tok);
        QSignalSpy loaded(&panel, &SteeringPanel::saeLoaded);
        panel.openSae(m_saeDir, m_storePath);
        QVERIFY(loaded.wait(20000));
        QCOMPARE(loaded.first().first().toBool(), true);
        QVERIFY(panel.hasSae());
    }

private slots:
    void initTestCase() {
        MONO_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        auto ws = test::buildUiWorkspace(test::tempDir());
        MONO_VERIFY_RESULT(ws);
        m_ws = *ws;
        auto model = model::Model::load(bin.string());
        MONO_VERIFY_RESULT(model);
        m_model = *model;
        auto tok = model::loadModelTokenizer(bin.string());
        MONO_VERIFY_RESULT(tok);
        m_tok = *tok;
        auto opened = ws::Workspace::open(m_ws.dir.string());
        MONO_VERIFY_RESULT(opened);
        m_saeDir = QString::fromStdString(opened->saeDir(m_ws.saeName));
        m_storePath = QString::fromStdString(opened->featureStorePath(m_ws.saeName));
    }

    void steerFromDashboard() {
        FeatureStoreHandle store;
        MONO_VERIFY_OK(store.open(m_storePath));
        // The strongest feature by max activation, as a user might pick it.
        auto rows = store.store()->page(
            {features::FeatureFilter{}, features::SortKey::kMaxActivation, true, 0, 1});
        MONO_VERIFY_RESULT(rows);
        const qint64 id = rows->rows.at(0).id;
        FeatureDashboard dashboard(&store);
        QVERIFY(dashboard.showFeature(id));

        SteeringPanel panel;
        makePanel(panel);
        panel.resize(1280, 760);
        panel.show();
        connect(&dashboard, &FeatureDashboard::steerRequested, &panel,
                [&panel](int featureId) { panel.steerFeature(featureId, 10.0); });
        auto* steerButton = dashboard.findChild<QPushButton*>(u"steerButton"_qs);
        QVERIFY(steerButton);
        steerButton->click();
        QCOMPARE(panel.steeredFeatures(), QList<int>{int(id)});

        const QString prompt = u"Once upon a time, there was a little girl named Lily. She"_qs;
        panel.setPrompt(prompt);
        QSignalSpy done(&panel, &SteeringPanel::steeringFinished);
        auto* run = panel.findChild<QPushButton*>(u"steerButton"_qs);
        QVERIFY(run && run->isEnabled());
        run->click();
        QVERIFY(done.wait(30000));
        QVERIFY2(done.first().first().toBool(), qPrintable(m_errors.join(u"\n"_qs)));

        // Both texts appear, side by side, and differ.
        const QString baseline = panel.baselineText(), steered = panel.steeredText();
        QVERIFY(baseline.size() > 20);
        QVERIFY(steered.size() > 20);
        QVERIFY(baseline != steered);
        auto* baselineView = panel.findChild<QTextEdit*>(u"baselineView"_qs);
        auto* steeredView = panel.findChild<QTextEdit*>(u"steeredView"_qs);
        QVERIFY(baselineView->toPlainText().startsWith(prompt));
        QVERIFY(baselineView->toPlainText().contains(baseline.left(20)));
        QVERIFY(steeredView->toPlainText().contains(steered.left(20)));
        QVERIFY(panel.lastReport().has_value());
        QVERIFY(panel.lastReport()->fluency.meanKl > 0);

        // The panel's baseline is plain generation with the same settings.
        const steer::SteerRunSpec spec = panel.spec();
        auto plain =
            model::generate(*m_model, *m_tok, m_tok->encode(spec.prompt, true), spec.generate);
        MONO_VERIFY_RESULT(plain);
        QCOMPARE(baseline, QString::fromStdString(plain->text));

        if (qEnvironmentVariableIsSet("MONO_SCREENSHOT_DIR")) {
            QTest::qWait(50);
            const QString path = qEnvironmentVariable("MONO_SCREENSHOT_DIR") + u"/steering.png"_qs;
            QVERIFY(panel.grab().save(path));
        }

        // A sweep of the same feature fills the table and the plot.
        panel.findChild<QDoubleSpinBox*>(u"sweepFrom"_qs)->setValue(-5);
        panel.findChild<QDoubleSpinBox*>(u"sweepTo"_qs)->setValue(5);
        panel.findChild<QSpinBox*>(u"sweepSteps"_qs)->setValue(3);
        QSignalSpy swept(&panel, &SteeringPanel::sweepFinished);
        panel.findChild<QPushButton*>(u"sweepButton"_qs)->click();
        QVERIFY(swept.wait(60000));
        QVERIFY2(swept.first().first().toBool(), qPrintable(m_errors.join(u"\n"_qs)));
        QCOMPARE(panel.sweepView()->rows(), 3);
        QCOMPARE(panel.sweepView()->table()->item(1, 0)->text(), u"0×"_qs);
        QCOMPARE(panel.sweepView()->plot()->graph(0)->dataCount(), 3);
        if (qEnvironmentVariableIsSet("MONO_SCREENSHOT_DIR")) {
            QTest::qWait(50);
            QVERIFY(panel.grab().save(qEnvironmentVariable("MONO_SCREENSHOT_DIR") +
                                      u"/steering_sweep.png"_qs));
        }
        QVERIFY(m_errors.isEmpty());
    }

    void badFeatureIsReportedNotCrashed() {
        SteeringPanel panel;
        makePanel(panel);
        panel.steerFeature(100000, 2.0);  // beyond the SAE's 256 features
        panel.setPrompt(u"Once upon a time"_qs);
        QSignalSpy done(&panel, &SteeringPanel::steeringFinished);
        panel.steer();
        QVERIFY(done.wait(20000));
        QCOMPARE(done.first().first().toBool(), false);
        QCOMPARE(m_errors.size(), 1);
        QVERIFY2(m_errors.first().contains(u"100000"_qs), qPrintable(m_errors.first()));
        m_errors.clear();
    }
};

QTEST_MAIN(TestSteeringPanel)
#include "test_steering_panel.moc"
