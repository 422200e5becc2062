// SAE training: hand-written gradients against finite differences, recovery of
// a known dictionary (ReLU/L1 and TopK), stop/resume equality, NaN handling.

#include <QtTest>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "core/io/safetensors.h"
#include "core/io/tensor.h"
#include "core/kernels/bf16_gemm.h"
#include "core/sae/relu_backward_bf16.h"
#include "core/sae/sae_io.h"
#include "core/sae/train_step.h"
#include "core/sae/trainer.h"
#include "tests/sae/planted_dictionary.h"
#include "tests/support/test_support.h"

using namespace mono;
using namespace mono::sae;
using namespace mono::acts;

namespace {

Matrix randomMatrix(int64_t rows, int64_t cols, std::mt19937_64& rng, float sd = 1.0f) {
    std::normal_distribution<float> n(0.0f, sd);
    Matrix m(rows, cols);
    for (int64_t i = 0; i < m.size(); ++i) m.data()[i] = n(rng);
    return m;
}

// Encoder and decoder weights of scale `weightScale`, biases of scale 0.3.
TrainParams randomParams(int64_t D, int64_t F, std::mt19937_64& rng, float weightScale) {
    TrainParams p;
    p.wEncT = randomMatrix(F, D, rng, weightScale);
    p.wDec = randomMatrix(F, D, rng, weightScale);
    p.bEnc = randomMatrix(1, F, rng, 0.3f);
    p.bDec = randomMatrix(1, D, rng, 0.3f);
    return p;
}

// ||u − v|| / ||v|| for each of the four tensors.
struct GradientDifference {
    double wEnc, wDec, bEnc, bDec;
};
GradientDifference relativeDifference(const TrainParams& u, const TrainParams& v) {
    const auto rel = [](const auto& a, const auto& b) {
        return static_cast<double>((a - b).norm() / std::max(b.norm(), 1e-12f));
    };
    return {rel(u.wEncT, v.wEncT), rel(u.wDec, v.wDec), rel(u.bEnc, v.bEnc), rel(u.bDec, v.bDec)};
}

// Pre-activations h = (x − b_dec) W_enc + b_enc [B, F] of a step.
Matrix preActivations(const TrainParams& p, const Matrix& x) {
    Matrix h = (x.rowwise() - p.bDec) * p.wEncT.transpose();
    h.rowwise() += p.bEnc;
    return h;
}

// log θ [F] with every θ_i at least 0.02 from each h_bi, so that a finite
// difference step of 1e-3 never turns an entry on or off (the L0 term and the
// jump would swamp the difference quotient).
Vector thresholdsAwayFrom(const TrainParams& p, const Matrix& x, std::mt19937_64& rng) {
    const Matrix h = preActivations(p, x);
    std::uniform_real_distribution<float> start(0.05f, 0.8f);
    Vector logTheta(h.cols());
    for (int64_t i = 0; i < h.cols(); ++i) {
        float t = start(rng);
        while ((h.col(i).array() - t).abs().minCoeff() < 0.02f) t += 0.013f;
        logTheta[i] = std::log(t);
    }
    return logTheta;
}

// Central finite differences of the loss against the analytic gradient, tensor by tensor.
// The aux-k loss treats the residual x − x̂ as a constant (as OpenAI's trainer
// does), which finite differences cannot: with `onlyUnfired` the check covers
// just the latents outside every row's main selection, whose parameters reach
// the loss through the aux term alone.
void checkGradient(const StepSettings& s, const std::vector<uint8_t>& dead, uint64_t seed,
                   bool expectSparse, bool onlyUnfired = false) {
    const int64_t D = 6, F = 12, B = 7;
    std::mt19937_64 rng(seed);
    TrainParams p = randomParams(D, F, rng, 0.5f);
    const Matrix x = randomMatrix(B, D, rng);
    if (s.architecture == Architecture::kJumpReLU) p.logThreshold = thresholdsAwayFrom(p, x, rng);
    StepBuffers buf;
    TrainParams grad;
    grad.resizeLike(p);
    const StepStats st = lossAndGradient(p, x, s, dead, &grad, buf);
    QCOMPARE(st.sparsePath, expectSparse);
    QVERIFY(std::isfinite(st.loss));
    if (s.kAux > 0 && !dead.empty()) QVERIFY2(st.auxLoss > 0, "aux-k loss should be active");
    const std::vector<int64_t> fired = buf.fired;  // [F]
    int64_t unfiredDead = 0;
    for (int64_t i = 0; i < F; ++i) unfiredDead += (fired[i] == 0 && !dead.empty() && dead[i]);
    if (onlyUnfired)
        QVERIFY2(unfiredDead >= 2, "the aux check needs dead latents outside the top-k");

    struct Entry {
        const char* name;
        float* param;
        const float* analytic;
        int64_t n;
        int64_t rowWidth;  // elements per latent; 0 for b_dec (not per latent)
    };
    const float h = 1e-3f;
    for (const Entry& e : {Entry{"W_enc", p.wEncT.data(), grad.wEncT.data(), p.wEncT.size(), D},
                           Entry{"W_dec", p.wDec.data(), grad.wDec.data(), p.wDec.size(), D},
                           Entry{"b_enc", p.bEnc.data(), grad.bEnc.data(), p.bEnc.size(), 1},
                           Entry{"b_dec", p.bDec.data(), grad.bDec.data(), p.bDec.size(), 0}}) {
        if (onlyUnfired && e.rowWidth == 0) continue;
        double errSq = 0, refSq = 0, worst = 0;
        for (int64_t i = 0; i < e.n; ++i) {
            if (onlyUnfired && fired[i / e.rowWidth] != 0) continue;
            const float saved = e.param[i];
            e.param[i] = saved + h;
            const double up = lossAndGradient(p, x, s, dead, nullptr, buf).loss;
            e.param[i] = saved - h;
            const double down = lossAndGradient(p, x, s, dead, nullptr, buf).loss;
            e.param[i] = saved;
            const double fd = (up - down) / (2.0 * h);
            errSq += (fd - e.analytic[i]) * (fd - e.analytic[i]);
            refSq += fd * fd;
            worst = std::max(worst, std::abs(fd - e.analytic[i]));
        }
        const double rel = std::sqrt(errSq / std::max(refSq, 1e-12));
        std::printf("  %-6s %-9s relative error %.2e, max abs %.2e, |g| %.3f\n",
                    architectureName(s.architecture), e.name, rel, worst, std::sqrt(refSq));
        QVERIFY2(refSq > 1e-8, e.name);
        QVERIFY2(rel < 1e-2, qPrintable(QStringLiteral("%1: gradient relative error %2")
                                            .arg(QLatin1String(e.name))
                                            .arg(rel)));
    }
}

TrainSpec smallSpec(const std::filesystem::path& out, Architecture arch) {
    TrainSpec spec;
    spec.architecture = arch;
    spec.dSae = 64;
    spec.k = 4;
    spec.l1 = 1.0;
    spec.batchSize = 64;
    spec.totalTokens = 64 * 60;
    spec.lr = 1e-3;
    spec.deadTokens = 64 * 5;
    spec.reportEverySteps = 5;
    spec.outDir = out.string();
    return spec;
}

// Rows of `inner`, with NaN from the `nanFromBatch`-th batch on.
class PoisonedProvider : public BatchProvider {
public:
    PoisonedProvider(MatrixBatchProvider& inner, int64_t nanFromBatch)
        : m_inner(inner), m_nanFrom(nanFromBatch) {}
    int64_t dim() const override { return m_inner.dim(); }
    Status next(Matrix& out) override {
        MONO_RETURN_IF_ERROR(m_inner.next(out));
        if (m_batches++ >= m_nanFrom) out(0, 0) = std::nanf("");
        return Status::success();
    }
    std::string saveState() const override { return m_inner.saveState(); }
    Status restoreState(const std::string& s) override { return m_inner.restoreState(s); }

private:
    MatrixBatchProvider& m_inner;
    int64_t m_nanFrom;
    int64_t m_batches = 0;
};

// Prints each training report: what the planted-dictionary tests show while they run.
Progress printingProgress() {
    return Progress([](const ProgressUpdate& u) {
        std::printf("  %s loss %.4f mse %.4f l0 %.2f dead %.1f%% ev %.4f lr %.2e %.0f tok/s\n",
                    u.message.c_str(), u.metrics.at("loss"), u.metrics.at("mse"),
                    u.metrics.at("l0"), u.metrics.at("dead_pct"),
                    u.metrics.at("explained_variance"), u.metrics.at("lr"),
                    u.metrics.at("tokens_per_s"));
    });
}

}  // namespace

