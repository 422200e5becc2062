#pragma once
// Internal to gpu/: the SAE kernels that no library provides (the GEMMs go to
// cuBLAS). Every launcher enqueues on `stream` and returns at once; errors
// surface through cudaGetLastError / the next synchronisation. Matrices are
// row-major; "entries" are per-row selections padded to `cap` columns:
// index/value [rows, cap] with count [rows] valid ones, ascending by index.

#include <cuda_runtime.h>

#include <cstdint>

namespace mono::gpu {

// out[r, :] = x[r, :] − v  (x' = x − b_dec).
void subtractRow(const float* x, const float* v, float* out, int64_t rows, int64_t cols,
                 cudaStream_t stream);
// out[r, :] = v (x̂ starts at b_dec).
void broadcastRow(const float* v, float* out, int64_t rows, int64_t cols, cudaStream_t stream);

enum class Activation { kNone, kRelu, kThreshold };
// h[r, i] += bias[i] (bias may be null), then kRelu: max(h, 0); kThreshold:
// h where h > theta[i] and h > 0, else 0 (jumprelu).
void biasActivate(float* h, const float* bias, const float* theta, int64_t rows, int64_t cols,
                  Activation act, cudaStream_t stream);

// Per row the k largest positive entries of h (ties: the lower index), among
// those with mask[i] != 0 when mask is given (aux-k's dead latents), written in
// ascending index order at index/value + rowStart[r] (rowStart given) or
// + r·cap; count[r] receives how many (min(k, positives)). k ≥ cols keeps
// every positive entry (compaction).
void selectTopK(const float* h, int64_t rows, int64_t cols, int64_t k, const uint8_t* mask,
                const int64_t* rowStart, int64_t cap, int32_t* index, float* value, int32_t* count,
                cudaStream_t stream);
// count[r] = number of positive entries of row r of h.
void countPositive(const float* h, int64_t rows, int64_t cols, int32_t* count, cudaStream_t stream);

// out[r, :] = (init ? out[r, :] : 0) + Σ_j value[r, j] W[index[r, j], :]  (W [F, D]).
void decodeEntries(const int32_t* index, const float* value, const int32_t* count, int64_t cap,
                   int64_t rows, const float* w, int64_t D, bool accumulate, float* out,
                   cudaStream_t stream);
// out = a − b (or a + b with `add`), and *sumSq += Σ out² (double).
void combineAndSquare(const float* a, const float* b, bool add, float* out, int64_t n,
                      double* sumSq, cudaStream_t stream);
// x *= s.
void scale(float* x, int64_t n, float s, cudaStream_t stream);

// gradH[r, j] = g[r, :] · W[index[r, j], :] + (extra ? extra[index] : 0).
void entryDots(const int32_t* index, const int32_t* count, int64_t cap, int64_t rows,
               const float* g, const float* w, int64_t D, const float* extra, float* gradH,
               cudaStream_t stream);
// For every entry (r, i): gDec[i] += value·g[r]; gEnc[i] += gradH·xc[r]; gBias[i] += gradH.
// Atomic adds: the outputs must be zeroed (or hold earlier entries' sums).
void scatterEntryGradients(const int32_t* index, const float* value, const float* gradH,
                           const int32_t* count, int64_t cap, int64_t rows, const float* g,
                           const float* xc, int64_t D, float* gDec, float* gEnc, float* gBias,
                           cudaStream_t stream);
// fired[i] += 1 for every entry of latent i.
void countEntries(const int32_t* index, const int32_t* count, int64_t cap, int64_t rows,
                  int32_t* fired, cudaStream_t stream);
// fired[i] = rows r with f[r, i] > 0 (dense ReLU).
void countPositiveColumns(const float* f, int64_t rows, int64_t cols, int32_t* fired,
                          cudaStream_t stream);
// gradH = f > 0 ? gradH + extra[i] : 0 (the ReLU's backward pass plus the L1 term).
void reluBackward(float* gradH, const float* f, const float* extra, int64_t rows, int64_t cols,
                  cudaStream_t stream);

// norms[i] = ||W[i, :]||; with scaleOut, also out[i] = norms[i] · s.
void rowNorms(const float* w, int64_t rows, int64_t cols, float* norms, float* scaled, float s,
              cudaStream_t stream);
// g[i, :] += (s · fSum[i] / norms[i]) W[i, :] where fSum[i] > 0 and norms[i] > 0.
void addL1DecoderGradient(float* g, const float* w, const float* fSum, const float* norms, float s,
                          int64_t rows, int64_t cols, cudaStream_t stream);
// g[i, :] −= (g[i, :]·w[i, :]) w[i, :]  (keeps unit-norm rows' gradient tangent).
void projectRows(const float* w, float* g, int64_t rows, int64_t cols, cudaStream_t stream);
// w[i, :] /= ||w[i, :]|| where the norm is positive.
void normalizeRows(float* w, int64_t rows, int64_t cols, cudaStream_t stream);

// Adam in train::adamUpdate's kInStepSize form:
// m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²; p −= a m / (√v + ε).
void adamUpdate(float* p, const float* g, float* m, float* v, int64_t n, float beta1, float beta2,
                float eps, float stepSize, cudaStream_t stream);

// *out = Σ_r ||x[r, :] − mean_r x||² in double (colMean: `cols` doubles of scratch).
void sumSqCentered(const float* x, int64_t rows, int64_t cols, double* colMean, double* out,
                   cudaStream_t stream);
// *bad = 1 if any of x[0..n) is NaN or ±Inf (*bad must start at 0).
void flagNonFinite(const float* x, int64_t n, int32_t* bad, cudaStream_t stream);

}  // namespace mono::gpu
