// core/quant: the int8 GEMM kernels against an exact integer reference, the
// quantization primitives, calibration statistics and their file, smoothing
// equivalence on every shared model, the int8 forward against the
// fake-quantized one, the SmoothQuant effect on planted outlier channels, the
// α search, the error metrics and the report.

#include <QtTest>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include <Eigen/Core>

#include "core/kernels/int8_gemm.h"
#include "core/model/model.h"
#include "core/model/weights.h"
#include "core/quant/alpha_search.h"
#include "core/quant/calibration.h"
#include "core/quant/error_metrics.h"
#include "core/quant/fake_quant.h"
#include "core/quant/report.h"
#include "core/quant/smoothing.h"
#include "core/quant/smoothing_explorer.h"
#include "core/quant/w8a8.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/quant/quant_test_support.h"
#include "tests/support/test_support.h"

using namespace mono;
using namespace mono::quant;
using namespace mono::kernels;
namespace fs = std::filesystem;
using namespace mono::quant_test;

namespace {

// Tolerances, named once. Smoothing changes only the order of float products:
// logits agree to float rounding (the issue's bound is 1e-4 relative).
constexpr double kSmoothEquivTol = 1e-4;
// int8 GEMM + rescale vs float GEMM over the dequantized values, same input:
// the same products, summed exactly vs in float (relative L2 per linear call).
constexpr double kInt8VsFakeModuleTol = 1e-5;
// Whole forwards may differ by a level flip that later layers amplify: the
// int8 logits must stay this much closer to the fake-quantized ones than
// those are to float.
constexpr double kInt8VsFakeLogitFraction = 0.35;
// The planted-outlier test: SmoothQuant must cut the module error at least this much.
constexpr double kOutlierGain = 4.0;

std::shared_ptr<model::Model> copyOf(const model::Model& m) {
    auto r = model::Model::fromWeights(m.config(), m.weights());
    return r.ok() ? *r : nullptr;
}

model::ModelConfig smallLlama() {
    return model::llamaConfig("planted", {.dModel = 64,
                                          .nLayers = 2,
                                          .nHeads = 4,
                                          .nKvHeads = 2,
                                          .dMlp = 128,
                                          .vocabSize = 256,
                                          .maxSeqLen = 128});
}

// Channels of each norm scaled up by `factor`, the next linear's columns down
// by the same: the float function is unchanged, the linear inputs get outliers.
const std::vector<int> kOutlierChannels = {3, 17, 40};
void plantOutliers(model::ModelWeights& w, float factor) {
    for (auto& lw : w.layers)
        for (int j : kOutlierChannels) {
            lw.ln1.weight[j] *= factor;
            lw.qkv.w.col(j) /= factor;
            lw.ln2.weight[j] *= factor;
            lw.up.w.col(j) /= factor;
        }
}

const ModuleError* findModule(const std::vector<ModuleError>& v, const std::string& name) {
    for (const auto& m : v)
        if (m.module == name) return &m;
    return nullptr;
}

}  // namespace

class TestQuant : public QObject {
    Q_OBJECT

private slots:
    void int8GemmBitExact_data();
    void int8GemmBitExact();
    void int8GemmStridedAndExtremes();
    void quantizePrimitives();
    void schemeNames();
    void errorMetrics();
    void calibrationStatistics();
    void calibrationFileRoundTripAndDamage();
    void tokenWindowsFromCorpus();
    void smoothingEquivalenceOnSharedModels_data();
    void smoothingEquivalenceOnSharedModels();
    void smoothingRejectsBadInput();
    void int8ForwardMatchesFakeQuant_data();
    void int8ForwardMatchesFakeQuant();
    void plantedOutliers();
    void alphaSearchPicksTheMinimum();
    void reportOnRealModel();
    void smoothingExplorer();
};

void TestQuant::int8GemmBitExact_data() {
    QTest::addColumn<int>("m");
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("k");
    QTest::newRow("1x1x1") << 1 << 1 << 1;
    QTest::newRow("7x13x33") << 7 << 13 << 33;
    QTest::newRow("65x129x257") << 65 << 129 << 257;
    QTest::newRow("3x17x4") << 3 << 17 << 4;
    QTest::newRow("5x64x3") << 5 << 64 << 3;
    QTest::newRow("128x256x768") << 128 << 256 << 768;
    QTest::newRow("2x16x4099") << 2 << 16 << 4099;
}

