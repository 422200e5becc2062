// The bf16 compute mode of the CPU backend: the packed AVX-512 BF16 linear
// against an exact reference on bf16-rounded operands, and whole models in
// bf16 against their float32 forward. Skipped on a CPU without AVX-512 BF16.
// And bf16-resident models (LoadOptions::storage = kBf16): their logits in
// float32 and bf16 compute against the float32 model's, their weight bytes,
// the refusals of the operations that edit float32 weights, and the paths of
// a CPU without AVX-512 BF16 (hidden with kernels::setBf16Disabled).

#include <omp.h>

#include <QtTest>
#include <cmath>
#include <random>

#include "core/io/tensor.h"
#include "core/kernels/bf16_gemm.h"
#include "core/kernels/bf16_pack.h"
#include "core/model/model.h"
#include "core/model/weights.h"
#include "core/quant/smoothing.h"
#include "core/quant/w8a8.h"
#include "tests/support/test_support.h"

using namespace mono;
using namespace mono::model;
namespace fs = std::filesystem;

namespace {

#define REQUIRE_BF16() \
    if (!kernels::bf16Supported()) QSKIP("this CPU has no AVX-512 BF16 (avx512_bf16)")

float roundBf16(float f) {
    return io::bf16ToFloat(io::floatToBf16(f));
}

std::vector<float> randomVector(size_t n, std::mt19937& rng, float scale = 1.0f) {
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

Logits forward(Model& m, const std::vector<TokenId>& ids) {
    Logits out;
    Status s = m.forward(Batch::single(ids), ForwardOptions{}, &out);
    if (!s.ok()) qWarning("%s", s.toString().c_str());
    return out;
}

struct Agreement {
    double maxRelDiff = 0;  // max |Δlogit| / max |logit|
    double top1 = 0;        // share of rows with the same argmax
};

Agreement compare(const Logits& a, const Logits& b) {
    Agreement g;
    double maxAbs = 0, maxDiff = 0;
    int same = 0;
    for (int64_t r = 0; r < a.rows; ++r) {
        const float* x = a.row(r);
        const float* y = b.row(r);
        same += std::max_element(x, x + a.vocab) - x == std::max_element(y, y + b.vocab) - y;
        for (int64_t v = 0; v < a.vocab; ++v) {
            maxAbs = std::max(maxAbs, double(std::abs(x[v])));
            maxDiff = std::max(maxDiff, double(std::abs(x[v] - y[v])));
        }
    }
    g.maxRelDiff = maxDiff / maxAbs;
    g.top1 = double(same) / double(a.rows);
    return g;
}

std::shared_ptr<Model> loadBf16(const fs::path& path) {
    auto m = Model::load(path.string());
    if (!m.ok()) return nullptr;
    auto backend = makeCpuBf16Backend();
    if (!backend.ok()) return nullptr;
    (*m)->setBackend(std::move(*backend));
    return *m;
}

// linearBf16 on random X [N, in] (row stride in + 3) and W [out, in] against the
// float64 sum over bf16-rounded operands; Y's padding columns stay untouched.
void checkAgainstExact(int64_t N, int64_t out, int64_t in, std::mt19937& rng) {
    const int64_t ldx = in + 3, ldy = out + 5;
    auto X = randomVector(size_t(N * ldx), rng);
    auto W = randomVector(size_t(out * in), rng, 0.1f);
    auto b = randomVector(size_t(out), rng);
    std::vector<float> Y(size_t(N * ldy), -7.0f);
    const auto packed = kernels::packBf16(W.data(), out, in);
    kernels::linearBf16(X.data(), ldx, N, packed, b.data(), Y.data(), ldy);
    for (int64_t r = 0; r < N; ++r)
        for (int64_t o = 0; o < out; ++o) {
            double ref = b[o], mag = std::abs(b[o]);
            for (int64_t i = 0; i < in; ++i) {
                const double p =
                    double(roundBf16(X[r * ldx + i])) * double(roundBf16(W[o * in + i]));
                ref += p;
                mag += std::abs(p);
            }
            const double got = Y[r * ldy + o];
            if (std::abs(got - ref) > 1e-6 * mag + 1e-7)
                QFAIL(qPrintable(QString("N %1 out %2 in %3 [%4,%5]: %6 vs %7")
                                     .arg(N)
                                     .arg(out)
                                     .arg(in)
                                     .arg(r)
                                     .arg(o)
                                     .arg(got)
                                     .arg(ref)));
        }
    for (int64_t r = 0; r < N; ++r)
        for (int64_t o = out; o < ldy; ++o) QCOMPARE(Y[r * ldy + o], -7.0f);
}

// Loaded bf16-resident; with `bf16Compute` run by the bf16 backend.
std::shared_ptr<Model> loadResident(const fs::path& path, bool bf16Compute) {
    LoadOptions opt;
    opt.storage = WeightStorage::kBf16;
    auto m = Model::load(path.string(), opt);
    if (!m.ok()) {
        qWarning("%s", m.status().toString().c_str());
        return nullptr;
    }
    if (bf16Compute) {
        auto backend = makeCpuBf16Backend();
        if (!backend.ok()) return nullptr;
        (*m)->setBackend(std::move(*backend));
    }
    return *m;
}

// bf16-resident logits against float32 ones: weights rounded to bf16 (and,
// in bf16 compute, activations too) move logits by about 2⁻⁸ of their scale
// per rounding; 2% of the largest logit bounds it on these models.
constexpr double kResidentTol = 0.02;

std::vector<TokenId> someTokens(int n, int vocab, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<TokenId> ids;
    for (int i = 0; i < n; ++i) ids.push_back(TokenId(rng() % uint32_t(vocab)));
    return ids;
}

// Hides AVX-512 BF16 while alive (and leaves it hidden when it already was:
// MONO_NO_AVX512_BF16=1).
struct NoBf16 {
    const bool was = kernels::bf16Supported();
    NoBf16() { kernels::setBf16Disabled(true); }
    ~NoBf16() {
        if (was) kernels::setBf16Disabled(false);
    }
};

}  // namespace

class TestBf16 : public QObject {
    Q_OBJECT

private slots:
    // Every output equals the float64 sum over bf16-rounded operands up to
    // float32 accumulation error, for shapes that exercise every tail: odd
    // inputs, partial panels, row counts that are not multiples of the tile,
    // and inputs long enough to be summed in several depth passes.
    void linearMatchesExactReference() {
        REQUIRE_BF16();
        std::mt19937 rng(7);
        const int64_t rowsList[] = {1, 5, 7, 13, 97};
        const int64_t outList[] = {1, 15, 17, 33, 100, 130};
        const int64_t inList[] = {1, 3, 64, 65, 255, 1100, 2049};
        for (int64_t N : rowsList)
            for (int64_t out : outList)
                for (int64_t in : inList) checkAgainstExact(N, out, in, rng);
    }

