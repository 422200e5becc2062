#include "core/model/cpu_kernels.h"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>

#include "core/kernels/sgemm.h"

namespace mono::model::cpu {

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowVec = Eigen::Matrix<float, 1, Eigen::Dynamic>;
using Strided = Eigen::Map<RowMat, Eigen::Unaligned, Eigen::OuterStride<>>;
using CStrided = Eigen::Map<const RowMat, Eigen::Unaligned, Eigen::OuterStride<>>;

// Below this many rows a linear is memory-bound (decode, GEMV): its weight rows
// are split over the threads in chunks of kGemvRows. Above it, the output columns
// are split in chunks of kGemmCols, each one single-threaded GEMM
// (kernels::sgemm: OpenBLAS or Eigen, see sgemm.h). The
// chunks are fixed, so every output is summed the same way whatever the thread
// count, and threads meet once per linear instead of inside Eigen's GEMM.
constexpr int64_t kSmallRows = 16;
constexpr int64_t kGemvRows = 64;
constexpr int64_t kGemmCols = 256;
// Row loops go parallel only when there is enough work to pay for the fork.
constexpr int64_t kParallelElems = 1 << 15;

int threadsFor(int64_t work) {
    if (omp_in_parallel() || work < kParallelElems) return 1;
    return omp_get_max_threads();
}

void geluTanhBlock(Strided& y) {
    constexpr float kS = 0.7978845608028654f;  // sqrt(2/pi)
    for (Eigen::Index r = 0; r < y.rows(); ++r) {
        auto a = y.row(r).array();
        a = 0.5f * a * (1.0f + (kS * (a + 0.044715f * a.cube())).tanh());
    }
}

}  // namespace

SerialEigen::SerialEigen() : m_saved(omp_get_max_threads()) {
    omp_set_num_threads(1);
}
SerialEigen::~SerialEigen() {
    omp_set_num_threads(m_saved);
}

void geluTanh(float* Y, int64_t N, int64_t cols, int64_t ldy) {
    if (N <= 0 || cols <= 0) return;
    Strided y(Y, N, cols, Eigen::OuterStride<>(ldy));
    geluTanhBlock(y);
}

int smallRowsMaxRows() {
    return int(kSmallRows);
}

void linear(const float* X, int64_t ldx, int64_t N, const float* W, int64_t out, int64_t in,
            const float* b, float* Y, int64_t ldy, Epilogue epilogue) {
    if (N <= 0 || out <= 0) return;
    CStrided x(X, N, in, Eigen::OuterStride<>(ldx));
    Eigen::Map<const RowMat> w(W, out, in);
    const bool small = N <= kSmallRows;
    const int64_t chunk = small ? kGemvRows : kGemmCols;
    const int64_t nChunks = (out + chunk - 1) / chunk;
    // A GEMV of fewer than ~2^17 multiply-adds is over before a fork pays off.
    const int threads =
        std::min<int64_t>(nChunks, out * in * N < (1 << 17) ? 1 : threadsFor(out * in * N));
    const int saved = omp_get_max_threads();
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (int64_t c = 0; c < nChunks; ++c) {
        omp_set_num_threads(1);  // the GEMM must not fork again inside a chunk
        const int64_t c0 = c * chunk, n = std::min(chunk, out - c0);
        Strided y(Y + c0, N, n, Eigen::OuterStride<>(ldy));
        kernels::gemm(x, kernels::Op::kN, w.middleRows(c0, n), kernels::Op::kT, y);
        if (b) y.rowwise() += Eigen::Map<const RowVec>(b + c0, n);
        if (epilogue == Epilogue::kGeluTanh) geluTanhBlock(y);
    }
    omp_set_num_threads(saved);
}

void layerNorm(float* out, const float* x, int64_t N, int64_t C, const float* w, const float* b,
               float eps) {
    Eigen::Map<const Eigen::ArrayXf> gamma(w, C), beta(b, C);
#pragma omp parallel for num_threads(threadsFor(N* C)) schedule(static)
    for (int64_t r = 0; r < N; ++r) {
        Eigen::Map<const Eigen::ArrayXf> xr(x + r * C, C);
        Eigen::Map<Eigen::ArrayXf> yr(out + r * C, C);
        const float mean = xr.mean();
        const float var = (xr - mean).square().mean();
        const float rstd = 1.0f / std::sqrt(var + eps);
        yr = (xr - mean) * rstd * gamma + beta;
    }
}

void rmsNorm(float* out, const float* x, int64_t N, int64_t C, const float* w, float eps) {
    Eigen::Map<const Eigen::ArrayXf> gamma(w, C);
#pragma omp parallel for num_threads(threadsFor(N* C)) schedule(static)
    for (int64_t r = 0; r < N; ++r) {
        Eigen::Map<const Eigen::ArrayXf> xr(x + r * C, C);
        Eigen::Map<Eigen::ArrayXf> yr(out + r * C, C);
        const float ms = xr.square().sum() / static_cast<float>(C);
        const float scale = 1.0f / std::sqrt(ms + eps);
        yr = xr * scale * gamma;
    }
}