class TestSaeTrain : public QObject {
    Q_OBJECT
private slots:
    void gradientStandardDense() {
        StepSettings s;
        s.architecture = Architecture::kStandard;
        s.l1 = 0.7;
        s.sparseDensity = 0.0;  // always dense
        checkGradient(s, {}, 1, false);
    }
    void gradientStandardSparse() {
        StepSettings s;
        s.architecture = Architecture::kStandard;
        s.l1 = 0.7;
        s.sparseDensity = 2.0;  // always sparse
        checkGradient(s, {}, 2, true);
    }
    void gradientTopK() {
        StepSettings s;
        s.architecture = Architecture::kTopK;
        s.k = 3;
        checkGradient(s, {}, 3, true);
    }
    void gradientTopKAuxOnDeadLatents() {
        StepSettings s;
        s.architecture = Architecture::kTopK;
        s.k = 2;
        s.kAux = 3;
        s.auxCoefficient = 0.5;
        std::vector<uint8_t> dead(12, 1);  // all dead: aux picks among every latent
        checkGradient(s, dead, 5, true, /*onlyUnfired=*/true);
    }
    // JumpReLU: the weights' gradients are true gradients (no entry switches
    // within a finite-difference step); log θ's is the straight-through one,
    // checked against the formula in the next test.
    void gradientJumpReLU() {
        StepSettings s;
        s.architecture = Architecture::kJumpReLU;
        s.l0 = 0.3;
        checkGradient(s, {}, 6, true);
    }
    // The tanh form reaches the encoder through f and the decoder through the
    // row norms n_i (free here: the random decoder rows are not unit-norm).
    void gradientJumpReLUTanh() {
        StepSettings s;
        s.architecture = Architecture::kJumpReLU;
        s.sparsity = JumpReluSparsity::kTanh;
        s.l0 = 0.3;
        s.tanhScale = 4.0;
        checkGradient(s, {}, 6, true);
    }
    // log θ's pseudo-gradient against a dense scalar evaluation of the paper's
    // estimator: ∂L/∂log θ_i = −(θ_i/ε) Σ_b [|h_bi − θ_i| < ε/2] (θ_i ∂L/∂f_bi + [step] λ/B),
    // ∂L/∂f = (2/B)(x̂ − x) W_decᵀ (+ [tanh] (λ/B) c n_i sech²(c f_bi n_i), at f_bi = 0
    // for an entry that is off); and the loss's sparsity term, λ · mean_b Σ_i S_bi.
    void jumpReluThresholdGradientMatchesReference_data() {
        QTest::addColumn<bool>("tanhForm");
        QTest::newRow("step") << false;
        QTest::newRow("tanh") << true;
    }
    void jumpReluThresholdGradientMatchesReference() {
        QFETCH(bool, tanhForm);
        const int64_t D = 10, F = 24, B = 37;
        std::mt19937_64 rng(21);
        TrainParams p = randomParams(D, F, rng, 0.5f);
        const Matrix x = randomMatrix(B, D, rng);
        std::uniform_real_distribution<float> theta(0.1f, 0.9f);
        p.logThreshold.resize(F);
        for (int64_t i = 0; i < F; ++i) p.logThreshold[i] = std::log(theta(rng));
        StepSettings s;
        s.architecture = Architecture::kJumpReLU;
        s.sparsity = tanhForm ? JumpReluSparsity::kTanh : JumpReluSparsity::kStep;
        s.tanhScale = 3.0;
        s.l0 = 0.4;
        s.bandwidth = 0.5;
        StepBuffers buf;
        TrainParams grad;
        grad.resizeLike(p);
        const StepStats st = lossAndGradient(p, x, s, {}, &grad, buf);

        const Matrix h = preActivations(p, x);  // [B, F]
        const Vector t = p.logThreshold.array().exp();
        const Vector n = p.wDec.rowwise().norm();
        Matrix f = Matrix::Zero(B, F);
        int64_t active = 0, inWindow = 0;
        double sparsity = 0;  // Σ_bi S_bi
        for (int64_t b = 0; b < B; ++b)
            for (int64_t i = 0; i < F; ++i)
                if (h(b, i) > t[i]) {
                    f(b, i) = h(b, i);
                    ++active;
                    sparsity += tanhForm ? std::tanh(s.tanhScale * h(b, i) * n[i]) : 1.0;
                }
        Matrix xHat = f * p.wDec;
        xHat.rowwise() += p.bDec;
        const Matrix gF = (2.0f / B) * (xHat - x) * p.wDec.transpose();  // [B, F] ∂L/∂f
        Vector expected = Vector::Zero(F);
        for (int64_t i = 0; i < F; ++i) {
            double sum = 0;
            for (int64_t b = 0; b < B; ++b) {
                if (std::abs(h(b, i) - t[i]) >= 0.5 * s.bandwidth) continue;
                ++inWindow;
                if (tanhForm) {
                    const double th = std::tanh(s.tanhScale * f(b, i) * n[i]);
                    sum += t[i] * (gF(b, i) + s.l0 / B * s.tanhScale * n[i] * (1 - th * th));
                } else {
                    sum += t[i] * gF(b, i) + s.l0 / B;
                }
            }
            expected[i] = static_cast<float>(-t[i] / s.bandwidth * sum);
        }
        std::printf("  %lld active entries, %lld in the kernel window\n", (long long)active,
                    (long long)inWindow);
        QVERIFY(active > 0 && active < B * F);
        QVERIFY(inWindow > F);
        QCOMPARE(st.l0, static_cast<double>(active) / B);
        QVERIFY(std::abs(st.l0Loss - s.l0 * sparsity / B) <= 1e-6 * st.l0Loss);
        QVERIFY(std::abs(st.loss - (st.mse + st.l0Loss)) <= 1e-6 * st.loss);
        const double rel = (grad.logThreshold - expected).norm() / expected.norm();
        std::printf("  log θ gradient relative error %.2e, |g| %.3f\n", rel, expected.norm());
        QVERIFY2(rel < 1e-5, qPrintable(QStringLiteral("relative error %1").arg(rel)));
    }
    void gradientBatchTopK() {
        StepSettings s;
        s.architecture = Architecture::kBatchTopK;
        s.k = 3;
        checkGradient(s, {}, 4, true);
    }