    // Many rows and few outputs: the rows are split between the threads.
    void manyRowsFewOutputsMatchExactReference() {
        REQUIRE_BF16();
        std::mt19937 rng(9);
        checkAgainstExact(2000, 20, 300, rng);
        checkAgainstExact(1500, 130, 1100, rng);
    }

    // Pre-rounded inputs and packing from a transposed source give the same
    // bits as rounding inside linearBf16 and packing row by row.
    void roundedInputsAndTransposedPackingAgree() {
        REQUIRE_BF16();
        std::mt19937 rng(5);
        for (const int64_t rows : {1, 31, 32, 33, 200})
            for (const int64_t cols : {1, 16, 17, 70}) {
                const int64_t ldA = cols + 3;
                const auto A = randomVector(size_t(rows * ldA), rng);  // [rows, cols]
                // Aᵀ [cols, rows] packed from A directly and from an explicit copy.
                std::vector<float> At(size_t(cols * rows));
                for (int64_t r = 0; r < rows; ++r)
                    for (int64_t c = 0; c < cols; ++c) At[c * rows + r] = A[r * ldA + c];
                kernels::PackedBf16 strided;
                kernels::packBf16Into(A.data(), cols, rows, 1, ldA, strided);
                const auto direct = kernels::packBf16(At.data(), cols, rows);
                QVERIFY(strided.data == direct.data);
                QCOMPARE(strided.pairs, direct.pairs);
                // Aᵀ as rows rounded here (zero-padded to whole pairs) against W [5, rows].
                const int64_t ldT = (rows + 1) / 2 * 2 + 4, out = 5;
                std::vector<uint16_t> t(size_t(cols * ldT), 0);
                for (int64_t c = 0; c < cols; ++c)
                    for (int64_t r = 0; r < rows; ++r)
                        t[c * ldT + r] = io::floatToBf16(At[c * rows + r]);
                const auto W = randomVector(size_t(out * rows), rng, 0.1f);
                const auto packed = kernels::packBf16(W.data(), out, rows);
                std::vector<float> viaFloat(size_t(cols * out)), viaRounded(size_t(cols * out));
                kernels::linearBf16(At.data(), rows, cols, packed, nullptr, viaFloat.data(), out);
                kernels::linearBf16Rounded(t.data(), ldT, cols, packed, nullptr, viaRounded.data(),
                                           out);
                QVERIFY(viaFloat == viaRounded);
            }
    }

