#pragma once
// Internal: AVX-512 helpers shared by the bf16 kernel (core/model/bf16_gemm.cpp)
// and the SAE trainer's fused bf16 ReLU backward. Only for code compiled with
// MONO_BF16_TARGET and called when bf16Supported().

#include <immintrin.h>

#include <cstdint>

#define MONO_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

namespace mono::kernels::simd {

inline constexpr int kLanes = 16;  // floats per vector

// (lo[j], hi[j]) for j < 16 as 16 bf16 pairs: element 2j of the result is lo's
// j-th value rounded, element 2j + 1 hi's.
MONO_BF16_TARGET inline __m512i pairUp(__m512 lo, __m512 hi) {
    alignas(64) static constexpr uint16_t kOrder[32] = {0,  16, 1,  17, 2,  18, 3,  19, 4,  20, 5,
                                                        21, 6,  22, 7,  23, 8,  24, 9,  25, 10, 26,
                                                        11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    return _mm512_permutexvar_epi16(_mm512_load_si512(kOrder),
                                    (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
}

// Transposes a 16 × 16 matrix of 32-bit elements held as 16 row vectors:
// afterwards r[j] holds column j. (The zero-masking forms with full masks are
// the same instructions; the plain ones draw a false -Wuninitialized from GCC
// 12 in files built without -mavx512f.)
MONO_BF16_TARGET inline void transpose16x32(__m512i r[kLanes]) {
    constexpr __mmask16 all16 = 0xFFFF;
    constexpr __mmask8 all8 = 0xFF;
    __m512i t[kLanes];
    for (int i = 0; i < kLanes; i += 2) {
        t[i] = _mm512_maskz_unpacklo_epi32(all16, r[i], r[i + 1]);
        t[i + 1] = _mm512_maskz_unpackhi_epi32(all16, r[i], r[i + 1]);
    }
    for (int i = 0; i < kLanes; i += 4) {
        r[i] = _mm512_maskz_unpacklo_epi64(all8, t[i], t[i + 2]);
        r[i + 1] = _mm512_maskz_unpackhi_epi64(all8, t[i], t[i + 2]);
        r[i + 2] = _mm512_maskz_unpacklo_epi64(all8, t[i + 1], t[i + 3]);
        r[i + 3] = _mm512_maskz_unpackhi_epi64(all8, t[i + 1], t[i + 3]);
    }
    for (int i = 0; i < kLanes; i += 8)
        for (int j = 0; j < 4; ++j) {
            t[i + j] = _mm512_maskz_shuffle_i32x4(all16, r[i + j], r[i + j + 4], 0x88);
            t[i + j + 4] = _mm512_maskz_shuffle_i32x4(all16, r[i + j], r[i + j + 4], 0xdd);
        }
    for (int j = 0; j < 8; ++j) {
        r[j] = _mm512_maskz_shuffle_i32x4(all16, t[j], t[j + 8], 0x88);
        r[j + 8] = _mm512_maskz_shuffle_i32x4(all16, t[j], t[j + 8], 0xdd);
    }
}

// A tile of 32 rows × 16 columns as 16 vectors of (row 2q, row 2q + 1) pairs,
// transposed: column j's 32 bf16 values, in row order, stored at column[j]
// (only the first `pairs` pairs and `width` columns).
MONO_BF16_TARGET inline void storeColumns(__m512i tile[kLanes], uint16_t* dst, int64_t ldDst,
                                          int width, int pairs) {
    transpose16x32(tile);
    const __mmask16 pairMask = __mmask16((1u << pairs) - 1u);
    for (int j = 0; j < width; ++j) _mm512_mask_storeu_epi32(dst + j * ldDst, pairMask, tile[j]);
}

}  // namespace mono::kernels::simd
