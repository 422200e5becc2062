// The bf16 compute mode of the CPU backend: the packed AVX-512 BF16 linear
// against an exact reference on bf16-rounded operands, and whole models in
// bf16 against their float32 forward. Skipped on a CPU without AVX-512 BF16.

#include <omp.h>

#include <QtTest>
#include <cmath>
#include <random>

#include "core/io/tensor.h"
#include "core/kernels/bf16_gemm.h"
#include "core/model/model.h"
#include "core/model/weights.h"
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
};

QTEST_GUILESS_MAIN(TestBf16)
#include "test_bf16.moc"
