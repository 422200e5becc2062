// The SAE kernels of sae_kernels.h. Kept in one translation unit and free of
// templates beyond need, so that nvcc's share of the build stays small.

#include <cfloat>

#include "gpu/sae_kernels.h"

namespace mono::gpu {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

unsigned gridFor(int64_t n, int per = kThreads) {
    const int64_t blocks = (n + per - 1) / per;
    return static_cast<unsigned>(blocks < 65535 * 32 ? blocks : 65535 * 32);
}

// Grid-stride loop over [0, n).
#define MONO_FOR_EACH(i, n)                                                   \
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); \
         i += int64_t(gridDim.x) * blockDim.x)

__device__ float warpSum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ double warpSumD(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Sum over the block (every thread gets it); `shared` holds kWarps floats.
__device__ float blockSum(float v, float* shared) {
    v = warpSum(v);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    float total = 0;
    for (int w = 0; w < kWarps; ++w) total += shared[w];
    return total;
}

// Exclusive prefix count of `flag` over the block in thread order; *total gets
// the block's count. `shared` holds kWarps ints. Every thread must call it.
__device__ int blockScanFlag(bool flag, int* shared, int* total) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const unsigned ballot = __ballot_sync(0xffffffffu, flag);
    __syncthreads();
    if (lane == 0) shared[warp] = __popc(ballot);
    __syncthreads();
    int before = 0, all = 0;
    for (int w = 0; w < kWarps; ++w) {
        before += w < warp ? shared[w] : 0;
        all += shared[w];
    }
    *total = all;
    return before + __popc(ballot & ((1u << lane) - 1u));
}

// Order-preserving key of a candidate: positive floats compare as their bits;
// everything else (≤ 0, NaN, masked out) is 0 and never selected.
__device__ uint32_t keyOf(const float* row, const uint8_t* mask, int64_t i) {
    const float v = row[i];
    if (!(v > 0.0f) || (mask && !mask[i])) return 0u;
    return __float_as_uint(v);
}

__global__ void subtractRowKernel(const float* x, const float* v, float* out, int64_t rows,
                                  int64_t cols, bool broadcast) {
    MONO_FOR_EACH(i, rows * cols) out[i] = broadcast ? v[i % cols] : x[i] - v[i % cols];
}

__global__ void biasActivateKernel(float* h, const float* bias, const float* theta, int64_t rows,
                                   int64_t cols, Activation act) {
    MONO_FOR_EACH(j, rows * cols) {
        const int64_t i = j % cols;
        float v = bias ? h[j] + bias[i] : h[j];
        if (act == Activation::kRelu) v = fmaxf(v, 0.0f);
        if (act == Activation::kThreshold) v = (v > theta[i] && v > 0.0f) ? v : 0.0f;
        h[j] = v;
    }
}