    // No inputs: every output is its bias.
    void zeroInputsGiveTheBias() {
        REQUIRE_BF16();
        const std::vector<float> b{1.5f, -2.0f, 3.0f};
        const float none = 0.0f;  // never read
        const auto packed = kernels::packBf16(&none, 3, 0);
        std::vector<float> Y(6, 7.0f);
        kernels::linearBf16(&none, 0, 2, packed, b.data(), Y.data(), 3);
        QCOMPARE(Y, (std::vector<float>{1.5f, -2.0f, 3.0f, 1.5f, -2.0f, 3.0f}));
    }

    void resultsDoNotDependOnThreadCount() {
        REQUIRE_BF16();
        std::mt19937 rng(3);
        const int64_t N = 200, out = 1000, in = 384;
        auto X = randomVector(size_t(N * in), rng);
        auto W = randomVector(size_t(out * in), rng, 0.05f);
        const auto packed = kernels::packBf16(W.data(), out, in);
        std::vector<float> one(size_t(N * out)), all(size_t(N * out));
        const int saved = omp_get_max_threads();
        omp_set_num_threads(1);
        kernels::linearBf16(X.data(), in, N, packed, nullptr, one.data(), out);
        omp_set_num_threads(std::max(2, saved));
        kernels::linearBf16(X.data(), in, N, packed, nullptr, all.data(), out);
        omp_set_num_threads(saved);
        QVERIFY(one == all);
    }

    // A real Llama-family model: bf16 logits stay within 2% of the float32 ones
    // and pick the same next token almost everywhere.
    void storiesBf16TracksFloat32() {
        REQUIRE_BF16();
        MONO_REQUIRE_SHARED(file, "models/stories260K/stories260K.bin");
        auto f32 = Model::load(file.string());
        MONO_VERIFY_RESULT(f32);
        auto bf16 = loadBf16(file);
        QVERIFY(bf16);
        QCOMPARE(QString(bf16->backend().name()), QString("cpu-bf16"));
        std::vector<TokenId> ids{1};
        std::mt19937 rng(11);
        for (int i = 0; i < 127; ++i) ids.push_back(TokenId(3 + rng() % 500));
        const Agreement g = compare(forward(**f32, ids), forward(*bf16, ids));
        qInfo("stories260K bf16 vs f32: max |Δlogit| / max |logit| = %.4f, same top-1 %.1f%%",
              g.maxRelDiff, 100 * g.top1);
        QVERIFY2(g.maxRelDiff < 0.02, qPrintable(QString::number(g.maxRelDiff)));
        QVERIFY2(g.top1 >= 0.95, qPrintable(QString::number(g.top1)));
    }

    // GPT-2 layout: biases, fused qkv and the GELU epilogue of c_fc.
    void gpt2Bf16TracksFloat32() {
        REQUIRE_BF16();
        MONO_REQUIRE_SHARED(dir, "models/tiny-random-gpt2");
        auto f32 = Model::load(dir.string());
        MONO_VERIFY_RESULT(f32);
        auto bf16 = loadBf16(dir);
        QVERIFY(bf16);
        std::vector<TokenId> ids;
        for (int i = 0; i < 40; ++i)
            ids.push_back(TokenId((i * 37 + 5) % (*f32)->config().vocabSize));
        const Agreement g = compare(forward(**f32, ids), forward(*bf16, ids));
        qInfo("tiny-random-gpt2 bf16 vs f32: max |Δlogit| / max |logit| = %.4f, same top-1 %.1f%%",
              g.maxRelDiff, 100 * g.top1);
        QVERIFY2(g.maxRelDiff < 0.02, qPrintable(QString::number(g.maxRelDiff)));
    }