    // Matryoshka: nested prefixes (2, 5, 12 and 4, 12 of F = 12) decoding one
    // BatchTopK selection.
    void gradientMatryoshka() {
        StepSettings s;
        s.architecture = Architecture::kBatchTopK;
        s.k = 3;
        s.prefixes = {2, 5, 12};
        checkGradient(s, {}, 4, true);
        s.prefixes = {4, 12};
        checkGradient(s, {}, 7, true);
    }
    // Each inner prefix's error is in the loss: the same codes decoded by the
    // first w_m latents alone, computed here densely.
    void matryoshkaLossSumsPrefixErrors() {
        const int64_t D = 6, F = 12, B = 9;
        std::mt19937_64 rng(8);
        const TrainParams p = randomParams(D, F, rng, 0.5f);
        const Matrix x = randomMatrix(B, D, rng);
        StepSettings s;
        s.architecture = Architecture::kBatchTopK;
        s.k = 3;
        s.prefixes = {2, 5, 12};
        StepBuffers buf;
        const StepStats st = lossAndGradient(p, x, s, {}, nullptr, buf);
        Matrix f = Matrix::Zero(B, F);
        for (int64_t b = 0; b < B; ++b)
            for (int64_t j = buf.rowStart[b]; j < buf.rowStart[b + 1]; ++j)
                f(b, buf.index[j]) = buf.value[j];
        double inner = 0;
        for (int64_t w : {2, 5}) {
            Matrix xHat = f.leftCols(w) * p.wDec.topRows(w);
            xHat.rowwise() += p.bDec;
            inner += (xHat - x).cast<double>().squaredNorm() / B;
        }
        QVERIFY(inner > 0);
        QVERIFY(std::abs(st.prefixMse - inner) <= 1e-5 * inner);
        QVERIFY(std::abs(st.loss - (st.mse + inner)) <= 1e-5 * st.loss);
    }