// One block per row: a radix select (8 bits a pass, high to low) of the k-th
// largest key, then one pass in index order that keeps the keys above it and
// the first ties, compacting with block-wide prefix counts.
__global__ void selectTopKKernel(const float* h, int64_t cols, int64_t k, const uint8_t* mask,
                                 const int64_t* rowStart, int64_t cap, int32_t* index, float* value,
                                 int32_t* count) {
    __shared__ unsigned hist[256];
    __shared__ int scan[kWarps];
    __shared__ uint32_t sPrefix;
    __shared__ int64_t sRemaining;
    const int64_t r = blockIdx.x;
    const float* row = h + r * cols;
    int positives = 0;
    for (int64_t i = threadIdx.x; i < cols; i += kThreads) positives += keyOf(row, mask, i) != 0u;
    __shared__ float sumScratch[kWarps];
    const int64_t nPos = static_cast<int64_t>(blockSum(static_cast<float>(positives), sumScratch));
    const int64_t kk = k < nPos ? k : nPos;
    uint32_t threshold = 0;  // keep keys > threshold, then `needEq` keys == threshold
    int64_t needEq = 0;
    if (kk < nPos && kk > 0) {
        uint32_t prefix = 0, prefixMask = 0;
        if (threadIdx.x == 0) sRemaining = kk;
        for (int shift = 24; shift >= 0; shift -= 8) {
            for (int b = threadIdx.x; b < 256; b += kThreads) hist[b] = 0;
            __syncthreads();
            for (int64_t i = threadIdx.x; i < cols; i += kThreads) {
                const uint32_t key = keyOf(row, mask, i);
                if (key != 0u && (key & prefixMask) == prefix)
                    atomicAdd(&hist[(key >> shift) & 255u], 1u);
            }
            __syncthreads();
            if (threadIdx.x == 0) {
                int64_t above = 0, remaining = sRemaining;
                int b = 255;
                for (; b > 0 && above + hist[b] < remaining; --b) above += hist[b];
                sRemaining = remaining - above;
                sPrefix = prefix | (uint32_t(b) << shift);
            }
            __syncthreads();
            prefix = sPrefix;
            prefixMask |= 255u << shift;
        }
        threshold = prefix;
        needEq = sRemaining;
    } else if (kk == 0) {
        threshold = 0xffffffffu;  // nothing passes
    }
    const int64_t base = rowStart ? rowStart[r] : r * cap;
    int64_t written = 0, eqSeen = 0;
    for (int64_t t0 = 0; t0 < cols; t0 += kThreads) {
        const int64_t i = t0 + threadIdx.x;
        const uint32_t key = i < cols ? keyOf(row, mask, i) : 0u;
        const bool eq = needEq > 0 && key == threshold;
        int eqTotal = 0;
        const int eqRank = blockScanFlag(eq, scan, &eqTotal);
        const bool take = key != 0u && (key > threshold || (eq && eqSeen + eqRank < needEq));
        int takeTotal = 0;
        const int pos = blockScanFlag(take, scan, &takeTotal);
        if (take) {
            index[base + written + pos] = static_cast<int32_t>(i);
            value[base + written + pos] = row[i];
        }
        written += takeTotal;
        eqSeen += eqTotal;
    }
    if (threadIdx.x == 0) count[r] = static_cast<int32_t>(written);
}

__global__ void countPositiveKernel(const float* h, int64_t cols, int32_t* count) {
    __shared__ float scratch[kWarps];
    const float* row = h + blockIdx.x * cols;
    int n = 0;
    for (int64_t i = threadIdx.x; i < cols; i += kThreads) n += row[i] > 0.0f;
    const float total = blockSum(static_cast<float>(n), scratch);
    if (threadIdx.x == 0) count[blockIdx.x] = static_cast<int32_t>(total);
}

// One block per row; threads over D.
__global__ void decodeEntriesKernel(const int32_t* index, const float* value, const int32_t* count,
                                    int64_t cap, const float* w, int64_t D, bool accumulate,
                                    float* out) {
    const int64_t r = blockIdx.x;
    const int n = count[r];
    for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
        float s = accumulate ? out[r * D + d] : 0.0f;
        for (int j = 0; j < n; ++j)
            s += value[r * cap + j] * w[int64_t(index[r * cap + j]) * D + d];
        out[r * D + d] = s;
    }
}

__global__ void combineAndSquareKernel(const float* a, const float* b, bool add, float* out,
                                       int64_t n, double* sumSq) {
    double local = 0;
    MONO_FOR_EACH(i, n) {
        const float v = add ? a[i] + b[i] : a[i] - b[i];
        out[i] = v;
        local += double(v) * double(v);
    }
    local = warpSumD(local);
    if ((threadIdx.x & 31) == 0) atomicAdd(sumSq, local);
}

__global__ void scaleKernel(float* x, int64_t n, float s) {
    MONO_FOR_EACH(i, n) x[i] *= s;
}

