// The attention-sink statistic (FirstKeyAttention of a CPU forward,
// quant::attentionSinks) against attention computed independently: exactly
// uniform attention when the queries are zero, and a softmax recomputed here
// from the captured attention input and the q/k weights of a random GPT-2;
// accumulation over batches, the shape check, and the report's JSON. Also the
// features that write an outlier channel (quant::featuresWritingChannel).

#include <QtTest>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "core/model/first_key_attention.h"
#include "core/model/model.h"
#include "core/model/weights.h"
#include "core/quant/attention_sinks.h"
#include "core/quant/channel_features.h"
#include "tests/support/test_support.h"

using namespace mono;
using namespace mono::quant;
using Windows = std::vector<std::vector<model::TokenId>>;

namespace {

model::ModelConfig tinyGpt2() {
    model::ModelConfig c = model::gpt2SmallConfig();
    c.nLayers = 2;
    c.dModel = 64;
    c.nHeads = c.nKvHeads = 4;
    c.headDim = 16;
    c.dMlp = 128;
    c.vocabSize = 100;
    c.maxSeqLen = 32;
    return c;
}

Windows randomWindows(int count, int len, int vocab, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> tok(0, vocab - 1);
    Windows w(static_cast<size_t>(count));
    for (auto& s : w) {
        s.resize(size_t(len));
        for (auto& t : s) t = tok(rng);
    }
    return w;
}

// The first-key attention of one layer recomputed from its attention input
// h [T, C] and the GPT-2 c_attn weights: softmax(q kᵀ / √hd) column 0.
std::vector<double> firstKeyMass(const model::ModelConfig& c, const model::Linear& qkv,
                                 const std::vector<float>& h, int T) {
    const int H = c.nHeads, hd = c.headDim, C = c.dModel;
    auto proj = [&](int row, int t) {
        double s = qkv.b.size() ? qkv.b[row] : 0.0;
        for (int i = 0; i < C; ++i) s += double(qkv.w(row, i)) * h[size_t(t) * C + i];
        return s;
    };
    std::vector<double> mass(size_t(H), 0.0);
    for (int head = 0; head < H; ++head)
        for (int t = 1; t < T; ++t) {
            std::vector<double> q(static_cast<size_t>(hd)), s(static_cast<size_t>(t) + 1);
            for (int d = 0; d < hd; ++d) q[size_t(d)] = proj(head * hd + d, t);
            for (int k = 0; k <= t; ++k) {
                double dot = 0;
                for (int d = 0; d < hd; ++d) dot += q[size_t(d)] * proj((H + head) * hd + d, k);
                s[size_t(k)] = dot / std::sqrt(double(hd));
            }
            const double m = *std::max_element(s.begin(), s.end());
            double z = 0;
            for (double& v : s) z += (v = std::exp(v - m));
            mass[size_t(head)] += s[0] / z / double(T - 1);
        }
    return mass;
}

}  // namespace

class TestAttentionSinks : public QObject {
    Q_OBJECT
private slots:
    // Zero queries: every query spreads evenly, so position t gives 1/(t+1) to key 0.
    void uniformAttentionGivesHarmonicMean() {
        auto m = model::Model::random(tinyGpt2(), 5);
        MONO_VERIFY_RESULT(m);
        const int H = (*m)->config().nHeads, hd = (*m)->config().headDim;
        for (model::LayerWeights& lw : (*m)->weights().layers) {
            lw.qkv.w.topRows(H * hd).setZero();
            lw.qkv.b.head(H * hd).setZero();
        }
        (*m)->weightsChanged();
        const int T = 10;
        auto sinks = attentionSinks(**m, randomWindows(3, T, 100, 1));
        MONO_VERIFY_RESULT(sinks);
        double expected = 0;
        for (int t = 1; t < T; ++t) expected += 1.0 / (t + 1) / (T - 1);
        QCOMPARE(sinks->queries, int64_t(3 * (T - 1)));
        QVERIFY(std::fabs(sinks->uniform - expected) < 1e-6);  // uniform attention is the reference
        for (int L = 0; L < sinks->layers; ++L)
            for (int h = 0; h < sinks->heads; ++h)
                QVERIFY(std::fabs(sinks->at(L, h) - expected) < 1e-5);
    }