    // The dense ReLU step runs in row blocks spread over the threads, with
    // per-thread partial sums; the sparse path shares none of that code. Over a
    // batch of several blocks (the last one partial) both must give the same
    // loss, firing counts and gradient up to float rounding.
    void denseBlocksMatchSparsePath() {
        const int64_t D = 8, F = 40, B = 2 * kRowBlock + 37;
        std::mt19937_64 rng(11);
        const TrainParams p = randomParams(D, F, rng, 0.5f);
        const Matrix x = randomMatrix(B, D, rng);
        StepSettings s;
        s.architecture = Architecture::kStandard;
        s.l1 = 0.7;
        TrainParams dense, sparse;
        dense.resizeLike(p);
        sparse.resizeLike(p);
        StepBuffers bufD, bufS;
        s.sparseDensity = 0.0;
        const StepStats a = lossAndGradient(p, x, s, {}, &dense, bufD);
        s.sparseDensity = 2.0;
        const StepStats b = lossAndGradient(p, x, s, {}, &sparse, bufS);
        QVERIFY(!a.sparsePath);
        QVERIFY(b.sparsePath);
        QVERIFY(a.l0 > 1 && a.l0 < F - 1);
        QCOMPARE(bufD.fired, bufS.fired);
        QCOMPARE(a.l0, b.l0);
        QVERIFY(std::abs(a.loss - b.loss) <= 1e-5 * std::abs(b.loss));
        QVERIFY(std::abs(a.mse - b.mse) <= 1e-5 * std::abs(b.mse));
        const GradientDifference d = relativeDifference(dense, sparse);
        std::printf(
            "  dense vs sparse relative differences: W_enc %.1e W_dec %.1e b_enc %.1e "
            "b_dec %.1e\n",
            d.wEnc, d.wDec, d.bEnc, d.bDec);
        for (double e : {d.wEnc, d.wDec, d.bEnc, d.bDec})
            QVERIFY2(e < 1e-5, "dense and sparse differ");
    }
    // bf16 precision follows the float32 step to bf16 accuracy on every path:
    // the dense ReLU step (several row blocks, the last one partial, with its
    // whole-batch weight-gradient GEMMs), the sparse ReLU step and TopK.
    void bf16StepTracksFloat32_data() {
        QTest::addColumn<int>("arch");
        QTest::addColumn<double>("sparseDensity");
        QTest::addColumn<bool>("expectSparse");
        QTest::addColumn<double>("tolerance");
        const int relu = static_cast<int>(Architecture::kStandard);
        QTest::newRow("relu-dense") << relu << 0.0 << false << 1.5e-2;
        QTest::newRow("relu-sparse") << relu << 2.0 << true << 1.5e-2;
        // Rounding moves a few rows' k-th largest latent: a looser bound.
        QTest::newRow("topk") << static_cast<int>(Architecture::kTopK) << 0.05 << true << 5e-2;
    }
    void bf16StepTracksFloat32() {
        if (!kernels::bf16Supported()) QSKIP("this CPU has no AVX-512 BF16 (avx512_bf16)");
        QFETCH(int, arch);
        QFETCH(double, sparseDensity);
        QFETCH(bool, expectSparse);
        QFETCH(double, tolerance);
        const int64_t D = 40, F = 96, B = 2 * kRowBlockBf16 + 37;
        std::mt19937_64 rng(13);
        const TrainParams p = randomParams(D, F, rng, 0.3f);
        const Matrix x = randomMatrix(B, D, rng);
        StepSettings s;
        s.architecture = static_cast<Architecture>(arch);
        s.k = 8;
        s.l1 = 0.7;
        s.sparseDensity = sparseDensity;
        TrainParams g32, g16;
        g32.resizeLike(p);
        g16.resizeLike(p);
        StepBuffers b32, b16;
        const StepStats a = lossAndGradient(p, x, s, {}, &g32, b32);
        s.bf16 = true;
        const StepStats b = lossAndGradient(p, x, s, {}, &g16, b16);
        QCOMPARE(b.sparsePath, expectSparse);
        QCOMPARE(a.sparsePath, expectSparse);
        const GradientDifference d = relativeDifference(g16, g32);
        std::printf(
            "  %s: loss %.5f vs %.5f, L0 %.2f vs %.2f; gradient relative differences W_enc "
            "%.1e W_dec %.1e b_enc %.1e b_dec %.1e\n",
            QTest::currentDataTag(), b.loss, a.loss, b.l0, a.l0, d.wEnc, d.wDec, d.bEnc, d.bDec);
        QVERIFY(std::abs(a.loss - b.loss) <= 1e-2 * std::abs(a.loss));
        QVERIFY(std::abs(a.l0 - b.l0) <= 0.02 * a.l0);
        // bf16 keeps ~3 significant digits per operand; sums stay float32.
        for (double e : {d.wEnc, d.wDec, d.bEnc, d.bDec})
            QVERIFY2(e < tolerance, "bf16 and f32 differ");
        // And it is not the float32 step under another name.
        QVERIFY(d.wEnc > 0 && d.wDec > 0);
    }