void TestQuant::int8GemmBitExact() {
    QFETCH(int, m);
    QFETCH(int, n);
    QFETCH(int, k);
    std::mt19937 rng(uint32_t(m * 131 + n * 7 + k));
    std::uniform_int_distribution<int> d(-128, 127);  // -128 too: the u8 shift's edge
    std::vector<int8_t> A(size_t(m) * k), B(size_t(n) * k);
    for (auto& v : A) v = int8_t(d(rng));
    for (auto& v : B) v = int8_t(d(rng));
    std::vector<int32_t> ref(size_t(m) * n);
    gemmInt8Reference(A.data(), m, B.data(), n, k, ref.data());
    int tested = 0;
    for (Int8Kernel kern : {Int8Kernel::kScalar, Int8Kernel::kAvx2, Int8Kernel::kAvx512Vnni}) {
        if (!int8KernelSupported(kern)) {
            qInfo("kernel %s not supported here", int8KernelName(kern));
            continue;
        }
        const PackedInt8 p = PackedInt8::pack(B.data(), n, k, kern);
        QCOMPARE(p.kernel(), kern);
        std::vector<int32_t> C(size_t(m) * n, 0x7eadbeef);
        gemmInt8(A.data(), k, m, p, C.data(), n);
        for (size_t i = 0; i < C.size(); ++i)
            if (C[i] != ref[i])
                QFAIL(qPrintable(QStringLiteral("%1: C[%2] = %3, reference %4")
                                     .arg(QString::fromLatin1(int8KernelName(kern)))
                                     .arg(i)
                                     .arg(C[i])
                                     .arg(ref[i])));
        ++tested;
    }
    QVERIFY(tested >= 1);
    QVERIFY(int8KernelSupported(bestInt8Kernel()));
}

void TestQuant::int8GemmStridedAndExtremes() {
    // All -128 × -128 over K = 1000: 16,384,000 per element, far from int32's edge
    // but far above what int16 pairs hold; A with a row stride > K; C with ldc > N.
    const int m = 5, n = 19, k = 1000, lda = 1003, ldc = 23;
    std::vector<int8_t> A(size_t(m) * lda, 7), B(size_t(n) * k, -128);
    for (int r = 0; r < m; ++r)
        for (int c = 0; c < k; ++c) A[size_t(r) * lda + c] = r % 2 ? -128 : 127;
    std::vector<int8_t> Acompact(size_t(m) * k);
    for (int r = 0; r < m; ++r)
        std::copy_n(A.begin() + long(r) * lda, k, Acompact.begin() + long(r) * k);
    std::vector<int32_t> ref(size_t(m) * n);
    gemmInt8Reference(Acompact.data(), m, B.data(), n, k, ref.data());
    QCOMPARE(ref[size_t(n)], 16384000);
    for (Int8Kernel kern : {Int8Kernel::kScalar, Int8Kernel::kAvx2, Int8Kernel::kAvx512Vnni}) {
        if (!int8KernelSupported(kern)) continue;
        const PackedInt8 p = PackedInt8::pack(B.data(), n, k, kern);
        std::vector<int32_t> C(size_t(m) * ldc, -1);
        gemmInt8(A.data(), lda, m, p, C.data(), ldc);
        for (int r = 0; r < m; ++r) {
            for (int c = 0; c < n; ++c) QCOMPARE(C[size_t(r) * ldc + c], ref[size_t(r) * n + c]);
            for (int c = n; c < ldc; ++c) QCOMPARE(C[size_t(r) * ldc + c], -1);  // untouched
        }
    }
}

void TestQuant::quantizePrimitives() {
    QCOMPARE(scaleForMax(127.0f), 1.0f);
    QCOMPARE(scaleForMax(0.0f), 1.0f);
    QCOMPARE(int(quantizeValue(2.5f, 1.0f)), 2);  // ties to even
    QCOMPARE(int(quantizeValue(3.5f, 1.0f)), 4);
    QCOMPARE(int(quantizeValue(-1000.0f, 1.0f)), -127);  // clamped, never -128
    QCOMPARE(int(quantizeValue(1000.0f, 1.0f)), 127);
    std::vector<float> x = {0.1f, -2.54f, 1.27f};
    fakeQuantizeRows(x.data(), 1, 3, 3);  // scale 0.02
    QCOMPARE(x[1], -2.54f);               // the max maps to ±127 exactly
    QVERIFY(std::fabs(x[0] - 0.1f) < 0.0101f);
    QVERIFY(std::fabs(x[2] - 1.28f) < 1e-6f || std::fabs(x[2] - 1.26f) < 1e-6f);
    // Per-tensor dynamic (O2) shares one scale per sequence; O1 one per row.
    std::vector<float> blk = {1.0f, 0.3f, 100.0f, 0.5f};  // 2 rows × 2
    std::vector<float> o1 = blk, o2 = blk;
    fakeQuantizeActivations(o1.data(), 2, 2, 2, ActScheme::kPerToken, nullptr, 1.0f);
    fakeQuantizeActivations(o2.data(), 2, 2, 2, ActScheme::kPerTensorDynamic, nullptr, 1.0f);
    QVERIFY(std::fabs(o1[1] - 0.3f) < 0.01f);
    QCOMPARE(o2[1], 0.0f);  // 0.3 under a step of 100/127 rounds to 0
    std::vector<model::SeqRows> seqs = {{0, 0, 1, 0}, {1, 1, 1, 0}};
    std::vector<float> o2s = blk;
    fakeQuantizeActivations(o2s.data(), 2, 2, 2, ActScheme::kPerTensorDynamic, &seqs, 1.0f);
    QVERIFY(std::fabs(o2s[1] - 0.3f) < 0.01f);  // its own sequence: its own scale
    // Weights per channel vs per tensor.
    std::vector<float> w = {1.0f, -0.01f, 100.0f, 50.0f};  // 2 rows × 2
    std::vector<float> wc = w, wt = w, sc;
    std::vector<int8_t> q;
    quantizeWeights(wc.data(), 2, 2, WeightScheme::kPerChannel, &q, &sc);
    QCOMPARE(sc.size(), size_t(2));
    QCOMPARE(sc[0], 1.0f / 127.0f);
    QCOMPARE(int(q[0]), 127);
    quantizeWeights(wt.data(), 2, 2, WeightScheme::kPerTensor, &q, &sc);
    QCOMPARE(sc[0], sc[1]);
    QCOMPARE(int(q[0]), 1);  // 1.0 under a step of 100/127
}