    // A random model (queries and keys non-zero): the statistic matches a
    // softmax recomputed in double from the captured attention input.
    void matchesIndependentSoftmax() {
        const model::ModelConfig c = tinyGpt2();
        auto m = model::Model::random(c, 9);
        MONO_VERIFY_RESULT(m);
        // Larger q/k weights so the attention is far from uniform.
        for (model::LayerWeights& lw : (*m)->weights().layers)
            lw.qkv.w.topRows(2 * c.nHeads * c.headDim) *= 20.0f;
        (*m)->weightsChanged();
        const int T = 12;
        const Windows w = randomWindows(1, T, c.vocabSize, 2);
        std::vector<std::vector<float>> h(static_cast<size_t>(c.nLayers));
        model::Hooks hooks;
        for (int L = 0; L < c.nLayers; ++L)
            hooks.add(model::hookName(c, {L, model::HookSite::kAttnIn}),
                      [&h, L](const model::HookContext&, model::ActivationBlock a) {
                          h[size_t(L)].assign(a.row(0), a.row(0) + a.rows * a.cols);
                      });
        model::ForwardOptions opt;
        opt.logits = model::LogitsWanted::kNone;
        opt.hooks = &hooks;
        model::FirstKeyAttention stats;
        stats.reset(c.nLayers, c.nHeads);
        auto cpu = model::makeFirstKeyAttentionBackend(&stats);
        MONO_VERIFY_OK(cpu->forward(c, (*m)->weights(), model::Batch::single(w[0]), opt, nullptr));
        double spread = 0;
        for (int L = 0; L < c.nLayers; ++L) {
            const std::vector<double> ref =
                firstKeyMass(c, (*m)->weights().layers[size_t(L)].qkv, h[size_t(L)], T);
            for (int hd = 0; hd < c.nHeads; ++hd) {
                QVERIFY2(std::fabs(stats.mean(L, hd) - ref[size_t(hd)]) < 1e-4,
                         qPrintable(QStringLiteral("layer %1 head %2: %3 vs %4")
                                        .arg(L)
                                        .arg(hd)
                                        .arg(stats.mean(L, hd))
                                        .arg(ref[size_t(hd)])));
                spread = std::max(spread, std::fabs(ref[size_t(hd)] - ref[0]));
            }
        }
        QVERIFY(spread > 0.01);  // the heads differ: the check is not of a constant
        // A second forward adds to the same statistics.
        MONO_VERIFY_OK(cpu->forward(c, (*m)->weights(), model::Batch::single(w[0]), opt, nullptr));
        QCOMPARE(stats.queries[0], int64_t(2 * (T - 1)));
    }

    void refusesStatisticsOfAnotherShape() {
        auto m = model::Model::random(tinyGpt2(), 1);
        MONO_VERIFY_RESULT(m);
        model::FirstKeyAttention stats;
        stats.reset(3, 4);
        model::ForwardOptions opt;
        opt.logits = model::LogitsWanted::kNone;
        const Status st = model::makeFirstKeyAttentionBackend(&stats)->forward(
            (*m)->config(), (*m)->weights(), model::Batch::single({1, 2, 3}), opt, nullptr);
        QCOMPARE(st.code(), StatusCode::kInvalidArgument);
        QVERIFY(st.message().find("2 layers") != std::string::npos);
        auto none = attentionSinks(**m, {{7}});
        QCOMPARE(none.status().code(), StatusCode::kInvalidArgument);
        auto outside = attentionSinks(**m, {{7, 100}});
        QCOMPARE(outside.status().code(), StatusCode::kInvalidArgument);
        QVERIFY(outside.status().message().find("vocabulary") != std::string::npos);
    }

    // A planted decoder column: feature 37 writes channel 5 harder than any other.
    void plantedFeatureTopsTheChannel() {
        const int64_t dSae = 200, dIn = 16;
        std::mt19937 rng(3);
        std::normal_distribution<float> n(0.0f, 0.1f);
        std::vector<float> wDec(static_cast<size_t>(dSae * dIn));
        for (float& v : wDec) v = n(rng);
        wDec[size_t(37 * dIn + 5)] = -3.0f;
        wDec[size_t(90 * dIn + 5)] = 1.5f;
        auto top = featuresWritingChannel(wDec.data(), dSae, dIn, dIn, 5, 4);
        MONO_VERIFY_RESULT(top);
        QCOMPARE(int(top->size()), 4);
        QCOMPARE((*top)[0].feature, int64_t(37));
        QCOMPARE((*top)[0].weight, -3.0f);
        QVERIFY((*top)[0].share > 0.9f && (*top)[0].share <= 1.0f);
        QCOMPARE((*top)[1].feature, int64_t(90));
        for (size_t i = 1; i < top->size(); ++i)
            QVERIFY(std::fabs((*top)[i - 1].weight) >= std::fabs((*top)[i].weight));
        auto wrongWidth = featuresWritingChannel(wDec.data(), dSae, dIn, 32, 5);
        QCOMPARE(wrongWidth.status().code(), StatusCode::kInvalidArgument);
        QVERIFY(wrongWidth.status().message().find("width 16") != std::string::npos);
        auto wrongChannel = featuresWritingChannel(wDec.data(), dSae, dIn, dIn, 16);
        QCOMPARE(wrongChannel.status().code(), StatusCode::kInvalidArgument);
    }
};

QTEST_GUILESS_MAIN(TestAttentionSinks)
#include "test_attention_sinks.moc"