namespace {
// Splits n values into cache-friendly pieces processed in parallel.
template <class Fn>
void forChunks(int64_t n, Fn fn) {
    constexpr int64_t kChunk = 4096;
    const int64_t nChunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for num_threads(threadsFor(n)) schedule(static)
    for (int64_t c = 0; c < nChunks; ++c) {
        const int64_t i0 = c * kChunk;
        fn(i0, std::min(kChunk, n - i0));
    }
}
}  // namespace

void geluErf(float* x, int64_t n) {
    forChunks(n, [x](int64_t i0, int64_t len) {
        for (int64_t i = i0; i < i0 + len; ++i)
            x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.7071067811865476f));
    });
}

void relu(float* x, int64_t n) {
    forChunks(n, [x](int64_t i0, int64_t len) {
        Eigen::Map<Eigen::ArrayXf> a(x + i0, len);
        a = a.max(0.0f);
    });
}

void siluMul(float* out, const float* gu, int64_t N, int64_t F) {
#pragma omp parallel for num_threads(threadsFor(N* F)) schedule(static)
    for (int64_t r = 0; r < N; ++r) {
        Eigen::Map<const Eigen::ArrayXf> g(gu + r * 2 * F, F), u(gu + r * 2 * F + F, F);
        Eigen::Map<Eigen::ArrayXf> y(out + r * F, F);
        y = g / (1.0f + (-g).exp()) * u;
    }
}

void geluTanhMul(float* out, const float* gu, int64_t N, int64_t F) {
    constexpr float kS = 0.7978845608028654f;  // sqrt(2/pi)
#pragma omp parallel for num_threads(threadsFor(N* F)) schedule(static)
    for (int64_t r = 0; r < N; ++r) {
        Eigen::Map<const Eigen::ArrayXf> g(gu + r * 2 * F, F), u(gu + r * 2 * F + F, F);
        Eigen::Map<Eigen::ArrayXf> y(out + r * F, F);
        y = 0.5f * g * (1.0f + (kS * (g + 0.044715f * g.cube())).tanh()) * u;
    }
}

void geluErfMul(float* out, const float* gu, int64_t N, int64_t F) {
#pragma omp parallel for num_threads(threadsFor(N* F)) schedule(static)
    for (int64_t r = 0; r < N; ++r) {
        const float* g = gu + r * 2 * F;
        const float* u = g + F;
        float* y = out + r * F;
        for (int64_t i = 0; i < F; ++i)
            y[i] = 0.5f * g[i] * (1.0f + std::erf(g[i] * 0.7071067811865476f)) * u[i];
    }
}

void headRmsNorm(float* x, int64_t N, int64_t ld, int heads, int hd, const float* w, float eps) {
    Eigen::Map<const Eigen::ArrayXf> gamma(w, hd);
#pragma omp parallel for num_threads(threadsFor(N* heads* hd)) schedule(static)
    for (int64_t r = 0; r < N; ++r)
        for (int h = 0; h < heads; ++h) {
            Eigen::Map<Eigen::ArrayXf> v(x + r * ld + int64_t(h) * hd, hd);
            const float ms = v.square().sum() / static_cast<float>(hd);
            v = v * (1.0f / std::sqrt(ms + eps)) * gamma;
        }
}

void softcap(float* x, int64_t n, float cap) {
    forChunks(n, [x, cap](int64_t i0, int64_t len) {
        Eigen::Map<Eigen::ArrayXf> a(x + i0, len);
        a = (a / cap).tanh() * cap;
    });
}

void addInPlace(float* y, const float* x, int64_t n) {
    forChunks(n, [y, x](int64_t i0, int64_t len) {
        Eigen::Map<Eigen::ArrayXf>(y + i0, len) += Eigen::Map<const Eigen::ArrayXf>(x + i0, len);
    });
}

void ropeAngles(int maxLen, int dims, float base, float linearScale, std::vector<float>& cos,
                std::vector<float>& sin) {
    const int h = dims / 2;
    cos.resize(size_t(maxLen) * h);
    sin.resize(size_t(maxLen) * h);
    for (int i = 0; i < h; ++i) {
        // Linear scaling divides the frequencies (positions / factor).
        const float freq = 1.0f / std::pow(base, float(2 * i) / float(dims)) / linearScale;
        for (int p = 0; p < maxLen; ++p) {
            const float angle = float(p) * freq;
            cos[size_t(p) * h + i] = std::cos(angle);
            sin[size_t(p) * h + i] = std::sin(angle);
        }
    }
}

}  // namespace mono::model::cpu