// One warp per entry.
__global__ void entryDotsKernel(const int32_t* index, const int32_t* count, int64_t cap,
                                int64_t rows, const float* g, const float* w, int64_t D,
                                const float* extra, float* gradH) {
    const int64_t e = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5;
    const int lane = threadIdx.x & 31;
    if (e >= rows * cap) return;
    const int64_t r = e / cap, j = e % cap;
    if (j >= count[r]) return;
    const int64_t i = index[e];
    float s = 0;
    for (int64_t d = lane; d < D; d += 32) s += g[r * D + d] * w[i * D + d];
    s = warpSum(s);
    if (lane == 0) gradH[e] = s + (extra ? extra[i] : 0.0f);
}

// One block per entry; threads over D.
__global__ void scatterKernel(const int32_t* index, const float* value, const float* gradH,
                              const int32_t* count, int64_t cap, const float* g, const float* xc,
                              int64_t D, float* gDec, float* gEnc, float* gBias) {
    const int64_t e = blockIdx.x, r = e / cap, j = e % cap;
    if (j >= count[r]) return;
    const int64_t i = index[e];
    const float f = value[e], gh = gradH[e];
    for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
        atomicAdd(&gDec[i * D + d], f * g[r * D + d]);
        atomicAdd(&gEnc[i * D + d], gh * xc[r * D + d]);
    }
    if (threadIdx.x == 0) atomicAdd(&gBias[i], gh);
}

__global__ void countEntriesKernel(const int32_t* index, const int32_t* count, int64_t cap,
                                   int64_t rows, int32_t* fired) {
    MONO_FOR_EACH(e, rows * cap) {
        if (e % cap < count[e / cap]) atomicAdd(&fired[index[e]], 1);
    }
}

__global__ void countPositiveColumnsKernel(const float* f, int64_t rows, int64_t cols,
                                           int32_t* fired) {
    MONO_FOR_EACH(i, cols) {
        int n = 0;
        for (int64_t r = 0; r < rows; ++r) n += f[r * cols + i] > 0.0f;
        fired[i] = n;
    }
}

__global__ void reluBackwardKernel(float* gradH, const float* f, const float* extra, int64_t rows,
                                   int64_t cols) {
    MONO_FOR_EACH(j, rows * cols) {
        gradH[j] = f[j] > 0.0f ? gradH[j] + (extra ? extra[j % cols] : 0.0f) : 0.0f;
    }
}

// One block per row for the row-wise kernels below.
__global__ void rowNormsKernel(const float* w, int64_t cols, float* norms, float* scaled, float s) {
    __shared__ float scratch[kWarps];
    const float* row = w + blockIdx.x * cols;
    float acc = 0;
    for (int64_t d = threadIdx.x; d < cols; d += kThreads) acc += row[d] * row[d];
    const float n = sqrtf(blockSum(acc, scratch));
    if (threadIdx.x == 0) {
        norms[blockIdx.x] = n;
        if (scaled) scaled[blockIdx.x] = n * s;
    }
}

__global__ void addL1DecoderGradientKernel(float* g, const float* w, const float* fSum,
                                           const float* norms, float s, int64_t cols) {
    const int64_t i = blockIdx.x;
    if (!(fSum[i] > 0.0f) || !(norms[i] > 0.0f)) return;
    const float c = s * fSum[i] / norms[i];
    for (int64_t d = threadIdx.x; d < cols; d += kThreads) g[i * cols + d] += c * w[i * cols + d];
}

__global__ void projectRowsKernel(const float* w, float* g, int64_t cols) {
    __shared__ float scratch[kWarps];
    const int64_t off = blockIdx.x * cols;
    float acc = 0;
    for (int64_t d = threadIdx.x; d < cols; d += kThreads) acc += g[off + d] * w[off + d];
    const float dot = blockSum(acc, scratch);
    for (int64_t d = threadIdx.x; d < cols; d += kThreads) g[off + d] -= dot * w[off + d];
}

