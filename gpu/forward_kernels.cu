// The forward pass' kernels (forward_kernels.h).

#include "gpu/forward_kernels.h"

namespace mono::gpu {
namespace {

constexpr int kThreads = 256;

unsigned blocksFor(int64_t n) {
    const int64_t b = (n + kThreads - 1) / kThreads;
    return static_cast<unsigned>(b < 65535 * 32 ? b : 65535 * 32);
}

#define MONO_GRID_LOOP(i, n)                                                  \
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); \
         i += int64_t(gridDim.x) * blockDim.x)

// Block-wide sum (blockDim.x a multiple of 32, at most 1024); every thread gets it.
__device__ float blockSum(float v) {
    __shared__ float partial[32];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    __syncthreads();
    if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = v;
    __syncthreads();
    float total = 0;
    for (int w = 0; w < int(blockDim.x >> 5); ++w) total += partial[w];
    return total;
}

__device__ float blockMax(float v) {
    __shared__ float partial[32];
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    __syncthreads();
    if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = v;
    __syncthreads();
    float m = -INFINITY;
    for (int w = 0; w < int(blockDim.x >> 5); ++w) m = fmaxf(m, partial[w]);
    return m;
}

__device__ float geluTanhOf(float a) {
    const float kS = 0.7978845608028654f;  // sqrt(2/pi)
    return 0.5f * a * (1.0f + tanhf(kS * (a + 0.044715f * a * a * a)));
}

__device__ float geluErfOf(float a) {
    return 0.5f * a * (1.0f + erff(a * 0.7071067811865476f));
}

__global__ void embedKernel(const int32_t* tokens, const int32_t* pos, const float* E,
                            const float* P, float scale, int64_t N, int64_t C, float* x) {
    MONO_GRID_LOOP(i, N * C) {
        const int64_t r = i / C, c = i % C;
        float v = E[int64_t(tokens[r]) * C + c];
        if (P) v += P[int64_t(pos[r]) * C + c];
        if (scale > 0.0f) v *= scale;
        x[i] = v;
    }
}

// One block per row.
__global__ void normKernel(const float* x, float* out, int64_t C, const float* w, const float* b,
                           bool layerNorm, float eps) {
    const float* xr = x + blockIdx.x * C;
    float* yr = out + blockIdx.x * C;
    if (layerNorm) {
        float s = 0;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) s += xr[c];
        const float mean = blockSum(s) / float(C);
        float v = 0;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) v += (xr[c] - mean) * (xr[c] - mean);
        const float rstd = 1.0f / sqrtf(blockSum(v) / float(C) + eps);
        __syncthreads();  // every thread has read xr before an in-place write
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x)
            yr[c] = (xr[c] - mean) * rstd * w[c] + b[c];
        return;
    }
    float s = 0;
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) s += xr[c] * xr[c];
    const float scale = 1.0f / sqrtf(blockSum(s) / float(C) + eps);
    __syncthreads();
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) yr[c] = xr[c] * scale * w[c];
}

// One warp per (row, head).
__global__ void headRmsNormKernel(float* x, int64_t N, int64_t ld, int heads, int hd,
                                  const float* w, float eps) {
    const int64_t item = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5;
    const int lane = threadIdx.x & 31;
    if (item >= N * heads) return;
    float* v = x + (item / heads) * ld + (item % heads) * hd;
    float s = 0;
    for (int i = lane; i < hd; i += 32) s += v[i] * v[i];
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    const float scale = 1.0f / sqrtf(s / float(hd) + eps);
    for (int i = lane; i < hd; i += 32) v[i] = v[i] * scale * w[i];
}