    // The fused bf16 ReLU backward against a scalar reference, bit for bit:
    // the mask, the three column sums (row order, added to what was there),
    // both transposes and the zero padding row of an odd block.
    void reluBackwardBf16MatchesScalarReference() {
        if (!kernels::bf16Supported()) QSKIP("this CPU has no AVX-512 BF16 (avx512_bf16)");
        for (const int64_t n : {1, 31, 33, 64, 71})
            for (const int64_t F : {5, 16, 37}) {
                std::mt19937_64 rng(static_cast<uint64_t>(n * 100 + F));
                const Matrix f = randomMatrix(n, F, rng).cwiseMax(0.0f);  // ~half zero
                const Matrix gPre = randomMatrix(n, F, rng);
                const Matrix extra = randomMatrix(1, F, rng, 0.1f);
                const int64_t ldT = (n + 1) / 2 * 2 + 2;
                std::vector<float> gSum(F, 0.5f), fSum(F, -0.25f), fired(F, 3.0f);
                std::vector<uint16_t> fT(size_t(F * ldT), 0xBEEF), gT(size_t(F * ldT), 0xBEEF);
                reluBackwardBf16(f.data(), gPre.data(), n, F, extra.data(), gSum.data(),
                                 fSum.data(), fired.data(), fT.data(), gT.data(), ldT);
                for (int64_t i = 0; i < F; ++i) {
                    float sg = 0, sf = 0, cnt = 0;
                    for (int64_t r = 0; r < n; ++r) {
                        const float fv = f(r, i);
                        const float g = fv > 0 ? gPre(r, i) + extra(0, i) : 0.0f;
                        sg += g;
                        sf += fv;
                        cnt += fv > 0 ? 1.0f : 0.0f;
                        QCOMPARE(fT[size_t(i * ldT + r)], io::floatToBf16(fv));
                        QCOMPARE(gT[size_t(i * ldT + r)], io::floatToBf16(g));
                    }
                    if (n % 2) {
                        QCOMPARE(fT[size_t(i * ldT + n)], uint16_t(0));
                        QCOMPARE(gT[size_t(i * ldT + n)], uint16_t(0));
                    }
                    // Past the padding row nothing is written.
                    QCOMPARE(fT[size_t(i * ldT + ldT - 1)], uint16_t(0xBEEF));
                    // == (QCOMPARE on floats is fuzzy).
                    QVERIFY(gSum[size_t(i)] == 0.5f + sg);
                    QVERIFY(fSum[size_t(i)] == -0.25f + sf);
                    QVERIFY(fired[size_t(i)] == 3.0f + cnt);
                }
            }
    }

    void groundTruth_data() {
        QTest::addColumn<int>("arch");
        QTest::addColumn<bool>("bf16");
        const int relu = static_cast<int>(Architecture::kStandard);
        const int topk = static_cast<int>(Architecture::kTopK);
        QTest::newRow("relu-l1") << relu << false;
        QTest::newRow("topk") << topk << false;
        QTest::newRow("relu-l1-bf16") << relu << true;
        QTest::newRow("topk-bf16") << topk << true;
    }
    void groundTruth() {
        QFETCH(int, arch);
        QFETCH(bool, bf16);
        if (bf16 && !kernels::bf16Supported()) QSKIP("this CPU has no AVX-512 BF16 (avx512_bf16)");
        const test::PlantedDictionary g = test::makePlantedDictionary({});
        MatrixBatchProvider data(g.x, 11);
        TrainSpec spec;
        spec.architecture = static_cast<Architecture>(arch);
        spec.bf16 = bf16;
        spec.dSae = 1024;
        spec.k = 5;
        spec.l1 = 3.0;
        spec.batchSize = 1024;
        const bool relu = spec.architecture == Architecture::kStandard;
        spec.totalTokens = 1024 * (relu ? 1000 : 900);
        spec.lr = 2e-3;
        spec.deadTokens = 1024 * 20;
        spec.reportEverySteps = 200;
        spec.outDir = (test::tempDir() / QTest::currentDataTag()).string();
        Progress progress = printingProgress();
        auto result = trainSae(spec, data, progress, StopToken());
        MONO_VERIFY_RESULT(result);
        const double recovered = test::recoveredFraction(g.atoms, result->sae.wDec());
        auto metrics = evaluate(result->sae, g.x.topRows(8192));
        MONO_VERIFY_RESULT(metrics);
        std::printf(
            "  %s: recovered %.1f%% of 512 true features (cos >= 0.9); held-out L0 %.2f, "
            "EV %.4f, dead %.1f%%\n",
            QTest::currentDataTag(), 100 * recovered, metrics->l0, metrics->explainedVariance,
            metrics->deadPct);
        QVERIFY2(recovered >= 0.9, qPrintable(QStringLiteral("recovered %1").arg(recovered)));
        // L1 shrinks ReLU codes, so its reconstruction is looser than TopK's.
        QVERIFY(metrics->explainedVariance > (relu ? 0.6 : 0.8));
        QVERIFY(metrics->l0 < (relu ? 20 : 5.01));
    }

