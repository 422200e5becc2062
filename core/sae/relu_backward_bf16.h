#pragma once
// Internal to the SAE trainer: the dense ReLU backward of one row block in bf16
// precision, fused with the column statistics and with the transposed bf16
// copies that the two weight-gradient GEMMs read. One pass over f and the
// pre-mask gradient instead of three (backward, then two transposes): at
// d=768 these block-sized matrices live in memory, not cache.

#include <cstdint>

namespace mono::sae {

// For rows r < n and latents i < F (f and gPre row-major with row stride F):
//   g = f[r][i] > 0 ? gPre[r][i] + extra[i] : 0        (∂L/∂h)
//   gSum[i] += g;  fSum[i] += f[r][i];  fired[i] += f[r][i] > 0
//   fT[i·ldT + r] = bf16(f[r][i]);  gT[i·ldT + r] = bf16(g)
// Rows n..ldT of fT/gT up to the next even row are zeroed. ldT is even.
// Requires kernels::bf16Supported().
void reluBackwardBf16(const float* f, const float* gPre, int64_t n, int64_t F, const float* extra,
                      float* gSum, float* fSum, float* fired, uint16_t* fT, uint16_t* gT,
                      int64_t ldT);

}  // namespace mono::sae
