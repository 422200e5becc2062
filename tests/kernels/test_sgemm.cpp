// kernels::sgemm, the f32 GEMM every hot path calls: both libraries behind it
// (OpenBLAS and Eigen) against a double-precision reference over the four
// transpose combinations, strided blocks, alpha/beta, the one-row GEMV path and
// the empty sum; the same numbers inside an OpenMP parallel region as outside;
// and the build's OpenBLAS being the OpenMP flavour.

#include <omp.h>

#include <QtTest>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/kernels/sgemm.h"

using namespace mono;
using kernels::GemmLibrary;
using kernels::Op;

namespace {

// A row-major matrix with a row stride larger than its width, as the callers'
// column blocks have; the padding holds a sentinel that must survive.
struct Strided {
    int64_t rows, cols, ld;
    std::vector<float> data;
    Strided(int64_t r, int64_t c, std::mt19937& rng) : rows(r), cols(c), ld(c + 3) {
        std::normal_distribution<float> d(0.0f, 1.0f);
        data.assign(size_t(std::max<int64_t>(r, 1) * ld), 0.0f);
        for (int64_t i = 0; i < r; ++i)
            for (int64_t j = 0; j < ld; ++j) data[size_t(i * ld + j)] = j < c ? d(rng) : 7.0f;
    }
    float at(int64_t i, int64_t j) const { return data[size_t(i * ld + j)]; }
};

struct Shape {
    int64_t M, N, K;
};

// max |C - ref| / max |ref| after C = alpha · op(A) · op(B) + beta · C0, and
// whether the padding of C kept its sentinel.
double relError(GemmLibrary lib, Op opA, Op opB, Shape s, float alpha, float beta, bool* padOk) {
    std::mt19937 rng(uint32_t(s.M * 131 + s.N * 7 + s.K));
    const Strided A(opA == Op::kN ? s.M : s.K, opA == Op::kN ? s.K : s.M, rng);
    const Strided B(opB == Op::kN ? s.K : s.N, opB == Op::kN ? s.N : s.K, rng);
    Strided C(s.M, s.N, rng);
    std::vector<double> ref(size_t(s.M * s.N));
    for (int64_t i = 0; i < s.M; ++i)
        for (int64_t j = 0; j < s.N; ++j) {
            double sum = 0;
            for (int64_t k = 0; k < s.K; ++k)
                sum += double(opA == Op::kN ? A.at(i, k) : A.at(k, i)) *
                       double(opB == Op::kN ? B.at(k, j) : B.at(j, k));
            ref[size_t(i * s.N + j)] = alpha * sum + (beta == 0.0f ? 0.0 : beta * C.at(i, j));
        }
    if (beta == 0.0f)  // beta = 0 must ignore whatever C held, NaN included
        for (int64_t i = 0; i < s.M; ++i)
            for (int64_t j = 0; j < s.N; ++j)
                C.data[size_t(i * C.ld + j)] = std::numeric_limits<float>::quiet_NaN();
    kernels::sgemmWith(lib, opA, opB, s.M, s.N, s.K, alpha, A.data.data(), A.ld, B.data.data(),
                       B.ld, beta, C.data.data(), C.ld);
    double maxRef = 1e-30, maxDiff = 0;
    *padOk = true;
    for (int64_t i = 0; i < s.M; ++i) {
        for (int64_t j = 0; j < s.N; ++j) {
            const double r = ref[size_t(i * s.N + j)];
            maxRef = std::max(maxRef, std::abs(r));
            const double d = std::abs(double(C.at(i, j)) - r);
            maxDiff =
                std::isnan(d) ? std::numeric_limits<double>::infinity() : std::max(maxDiff, d);
        }
        for (int64_t j = s.N; j < C.ld; ++j) *padOk = *padOk && C.at(i, j) == 7.0f;
    }
    return maxDiff / maxRef;
}

const char* opName(Op op) {
    return op == Op::kN ? "N" : "T";
}

}  // namespace

class TestSgemm : public QObject {
    Q_OBJECT

private slots:
    void matchesDoubleReference_data() {
        QTest::addColumn<int>("lib");
        QTest::addColumn<int>("opA");
        QTest::addColumn<int>("opB");
        QTest::addColumn<qint64>("M");
        QTest::addColumn<qint64>("N");
        QTest::addColumn<qint64>("K");
        QTest::addColumn<float>("alpha");
        QTest::addColumn<float>("beta");
        const Shape shapes[] = {{37, 53, 71},  // odd sizes: every kernel's edge path
                                {1, 300, 96},  // one row: the GEMV path
                                {64, 1, 40},   // one column
                                {130, 257, 300}};
        for (GemmLibrary lib : {GemmLibrary::kOpenBlas, GemmLibrary::kEigen})
            for (Op a : {Op::kN, Op::kT})
                for (Op b : {Op::kN, Op::kT})
                    for (const Shape& s : shapes)
                        for (auto [alpha, beta] : {std::pair{1.0f, 0.0f}, std::pair{-0.5f, 1.0f},
                                                   std::pair{2.0f, 0.25f}}) {
                            const std::string name =
                                std::string(kernels::gemmLibraryName(lib)) + " " + opName(a) +
                                opName(b) + " " + std::to_string(s.M) + "x" + std::to_string(s.N) +
                                "x" + std::to_string(s.K) + " a" + std::to_string(alpha) + " b" +
                                std::to_string(beta);
                            QTest::newRow(name.c_str())
                                << int(lib) << int(a) << int(b) << qint64(s.M) << qint64(s.N)
                                << qint64(s.K) << alpha << beta;
                        }
    }