__global__ void normalizeRowsKernel(float* w, int64_t cols) {
    __shared__ float scratch[kWarps];
    const int64_t off = blockIdx.x * cols;
    float acc = 0;
    for (int64_t d = threadIdx.x; d < cols; d += kThreads) acc += w[off + d] * w[off + d];
    const float n = sqrtf(blockSum(acc, scratch));
    if (n > 0.0f)
        for (int64_t d = threadIdx.x; d < cols; d += kThreads) w[off + d] /= n;
}

__global__ void adamKernel(float* p, const float* g, float* m, float* v, int64_t n, float beta1,
                           float beta2, float eps, float a) {
    MONO_FOR_EACH(i, n) {
        const float gi = g[i];
        const float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        const float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] - a * mi / (sqrtf(vi) + eps);
    }
}

__global__ void columnMeanKernel(const float* x, int64_t rows, int64_t cols, double* mean) {
    MONO_FOR_EACH(c, cols) {
        double s = 0;
        for (int64_t r = 0; r < rows; ++r) s += x[r * cols + c];
        mean[c] = s / double(rows);
    }
}

__global__ void centeredSquaresKernel(const float* x, int64_t rows, int64_t cols,
                                      const double* mean, double* out) {
    double local = 0;
    MONO_FOR_EACH(i, rows * cols) {
        const double d = double(x[i]) - mean[i % cols];
        local += d * d;
    }
    local = warpSumD(local);
    if ((threadIdx.x & 31) == 0) atomicAdd(out, local);
}

__global__ void flagNonFiniteKernel(const float* x, int64_t n, int32_t* bad) {
    MONO_FOR_EACH(i, n) {
        if (!isfinite(x[i])) *bad = 1;
    }
}

}  // namespace

void subtractRow(const float* x, const float* v, float* out, int64_t rows, int64_t cols,
                 cudaStream_t stream) {
    subtractRowKernel<<<gridFor(rows * cols), kThreads, 0, stream>>>(x, v, out, rows, cols, false);
}

void broadcastRow(const float* v, float* out, int64_t rows, int64_t cols, cudaStream_t stream) {
    subtractRowKernel<<<gridFor(rows * cols), kThreads, 0, stream>>>(nullptr, v, out, rows, cols,
                                                                     true);
}

void biasActivate(float* h, const float* bias, const float* theta, int64_t rows, int64_t cols,
                  Activation act, cudaStream_t stream) {
    biasActivateKernel<<<gridFor(rows * cols), kThreads, 0, stream>>>(h, bias, theta, rows, cols,
                                                                      act);
}

void selectTopK(const float* h, int64_t rows, int64_t cols, int64_t k, const uint8_t* mask,
                const int64_t* rowStart, int64_t cap, int32_t* index, float* value, int32_t* count,
                cudaStream_t stream) {
    if (rows == 0) return;
    selectTopKKernel<<<unsigned(rows), kThreads, 0, stream>>>(h, cols, k, mask, rowStart, cap,
                                                              index, value, count);
}

void countPositive(const float* h, int64_t rows, int64_t cols, int32_t* count,
                   cudaStream_t stream) {
    if (rows == 0) return;
    countPositiveKernel<<<unsigned(rows), kThreads, 0, stream>>>(h, cols, count);
}

void decodeEntries(const int32_t* index, const float* value, const int32_t* count, int64_t cap,
                   int64_t rows, const float* w, int64_t D, bool accumulate, float* out,
                   cudaStream_t stream) {
    if (rows == 0) return;
    decodeEntriesKernel<<<unsigned(rows), kThreads, 0, stream>>>(index, value, count, cap, w, D,
                                                                 accumulate, out);
}

void combineAndSquare(const float* a, const float* b, bool add, float* out, int64_t n,
                      double* sumSq, cudaStream_t stream) {
    combineAndSquareKernel<<<gridFor(n, kThreads * 8), kThreads, 0, stream>>>(a, b, add, out, n,
                                                                              sumSq);
}

void scale(float* x, int64_t n, float s, cudaStream_t stream) {
    scaleKernel<<<gridFor(n), kThreads, 0, stream>>>(x, n, s);
}

