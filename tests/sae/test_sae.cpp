// The SAE model and its formats: NumPy reference encodings of SAELens (v6 and
// pre-6), Gemma Scope and sparsify files; save → load round trips; inference
// semantics of each architecture; metrics against hand-computed values; the
// in-memory batch provider.

#include <omp.h>
#include <QtTest>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <set>

#include "core/acts/batch_provider.h"
#include "core/io/npy.h"
#include "core/sae/metrics.h"
#include "core/sae/sae_io.h"
#include "tests/support/test_support.h"

using namespace mono;
using namespace mono::sae;
using namespace mono::acts;
namespace fs = std::filesystem;

namespace {

constexpr float kReferenceTolerance = 1e-5f;  // float32 GEMM vs NumPy float64, stored as f32

fs::path dataDir() {
    return test::sourceDir() / "tests" / "data" / "sae";
}

Matrix randomMatrix(int64_t rows, int64_t cols, std::mt19937_64& rng, float sd = 1.0f) {
    std::normal_distribution<float> n(0.0f, sd);
    Matrix m(rows, cols);
    for (int64_t i = 0; i < m.size(); ++i) m.data()[i] = n(rng);
    return m;
}

// Max |a − b| / max(1, |b|) with the first mismatching values printed side by side.
float maxRelDiff(const Matrix& a, const Matrix& b, const char* what) {
    float worst = 0;
    int64_t at = -1;
    for (int64_t i = 0; i < a.size(); ++i) {
        const float d = std::abs(a.data()[i] - b.data()[i]) / std::max(1.0f, std::abs(b.data()[i]));
        if (d > worst) {
            worst = d;
            at = i;
        }
    }
    if (at >= 0)
        std::printf("    %-5s max diff %.2e at %lld: ours %.7f numpy %.7f\n", what, worst,
                    static_cast<long long>(at), a.data()[at], b.data()[at]);
    return worst;
}

Result<Sae> makeSae(Architecture arch, int64_t D, int64_t F, uint64_t seed, int64_t k = 0) {
    std::mt19937_64 rng(seed);
    SaeConfig c;
    c.dIn = D;
    c.dSae = F;
    c.architecture = arch;
    c.k = k;
    Vector threshold;
    if (arch == Architecture::kJumpReLU) threshold = randomMatrix(1, F, rng, 0.1f).cwiseAbs();
    return Sae::create(c, randomMatrix(D, F, rng, 0.3f), randomMatrix(F, D, rng, 0.3f),
                       randomMatrix(1, F, rng, 0.1f), randomMatrix(1, D, rng, 0.1f), threshold);
}

}  // namespace

class TestSae : public QObject {
    Q_OBJECT
private slots:
    // encode, encodeSparse and encodeInBlocks agree bit for bit, for every
    // architecture, over several 128-row blocks and a partial one, and the
    // codes do not depend on the number of threads.
    void blockedEncodingsAgreeExactly() {
        const int saved = omp_get_max_threads();
        for (Architecture arch :
             {Architecture::kStandard, Architecture::kTopK, Architecture::kJumpReLU}) {
            auto sae = makeSae(arch, 48, 200, 11, 7);
            MONO_VERIFY_RESULT(sae);
            std::mt19937_64 rng(5);
            const Matrix x = randomMatrix(300, 48, rng, 1.0f);
            omp_set_num_threads(1);
            auto oneThread = sae->encode(x);
            omp_set_num_threads(std::max(2, saved));
            auto f = sae->encode(x);
            omp_set_num_threads(saved);
            MONO_VERIFY_RESULT(oneThread);
            MONO_VERIFY_RESULT(f);
            QVERIFY(*oneThread == *f);
            QVERIFY((f->array() > 0).count() > 300);  // something fires
            auto codes = sae->encodeSparse(x);
            MONO_VERIFY_RESULT(codes);
            Matrix dense = Matrix::Zero(x.rows(), 200);
            for (int64_t r = 0; r < codes->rows; ++r)
                for (int64_t j = codes->rowStart[r]; j < codes->rowStart[r + 1]; ++j)
                    dense(r, codes->indices[j]) = codes->values[j];
            QVERIFY(dense == *f);
            std::atomic<int64_t> visitedRows{0}, mismatches{0};  // visits run on several threads
            MONO_VERIFY_OK(sae->encodeInBlocks(x, [&](const Sae::SparseBlock& b, int) {
                for (int64_t r = 0; r < b.rows; ++r)
                    for (int32_t j = b.rowStart[r]; j < b.rowStart[r + 1]; ++j)
                        if (b.values[j] != (*f)(b.firstRow + r, b.indices[j])) ++mismatches;
                int64_t nnz = 0;
                for (int64_t r = 0; r < b.rows; ++r)
                    nnz += (f->row(b.firstRow + r).array() > 0).count();
                if (nnz != b.rowStart[b.rows]) ++mismatches;
                visitedRows += b.rows;
            }));
            QCOMPARE(mismatches.load(), int64_t{0});
            QCOMPARE(visitedRows.load(), int64_t{300});
            const Status wrongWidth =
                sae->encodeInBlocks(randomMatrix(4, 47, rng, 1.0f), [](auto&, int) {});
            QVERIFY(!wrongWidth.ok());
            QVERIFY(wrongWidth.message().find("d_in=48") != std::string::npos);
        }
    }