    void matchesDoubleReference() {
        QFETCH(int, lib);
        QFETCH(int, opA);
        QFETCH(int, opB);
        QFETCH(qint64, M);
        QFETCH(qint64, N);
        QFETCH(qint64, K);
        QFETCH(float, alpha);
        QFETCH(float, beta);
        bool padOk = false;
        const double err =
            relError(GemmLibrary(lib), Op(opA), Op(opB), {M, N, K}, alpha, beta, &padOk);
        // float32 sums of ≤ 300 products: a few units in the last place of the largest entry.
        QVERIFY2(err < 1e-5, qPrintable(QString::number(err)));
        QVERIFY2(padOk, "the GEMM wrote outside C's columns");
    }

    // K = 0: C = beta · C (BLAS would reject the zero leading dimensions).
    void emptySumScalesC() {
        for (GemmLibrary lib : {GemmLibrary::kOpenBlas, GemmLibrary::kEigen}) {
            std::vector<float> C{1, 2, 3, 4};
            kernels::sgemmWith(lib, Op::kN, Op::kN, 2, 2, 0, 1.0f, nullptr, 0, nullptr, 2, 0.5f,
                               C.data(), 2);
            QCOMPARE(C, (std::vector<float>{0.5f, 1, 1.5f, 2}));
            C.assign(4, std::numeric_limits<float>::quiet_NaN());
            kernels::sgemmWith(lib, Op::kN, Op::kN, 2, 2, 0, 1.0f, nullptr, 0, nullptr, 2, 0.0f,
                               C.data(), 2);
            QCOMPARE(C, (std::vector<float>(4, 0.0f)));
        }
    }

    // Inside a parallel region each call runs on its own thread alone (OpenBLAS's
    // OpenMP build checks omp_in_parallel()): the same bits as a call made under
    // omp_set_num_threads(1), and the threads' products do not interfere.
    void sameResultsInsideParallelRegion() {
        const int64_t M = 300, N = 260, K = 200;
        std::mt19937 rng(5);
        const Strided A(M, K, rng), B(N, K, rng);
        std::vector<float> alone(size_t(M * N));
        const int saved = omp_get_max_threads();
        omp_set_num_threads(1);
        kernels::sgemmWith(GemmLibrary::kOpenBlas, Op::kN, Op::kT, M, N, K, 1.0f, A.data.data(),
                           A.ld, B.data.data(), B.ld, 0.0f, alone.data(), N);
        omp_set_num_threads(saved);
        constexpr int kCalls = 8;
        std::vector<std::vector<float>> out(kCalls, std::vector<float>(size_t(M * N)));
#pragma omp parallel for num_threads(2) schedule(static, 1)
        for (int c = 0; c < kCalls; ++c)
            kernels::sgemmWith(GemmLibrary::kOpenBlas, Op::kN, Op::kT, M, N, K, 1.0f, A.data.data(),
                               A.ld, B.data.data(), B.ld, 0.0f, out[size_t(c)].data(), N);
        for (const auto& o : out) QCOMPARE(o, alone);
    }

    // The build links the OpenMP flavour (CMake refuses the others); the
    // pthreads one would run its own pool beside ours.
    void openBlasIsTheOpenMpBuild() {
        const std::string d = kernels::blasDescription();
        qInfo("%s; sgemm uses %s", d.c_str(), kernels::gemmLibraryName(kernels::gemmLibrary()));
        QVERIFY2(d.find("USE_OPENMP") != std::string::npos, d.c_str());
        QVERIFY2(d.size() >= 8 && d.compare(d.size() - 8, 8, ", OpenMP") == 0, d.c_str());
    }

    void libraryCanBeChosen() {
        const GemmLibrary chosen = kernels::gemmLibrary();
        for (GemmLibrary lib : {GemmLibrary::kEigen, GemmLibrary::kOpenBlas}) {
            kernels::setGemmLibrary(lib);
            QCOMPARE(int(kernels::gemmLibrary()), int(lib));
        }
        kernels::setGemmLibrary(chosen);
    }
};

QTEST_GUILESS_MAIN(TestSgemm)
#include "test_sgemm.moc"