__global__ void ropeKernel(float* qkv, int64_t N, int64_t ld, int heads, int hd, int half,
                           bool interleaved, const float* cosT, const float* sinT,
                           const int32_t* pos) {
    MONO_GRID_LOOP(j, N * heads * half) {
        const int64_t r = j / (int64_t(heads) * half);
        const int h = int((j / half) % heads), i = int(j % half);
        float* v = qkv + r * ld + int64_t(h) * hd;
        float* a = interleaved ? v + 2 * i : v + i;
        float* b = interleaved ? v + 2 * i + 1 : v + i + half;
        const float c = cosT[int64_t(pos[r]) * half + i], s = sinT[int64_t(pos[r]) * half + i];
        const float x0 = *a, x1 = *b;
        *a = x0 * c - x1 * s;
        *b = x0 * s + x1 * c;
    }
}

// One block per (query row, head): scores in shared memory, softmax, then the
// weighted sum of the values, one output dimension per thread.
__global__ void attentionKernel(const float* qkv, const int32_t* rowStart, const int32_t* pos,
                                int H, int Hkv, int hd, float scale, float cap, int64_t window,
                                float* out) {
    extern __shared__ float shared[];  // q [hd], then the scores
    float* q = shared;
    float* sc = shared + hd;
    const int64_t r = blockIdx.x;
    const int h = blockIdx.y, g = h / (H / Hkv);
    const int64_t ld = int64_t(H + 2 * Hkv) * hd;
    const int64_t row0 = rowStart[r], visible = int64_t(pos[r]) + 1;
    const int64_t first = window > 0 && visible > window ? visible - window : 0;
    const int64_t n = visible - first;
    for (int d = threadIdx.x; d < hd; d += blockDim.x) q[d] = qkv[r * ld + int64_t(h) * hd + d];
    __syncthreads();
    float m = -INFINITY;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
        const float* k = qkv + (row0 + first + j) * ld + int64_t(H + g) * hd;
        float s = 0;
        for (int d = 0; d < hd; ++d) s += q[d] * k[d];
        s *= scale;
        if (cap > 0.0f) s = tanhf(s / cap) * cap;
        sc[j] = s;
        m = fmaxf(m, s);
    }
    m = blockMax(m);
    float sum = 0;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
        const float e = expf(sc[j] - m);
        sc[j] = e;
        sum += e;
    }
    const float inv = 1.0f / blockSum(sum);  // blockSum synchronises: sc is complete
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        const float* v = qkv + (row0 + first) * ld + int64_t(H + Hkv + g) * hd + d;
        float o = 0;
        for (int64_t j = 0; j < n; ++j) o += sc[j] * v[j * ld];
        out[r * int64_t(H) * hd + int64_t(h) * hd + d] = o * inv;
    }
}

__global__ void biasActKernel(float* Y, int64_t ldy, int64_t N, int64_t cols, const float* b,
                              Act act) {
    MONO_GRID_LOOP(i, N * cols) {
        float& y = Y[(i / cols) * ldy + i % cols];
        float v = b ? y + b[i % cols] : y;
        if (act == Act::kGeluTanh) v = geluTanhOf(v);
        if (act == Act::kGeluErf) v = geluErfOf(v);
        if (act == Act::kRelu) v = fmaxf(v, 0.0f);
        y = v;
    }
}

__global__ void gatedMulKernel(const float* gu, float* out, int64_t N, int64_t F, Act gate,
                               bool silu) {
    MONO_GRID_LOOP(i, N * F) {
        const int64_t r = i / F, c = i % F;
        const float g = gu[r * 2 * F + c], u = gu[r * 2 * F + F + c];
        const float a = silu                     ? g / (1.0f + expf(-g))
                        : gate == Act::kGeluTanh ? geluTanhOf(g)
                                                 : geluErfOf(g);
        out[i] = a * u;
    }
}

__global__ void addIntoKernel(float* y, const float* x, int64_t n) {
    MONO_GRID_LOOP(i, n) y[i] += x[i];
}

__global__ void softcapKernel(float* x, int64_t n, float cap) {
    MONO_GRID_LOOP(i, n) x[i] = tanhf(x[i] / cap) * cap;
}

