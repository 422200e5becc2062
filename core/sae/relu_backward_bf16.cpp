#include "core/sae/relu_backward_bf16.h"

#include <algorithm>

#include "core/kernels/bf16_simd.h"

namespace mono::sae {

namespace {

// Row r's 16 values of f and of the masked gradient (zero past the block),
// added into the column sums. A function, not a lambda: a lambda would not
// inherit the AVX-512 target of its enclosing function.
MONO_BF16_TARGET inline void maskRow(const float* f, const float* gPre, int64_t n, int64_t F,
                                     int64_t r, int64_t c0, __mmask16 cols, __m512 extra,
                                     __m512& fv, __m512& gv, __m512& gSum, __m512& fSum,
                                     __m512& fired) {
    if (r >= n) {
        fv = gv = _mm512_setzero_ps();
        return;
    }
    fv = _mm512_maskz_loadu_ps(cols, f + r * F + c0);
    const __mmask16 on = _mm512_cmp_ps_mask(fv, _mm512_setzero_ps(), _CMP_GT_OQ);
    gv = _mm512_maskz_add_ps(on, _mm512_maskz_loadu_ps(cols, gPre + r * F + c0), extra);
    gSum = _mm512_add_ps(gSum, gv);
    fSum = _mm512_add_ps(fSum, fv);
    fired = _mm512_mask_add_ps(fired, on, fired, _mm512_set1_ps(1.0f));
}

}  // namespace

MONO_BF16_TARGET void reluBackwardBf16(const float* f, const float* gPre, int64_t n, int64_t F,
                                       const float* extra, float* gSum, float* fSum, float* fired,
                                       uint16_t* fT, uint16_t* gT, int64_t ldT) {
    constexpr int kLanes = kernels::simd::kLanes;
    // Column tiles of 16 latents: their sums stay in registers over all rows,
    // and each 32-row stripe becomes 64 contiguous bytes per latent in fT/gT.
    for (int64_t c0 = 0; c0 < F; c0 += kLanes) {
        const int width = static_cast<int>(std::min<int64_t>(kLanes, F - c0));
        const __mmask16 cols = __mmask16((1u << width) - 1u);
        const __m512 ex = _mm512_maskz_loadu_ps(cols, extra + c0);
        __m512 sg = _mm512_setzero_ps(), sf = _mm512_setzero_ps(), cnt = _mm512_setzero_ps();
        for (int64_t r0 = 0; r0 < n; r0 += 2 * kLanes) {
            const int pairs = static_cast<int>((std::min<int64_t>(2 * kLanes, n - r0) + 1) / 2);
            __m512i tf[kLanes], tg[kLanes];
            for (int q = 0; q < kLanes; ++q) {
                __m512 f0, g0, f1, g1;
                maskRow(f, gPre, n, F, r0 + 2 * q, c0, cols, ex, f0, g0, sg, sf, cnt);
                maskRow(f, gPre, n, F, r0 + 2 * q + 1, c0, cols, ex, f1, g1, sg, sf, cnt);
                tf[q] = kernels::simd::pairUp(f0, f1);
                tg[q] = kernels::simd::pairUp(g0, g1);
            }
            kernels::simd::storeColumns(tf, fT + c0 * ldT + r0, ldT, width, pairs);
            kernels::simd::storeColumns(tg, gT + c0 * ldT + r0, ldT, width, pairs);
        }
        _mm512_mask_storeu_ps(gSum + c0, cols,
                              _mm512_add_ps(_mm512_maskz_loadu_ps(cols, gSum + c0), sg));
        _mm512_mask_storeu_ps(fSum + c0, cols,
                              _mm512_add_ps(_mm512_maskz_loadu_ps(cols, fSum + c0), sf));
        _mm512_mask_storeu_ps(fired + c0, cols,
                              _mm512_add_ps(_mm512_maskz_loadu_ps(cols, fired + c0), cnt));
    }
}

}  // namespace mono::sae
