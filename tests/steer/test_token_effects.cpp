// Token effects of ablating one feature on a hand-built one-layer Llama whose
// attention and MLP write nothing, so the residual stream at a position is its
// token's embedding and no position sees another. Token B embeds as
// 2·e1 + 1.5·e2; only token T's unembedding row reads e2 (4·e2); every other
// row reads e3..e7, which B's embedding lacks. Feature 0 of the SAE reads and
// writes e2, so ablating it at B changes exactly one logit: T's, at B's
// position, from 4·1.5/rms to 0. The effect must land on the token after B
// (T), be negative and of the size worked out here, and nowhere else.

#include <QtTest>

#include <cmath>

#include "core/model/config.h"
#include "core/model/model.h"
#include "core/model/weights.h"
#include "core/steer/token_effects.h"
#include "tests/support/test_support.h"

using namespace mono;

namespace {

constexpr int C = 8, V = 6;
constexpr int32_t kA = 0, kB = 1, kT = 3;
constexpr const char* kHook = "blocks.0.hook_resid_post";

std::shared_ptr<model::Model> handBuiltModel() {
    model::ModelConfig cfg = model::llamaConfig("hand-built", {.dModel = C,
                                                               .nLayers = 1,
                                                               .nHeads = 2,
                                                               .nKvHeads = 2,
                                                               .dMlp = 8,
                                                               .vocabSize = V,
                                                               .maxSeqLen = 16});
    cfg.tiedEmbeddings = false;
    auto base = model::Model::random(cfg, 1);
    if (!base.ok()) qFatal("%s", base.status().toString().c_str());
    model::ModelWeights w = (*base)->weights();
    w.layers[0].attnOut.w.setZero();
    w.layers[0].down.w.setZero();
    w.lnFinal.weight.setOnes();
    w.tokenEmbedding.setZero();
    w.unembedding.setZero();
    for (int t = 0; t < V; ++t) {
        w.tokenEmbedding(t, 0) = 2.0f;
        if (t != kB) w.tokenEmbedding(t, 2 + t) = 0.7f;  // e3..e8: harmless content
        if (t != kT) w.unembedding(t, 2 + std::min(t, 5)) = 1.0f;
    }
    w.tokenEmbedding(kB, 1) = 1.5f;
    w.unembedding(kT, 1) = 4.0f;
    auto m = model::Model::fromWeights(cfg, std::move(w));
    if (!m.ok()) qFatal("%s", m.status().toString().c_str());
    return *m;
}

// Feature 0 reads/writes e2, feature 1 e1, feature 2 e3.
std::shared_ptr<const sae::Sae> handBuiltSae() {
    sae::SaeConfig cfg;
    cfg.dIn = C;
    cfg.dSae = 3;
    Matrix wEnc = Matrix::Zero(C, 3), wDec = Matrix::Zero(3, C);
    for (int f = 0; f < 3; ++f) {
        const int dim = f == 0 ? 1 : f == 1 ? 0 : 2;
        wEnc(dim, f) = 1;
        wDec(f, dim) = 1;
    }
    auto s = sae::Sae::create(cfg, wEnc, wDec, Vector::Zero(3), Vector::Zero(C));
    if (!s.ok()) qFatal("%s", s.status().toString().c_str());
    return std::make_shared<const sae::Sae>(*s);
}

}  // namespace

class TestTokenEffects : public QObject {
    Q_OBJECT
    std::shared_ptr<model::Model> m_model = handBuiltModel();
    std::shared_ptr<const sae::Sae> m_sae = handBuiltSae();

private slots:
    void ablationChangesOnlyTheNextToken() {
        const std::vector<int32_t> tokens = {kA, kB, kT, 2, 4, kT};
        auto r = steer::featureTokenEffects(*m_model, m_sae, kHook, tokens, 0);
        MONO_VERIFY_RESULT(r);
        QCOMPARE(r->ablated, std::vector<int64_t>{1});
        QCOMPARE(r->effects.size(), size_t(4));  // tokens 2..5
        // At B: clean logits are 0 except z_T = 4·1.5/rms(B); ablated, all are 0.
        const double rms = std::sqrt((4.0 + 2.25) / C + 1e-5);
        const double zT = 4.0 * 1.5 / rms;
        const double clean = zT - std::log(std::exp(zT) + (V - 1));
        const double ablated = -std::log(double(V));
        QCOMPARE(r->effects[0].position, int64_t(2));
        QVERIFY2(std::abs(r->effects[0].logProbClean - clean) < 1e-4,
                 qPrintable(QString::number(r->effects[0].logProbClean)));
        QVERIFY2(std::abs(r->effects[0].delta - (ablated - clean)) < 1e-4,
                 qPrintable(QString::number(r->effects[0].delta)));
        QVERIFY(r->effects[0].delta < -1.5);  // the feature strongly predicted T
        for (size_t i = 1; i < r->effects.size(); ++i) {
            QCOMPARE(r->effects[i].position, int64_t(i + 2));
            QCOMPARE(r->effects[i].delta, 0.0);  // nothing reaches later positions
        }
    }

    void positionsRestrictTheAblation() {
        const std::vector<int32_t> tokens = {kA, kB, kT, kB, kT};
        auto all = steer::featureTokenEffects(*m_model, m_sae, kHook, tokens, 0);
        MONO_VERIFY_RESULT(all);
        QCOMPARE(all->ablated, (std::vector<int64_t>{1, 3}));
        QVERIFY(all->effects[0].delta < -1.5 && all->effects[2].delta < -1.5);
        QCOMPARE(all->effects[1].delta, 0.0);
        auto second = steer::featureTokenEffects(*m_model, m_sae, kHook, tokens, 0, {3});
        MONO_VERIFY_RESULT(second);
        QCOMPARE(second->ablated, std::vector<int64_t>{3});
        QCOMPARE(second->effects.size(), size_t(1));
        QCOMPARE(second->effects[0].position, int64_t(4));
        // A position where the feature is silent ablates nothing.
        auto silent = steer::featureTokenEffects(*m_model, m_sae, kHook, tokens, 0, {2});
        MONO_VERIFY_RESULT(silent);
        QVERIFY(silent->ablated.empty() && silent->effects.empty());
    }

    void badInput() {
        const std::vector<int32_t> tokens = {kA, kB, kT};
        QVERIFY(!steer::featureTokenEffects(*m_model, m_sae, kHook, tokens, 3).ok());
        QVERIFY(!steer::featureTokenEffects(*m_model, m_sae, "blocks.5.hook_resid_post", tokens, 0)
                     .ok());
        QVERIFY(!steer::featureTokenEffects(*m_model, m_sae, kHook, {kA, 99}, 0).ok());
    }
};

QTEST_GUILESS_MAIN(TestTokenEffects)
#include "test_token_effects.moc"