void entryDots(const int32_t* index, const int32_t* count, int64_t cap, int64_t rows,
               const float* g, const float* w, int64_t D, const float* extra, float* gradH,
               cudaStream_t stream) {
    const int64_t threads = rows * cap * 32;
    if (threads == 0) return;
    entryDotsKernel<<<unsigned((threads + kThreads - 1) / kThreads), kThreads, 0, stream>>>(
        index, count, cap, rows, g, w, D, extra, gradH);
}

void scatterEntryGradients(const int32_t* index, const float* value, const float* gradH,
                           const int32_t* count, int64_t cap, int64_t rows, const float* g,
                           const float* xc, int64_t D, float* gDec, float* gEnc, float* gBias,
                           cudaStream_t stream) {
    if (rows * cap == 0) return;
    scatterKernel<<<unsigned(rows * cap), 128, 0, stream>>>(index, value, gradH, count, cap, g, xc,
                                                            D, gDec, gEnc, gBias);
}

void countEntries(const int32_t* index, const int32_t* count, int64_t cap, int64_t rows,
                  int32_t* fired, cudaStream_t stream) {
    if (rows * cap == 0) return;
    countEntriesKernel<<<gridFor(rows * cap), kThreads, 0, stream>>>(index, count, cap, rows,
                                                                     fired);
}

void countPositiveColumns(const float* f, int64_t rows, int64_t cols, int32_t* fired,
                          cudaStream_t stream) {
    countPositiveColumnsKernel<<<gridFor(cols), kThreads, 0, stream>>>(f, rows, cols, fired);
}

void reluBackward(float* gradH, const float* f, const float* extra, int64_t rows, int64_t cols,
                  cudaStream_t stream) {
    reluBackwardKernel<<<gridFor(rows * cols), kThreads, 0, stream>>>(gradH, f, extra, rows, cols);
}

void rowNorms(const float* w, int64_t rows, int64_t cols, float* norms, float* scaled, float s,
              cudaStream_t stream) {
    if (rows == 0) return;
    rowNormsKernel<<<unsigned(rows), kThreads, 0, stream>>>(w, cols, norms, scaled, s);
}

void addL1DecoderGradient(float* g, const float* w, const float* fSum, const float* norms, float s,
                          int64_t rows, int64_t cols, cudaStream_t stream) {
    if (rows == 0) return;
    addL1DecoderGradientKernel<<<unsigned(rows), kThreads, 0, stream>>>(g, w, fSum, norms, s, cols);
}

void projectRows(const float* w, float* g, int64_t rows, int64_t cols, cudaStream_t stream) {
    if (rows == 0) return;
    projectRowsKernel<<<unsigned(rows), kThreads, 0, stream>>>(w, g, cols);
}

void normalizeRows(float* w, int64_t rows, int64_t cols, cudaStream_t stream) {
    if (rows == 0) return;
    normalizeRowsKernel<<<unsigned(rows), kThreads, 0, stream>>>(w, cols);
}

void adamUpdate(float* p, const float* g, float* m, float* v, int64_t n, float beta1, float beta2,
                float eps, float stepSize, cudaStream_t stream) {
    if (n == 0) return;
    adamKernel<<<gridFor(n), kThreads, 0, stream>>>(p, g, m, v, n, beta1, beta2, eps, stepSize);
}

void sumSqCentered(const float* x, int64_t rows, int64_t cols, double* colMean, double* out,
                   cudaStream_t stream) {
    columnMeanKernel<<<gridFor(cols), kThreads, 0, stream>>>(x, rows, cols, colMean);
    centeredSquaresKernel<<<gridFor(rows * cols, kThreads * 8), kThreads, 0, stream>>>(
        x, rows, cols, colMean, out);
}

void flagNonFinite(const float* x, int64_t n, int32_t* bad, cudaStream_t stream) {
    if (n == 0) return;
    flagNonFiniteKernel<<<gridFor(n), kThreads, 0, stream>>>(x, n, bad);
}

}  // namespace mono::gpu