void TestQuant::schemeNames() {
    QCOMPARE(*parseActScheme("o2"), ActScheme::kPerTensorDynamic);
    QCOMPARE(QString::fromLatin1(actSchemeName(ActScheme::kPerTensorStatic)), QStringLiteral("O3"));
    auto bad = parseActScheme("O4");
    QVERIFY(!bad.ok());
    QVERIFY(bad.status().message().find("O4") != std::string::npos);
    QVERIFY(!parseWeightScheme("per-row").ok());
    QCOMPARE(*parseWeightScheme("per-tensor"), WeightScheme::kPerTensor);
}

void TestQuant::errorMetrics() {
    const std::vector<float> y = {3.0f, 4.0f}, yq = {3.0f, 4.5f};
    ErrorAccumulator a;
    a.add(y.data(), yq.data(), 2);
    const ErrorStats e = a.result();
    QVERIFY(std::fabs(e.relError - 0.1) < 1e-9);
    QVERIFY(std::fabs(e.sqnrDb - 20.0) < 1e-9);
    QVERIFY(e.cosine < 1.0 && e.cosine > 0.99);
    ErrorAccumulator same;
    same.add(y.data(), y.data(), 2);
    QVERIFY(std::isinf(same.result().sqnrDb));

    LogitComparer self, shifted;
    const std::vector<float> l = {1.0f, 2.0f, 0.5f}, l2 = {2.0f, 1.0f, 0.5f};
    self.add(l.data(), l.data(), 3, 1);
    shifted.add(l.data(), l2.data(), 3, 1);
    const EndToEnd s = self.result(self.perplexity());
    QCOMPARE(s.sameTop1Pct, 100.0);
    QVERIFY(s.klMean < 1e-12);
    QVERIFY(std::fabs(s.deltaPpl) < 1e-12);
    const EndToEnd d = shifted.result(self.perplexity());
    QCOMPARE(d.sameTop1Pct, 0.0);
    QVERIFY(d.klMean > 0.1);
    QVERIFY(d.deltaPpl > 0);
    QVERIFY(d.rmsDpPct > 10);
}