    // What a new user gets: every training setting at its default (learning
    // rate, batch, schedule, warm-ups) except the dictionary size and k, on a
    // planted dictionary of 512 atoms in d = 64, over the CLI's default 2M
    // tokens. The old fixed default (lr 4e-4) recovers far fewer atoms here
    // (docs/SAE.md, "Choosing the learning rate").
    void defaultsRecoverPlantedDictionary_data() {
        QTest::addColumn<int>("arch");
        QTest::addColumn<double>("minRecovered");
        QTest::addColumn<double>("minEv");
        QTest::newRow("topk") << static_cast<int>(Architecture::kTopK) << 0.95 << 0.8;
        // JumpReLU ends sparser than the planted 5 atoms a row (L0 ≈ 3) at
        // λ = 1: its EV is lower while the dictionary is found as well.
        QTest::newRow("jumprelu") << static_cast<int>(Architecture::kJumpReLU) << 0.95 << 0.7;
    }
    void defaultsRecoverPlantedDictionary() {
        QFETCH(int, arch);
        QFETCH(double, minRecovered);
        QFETCH(double, minEv);
        const test::PlantedDictionary g = test::makePlantedDictionary({});
        MatrixBatchProvider data(g.x, 11);
        TrainSpec spec;
        spec.architecture = static_cast<Architecture>(arch);
        spec.dSae = 1024;
        spec.k = 5;
        spec.totalTokens = 2'000'000;
        spec.reportEverySteps = 100;
        spec.outDir =
            (test::tempDir() / (std::string("defaults-") + QTest::currentDataTag())).string();
        Progress progress = printingProgress();
        auto result = trainSae(spec, data, progress, StopToken());
        MONO_VERIFY_RESULT(result);
        const double recovered = test::recoveredFraction(g.atoms, result->sae.wDec());
        auto metrics = evaluate(result->sae, g.x.topRows(8192));
        MONO_VERIFY_RESULT(metrics);
        std::printf(
            "  %s: lr %.3g (%s): recovered %.1f%% of 512 planted atoms (cos >= 0.9), "
            "mean best cosine %.3f; held-out L0 %.2f, EV %.4f\n",
            QTest::currentDataTag(), result->lr, result->lrReason.c_str(), 100 * recovered,
            test::meanBestCosine(g.atoms, result->sae.wDec()), metrics->l0,
            metrics->explainedVariance);
        QVERIFY2(recovered >= minRecovered,
                 qPrintable(QStringLiteral("recovered %1").arg(recovered)));
        QVERIFY(metrics->explainedVariance > minEv);
        QVERIFY(metrics->l0 > 2 && metrics->l0 < 10);
        if (spec.architecture == Architecture::kJumpReLU) {
            // The thresholds rose from θ_0 = 0.01 and ended per latent.
            const Vector& theta = result->sae.threshold();
            std::printf("  θ mean %.3f, range %.3f..%.3f\n", theta.mean(), theta.minCoeff(),
                        theta.maxCoeff());
            QVERIFY(theta.mean() > 10 * spec.jumpReluInitThreshold);
            QVERIFY(theta.maxCoeff() > 1.2f * theta.minCoeff());
        }
    }

    // Matryoshka BatchTopK on a planted dictionary with nested frequencies: 128
    // atoms in d = 64, 5 a row, atom a drawn with probability ∝ (a + 1)^−½, so
    // the most frequent are 11× as common as the rarest. With every training
    // setting at its default (prefixes F/16 … F = 32 … 512) it must recover
    // ≥ 90% of the dictionary within 1M tokens, and its first prefix (32
    // latents) alone must reconstruct far better than the first 32 latents of
    // a plain BatchTopK SAE trained the same way, which scatters the frequent
    // atoms over all F.
    void matryoshkaNestsFrequentFeaturesFirst() {
        test::PlantedSpec ps;
        ps.atoms = 128;
        ps.zipf = 0.5;
        const test::PlantedDictionary g = test::makePlantedDictionary(ps);
        const Matrix heldOut = g.x.topRows(8192);
        const Matrix centered = heldOut.rowwise() - heldOut.colwise().mean();
        const int64_t F = 512, first = F / 16, frequent = 16;
        double prefixEv[2] = {0, 0}, frequentFirst[2] = {0, 0};
        for (int matryoshka = 0; matryoshka < 2; ++matryoshka) {
            MatrixBatchProvider data(g.x, 11);
            TrainSpec spec;
            spec.architecture = Architecture::kBatchTopK;
            spec.dSae = F;
            spec.k = 5;
            if (matryoshka) spec.matryoshkaWidths = defaultMatryoshkaWidths(spec.dSae, spec.k);
            spec.totalTokens = 1'000'000;
            spec.reportEverySteps = 1000;
            spec.outDir = (test::tempDir() / (matryoshka ? "matryoshka" : "batchtopk")).string();
            Progress quiet([](const ProgressUpdate&) {});
            auto result = trainSae(spec, data, quiet, StopToken());
            MONO_VERIFY_RESULT(result);
            const Sae& sae = result->sae;
            QCOMPARE(sae.config().architecture, Architecture::kJumpReLU);
            auto metrics = evaluate(sae, heldOut);
            MONO_VERIFY_RESULT(metrics);
            // The first prefix alone: the codes of the later latents zeroed.
            auto f = sae.encode(heldOut);
            MONO_VERIFY_RESULT(f);
            f->rightCols(F - first).setZero();
            auto xHat = sae.decode(*f);
            MONO_VERIFY_RESULT(xHat);
            prefixEv[matryoshka] = 1.0 - (*xHat - heldOut).cast<double>().squaredNorm() /
                                             centered.cast<double>().squaredNorm();
            const double recovered = test::recoveredFraction(g.atoms, sae.wDec());
            frequentFirst[matryoshka] =
                test::recoveredFraction(g.atoms.topRows(frequent), sae.wDec().topRows(first));
            std::printf(
                "  %s: recovered %.1f%% of 128 atoms; %.1f%% of the 16 most frequent within the "
                "first 32 latents; held-out L0 %.2f, EV %.4f; first-prefix EV %.4f\n",
                matryoshka ? "matryoshka" : "batchtopk", 100 * recovered,
                100 * frequentFirst[matryoshka], metrics->l0, metrics->explainedVariance,
                prefixEv[matryoshka]);
            QVERIFY2(recovered >= 0.9, qPrintable(QStringLiteral("recovered %1").arg(recovered)));
            QVERIFY(metrics->explainedVariance > 0.8);
            QVERIFY(metrics->l0 > 4 && metrics->l0 < 6);
        }
        QVERIFY(prefixEv[1] > prefixEv[0] + 0.2);
        QVERIFY(frequentFirst[1] > 0.5);
        QVERIFY(frequentFirst[1] > 2 * frequentFirst[0]);
    }

