#pragma once
// Finding the nonzero codes of a row quickly (internal to core).

#include <immintrin.h>

#include <cstdint>

namespace mono::sae {

// Bit j set when p[j] > 0 (false for NaN), for j < n ≤ 64: one vector compare
// per 16 (AVX-512) or 8 (AVX2) values instead of a branch per value.
inline uint64_t positiveMask(const float* p, int n) {
    int j = 0;
    uint64_t m = 0;
#if defined(__AVX512F__)
    const __m512 zero16 = _mm512_setzero_ps();
    for (; j + 16 <= n; j += 16)
        m |= static_cast<uint64_t>(_mm512_cmp_ps_mask(_mm512_loadu_ps(p + j), zero16, _CMP_GT_OQ))
             << j;
#elif defined(__AVX2__)
    const __m256 zero8 = _mm256_setzero_ps();
    for (; j + 8 <= n; j += 8)
        m |= static_cast<uint64_t>(static_cast<uint32_t>(
                 _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(p + j), zero8, _CMP_GT_OQ))))
             << j;
#endif
    for (; j < n; ++j) m |= static_cast<uint64_t>(p[j] > 0.0f) << j;
    return m;
}

// Calls fn(index) for every j < n with row[j] > 0, ascending.
template <class Fn>
inline void forEachPositive(const float* row, int64_t n, Fn&& fn) {
    for (int64_t i0 = 0; i0 < n; i0 += 64) {
        const int w = static_cast<int>(n - i0 < 64 ? n - i0 : 64);
        for (uint64_t m = positiveMask(row + i0, w); m != 0; m &= m - 1)
            fn(i0 + __builtin_ctzll(m));
    }
}

}  // namespace mono::sae