void TestQuant::calibrationStatistics() {
    auto m = model::Model::random(smallLlama(), 1);
    MONO_VERIFY_RESULT(m);
    const Windows w = randomWindows(6, 32, 256, 2);
    CalibrationOptions opt;
    opt.batchSequences = 4;
    opt.heatmapRows = 40;
    int reports = 0;
    auto c = calibrate(**m, w, opt, Progress([&](const ProgressUpdate&) { ++reports; }));
    MONO_VERIFY_RESULT(c);
    QCOMPARE(reports, 2);
    QCOMPARE(c->samples, 6);
    QCOMPARE(c->tokens, int64_t(6 * 32));
    QCOMPARE(c->inputs.size(), size_t(2 * 4));
    const InputStats* s = c->find(1, model::HookSite::kMlpIn);
    QVERIFY(s);
    QCOMPARE(s->input.modules.size(), size_t(2));
    QCOMPARE(s->tokenMax.size(), size_t(6 * 32));
    QCOMPARE(s->convergence.size(), size_t(6));
    QCOMPARE(s->convergence[0], 1.0f);
    QVERIFY(s->convergence.back() < 0.5f);
    QCOMPARE(s->heatmapRows, 40);
    QCOMPARE(s->heatmap.size(), size_t(40 * 64));
    float hmMax = 0, chMax = 0, tkMax = 0;
    for (float v : s->heatmap) hmMax = std::max(hmMax, v);
    for (size_t j = 0; j < s->channelMax.size(); ++j) {
        QVERIFY(s->channelMax[j] >= s->channelMeanAbs[j]);
        QVERIFY(s->channelMeanAbs[j] > 0);
        chMax = std::max(chMax, s->channelMax[j]);
    }
    for (float v : s->tokenMax) tkMax = std::max(tkMax, v);
    QCOMPARE(tkMax, chMax);  // both are the overall max |x|
    QVERIFY(hmMax <= chMax);
    // The same statistics whatever the batching, up to float rounding: the
    // f32 GEMM (OpenBLAS) picks its kernel by matrix size, so a row's last bits
    // can depend on how many rows share the product.
    opt.batchSequences = 1;
    auto c1 = calibrate(**m, w, opt);
    MONO_VERIFY_RESULT(c1);
    const std::vector<float>& single = c1->find(1, model::HookSite::kMlpIn)->channelMax;
    QCOMPARE(single.size(), s->channelMax.size());
    for (size_t j = 0; j < single.size(); ++j)
        QVERIFY2(std::abs(single[j] - s->channelMax[j]) <= 1e-5f * s->channelMax[j],
                 qPrintable(QString("channel %1: %2 vs %3")
                                .arg(j)
                                .arg(double(single[j]), 0, 'g', 9)
                                .arg(double(s->channelMax[j]), 0, 'g', 9)));
    // Cancellation.
    StopToken stop;
    stop.requestStop();
    auto cancelled = calibrate(**m, w, opt, {}, stop);
    QCOMPARE(cancelled.status().code(), StatusCode::kCancelled);
    QVERIFY(!calibrate(**m, {}, opt).ok());
}

void TestQuant::calibrationFileRoundTripAndDamage() {
    auto m = model::Model::random(smallLlama(), 1);
    MONO_VERIFY_RESULT(m);
    auto c = calibrate(**m, randomWindows(2, 16, 256, 3));
    MONO_VERIFY_RESULT(c);
    const fs::path dir = test::tempDir();
    const std::string path = (dir / "calibration.json").string();
    MONO_VERIFY_OK(saveCalibration(*c, path));
    auto back = loadCalibration(path);
    MONO_VERIFY_RESULT(back);
    QCOMPARE(back->inputs.size(), c->inputs.size());
    for (size_t i = 0; i < c->inputs.size(); ++i) {
        QCOMPARE(back->inputs[i].channelMax, c->inputs[i].channelMax);
        QCOMPARE(back->inputs[i].heatmap, c->inputs[i].heatmap);
        QCOMPARE(back->inputs[i].input.modules, c->inputs[i].input.modules);
    }
    // Damaged files: a clear Status naming the file, never a crash.
    const std::string text = test::readFile(path);
    const std::vector<std::pair<std::string, std::string>> damaged = {
        {"truncated", text.substr(0, text.size() / 2)},
        {"not json", "hello"},
        {"wrong format", R"({"format":"x","version":1,"inputs":[]})"},
        {"short max",
         R"({"format":"monoscope-calibration","version":1,"inputs":[{"hook":"h","layer":0,"site":1,
            "modules":["a"],"channels":4,"channel_max":[1,2],"channel_mean_abs":[1,1,1,1],
            "token_max":[],"heatmap_rows":0,"heatmap":[],"convergence":[]}]})"},
        {"bad site",
         R"({"format":"monoscope-calibration","version":1,"inputs":[{"hook":"h","layer":0,"site":99,
            "modules":["a"],"channels":1,"channel_max":[1],"channel_mean_abs":[1],
            "token_max":[],"heatmap_rows":0,"heatmap":[],"convergence":[]}]})"},
    };
    for (const auto& [what, bytes] : damaged) {
        const std::string p = (dir / ("bad_" + std::to_string(&what - &damaged[0].first))).string();
        test::writeFile(p, bytes);
        auto r = loadCalibration(p);
        QVERIFY2(!r.ok(), what.c_str());
        QVERIFY2(r.status().message().find(p) != std::string::npos, r.status().toString().c_str());
    }
    QCOMPARE(loadCalibration((dir / "missing.json").string()).status().code(),
             StatusCode::kNotFound);
}