    // Packed copies follow edits announced with weightsChanged().
    void editedWeightsAreRepacked() {
        REQUIRE_BF16();
        MONO_REQUIRE_SHARED(file, "models/stories260K/stories260K.bin");
        auto m = loadBf16(file);
        QVERIFY(m);
        const std::vector<TokenId> ids{1, 400, 300};
        const Logits before = forward(*m, ids);
        m->weights().layers[0].down.w *= 0.0f;
        m->weightsChanged();
        const Logits after = forward(*m, ids);
        QVERIFY(before.data != after.data);
        auto f32 = Model::load(file.string());
        MONO_VERIFY_RESULT(f32);
        (*f32)->weights().layers[0].down.w *= 0.0f;
        QVERIFY(compare(forward(**f32, ids), after).maxRelDiff < 0.02);
    }

    // stories260K (a float32 checkpoint, rounded at load) held in bf16: float32
    // compute (weights converted by tiles) and bf16 compute track the float32
    // model, and its linears take half the bytes.
    void storiesResidentTracksFloat32() {
        MONO_REQUIRE_SHARED(file, "models/stories260K/stories260K.bin");
        auto f32 = Model::load(file.string());
        MONO_VERIFY_RESULT(f32);
        auto resident = loadResident(file, false);
        QVERIFY(resident);
        QVERIFY(resident->weightStorage() == WeightStorage::kBf16);
        QVERIFY(resident->weights().tokenEmbedding.size() == 0);
        const std::vector<TokenId> ids = someTokens(64, 512, 13);
        const Logits want = forward(**f32, ids);
        const Agreement g = compare(want, forward(*resident, ids));
        qInfo(
            "stories260K bf16-resident, f32 compute: max |dlogit| / max |logit| = %.4f, "
            "same top-1 %.1f%%",
            g.maxRelDiff, 100 * g.top1);
        QVERIFY2(g.maxRelDiff < kResidentTol, qPrintable(QString::number(g.maxRelDiff)));
        QVERIFY(g.top1 >= 0.95);
        // Linears: 2 bytes a value against 4 (padding to 16-row panels aside).
        int64_t f32Bytes = 0, bf16Bytes = 0;
        for (int L = 0; L < (*f32)->config().nLayers; ++L) {
            const LayerWeights& a = (*f32)->weights().layers[L];
            const LayerWeights& b = resident->weights().layers[L];
            for (const Linear* l : {&a.qkv, &a.attnOut, &a.up, &a.down})
                f32Bytes += int64_t(l->w.size()) * 4;
            for (const Linear* l : {&b.qkv, &b.attnOut, &b.up, &b.down}) {
                QVERIFY(l->bf16() && l->w.size() == 0);
                bf16Bytes += kernels::bf16Bytes(l->wBf16);
            }
        }
        const double ratio = double(bf16Bytes) / double(f32Bytes);
        const double total = double(resident->weightBytes()) / double((*f32)->weightBytes());
        qInfo("linears: %lld bf16 bytes / %lld f32 bytes = %.3f; whole model %.3f",
              (long long)bf16Bytes, (long long)f32Bytes, ratio, total);
        QVERIFY2(ratio >= 0.5 && ratio <= 0.52, qPrintable(QString::number(ratio)));
        QVERIFY2(total <= 0.55, qPrintable(QString::number(total)));
        if (!kernels::bf16Supported()) return;
        auto bf16 = loadResident(file, true);
        QVERIFY(bf16);
        const Agreement h = compare(want, forward(*bf16, ids));
        qInfo("stories260K bf16-resident, bf16 compute: %.4f, same top-1 %.1f%%", h.maxRelDiff,
              100 * h.top1);
        QVERIFY2(h.maxRelDiff < kResidentTol, qPrintable(QString::number(h.maxRelDiff)));
    }