    // Prefix widths that cannot nest are refused before training, naming the
    // offending width; F is appended when missing; the default series.
    void matryoshkaWidthsAreValidated() {
        std::mt19937_64 rng(3);
        MatrixBatchProvider data(randomMatrix(256, 8, rng), 1);
        Progress quiet([](const ProgressUpdate&) {});
        const auto dir = test::tempDir() / "matryoshka-widths";
        TrainSpec spec = smallSpec(dir, Architecture::kBatchTopK);  // F 64, k 4
        for (const std::vector<int64_t>& bad :
             {std::vector<int64_t>{32, 16, 64}, {2, 64}, {16, 128}, {16, 16, 64}}) {
            spec.matryoshkaWidths = bad;
            auto r = trainSae(spec, data, quiet, StopToken());
            QVERIFY(!r.ok());
            QCOMPARE(r.status().code(), StatusCode::kInvalidArgument);
            QVERIFY2(r.status().message().find("Matryoshka") != std::string::npos,
                     r.status().message().c_str());
        }
        spec.matryoshkaWidths = {16, 32};
        spec.architecture = Architecture::kTopK;
        QVERIFY(!trainSae(spec, data, quiet, StopToken()).ok());  // batchtopk only
        spec.architecture = Architecture::kBatchTopK;
        auto ok = trainSae(spec, data, quiet, StopToken());  // 64 appended
        MONO_VERIFY_RESULT(ok);
        QCOMPARE(defaultMatryoshkaWidths(1024, 5), (std::vector<int64_t>{64, 128, 256, 512, 1024}));
        QCOMPARE(defaultMatryoshkaWidths(1024, 100), (std::vector<int64_t>{128, 256, 512, 1024}));
        QCOMPARE(defaultMatryoshkaWidths(8, 8), (std::vector<int64_t>{8}));
    }

    void stopAndResumeEqualsUninterrupted() {
        std::mt19937_64 rng(5);
        const Matrix x = randomMatrix(1000, 16, rng);
        // The last run is Matryoshka BatchTopK (prefixes 8, 16, 64).
        const Architecture archs[] = {Architecture::kStandard, Architecture::kTopK,
                                      Architecture::kBatchTopK, Architecture::kJumpReLU,
                                      Architecture::kBatchTopK};
        for (size_t run = 0; run < std::size(archs); ++run) {
            const Architecture arch = archs[run];
            const bool matryoshka = run + 1 == std::size(archs);
            const std::string name = matryoshka ? "matryoshka" : architectureName(arch);
            auto specFor = [&](const std::filesystem::path& out) {
                TrainSpec spec = smallSpec(out, arch);
                if (matryoshka) spec.matryoshkaWidths = {8, 16, 64};
                return spec;
            };
            const auto dirA = test::tempDir() / ("full-" + name);
            const auto dirB = test::tempDir() / ("resumed-" + name);
            MatrixBatchProvider dataA(x, 3);
            Progress quiet;
            auto full = trainSae(specFor(dirA), dataA, quiet, StopToken());
            MONO_VERIFY_RESULT(full);

            MatrixBatchProvider dataB(x, 3);
            StopToken stop;
            int64_t stoppedAt = 0;
            Progress stopper([&](const ProgressUpdate& u) {
                if (u.metrics.at("step") >= 25 && !stop.stopRequested()) {
                    stoppedAt = static_cast<int64_t>(u.metrics.at("step"));
                    stop.requestStop();
                }
            });
            auto first = trainSae(specFor(dirB), dataB, stopper, stop);
            QVERIFY(!first.ok());
            QVERIFY2(first.status().isCancelled(),
                     qPrintable(QString::fromStdString(first.status().toString())));
            QCOMPARE(stoppedAt, int64_t{25});
            QVERIFY(std::filesystem::exists(dirB / kCheckpointFile));
            QVERIFY(!std::filesystem::exists(dirB / "cfg.json"));
            MONO_VERIFY_RESULT(loadCheckpointSae((dirB / kCheckpointFile).string()));

            MatrixBatchProvider dataC(x, 3);  // a fresh process would start here
            TrainSpec resumeSpec = specFor(dirB);
            resumeSpec.resume = true;
            auto resumed = trainSae(resumeSpec, dataC, quiet, StopToken());
            MONO_VERIFY_RESULT(resumed);
            QCOMPARE(resumed->steps, full->steps);
            QCOMPARE(resumed->tokens, full->tokens);
            const float dEnc = (resumed->sae.wEnc() - full->sae.wEnc()).cwiseAbs().maxCoeff();
            const float dDec = (resumed->sae.wDec() - full->sae.wDec()).cwiseAbs().maxCoeff();
            const float dB = (resumed->sae.bEnc() - full->sae.bEnc()).cwiseAbs().maxCoeff() +
                             (resumed->sae.bDec() - full->sae.bDec()).cwiseAbs().maxCoeff();
            std::printf(
                "  %s: resumed vs uninterrupted max |dW_enc| %.2e |dW_dec| %.2e |db| %.2e\n",
                name.c_str(), dEnc, dDec, dB);
            QVERIFY(dEnc <= 1e-6f && dDec <= 1e-6f && dB <= 1e-6f);
            QCOMPARE(resumed->log10Density, full->log10Density);
            auto loaded = loadSae(dirB.string());
            MONO_VERIFY_RESULT(loaded);
            QCOMPARE(loaded->config().architecture,
                     arch == Architecture::kBatchTopK ? Architecture::kJumpReLU : arch);
        }
    }