void TestQuant::tokenWindowsFromCorpus() {
    MONO_REQUIRE_SHARED(tokPath, "models/stories260K/tok512.bin");
    auto tok = tok::loadTokenizer(tokPath.string());
    MONO_VERIFY_RESULT(tok);
    const fs::path corpus = test::tempDir() / "corpus.txt";
    std::string text;
    for (int i = 0; i < 20; ++i)
        text +=
            "Once upon a time, there was a little girl named Lily. She liked to play.\n"
            "<|endoftext|>\n";
    test::writeFile(corpus, text);
    auto w = tokenWindows({corpus.string()}, **tok, 3, 16);
    MONO_VERIFY_RESULT(w);
    QCOMPARE(w->size(), size_t(3));
    QCOMPARE((*w)[0].size(), size_t(16));
    QCOMPARE((*w)[0][0], (*tok)->bos());  // the first document starts with BOS
    auto skipped = tokenWindows({corpus.string()}, **tok, 1, 16, 1);
    MONO_VERIFY_RESULT(skipped);
    QCOMPARE((*skipped)[0], (*w)[1]);
    auto tooLong = tokenWindows({corpus.string()}, **tok, 1, 1000000);
    QVERIFY(!tooLong.ok());
    QVERIFY(tooLong.status().message().find(corpus.string()) != std::string::npos);
    QVERIFY(!tokenWindows({(test::tempDir() / "nope.txt").string()}, **tok, 1, 16).ok());
}

void TestQuant::smoothingEquivalenceOnSharedModels_data() {
    QTest::addColumn<QString>("path");
    QTest::newRow("stories260K.bin") << QStringLiteral("models/stories260K/stories260K.bin");
    QTest::newRow("stories260K.gguf") << QStringLiteral("models/stories260K/stories260K.gguf");
    QTest::newRow("TinyStories-656K") << QStringLiteral("models/TinyStories-656K");
    QTest::newRow("tiny-random-gpt2") << QStringLiteral("models/tiny-random-gpt2");
}

void TestQuant::smoothingEquivalenceOnSharedModels() {
    QFETCH(QString, path);
    MONO_REQUIRE_SHARED(p, path.toStdString());
    auto m = model::Model::load(p.string());
    MONO_VERIFY_RESULT(m);
    model::Model& fp = **m;
    const int V = fp.config().vocabSize;
    auto calib = calibrate(fp, randomWindows(4, 48, V, 5));
    MONO_VERIFY_RESULT(calib);
    const Windows eval = randomWindows(2, 40, V, 6);
    const std::vector<float> ref = logitsOf(fp, eval);
    QVERIFY(!ref.empty());
    for (float alpha : {0.5f, defaultAlpha(fp.config()), 0.95f}) {
        auto plan = planSmoothing(fp.weights(), fp.config(), *calib, {alpha});
        MONO_VERIFY_RESULT(plan);
        auto copy = copyOf(fp);
        QVERIFY(copy);
        MONO_VERIFY_OK(applySmoothing(copy->weights(), *plan));
        copy->weightsChanged();
        // The weights did change (otherwise the test proves nothing) ...
        const auto& a = copy->weights().layers[0].ln1.weight;
        const auto& b = fp.weights().layers[0].ln1.weight;
        QVERIFY((a - b).norm() > 1e-3f * b.norm());
        // ... and the function did not.
        const double rel = relL2(logitsOf(*copy, eval), ref);
        qInfo("%s alpha %.2f: smoothed vs float logits, relative %.2e", qPrintable(path), alpha,
              rel);
        QVERIFY2(rel <= kSmoothEquivTol, qPrintable(QString::number(rel)));
    }
}

void TestQuant::smoothingRejectsBadInput() {
    QVERIFY(!smoothingScales({1, 2}, {1}, 0.5f).ok());
    QVERIFY(!smoothingScales({1}, {1}, 1.5f).ok());
    auto s = smoothingScales({4.0f, 0.0f}, {1.0f, 1.0f}, 0.5f);
    MONO_VERIFY_RESULT(s);
    QCOMPARE((*s)[0], 2.0f);
    QVERIFY((*s)[1] > 0);  // clamped at 1e-5, never 0
    auto m = model::Model::random(smallLlama(), 1);
    MONO_VERIFY_RESULT(m);
    SmoothGroup g{0, true};
    QVERIFY(!foldSmoothing((*m)->weights(), g, std::vector<float>(63, 1.0f)).ok());
    QVERIFY(!foldSmoothing((*m)->weights(), g, std::vector<float>(64, -1.0f)).ok());
    QVERIFY(
        !foldSmoothing((*m)->weights(), SmoothGroup{7, true}, std::vector<float>(64, 1.0f)).ok());
    Calibration empty;
    QVERIFY(!planSmoothing((*m)->weights(), (*m)->config(), empty, {0.5f}).ok());
}

void TestQuant::int8ForwardMatchesFakeQuant_data() {
    QTest::addColumn<QString>("act");
    QTest::addColumn<QString>("weights");
    QTest::addColumn<bool>("attn");
    QTest::newRow("O1 per-channel") << "O1"
                                    << "per-channel" << false;
    QTest::newRow("O2 per-tensor") << "O2"
                                   << "per-tensor" << false;
    QTest::newRow("O3 per-channel") << "O3"
                                    << "per-channel" << false;
    QTest::newRow("O2 per-channel") << "O2"
                                    << "per-channel" << false;
    QTest::newRow("O1 per-tensor") << "O1"
                                   << "per-tensor" << false;
    QTest::newRow("O1 per-channel attn") << "O1"
                                         << "per-channel" << true;
}