__global__ void gatherRowsKernel(const float* x, const int32_t* rows, int64_t n, int64_t C,
                                 float* out) {
    MONO_GRID_LOOP(i, n * C) {
        const int32_t r = rows[i / C];
        out[i] = r >= 0 ? x[int64_t(r) * C + i % C] : 0.0f;
    }
}

}  // namespace

void embedRows(const int32_t* tokens, const int32_t* pos, const float* E, const float* P,
               float scale, int64_t N, int64_t C, float* x, cudaStream_t stream) {
    if (N == 0) return;
    embedKernel<<<blocksFor(N * C), kThreads, 0, stream>>>(tokens, pos, E, P, scale, N, C, x);
}

void normRows(const float* x, float* out, int64_t N, int64_t C, const float* w, const float* b,
              bool layerNorm, float eps, cudaStream_t stream) {
    if (N == 0) return;
    normKernel<<<unsigned(N), kThreads, 0, stream>>>(x, out, C, w, b, layerNorm, eps);
}

void headRmsNorm(float* x, int64_t N, int64_t ld, int heads, int hd, const float* w, float eps,
                 cudaStream_t stream) {
    const int64_t warps = N * heads;
    if (warps == 0) return;
    headRmsNormKernel<<<unsigned((warps * 32 + kThreads - 1) / kThreads), kThreads, 0, stream>>>(
        x, N, ld, heads, hd, w, eps);
}

void rope(float* qkv, int64_t N, int64_t ld, int heads, int hd, int half, bool interleaved,
          const float* cosTable, const float* sinTable, const int32_t* pos, cudaStream_t stream) {
    const int64_t n = N * heads * half;
    if (n == 0) return;
    ropeKernel<<<blocksFor(n), kThreads, 0, stream>>>(qkv, N, ld, heads, hd, half, interleaved,
                                                      cosTable, sinTable, pos);
}

void causalAttention(const float* qkv, const int32_t* rowStart, const int32_t* pos, int64_t N,
                     int H, int Hkv, int hd, float scale, float cap, int64_t window,
                     int64_t maxKeys, float* out, cudaStream_t stream) {
    if (N == 0) return;
    const size_t shared = sizeof(float) * size_t(hd + maxKeys);
    attentionKernel<<<dim3(unsigned(N), unsigned(H)), 128, shared, stream>>>(
        qkv, rowStart, pos, H, Hkv, hd, scale, cap, window, out);
}

void biasAct(float* Y, int64_t ldy, int64_t N, int64_t cols, const float* b, Act act,
             cudaStream_t stream) {
    if (N * cols == 0 || (!b && act == Act::kNone)) return;
    biasActKernel<<<blocksFor(N * cols), kThreads, 0, stream>>>(Y, ldy, N, cols, b, act);
}

void gatedMul(const float* gu, float* out, int64_t N, int64_t F, Act gate, bool silu,
              cudaStream_t stream) {
    if (N * F == 0) return;
    gatedMulKernel<<<blocksFor(N * F), kThreads, 0, stream>>>(gu, out, N, F, gate, silu);
}

void addInto(float* y, const float* x, int64_t n, cudaStream_t stream) {
    if (n == 0) return;
    addIntoKernel<<<blocksFor(n), kThreads, 0, stream>>>(y, x, n);
}

void softcap(float* x, int64_t n, float cap, cudaStream_t stream) {
    if (n == 0) return;
    softcapKernel<<<blocksFor(n), kThreads, 0, stream>>>(x, n, cap);
}

void gatherRows(const float* x, const int32_t* rows, int64_t n, int64_t C, float* out,
                cudaStream_t stream) {
    if (n * C == 0) return;
    gatherRowsKernel<<<blocksFor(n * C), kThreads, 0, stream>>>(x, rows, n, C, out);
}

}  // namespace mono::gpu