    // The families' random checkpoints (bf16 Gemma 2, NeoX's regrouped qkv,
    // Qwen biases, tied and untied heads, sharded) held in bf16. Float32
    // compute tracks the float32 model within kResidentTol (exactly for the
    // bf16 checkpoint). bf16 compute rounds activations too: on these d_model
    // 32 random models that alone moves logits by up to ~5% of the largest
    // (the float32-weight bf16 backend does the same), so it is compared with
    // that backend within kResidentTol, and with float32 within 6%.
    void familiesResidentTrackFloat32_data() {
        QTest::addColumn<QString>("folder");
        for (const char* f : {"gemma2", "gemma3_text", "gemma3_multimodal", "neox_parallel",
                              "neox_sequential", "qwen2", "qwen3", "mistral"})
            QTest::newRow(f) << f;
    }
    void familiesResidentTrackFloat32() {
        QFETCH(QString, folder);
        const fs::path dir = test::sourceDir() / "tests/data/families" / folder.toStdString();
        auto f32 = Model::load(dir.string());
        MONO_VERIFY_RESULT(f32);
        const std::vector<TokenId> ids = someTokens(12, (*f32)->config().vocabSize, 3);
        const Logits want = forward(**f32, ids);
        auto resident = loadResident(dir, false);
        QVERIFY(resident);
        QVERIFY(resident->weightBytes() < (*f32)->weightBytes() * 3 / 4);
        const Agreement g = compare(want, forward(*resident, ids));
        qInfo("%s bf16-resident, f32 compute: max |dlogit| / max |logit| = %.4f",
              folder.toLatin1().constData(), g.maxRelDiff);
        QVERIFY2(g.maxRelDiff < kResidentTol, qPrintable(QString::number(g.maxRelDiff)));
        if (folder == "gemma2") QCOMPARE(g.maxRelDiff, 0.0);  // bf16 weights: nothing rounded
        if (!kernels::bf16Supported()) return;
        auto bf16 = loadResident(dir, true);
        auto bf16Backend = loadBf16(dir);
        QVERIFY(bf16 && bf16Backend);
        const Logits got = forward(*bf16, ids);
        const Agreement h = compare(forward(*bf16Backend, ids), got);
        const Agreement k = compare(want, got);
        qInfo(
            "%s bf16-resident, bf16 compute: %.4f against the f32-weight bf16 backend, %.4f "
            "against float32",
            folder.toLatin1().constData(), h.maxRelDiff, k.maxRelDiff);
        QVERIFY2(h.maxRelDiff < kResidentTol, qPrintable(QString::number(h.maxRelDiff)));
        QVERIFY2(k.maxRelDiff < 0.06, qPrintable(QString::number(k.maxRelDiff)));
    }

    // A hook on one part of a fused linear (up_proj: rows 172..344 of
    // gate|up, not on a 16-row panel boundary) and a LinearFn reading the
    // float32 weights: a bf16-resident model gives the logits of its plain
    // forward, in both precisions.
    void residentPartsAndLinearFn() {
        MONO_REQUIRE_SHARED(file, "models/stories260K/stories260K.bin");
        for (const bool bf16Compute : {false, true}) {
            if (bf16Compute && !kernels::bf16Supported()) continue;
            auto m = loadResident(file, bf16Compute);
            QVERIFY(m);
            QCOMPARE(m->config().dMlp % 16 != 0, true);
            const std::vector<TokenId> ids = someTokens(20, 512, 5);
            const Logits plain = forward(*m, ids);
            Hooks hooks;
            int calls = 0;
            hooks.add("blocks.1.mlp.up_proj",
                      [&](const HookContext&, ActivationBlock) { ++calls; });
            ForwardOptions opt;
            opt.hooks = &hooks;
            Logits hooked;
            QVERIFY(m->forward(Batch::single(ids), opt, &hooked).ok());
            QCOMPARE(calls, 1);
            QVERIFY2(compare(plain, hooked).maxRelDiff < 1e-5,
                     qPrintable(QString::number(compare(plain, hooked).maxRelDiff)));
            // A LinearFn computing x·Wᵀ + b in float64 from the weights it is given.
            int fnCalls = 0;
            const LinearFn fn = [&](const LinearCall& c) {
                ++fnCalls;
                for (int64_t r = 0; r < c.rows; ++r)
                    for (int64_t o = 0; o < c.out; ++o) {
                        double acc = c.bias ? c.bias[o] : 0.0;
                        for (int64_t i = 0; i < c.in; ++i)
                            acc += double(c.x[r * c.ldx + i]) * double(c.w[o * c.in + i]);
                        c.y[r * c.ldy + o] = float(acc);
                    }
                return true;
            };
            ForwardOptions fopt;
            fopt.linearFn = &fn;
            Logits viaFn;
            QVERIFY(m->forward(Batch::single(ids), fopt, &viaFn).ok());
            QVERIFY(fnCalls > 0);
            const Agreement g = compare(plain, viaFn);
            qInfo("LinearFn on bf16-resident weights (%s compute): %.5f",
                  bf16Compute ? "bf16" : "f32", g.maxRelDiff);
            QVERIFY2(g.maxRelDiff < (bf16Compute ? kResidentTol : 1e-4),
                     qPrintable(QString::number(g.maxRelDiff)));
        }
    }