void TestQuant::int8ForwardMatchesFakeQuant() {
    QFETCH(QString, act);
    QFETCH(QString, weights);
    QFETCH(bool, attn);
    MONO_REQUIRE_SHARED(p, "models/stories260K/stories260K.bin");
    auto m = model::Model::load(p.string());
    MONO_VERIFY_RESULT(m);
    model::Model& fp = **m;
    auto calib = calibrate(fp, randomWindows(4, 64, 512, 7));
    MONO_VERIFY_RESULT(calib);
    auto plan = planSmoothing(fp.weights(), fp.config(), *calib, {0.85f});
    MONO_VERIFY_RESULT(plan);
    W8A8Scheme scheme{*parseActScheme(act.toStdString()), *parseWeightScheme(weights.toStdString()),
                      attn};
    auto built = W8A8Model::build(fp, *calib, &*plan, scheme);
    MONO_VERIFY_RESULT(built);
    W8A8Model& q = **built;
    const Windows eval = randomWindows(3, 50, 512, 8);

    // Every linear of an int8 forward, on the very input it gets, against the
    // fake-quantized float computation: the same int8 values, so only float
    // rounding may differ.
    const model::ForwardOptions int8Opt = q.forwardOptions(true);
    const model::LinearFn& int8Fn = *int8Opt.linearFn;
    double worst = 0;
    int calls = 0;
    model::LinearFn checking = [&](const model::LinearCall& c) {
        std::vector<float> yi(size_t(c.rows * c.out));
        model::LinearCall mine = c;
        mine.y = yi.data();
        mine.ldy = c.out;
        if (!int8Fn(mine)) return false;
        using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
        RowMat X(c.rows, c.in);
        for (int64_t r = 0; r < c.rows; ++r)
            for (int64_t i = 0; i < c.in; ++i) X(r, i) = c.x[r * c.ldx + i];
        fakeQuantizeActivations(X.data(), c.rows, c.in, c.in, scheme.act, c.seqs,
                                q.staticScale(c.id.layer, c.id.site));
        const RowMat Y = X * Eigen::Map<const RowMat>(c.w, c.out, c.in).transpose();
        const bool qkv = c.id.site == model::HookSite::kAttnIn ||
                         c.id.site == model::HookSite::kKIn || c.id.site == model::HookSite::kVIn;
        if (!(attn && qkv)) {  // quantized outputs could round differently: not comparable
            std::vector<float> yf(Y.data(), Y.data() + Y.size());
            worst = std::max(worst, relL2(yi, yf));
            ++calls;
        }
        for (int64_t r = 0; r < c.rows; ++r)
            std::copy_n(yi.data() + r * c.out, c.out, c.y + r * c.ldy);
        return true;
    };
    model::ForwardOptions checkOpt;
    checkOpt.linearFn = &checking;
    const std::vector<float> int8 = logitsOf(q.model(), eval, checkOpt);
    QVERIFY(calls > 0 || attn);
    qInfo("%d linear calls: worst int8 vs fake-quant relative difference %.2e", calls, worst);
    QVERIFY2(worst <= kInt8VsFakeModuleTol, qPrintable(QString::number(worst)));

    // Whole forwards: a value that lies within float rounding of a rounding
    // boundary may land on the neighbouring int8 level in one path, and later
    // layers amplify that; the two runs still agree far better than either
    // agrees with float.
    const std::vector<float> ref = logitsOf(fp, eval);
    const std::vector<float> fake = logitsOf(q.model(), eval, q.forwardOptions(false));
    QCOMPARE(logitsOf(q.model(), eval, q.forwardOptions(true)), int8);  // deterministic
    const double vsFake = relL2(int8, fake), vsFloat = relL2(fake, ref);
    qInfo("%s: logits int8 vs fake-quant %.2e, fake-quant vs float %.2e",
          qPrintable(act + " " + weights), vsFake, vsFloat);
    QVERIFY(vsFloat > 1e-4);  // quantization did something ...
    QVERIFY2(vsFake < kInt8VsFakeLogitFraction * vsFloat,
             qPrintable(QString::number(vsFake)));  // ... the same thing
}

