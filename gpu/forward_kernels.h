#pragma once
// Internal to gpu/: the forward pass' kernels besides the GEMMs (cuBLAS), each
// the CUDA twin of a cpu_kernels.h function with the same float arithmetic.
// Row-major buffers; launchers enqueue on `stream` and return at once.

#include <cuda_runtime.h>

#include <cstdint>

namespace mono::gpu {

// x[r] = E[token[r]] (+ P[pos[r]]) (· scale when scale > 0).
void embedRows(const int32_t* tokens, const int32_t* pos, const float* E, const float* P,
               float scale, int64_t N, int64_t C, float* x, cudaStream_t stream);
// out = LayerNorm(x)·w + b (b non-null) or RMSNorm x/√(mean x² + eps)·w; may be in place.
void normRows(const float* x, float* out, int64_t N, int64_t C, const float* w, const float* b,
              bool layerNorm, float eps, cudaStream_t stream);
// RMSNorm of each of `heads` vectors of hd values per row (row stride ld), in place.
void headRmsNorm(float* x, int64_t N, int64_t ld, int heads, int hd, const float* w, float eps,
                 cudaStream_t stream);
// RoPE of the leading 2·half dims of each of `heads` heads (row stride ld) by
// the row's position, with tables cos/sin [positions, half].
void rope(float* qkv, int64_t N, int64_t ld, int heads, int hd, int half, bool interleaved,
          const float* cosTable, const float* sinTable, const int32_t* pos, cudaStream_t stream);

// Causal attention without a cache: query row r sees the rows rowStart[r] ..
// rowStart[r] + pos[r] of its own sequence (the last `window` when window > 0),
// scores scaled then soft-capped (cap > 0). q, k, v are the column blocks of
// qkv [N, (H + 2Hkv)·hd]; out is [N, H·hd]. maxKeys bounds pos + 1.
void causalAttention(const float* qkv, const int32_t* rowStart, const int32_t* pos, int64_t N,
                     int H, int Hkv, int hd, float scale, float cap, int64_t window,
                     int64_t maxKeys, float* out, cudaStream_t stream);

enum class Act { kNone, kGeluTanh, kGeluErf, kRelu };
// Y[r, :cols] = act(Y + b) (b may be null), row stride ldy.
void biasAct(float* Y, int64_t ldy, int64_t N, int64_t cols, const float* b, Act act,
             cudaStream_t stream);
// out[N, F] = act(gu[:, :F]) · gu[:, F:] with act silu, GELU-tanh or GELU-erf.
void gatedMul(const float* gu, float* out, int64_t N, int64_t F, Act gate, bool silu,
              cudaStream_t stream);
// y += x over n values.
void addInto(float* y, const float* x, int64_t n, cudaStream_t stream);
// x → cap·tanh(x / cap).
void softcap(float* x, int64_t n, float cap, cudaStream_t stream);
// out[s] = x[rows[s]] or zeros where rows[s] < 0.
void gatherRows(const float* x, const int32_t* rows, int64_t n, int64_t C, float* out,
                cudaStream_t stream);

// Largest number of keys causalAttention takes (its scores live in shared memory).
inline constexpr int64_t kMaxAttentionKeys = 8192;

}  // namespace mono::gpu
