// SAE quality metrics and token effects in the GUI, on a workspace built from
// stories260K: a metrics.json beside the SAE shows in the sidebar and, per
// feature, in the dashboard; hovering a dashboard example or the prompt
// inspector's heatmap computes token effects on a worker, and the strip then
// holds exactly what core's featureTokenEffects gives, with the Δ in the tooltip.

#include <QApplication>
#include <QSignalSpy>
#include <QtTest>

#include <cmath>
#include <filesystem>

#include "core/features/feature_store.h"
#include "core/sae/quality_record.h"
#include "core/steer/token_effects.h"
#include "tests/support/test_support.h"
#include "tests/ui/ui_workspace_fixture.h"
#include "ui/main/main_window.h"
#include "ui/main/workspace_sidebar.h"
#include "ui/panels/features/feature_dashboard.h"
#include "ui/panels/features/features_view.h"
#include "ui/panels/inspector/prompt_inspector.h"
#include "ui/session/feature_store_handle.h"
#include "ui/session/model_session.h"
#include "ui/session/token_effects_service.h"
#include "ui/session/workspace_session.h"
#include "ui/widgets/token_strip.h"

using namespace mono;
using namespace mono::ui;
using mono::test::qpath;
namespace fs = std::filesystem;

namespace {

void hover(QWidget* w) {
    QEvent enter(QEvent::Enter);
    QApplication::sendEvent(w, &enter);
}

// The strip's effects equal core's for these tokens and feature; returns the
// number of tokens with a nonzero effect.
int checkAgainstCore(TokenStrip* strip, MainWindow* window, const std::vector<int32_t>& tokens,
                     qint64 feature) {
    auto core = steer::featureTokenEffects(
        *window->session()->current().model, window->workspace()->sae(),
        window->workspace()->currentHook().toStdString(), tokens, feature);
    if (!core.ok()) qFatal("%s", core.status().toString().c_str());
    int nonzero = 0;
    for (const steer::TokenEffect& e : core->effects) {
        const float got = strip->effect(static_cast<int>(e.position));
        if (std::abs(got - static_cast<float>(e.delta)) > 1e-6f)
            qFatal("token %lld: strip %g, core %g", (long long)e.position, got, e.delta);
        if (std::abs(e.delta) > 1e-4) ++nonzero;
    }
    return nonzero;
}

}  // namespace

class TestQualityEffects : public QObject {
    Q_OBJECT
    fs::path m_root;
    test::UiWorkspace m_ws;
    std::unique_ptr<MainWindow> m_window;
    qint64 m_dense = -1;  // the densest feature: it has examples to ablate in

private slots:
    void initTestCase() {
        MONO_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        test::isolateSettings(QStringLiteral("test_ui_quality_effects"));
        m_root = test::tempDir();
        auto built = test::buildUiWorkspace(m_root);
        QVERIFY2(built.ok(), qPrintable(QString::fromStdString(built.status().toString())));
        m_ws = *built;
        m_window = std::make_unique<MainWindow>();
        m_window->setRememberRecent(false);
        m_window->setErrorReporter([](const QString& t, const QString& m) {
            qWarning("%s: %s", qPrintable(t), qPrintable(m));
        });
        m_window->show();
        QVERIFY(m_window->openWorkspace(qpath(m_ws.dir)));
        QVERIFY(QTest::qWaitFor(
            [this] { return m_window->session()->hasModel() && m_window->workspace()->sae(); },
            30000));
        const features::FeatureStore* store = m_window->workspace()->store()->store();
        QVERIFY(store);
        auto top = store->page({{}, features::SortKey::kDensity, true, 0, 1});
        MONO_VERIFY_RESULT(top);
        m_dense = top->rows.front().id;
        QVERIFY(m_dense != 5);
    }