void TestQuant::plantedOutliers() {
    auto base = model::Model::random(smallLlama(), 11);
    MONO_VERIFY_RESULT(base);
    auto plantedW = (*base)->weights();
    plantOutliers(plantedW, 60.0f);
    auto planted = model::Model::fromWeights(smallLlama(), plantedW);
    MONO_VERIFY_RESULT(planted);
    model::Model& fp = **planted;
    const Windows eval = randomWindows(3, 48, 256, 12);
    // The planted outliers leave the float function unchanged.
    QVERIFY(relL2(logitsOf(fp, eval), logitsOf(**base, eval)) < 1e-5);

    auto calib = calibrate(fp, randomWindows(4, 48, 256, 13));
    MONO_VERIFY_RESULT(calib);
    const InputStats* in = calib->find(0, model::HookSite::kAttnIn);
    float others = 0;
    for (int j = 0; j < 64; ++j)
        if (std::find(kOutlierChannels.begin(), kOutlierChannels.end(), j) ==
            kOutlierChannels.end())
            others = std::max(others, in->channelMax[size_t(j)]);
    QVERIFY(in->channelMax[3] > 20 * others);  // the outliers are there

    auto plan = planSmoothing(fp.weights(), fp.config(), *calib, {0.5f});
    MONO_VERIFY_RESULT(plan);
    const W8A8Scheme naiveScheme{ActScheme::kPerTensorDynamic, WeightScheme::kPerTensor, false};
    auto naive = W8A8Model::build(fp, *calib, nullptr, naiveScheme);
    auto smooth = W8A8Model::build(fp, *calib, &*plan, naiveScheme);
    MONO_VERIFY_RESULT(naive);
    MONO_VERIFY_RESULT(smooth);
    ModuleErrorProbe probe;
    probe.addVariant(naive->get());
    probe.addVariant(smooth->get());
    auto errs = probe.run(fp, eval);
    MONO_VERIFY_RESULT(errs);
    for (int L = 0; L < 2; ++L)
        for (const char* mod :
             {"attn.q_proj", "attn.k_proj", "attn.v_proj", "mlp.gate_proj", "mlp.up_proj"}) {
            const std::string name = "blocks." + std::to_string(L) + "." + mod;
            const ModuleError* a = findModule((*errs)[0], name);
            const ModuleError* b = findModule((*errs)[1], name);
            QVERIFY(a && b);
            const double gain = a->error.relError / b->error.relError;
            qInfo("%s: naive %.4f (%.1f dB), SmoothQuant a=0.5 %.4f (%.1f dB), %.1fx", name.c_str(),
                  a->error.relError, a->error.sqnrDb, b->error.relError, b->error.sqnrDb, gain);
            QVERIFY(a->error.relError > 0.1);  // naive W8A8 is badly hurt
            QVERIFY2(gain >= kOutlierGain, qPrintable(QString::number(gain)));
        }
    // End to end too: smoothing brings the next-token distributions closer.
    double fpPpl = 0;
    auto e2e = compareEndToEnd(fp, {naive->get(), smooth->get()}, {false, false}, eval, &fpPpl);
    MONO_VERIFY_RESULT(e2e);
    qInfo("KL naive %.4g, SmoothQuant %.4g", (*e2e)[0].klMean, (*e2e)[1].klMean);
    QVERIFY((*e2e)[1].klMean < (*e2e)[0].klMean);
}

void TestQuant::alphaSearchPicksTheMinimum() {
    auto base = model::Model::random(smallLlama(), 11);
    MONO_VERIFY_RESULT(base);
    auto w = (*base)->weights();
    plantOutliers(w, 60.0f);
    auto m = model::Model::fromWeights(smallLlama(), w);
    MONO_VERIFY_RESULT(m);
    const Windows windows = randomWindows(2, 48, 256, 21);
    auto calib = calibrate(**m, windows);
    MONO_VERIFY_RESULT(calib);
    const W8A8Scheme scheme{ActScheme::kPerTensorDynamic, WeightScheme::kPerChannel, false};
    auto r = searchAlpha(**m, *calib, windows, scheme);
    MONO_VERIFY_RESULT(r);
    QCOMPARE(r->alpha.size(), size_t(4));
    QCOMPARE(r->grid.size(), size_t(21));
    for (size_t g = 0; g < r->groups.size(); ++g) {
        const auto& e = r->error[g];
        const size_t best = size_t(std::min_element(e.begin(), e.end()) - e.begin());
        QCOMPARE(r->alpha[g], r->grid[best]);
        qInfo("%s: best alpha %.2f error %.4f; at 0: %.4f, 0.5: %.4f, 1: %.4f",
              r->groups[g].name().c_str(), r->alpha[g], e[best], e[0], e[10], e[20]);
        QVERIFY(e[best] <= e[10]);
        QVERIFY(r->alpha[g] > 0.0f);
    }
    StopToken stop;
    stop.requestStop();
    QCOMPARE(
        searchAlpha(**m, *calib, windows, scheme, defaultAlphaGrid(), {}, stop).status().code(),
        StatusCode::kCancelled);
}