    // A trained JumpReLU SAE is saved in the SAELens layout (cfg.json
    // architecture "jumprelu", tensors W_enc W_dec b_enc b_dec threshold) and
    // loads back bit for bit.
    void jumpReluSaveLoadRoundTrip() {
        std::mt19937_64 rng(8);
        const Matrix x = randomMatrix(1000, 16, rng);
        const auto dir = test::tempDir() / "jumprelu-roundtrip";
        MatrixBatchProvider data(x, 3);
        Progress quiet;
        auto trained = trainSae(smallSpec(dir, Architecture::kJumpReLU), data, quiet, StopToken());
        MONO_VERIFY_RESULT(trained);
        const Sae& a = trained->sae;
        QCOMPARE(a.config().architecture, Architecture::kJumpReLU);
        // Trained thresholds moved away from their common start and differ per latent.
        QVERIFY(a.threshold().minCoeff() < a.threshold().maxCoeff());
        QVERIFY((a.threshold().array() > 0).all());
        auto loaded = loadSae(dir.string());
        MONO_VERIFY_RESULT(loaded);
        const Sae& b = *loaded;
        QCOMPARE(b.config().architecture, Architecture::kJumpReLU);
        QCOMPARE(b.dIn(), a.dIn());
        QCOMPARE(b.dSae(), a.dSae());
        QVERIFY(b.config().applyBDecToInput);
        QVERIFY(b.wEnc() == a.wEnc());
        QVERIFY(b.wDec() == a.wDec());
        QVERIFY(b.bEnc() == a.bEnc());
        QVERIFY(b.bDec() == a.bDec());
        QVERIFY(b.threshold() == a.threshold());
        auto fa = a.encode(x.topRows(64));
        auto fb = b.encode(x.topRows(64));
        MONO_VERIFY_RESULT(fa);
        MONO_VERIFY_RESULT(fb);
        QVERIFY(*fa == *fb);
        const std::string cfg = test::readFile(dir / "cfg.json");
        QVERIFY2(cfg.find("\"architecture\": \"jumprelu\"") != std::string::npos, cfg.c_str());
        auto file = io::SafetensorsFile::open((dir / "sae_weights.safetensors").string());
        MONO_VERIFY_RESULT(file);
        for (const char* name : {"W_enc", "W_dec", "b_enc", "b_dec", "threshold"})
            QVERIFY2(file->find(name) != nullptr, name);
    }

    void resumeRejectsADifferentConfig() {
        std::mt19937_64 rng(6);
        const Matrix x = randomMatrix(500, 16, rng);
        const auto dir = test::tempDir() / "mismatch";
        MatrixBatchProvider data(x, 3);
        Progress quiet;
        TrainSpec spec = smallSpec(dir, Architecture::kTopK);
        spec.totalTokens = 64 * 5;
        MONO_VERIFY_RESULT(trainSae(spec, data, quiet, StopToken()));
        spec.resume = true;
        spec.dSae = 32;
        auto r = trainSae(spec, data, quiet, StopToken());
        QVERIFY(!r.ok());
        QVERIFY2(r.status().message().find("d_sae") != std::string::npos,
                 qPrintable(QString::fromStdString(r.status().message())));
    }

    void nanStopsAndKeepsLastGoodCheckpoint() {
        std::mt19937_64 rng(9);
        const Matrix x = randomMatrix(1000, 16, rng);
        const auto dir = test::tempDir() / "nan";
        MatrixBatchProvider inner(x, 3);
        // 8 batches feed the scale estimate, then step s reads batch 8 + s.
        PoisonedProvider data(inner, 8 + 25);
        TrainSpec spec = smallSpec(dir, Architecture::kStandard);
        spec.checkpointEverySteps = 10;
        Progress quiet;
        auto r = trainSae(spec, data, quiet, StopToken());
        QVERIFY(!r.ok());
        const std::string msg = r.status().message();
        std::printf("  %s\n", msg.c_str());
        QVERIFY2(msg.find("diverged at step 25") != std::string::npos, msg.c_str());
        QVERIFY2(msg.find("NaN") != std::string::npos || msg.find("nan") != std::string::npos,
                 msg.c_str());
        QVERIFY2(msg.find("step 20") != std::string::npos, msg.c_str());
        auto sae = loadCheckpointSae((dir / kCheckpointFile).string());
        MONO_VERIFY_RESULT(sae);
        QVERIFY(sae->wEnc().allFinite() && sae->wDec().allFinite());
        QVERIFY(!std::filesystem::exists(dir / "sae_weights.safetensors"));
        auto m = evaluate(*sae, x);
        MONO_VERIFY_RESULT(m);
        QVERIFY(std::isfinite(m->mse));
    }
};

QTEST_GUILESS_MAIN(TestSaeTrain)
#include "test_sae_train.moc"