    void referenceEncodings_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("expected");
        QTest::addColumn<int>("arch");
        QTest::addColumn<bool>("applyBDec");
        QTest::addColumn<int>("k");
        QTest::addColumn<QString>("hook");
        const int std_ = static_cast<int>(Architecture::kStandard);
        const int topk = static_cast<int>(Architecture::kTopK);
        const int jump = static_cast<int>(Architecture::kJumpReLU);
        QTest::newRow("saelens v6 standard")
            << "saelens_v6_standard"
            << "saelens_v6_standard" << std_ << true << 0 << "blocks.3.hook_resid_post";
        QTest::newRow("saelens v6 topk")
            << "saelens_v6_topk"
            << "saelens_v6_topk" << topk << true << 6 << "blocks.3.hook_resid_post";
        QTest::newRow("saelens v6 jumprelu f16")
            << "saelens_v6_jumprelu"
            << "saelens_v6_jumprelu" << jump << true << 0 << "blocks.3.hook_resid_post";
        QTest::newRow("saelens pre-6 flat topk")
            << "saelens_pre6_topk"
            << "saelens_pre6_topk" << topk << true << 4 << "blocks.1.hook_resid_pre";
        QTest::newRow("gemma scope npz")
            << "gemma-scope-test-res/layer_3/width_48/average_l0_9/params.npz"
            << "gemma_scope" << jump << false << 0 << "blocks.3.hook_resid_post";
        QTest::newRow("sparsify folder")
            << "sparsify"
            << "sparsify" << topk << true << 5 << "blocks.2.hook_resid_post";
    }
    void referenceEncodings() {
        QFETCH(QString, path);
        QFETCH(QString, expected);
        QFETCH(int, arch);
        QFETCH(bool, applyBDec);
        QFETCH(int, k);
        QFETCH(QString, hook);
        auto sae = loadSae((dataDir() / path.toStdString()).string(), LoadOptions{16, {}});
        MONO_VERIFY_RESULT(sae);
        QCOMPARE(sae->dIn(), int64_t{16});
        QCOMPARE(sae->dSae(), int64_t{48});
        QCOMPARE(static_cast<int>(sae->config().architecture), arch);
        QCOMPARE(sae->config().applyBDecToInput, applyBDec);
        QCOMPARE(sae->config().k, int64_t{k});
        QCOMPARE(QString::fromStdString(sae->config().metadata.hookName), hook);

        auto x = readActivationsNpy((dataDir() / "inputs.npy").string());
        MONO_VERIFY_RESULT(x);
        const std::string stem = "expected_" + expected.toStdString();
        auto wantF = readActivationsNpy((dataDir() / (stem + "_f.npy")).string());
        auto wantXHat = readActivationsNpy((dataDir() / (stem + "_xhat.npy")).string());
        MONO_VERIFY_RESULT(wantF);
        MONO_VERIFY_RESULT(wantXHat);

        auto f = sae->encode(*x);
        MONO_VERIFY_RESULT(f);
        auto xHat = sae->decode(*f);
        MONO_VERIFY_RESULT(xHat);
        QVERIFY(maxRelDiff(*f, *wantF, "f") <= kReferenceTolerance);
        QVERIFY(maxRelDiff(*xHat, *wantXHat, "x_hat") <= kReferenceTolerance);
        // Same active sets as NumPy, not just close values.
        QCOMPARE(((f->array() > 0) == (wantF->array() > 0)).count(), f->size());

        auto codes = sae->encodeSparse(*x);
        MONO_VERIFY_RESULT(codes);
        auto fromSparse = sae->decodeSparse(*codes);
        MONO_VERIFY_RESULT(fromSparse);
        QVERIFY((*fromSparse - *xHat).cwiseAbs().maxCoeff() <= 1e-5f);
        QCOMPARE(static_cast<int64_t>(codes->values.size()),
                 static_cast<int64_t>((f->array() != 0).count()));
        if (arch == static_cast<int>(Architecture::kTopK))
            for (int64_t r = 0; r < codes->rows; ++r)
                QCOMPARE(codes->rowStart[r + 1] - codes->rowStart[r], int64_t{k});

        Matrix spliced = *x;
        MONO_VERIFY_OK(sae->reconstructInPlace(spliced.data(), spliced.rows(), spliced.cols()));
        QVERIFY(maxRelDiff(spliced, *wantXHat, "splice") <= kReferenceTolerance);
    }

    void saveLoadRoundTrip_data() { referenceEncodings_data(); }
    void saveLoadRoundTrip() {
        QFETCH(QString, path);
        QFETCH(int, arch);
        auto sae = loadSae((dataDir() / path.toStdString()).string());
        MONO_VERIFY_RESULT(sae);
        const fs::path out =
            test::tempDir() / ("roundtrip-" + std::string(QTest::currentDataTag()));
        std::vector<float> density(48);
        for (int i = 0; i < 48; ++i) density[i] = -1.0f - 0.05f * static_cast<float>(i);
        MONO_VERIFY_OK(saveSaeLens(*sae, out.string(), density));
        QCOMPARE(detectSaeFormat(out.string()).value(), SaeFormat::kSaeLens);
        auto back = loadSae(out.string());
        MONO_VERIFY_RESULT(back);
        QCOMPARE(static_cast<int>(back->config().architecture), arch);
        QCOMPARE(back->config().k, sae->config().k);
        QCOMPARE(back->config().applyBDecToInput, sae->config().applyBDecToInput);
        QCOMPARE(back->config().metadata.hookName, sae->config().metadata.hookName);
        auto x = readActivationsNpy((dataDir() / "inputs.npy").string());
        MONO_VERIFY_RESULT(x);
        const Matrix a = sae->encode(*x).value(), b = back->encode(*x).value();
        QCOMPARE((a - b).cwiseAbs().maxCoeff(), 0.0f);
        QVERIFY(back->wDec() == sae->wDec());
        auto sparsity = loadSparsity(out.string());
        MONO_VERIFY_RESULT(sparsity);
        QCOMPARE(*sparsity, density);
    }

    void referenceSparsityLoads() {
        auto s = loadSparsity((dataDir() / "saelens_v6_standard").string());
        MONO_VERIFY_RESULT(s);
        QCOMPARE(static_cast<int64_t>(s->size()), int64_t{48});
        for (float v : *s) QVERIFY(v < 0 && v > -10.5f);
    }

    void topkKeepsTheKLargest() {
        auto sae = makeSae(Architecture::kTopK, 12, 40, 3, 7);
        MONO_VERIFY_RESULT(sae);
        std::mt19937_64 rng(4);
        const Matrix x = randomMatrix(50, 12, rng);
        const Matrix h = sae->preActivations(x).value();
        const Matrix f = sae->encode(x).value();
        for (int64_t r = 0; r < x.rows(); ++r) {
            std::vector<float> v(h.row(r).data(), h.row(r).data() + h.cols());
            std::sort(v.begin(), v.end(), std::greater<float>());
            int64_t active = 0;
            for (int64_t i = 0; i < f.cols(); ++i) {
                if (f(r, i) != 0) {
                    ++active;
                    QCOMPARE(f(r, i), h(r, i));
                    QVERIFY(h(r, i) >= v[6]);
                } else {
                    QVERIFY(h(r, i) <= v[6] || h(r, i) <= 0);
                }
            }
            QCOMPARE(active, std::min<int64_t>(7, std::count_if(v.begin(), v.end(),
                                                                [](float a) { return a > 0; })));
        }
    }

    void jumpReluUsesPerFeatureThresholds() {
        auto sae = makeSae(Architecture::kJumpReLU, 10, 30, 5);
        MONO_VERIFY_RESULT(sae);
        std::mt19937_64 rng(6);
        const Matrix x = randomMatrix(40, 10, rng);
        const Matrix h = sae->preActivations(x).value();
        const Matrix f = sae->encode(x).value();
        int64_t suppressed = 0;
        for (int64_t r = 0; r < h.rows(); ++r)
            for (int64_t i = 0; i < h.cols(); ++i) {
                const bool on = h(r, i) > sae->threshold()[i] && h(r, i) > 0;
                QCOMPARE(f(r, i), on ? h(r, i) : 0.0f);
                suppressed += (h(r, i) > 0 && !on);
            }
        QVERIFY(suppressed > 0);  // the thresholds mattered
    }

    void metricsMatchHandComputedValues() {
        // W_enc = [I, −I], W_dec = [I; −I]: f = (ReLU(x), ReLU(−x)) and x̂ = x exactly.
        const int64_t D = 4, F = 8;
        Matrix wEnc(D, F), wDec(F, D);
        wEnc << Matrix::Identity(D, D), -Matrix::Identity(D, D);
        wDec << Matrix::Identity(D, D), -Matrix::Identity(D, D);
        SaeConfig c;
        c.dIn = D;
        c.dSae = F;
        auto exact = Sae::create(c, wEnc, wDec, Vector::Zero(F), Vector::Zero(D));
        MONO_VERIFY_RESULT(exact);
        std::mt19937_64 rng(8);
        Matrix x = randomMatrix(300, D, rng);
        x.rowwise() += Vector::Constant(D, 0.3f);
        auto m = evaluate(*exact, x, 64);
        MONO_VERIFY_RESULT(m);
        QVERIFY(m->mse < 1e-10);
        QVERIFY(std::abs(m->explainedVariance - 1) < 1e-9);
        QVERIFY(std::abs(m->cosine - 1) < 1e-6);
        QVERIFY(std::abs(m->l2Ratio - 1) < 1e-6);
        QCOMPARE(m->l0, 4.0);  // every coordinate is ±, exactly one of each pair fires
        QCOMPARE(m->deadPct, 0.0);
        QCOMPARE(m->densePct, 100.0);

        // Halving the decoder: x̂ = x/2.
        auto half = Sae::create(c, wEnc, wDec * 0.5f, Vector::Zero(F), Vector::Zero(D));
        MONO_VERIFY_RESULT(half);
        std::vector<double> density;
        auto h = evaluate(*half, x, 37, &density);
        MONO_VERIFY_RESULT(h);
        const Eigen::MatrixXd xd = x.cast<double>();
        const double meanSq = xd.rowwise().squaredNorm().mean();
        const double variance = meanSq - xd.colwise().mean().squaredNorm();
        QVERIFY(std::abs(h->mse - meanSq / 4) < 1e-9 * meanSq);
        QVERIFY(std::abs(h->explainedVariance - (1 - meanSq / 4 / variance)) < 1e-9);
        QVERIFY(std::abs(h->l2Ratio - 0.5) < 1e-6);
        QVERIFY(std::abs(h->cosine - 1) < 1e-6);
        QCOMPARE(static_cast<int64_t>(density.size()), F);
        for (int64_t i = 0; i < D; ++i) {
            const double pos = static_cast<double>((x.col(i).array() > 0).count()) / 300.0;
            QVERIFY(std::abs(density[i] - pos) < 1e-12);
            QVERIFY(std::abs(density[i + D] - (1 - pos)) < 1e-12);
        }

        // A feature that cannot fire is dead.
        Matrix wEnc2 = wEnc;
        wEnc2.col(0).setZero();
        auto deadOne = Sae::create(c, wEnc2, wDec, Vector::Zero(F), Vector::Zero(D));
        MONO_VERIFY_RESULT(deadOne);
        QCOMPARE(evaluate(*deadOne, x)->deadPct, 100.0 / 8);
    }

    void encodeRejectsTheWrongWidth() {
        auto sae = makeSae(Architecture::kStandard, 8, 16, 1);
        MONO_VERIFY_RESULT(sae);
        auto r = sae->encode(Matrix::Zero(3, 9));
        QVERIFY(!r.ok());
        QVERIFY(r.status().message().find("d_in=8") != std::string::npos);
        Matrix x = Matrix::Zero(2, 7);
        QCOMPARE(sae->reconstructInPlace(x.data(), 2, 7).code(), StatusCode::kInvalidArgument);
    }

    void architectureNames() {
        for (Architecture a : {Architecture::kStandard, Architecture::kTopK,
                               Architecture::kBatchTopK, Architecture::kJumpReLU}) {
            Architecture back{};
            QVERIFY(parseArchitecture(architectureName(a), &back));
            QCOMPARE(back, a);
        }
        Architecture a{};
        QVERIFY(!parseArchitecture("gated", &a));
    }

    void matrixProviderShufflesAndRestores() {
        Matrix data(10, 2);
        for (int i = 0; i < 10; ++i) data.row(i) << static_cast<float>(i), 0.0f;
        MatrixBatchProvider p(data, 7);
        Matrix batch(4, 2);
        std::vector<int> seen;
        for (int b = 0; b < 5; ++b) {  // 20 rows = two epochs
            MONO_VERIFY_OK(p.next(batch));
            for (int r = 0; r < 4; ++r) seen.push_back(static_cast<int>(batch(r, 0)));
        }
        const std::set<int> epoch1(seen.begin(), seen.begin() + 10),
            epoch2(seen.begin() + 10, seen.end());
        QCOMPARE(static_cast<int>(epoch1.size()), 10);
        QCOMPARE(static_cast<int>(epoch2.size()), 10);
        QVERIFY(!std::equal(seen.begin(), seen.begin() + 10, seen.begin() + 10));  // reshuffled
        bool shuffled = false;
        for (int i = 0; i < 10; ++i) shuffled |= seen[i] != i;
        QVERIFY(shuffled);

        MatrixBatchProvider q(data, 7);
        MONO_VERIFY_OK(q.next(batch));
        const std::string state = q.saveState();
        Matrix a(6, 2), b(6, 2);
        MONO_VERIFY_OK(q.next(a));
        MatrixBatchProvider r(data, 7);
        MONO_VERIFY_OK(r.restoreState(state));
        MONO_VERIFY_OK(r.next(b));
        QVERIFY(a == b);
        QCOMPARE(r.restoreState("matrix 8 0 0").code(), StatusCode::kInvalidArgument);
        QCOMPARE(r.restoreState("garbage").code(), StatusCode::kCorruption);
    }

    void activationsMustBeTwoDimensional() {
        const fs::path p = test::tempDir() / "acts3d.npy";
        io::NpyArray a;
        a.dtype = io::DType::kF32;
        a.shape = {2, 2, 2};
        a.bytes.assign(8 * sizeof(float), 0);
        MONO_VERIFY_OK(io::writeNpy(p.string(), a));
        auto r = readActivationsNpy(p.string());
        QVERIFY(!r.ok());
        QVERIFY(r.status().message().find("[2, 2, 2]") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestSae)
#include "test_sae.moc"
