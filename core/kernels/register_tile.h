#pragma once
// Building blocks for GEMM micro-kernels whose tile of up to 6 rows × 4
// vectors lives in registers, one named variable per accumulator (c00 … c53).
//
// Why not `__m512 acc[6][4]`: GCC 12 keeps most of such an array on the stack
// and stores and reloads accumulators around every multiply-add; the int8 and
// bf16 kernels ran at a third to a half of the instructions' peak that way.
// Named variables are allocated to registers (24 accumulators + 4 vectors of
// B + 1 broadcast fit AVX-512's 32).
//
// Inside a kernel templated on R (rows, 1..6) and P (vectors, 1..4):
//   MONO_TILE_DECLARE(__m512, _mm512_setzero_ps());
//   for (k ...) {
//       b0..b3 = loads (b1..b3 may repeat b0 when P is smaller);
//       MONO_TILE_STEP(BROADCAST, MULADD, b0, b1, b2, b3);
//   }
//   MONO_TILE_AS_ARRAY(__m512, acc);  // acc[r][p] for the stores
// BROADCAST(r) yields row r's operand for this k; MULADD(c, a, b) returns c + a·b.

#define MONO_TILE_DECLARE_ROW(Type, zero, r) \
    Type c##r##0 = zero, c##r##1 = c##r##0, c##r##2 = c##r##0, c##r##3 = c##r##0

#define MONO_TILE_DECLARE(Type, zero)     \
    MONO_TILE_DECLARE_ROW(Type, zero, 0); \
    MONO_TILE_DECLARE_ROW(Type, zero, 1); \
    MONO_TILE_DECLARE_ROW(Type, zero, 2); \
    MONO_TILE_DECLARE_ROW(Type, zero, 3); \
    MONO_TILE_DECLARE_ROW(Type, zero, 4); \
    MONO_TILE_DECLARE_ROW(Type, zero, 5)

#define MONO_TILE_ROW(r, BROADCAST, MULADD, b0, b1, b2, b3)       \
    if constexpr (R > r) {                                        \
        const auto a##r = BROADCAST(r);                           \
        c##r##0 = MULADD(c##r##0, a##r, b0);                      \
        if constexpr (P > 1) c##r##1 = MULADD(c##r##1, a##r, b1); \
        if constexpr (P > 2) c##r##2 = MULADD(c##r##2, a##r, b2); \
        if constexpr (P > 3) c##r##3 = MULADD(c##r##3, a##r, b3); \
    }

#define MONO_TILE_STEP(BROADCAST, MULADD, b0, b1, b2, b3) \
    MONO_TILE_ROW(0, BROADCAST, MULADD, b0, b1, b2, b3)   \
    MONO_TILE_ROW(1, BROADCAST, MULADD, b0, b1, b2, b3)   \
    MONO_TILE_ROW(2, BROADCAST, MULADD, b0, b1, b2, b3)   \
    MONO_TILE_ROW(3, BROADCAST, MULADD, b0, b1, b2, b3)   \
    MONO_TILE_ROW(4, BROADCAST, MULADD, b0, b1, b2, b3)   \
    MONO_TILE_ROW(5, BROADCAST, MULADD, b0, b1, b2, b3)   \
    static_assert(R >= 1 && R <= 6 && P >= 1 && P <= 4)

#define MONO_TILE_AS_ARRAY(Type, name)                                                         \
    const Type name[6][4] = {{c00, c01, c02, c03}, {c10, c11, c12, c13}, {c20, c21, c22, c23}, \
                             {c30, c31, c32, c33}, {c40, c41, c42, c43}, {c50, c51, c52, c53}}
