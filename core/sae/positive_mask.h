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

// Appends j and row[j] + bias[j] (row[j] when bias is null) for every j < n
// where that sum is > 0, ascending; returns how many. idx and val need room
// for n entries. Masks of 64 lanes are built first (independent vector
// compares) and only their set bits are visited: a row of a sparse code has
// a few dozen of them among thousands of lanes.
inline int64_t appendPositive(const float* row, const float* bias, int64_t n, int32_t* idx,
                              float* val) {
    int64_t count = 0;
    for (int64_t i0 = 0; i0 < n; i0 += 64) {
        const int w = static_cast<int>(n - i0 < 64 ? n - i0 : 64);
        uint64_t m = 0;
        int j = 0;
#if defined(__AVX512F__)
        const __m512 zero = _mm512_setzero_ps();
        for (; j + 16 <= w; j += 16) {
            __m512 v = _mm512_loadu_ps(row + i0 + j);
            if (bias) v = _mm512_add_ps(v, _mm512_loadu_ps(bias + i0 + j));
            m |= static_cast<uint64_t>(_mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ)) << j;
        }
#endif
        for (; j < w; ++j) {
            const float v = bias ? row[i0 + j] + bias[i0 + j] : row[i0 + j];
            m |= static_cast<uint64_t>(v > 0.0f) << j;
        }
        for (; m != 0; m &= m - 1) {
            const int64_t i = i0 + __builtin_ctzll(m);
            idx[count] = static_cast<int32_t>(i);
            val[count] = bias ? row[i] + bias[i] : row[i];
            ++count;
        }
    }
    return count;
}

}  // namespace mono::sae
