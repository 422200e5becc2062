#pragma once
// Internal: the bfloat16 GEMM behind the CPU backend's bf16 mode and the SAE
// trainer's bf16 precision. Weights are rounded to bf16 once and packed for
// AVX-512 BF16 dot products (vdpbf16ps: 32 bf16 products summed pairwise into
// 16 float lanes), inputs are rounded to bf16 per call, and every sum is
// accumulated in float32. Twice the multiply-adds per instruction and half the
// weight bytes of the f32 path, at bf16's ~3 significant digits per operand.

#include <Eigen/Core>
#include <cstdint>
#include <vector>

namespace mono::kernels {

// True when this CPU executes AVX-512 BF16 (checked once, at run time) and
// the instructions are not disabled: MONO_NO_AVX512_BF16=1 in the environment
// or setBf16Disabled(true) make it false, to run (and test) the paths of a
// CPU without them.
bool bf16Supported();
void setBf16Disabled(bool disabled);

// W [out, in] (row-major f32) rounded to bf16 and laid out as panels of 16
// outputs: panel p holds, for each input pair k, the 16 outputs' (W[·][2k],
// W[·][2k+1]) — one 64-byte vector per pair. Odd `in` and the last partial
// panel are zero-padded.
struct PackedBf16 {
    int64_t out = 0, in = 0;
    int64_t pairs = 0;   // ceil(in / 2)
    int64_t panels = 0;  // ceil(out / 16)
    // [panels][pairs][16][2], 64-byte aligned so each pair's vector is one cache line.
    std::vector<uint16_t, Eigen::aligned_allocator<uint16_t>> data;
};

// Requires bf16Supported(), as do all functions below.
PackedBf16 packBf16(const float* W, int64_t out, int64_t in);

// The same packing into `p` (its storage reused) of a matrix given by strides:
// element (o, i) is W[o * outStride + i * inStride], with one of the strides
// 1: inStride = 1 packs a row-major [out, in] matrix, outStride = 1 the
// transpose of a row-major [in, out] one. Parallel unless called inside a
// parallel region.
void packBf16Into(const float* W, int64_t out, int64_t in, int64_t outStride, int64_t inStride,
                  PackedBf16& p);

// Y[N, out] = bf16(X[N, in]) · bf16(W)ᵀ (+ b) with float32 accumulation. Y has
// row stride ldy, X row stride ldx. Results do not depend on the thread count.
void linearBf16(const float* X, int64_t ldx, int64_t N, const PackedBf16& W, const float* b,
                float* Y, int64_t ldy);

// As linearBf16, for inputs already in bf16: row r of X is xb + r·ldxb, holds
// W.in values and is zero up to 2·W.pairs (ldxb even and ≥ 2·W.pairs).
void linearBf16Rounded(const uint16_t* xb, int64_t ldxb, int64_t N, const PackedBf16& W,
                       const float* b, float* Y, int64_t ldy);

// Only outputs of panels [panelBegin, panelEnd) (rows 16·panelBegin up to
// min(out, 16·panelEnd) of W): Y's column 0 and b[0] belong to output
// 16·panelBegin. A fused matrix's part (q of q|k|v) runs on its own this way.
void linearBf16Panels(const float* X, int64_t ldx, int64_t N, const PackedBf16& W,
                      int64_t panelBegin, int64_t panelEnd, const float* b, float* Y, int64_t ldy);
void linearBf16RoundedPanels(const uint16_t* xb, int64_t ldxb, int64_t N, const PackedBf16& W,
                             int64_t panelBegin, int64_t panelEnd, const float* b, float* Y,
                             int64_t ldy);

}  // namespace mono::kernels