void TestQuant::reportOnRealModel() {
    MONO_REQUIRE_SHARED(p, "models/stories260K/stories260K.bin");
    auto m = model::Model::load(p.string());
    MONO_VERIFY_RESULT(m);
    const Windows cw = randomWindows(3, 64, 512, 31), ew = randomWindows(2, 64, 512, 32);
    auto calib = calibrate(**m, cw);
    MONO_VERIFY_RESULT(calib);
    QuantReportSpec spec;
    spec.autoAlpha = true;
    spec.searchWindows = 2;
    auto rep = buildQuantReport(**m, *calib, cw, ew, spec);
    MONO_VERIFY_RESULT(rep);
    // fp32, naive, w8a8, smoothquant, smoothquant-int8, then w4a8, w4a8-smoothquant,
    // w4a4, w4a4-smoothquant (no rotation asked for).
    QCOMPARE(rep->configs.size(), size_t(9));
    QCOMPARE(rep->configs[5].name, std::string("w4a8"));
    QCOMPARE(rep->alpha.size(), size_t(2 * 5));
    QCOMPARE(rep->configs[0].endToEnd.tokens, int64_t(2 * 63));
    QCOMPARE(rep->configs[3].modules.size(), size_t(5 * 7));
    // The int8 run of SmoothQuant tracks its fake-quantized run.
    const EndToEnd& fake = rep->configs[3].endToEnd;
    const EndToEnd& int8 = rep->configs[4].endToEnd;
    QVERIFY(std::fabs(fake.perplexity - int8.perplexity) < 0.01 * fake.perplexity);
    const auto j = nlohmann::json::parse(quantReportJson(*rep));
    QCOMPARE(j["format"].get<std::string>(), std::string("monoscope-quant-report"));
    QCOMPARE(j["configs"].size(), size_t(9));
    QCOMPARE(j["configs"][2]["modules"].size(), size_t(35));
    QVERIFY(j["configs"][1]["end_to_end"]["kl_mean"].get<double>() > 0);
    QCOMPARE(j["alpha"]["groups"][0]["search_error"].size(), size_t(21));
    // Attention sinks: [layer][head] mean weights on position 0, in (0, 1].
    const auto& sinks = j["attention_sinks"]["first_token_mass"];
    QCOMPARE(sinks.size(), size_t((*m)->config().nLayers));
    QCOMPARE(sinks[0].size(), size_t((*m)->config().nHeads));
    QVERIFY(sinks[0][0].get<double>() > 0 && sinks[0][0].get<double>() <= 1);
    QVERIFY(j["attention_sinks"]["queries"].get<int64_t>() > 0);
}

void TestQuant::smoothingExplorer() {
    auto base = model::Model::random(smallLlama(), 11);
    MONO_VERIFY_RESULT(base);
    auto w = (*base)->weights();
    plantOutliers(w, 60.0f);
    auto m = model::Model::fromWeights(smallLlama(), w);
    MONO_VERIFY_RESULT(m);
    const Windows windows = randomWindows(2, 48, 256, 41);
    auto calib = calibrate(**m, windows);
    MONO_VERIFY_RESULT(calib);
    const W8A8Scheme scheme{ActScheme::kPerTensorDynamic, WeightScheme::kPerTensor, false};
    auto ex = SmoothingExplorer::create(*m, *calib, windows, scheme);
    MONO_VERIFY_RESULT(ex);
    QCOMPARE((*ex)->groups().size(), size_t(4));
    QCOMPARE((*ex)->channels(0), 64);
    auto spread = [](const std::vector<float>& v) {
        std::vector<float> s = v;
        std::sort(s.begin(), s.end());
        return s.back() / s[s.size() / 2];
    };
    auto v0 = (*ex)->view(0, 0.0f), v5 = (*ex)->view(0, 0.5f);
    MONO_VERIFY_RESULT(v5);
    MONO_VERIFY_RESULT(v0);
    QVERIFY(spread(v5->actMax) > 20);         // the planted outliers ...
    QVERIFY(spread(v5->actMaxSmoothed) < 3);  // ... flattened at α = 0.5
    QVERIFY(v0->actMaxSmoothed != v5->actMaxSmoothed);
    for (size_t j = 0; j < v5->scales.size(); ++j)  // s moves range, it does not lose it
        QVERIFY(std::fabs(v5->actMaxSmoothed[j] * v5->weightMaxSmoothed[j] -
                          v5->actMax[j] * v5->weightMax[j]) <=
                1e-4f * v5->actMax[j] * v5->weightMax[j]);
    auto rows = (*ex)->errors(0.5f);
    MONO_VERIFY_RESULT(rows);
    QCOMPARE(rows->size(), size_t(4));
    for (const GroupErrorRow& r : *rows)
        QVERIFY2(r.smoothedError * kOutlierGain < r.plainError, r.group.c_str());
    QVERIFY(!(*ex)->view(4, 0.5f).ok());
    QVERIFY(!(*ex)->view(0, 1.5f).ok());
}

QTEST_GUILESS_MAIN(TestQuant)
#include "test_quant.moc"