    void metricsShowInSidebarAndDashboard() {
        FeatureDashboard* dash = m_window->featuresView()->dashboard();
        m_window->featuresView()->openFeature(5);
        QCOMPARE(dash->currentFeature(), qint64(5));
        QVERIFY(m_window->sidebar()->qualityText().isEmpty());
        QVERIFY(dash->qualityText().contains(QStringLiteral("eval-sae --metrics")));

        const int64_t F = m_window->workspace()->sae()->dSae();
        sae::QualityRecord r;
        r.hook = m_ws.hook;
        r.summary = {{"l2_ratio", 0.9512},
                     {"fraction_alive", 0.75},
                     {"kl_fidelity", 0.987},
                     {"absorption_fraction", 0.125}};
        r.maxDecoderCosine.assign(static_cast<size_t>(F), 0.25f);
        r.maxDecoderCosine[5] = 0.875f;
        r.absorbedCount.assign(static_cast<size_t>(F), 0);
        r.absorbedLetter.assign(static_cast<size_t>(F), -1);
        r.mainLetter.assign(static_cast<size_t>(F), -1);
        r.absorbedCount[5] = 3;
        r.absorbedLetter[5] = 18;  // 's'
        r.mainLetter[5] = 1;       // 'b'
        const fs::path saeDir = m_ws.dir / "saes" / m_ws.saeName;
        MONO_VERIFY_OK(sae::saveQualityRecord(sae::qualityRecordPath(saeDir.string()), r));
        emit m_window->workspace()->saeMetricsChanged();

        const QString side = m_window->sidebar()->qualityText();
        QVERIFY2(side.contains(QStringLiteral("l2 ratio 0.951")), qPrintable(side));
        QVERIFY(side.contains(QStringLiteral("alive 75.0 %")));
        QVERIFY(side.contains(QStringLiteral("KL fidelity 0.987")));
        QVERIFY(side.contains(QStringLiteral("absorption 0.125")));
        QVERIFY(m_window->sidebar()->storeInfoText().contains(side));
        const QString mine = dash->qualityText();
        QVERIFY2(mine.contains(QStringLiteral("max decoder cosine 0.875")), qPrintable(mine));
        QVERIFY(mine.contains(QStringLiteral("‘b’")));
        QVERIFY(mine.contains(QStringLiteral("absorbs ‘s’ on 3 words")));
        m_window->featuresView()->openFeature(6);
        QVERIFY(dash->qualityText().contains(QStringLiteral("0.250")));
        QVERIFY(dash->qualityText().contains(QStringLiteral("absorbs no first letter")));
    }

    void hoveringAnExampleShowsItsTokenEffects() {
        FeatureDashboard* dash = m_window->featuresView()->dashboard();
        m_window->featuresView()->openFeature(m_dense);
        QVERIFY(!dash->record().topExamples.empty());
        const features::Example& e = dash->record().topExamples.front();
        TokenStrip* strip = dash->exampleStrips().front();
        QVERIFY(!strip->hasEffects());
        hover(strip);
        QVERIFY(QTest::qWaitFor([strip] { return strip->hasEffects(); }, 20000));
        const int changed = checkAgainstCore(strip, m_window.get(), e.tokens, m_dense);
        qInfo("feature %lld, top example: %d later tokens change by > 1e-4 nats",
              (long long)m_dense, changed);
        QVERIFY(changed > 0);
        // The tooltip of the first token after the example token carries the Δ.
        int t = e.tokenIndex + 1;
        while (t < strip->tokenCount() && !std::isfinite(strip->effect(t))) ++t;
        QVERIFY(t < strip->tokenCount());
        QVERIFY2(strip->toolTipFor(t).contains(QStringLiteral("Δ log p")),
                 qPrintable(strip->toolTipFor(t)));
        // Another feature's dashboard reuses the strip: its effects are gone.
        m_window->featuresView()->openFeature(m_dense == 6 ? 7 : 6);
        if (!dash->exampleStrips().isEmpty()) QVERIFY(!dash->exampleStrips().front()->hasEffects());
    }

    void hoveringThePromptShowsItsTokenEffects() {
        PromptInspector* inspector = m_window->inspector();
        inspector->setPrompt(
            QStringLiteral("Once upon a time, there was a little girl named Lily."));
        QSignalSpy done(inspector, &PromptInspector::inspected);
        inspector->inspect();
        QVERIFY(done.wait(20000));
        const qint64 feature = inspector->heatmapFeature();
        QVERIFY(feature >= 0);
        hover(inspector->heatmap());
        QVERIFY(QTest::qWaitFor([inspector] { return inspector->heatmap()->hasEffects(); }, 20000));
        std::vector<int32_t> tokens;
        for (const auto& t : inspector->result().tokens) tokens.push_back(t.token);
        const int changed = checkAgainstCore(inspector->heatmap(), m_window.get(), tokens, feature);
        qInfo("prompt, feature %lld: %d later tokens change by > 1e-4 nats", (long long)feature,
              changed);
        QVERIFY(changed > 0);
    }

    void cleanupTestCase() { m_window.reset(); }
};

QTEST_MAIN(TestQualityEffects)
#include "test_quality_effects.moc"
