#pragma once
// Internal: the CPU building blocks of the forward pass, on raw row-major
// float buffers (Eigen stays inside cpu_kernels.cpp). All run on the OpenMP
// threads unless called from inside a parallel region.
// Letters: N rows (tokens of the batch), C width, F MLP width.

#include <cstdint>

namespace mono::model::cpu {

// Y[N, out] = X[N, in] · W[out, in]ᵀ (+ b[out] when b is non-null).
// X has row stride ldx, Y row stride ldy; W is contiguous.
void linear(const float* X, int64_t ldx, int64_t N, const float* W, int64_t out, int64_t in,
            const float* b, float* Y, int64_t ldy);

// The most threads linear() uses for N <= smallRowsMaxRows() (memory-bound
// decode steps) on the calling thread; 0 = all. Results do not depend on it.
void setSmallRowsThreads(int threads);
int smallRowsMaxRows();

// out[N, C] = LayerNorm(x[N, C]) · w + b.
void layerNorm(float* out, const float* x, int64_t N, int64_t C, const float* w, const float* b,
               float eps);
// out[N, C] = x / sqrt(mean(x²) + eps) · w.
void rmsNorm(float* out, const float* x, int64_t N, int64_t C, const float* w, float eps);

// In place over n values.
void geluTanh(float* x, int64_t n);
void geluErf(float* x, int64_t n);
void relu(float* x, int64_t n);
// out[N, F] = silu(gu[:, :F]) · gu[:, F:]; gu is [N, 2F].
void siluMul(float* out, const float* gu, int64_t N, int64_t F);

// y[N, C] += x[N, C]
void addInPlace(float* y, const float* x, int64_t n);

}  // namespace mono::model::cpu