    // Operations that read or write Linear::w refuse a bf16-resident model,
    // naming themselves.
    void weightEditsRefuseResidentModels() {
        MONO_REQUIRE_SHARED(file, "models/stories260K/stories260K.bin");
        auto m = loadResident(file, false);
        QVERIFY(m);
        auto ref = m->linear(0, "mlp.down_proj");
        QVERIFY(!ref.ok());
        QCOMPARE(ref.status().code(), StatusCode::kUnsupported);
        QVERIFY2(ref.status().message().find("needs float32 weights") != std::string::npos,
                 ref.status().toString().c_str());
        const auto groups = quant::smoothGroups(m->config());
        QVERIFY(!groups.empty());
        const std::vector<float> s(size_t(m->config().dModel), 2.0f);
        const Status fold = quant::foldSmoothing(m->weights(), groups[0], s);
        QCOMPARE(fold.code(), StatusCode::kUnsupported);
        QVERIFY2(fold.message().find("SmoothQuant folding") != std::string::npos,
                 fold.toString().c_str());
        auto plan = quant::planSmoothing(m->weights(), m->config(), quant::Calibration{}, {0.5f});
        QVERIFY(!plan.ok());
        QVERIFY2(plan.status().message().find("SmoothQuant planning needs float32 weights") !=
                     std::string::npos,
                 plan.status().toString().c_str());
        auto w8a8 = quant::W8A8Model::build(*m, quant::Calibration{}, nullptr, quant::W8A8Scheme{});
        QVERIFY(!w8a8.ok());
        QCOMPARE(w8a8.status().code(), StatusCode::kUnsupported);
        QVERIFY2(w8a8.status().message().find("W8A8 fake quantization needs float32 weights") !=
                     std::string::npos,
                 w8a8.status().toString().c_str());
        auto f32 = Model::load(file.string());
        MONO_VERIFY_RESULT(f32);
        QVERIFY((*f32)->requireF32Weights("W8A8 fake quantization").ok());
        QVERIFY((*f32)->linear(0, "mlp.down_proj").ok());
    }

    // Without AVX-512 BF16 (hidden here): bf16 compute is refused with the
    // reason, a bf16-resident model still loads and runs in float32.
    void withoutAvx512Bf16ResidentRunsInFloat32() {
        MONO_REQUIRE_SHARED(file, "models/stories260K/stories260K.bin");
        NoBf16 hide;
        QVERIFY(!kernels::bf16Supported());
        auto backend = makeCpuBf16Backend();
        QVERIFY(!backend.ok());
        QCOMPARE(backend.status().code(), StatusCode::kUnsupported);
        QVERIFY2(backend.status().message().find("avx512_bf16") != std::string::npos,
                 backend.status().toString().c_str());
        auto resident = loadResident(file, false);
        QVERIFY(resident);
        auto f32 = Model::load(file.string());
        MONO_VERIFY_RESULT(f32);
        const std::vector<TokenId> ids = someTokens(16, 512, 8);
        const Agreement g = compare(forward(**f32, ids), forward(*resident, ids));
        QVERIFY2(g.maxRelDiff < kResidentTol, qPrintable(QString::number(g.maxRelDiff)));
    }
};

QTEST_GUILESS_MAIN(TestBf16)
#include "test_bf16.moc"
