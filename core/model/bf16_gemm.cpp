#include "core/model/bf16_gemm.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "core/base/register_tile.h"
#include "core/io/tensor.h"

namespace mono::model::cpu {

namespace {

constexpr int kLanes = 16;                // float outputs per vector = outputs per panel
constexpr int kRows = 6;                  // rows per micro-tile
constexpr int kPanels = 4;                // panels per micro-tile: 6 × 4 = 24 accumulators
constexpr int64_t kRowBlock = 96;         // rows whose bf16 inputs stay in L2 across panel groups
constexpr int64_t kChunkPanels = 8;       // 128 outputs: the unit of work of one thread
constexpr int64_t kSerialWork = 1 << 17;  // multiply-adds below which forking costs more

#define MONO_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

// One micro-tile: R rows × P panels over all input pairs, plus bias, stored
// with a mask for a partial last panel. The accumulators stay in registers
// (core/base/register_tile.h says why).
inline int32_t loadPair(const uint16_t* p) {
    int32_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
}
#define MONO_BF16_BROADCAST(r) (__m512bh) _mm512_set1_epi32(loadPair(x + r * ldx + 2 * k))
template <int R, int P>
MONO_BF16_TARGET void microTile(const uint16_t* x, int64_t ldx, const uint16_t* w,
                                int64_t panelStride, int64_t pairs, const float* bias, float* y,
                                int64_t ldy, int lastCols) {
    MONO_TILE_DECLARE(__m512, _mm512_setzero_ps());
    const uint16_t* w0 = w;
    const uint16_t* w1 = w + (P > 1 ? panelStride : 0);
    const uint16_t* w2 = w + (P > 2 ? 2 * panelStride : 0);
    const uint16_t* w3 = w + (P > 3 ? 3 * panelStride : 0);
    for (int64_t k = 0; k < pairs; ++k) {
        const int64_t at = k * 2 * kLanes;
        const auto b0 = (__m512bh)_mm512_load_si512(w0 + at);
        const auto b1 = P > 1 ? (__m512bh)_mm512_load_si512(w1 + at) : b0;
        const auto b2 = P > 2 ? (__m512bh)_mm512_load_si512(w2 + at) : b0;
        const auto b3 = P > 3 ? (__m512bh)_mm512_load_si512(w3 + at) : b0;
        MONO_TILE_STEP(MONO_BF16_BROADCAST, _mm512_dpbf16_ps, b0, b1, b2, b3);
    }
    MONO_TILE_AS_ARRAY(__m512, acc);
    for (int j = 0; j < P; ++j) {
        const __mmask16 mask = j == P - 1 ? __mmask16((1u << lastCols) - 1u) : __mmask16(0xFFFF);
        const __m512 b =
            bias ? _mm512_maskz_loadu_ps(mask, bias + j * kLanes) : _mm512_setzero_ps();
        for (int r = 0; r < R; ++r)
            _mm512_mask_storeu_ps(y + r * ldy + j * kLanes, mask, _mm512_add_ps(acc[r][j], b));
    }
}
#undef MONO_BF16_BROADCAST

using TileFn = void (*)(const uint16_t*, int64_t, const uint16_t*, int64_t, int64_t, const float*,
                        float*, int64_t, int);

template <int R, int... P>
constexpr std::array<TileFn, kPanels> tilesForRows(std::integer_sequence<int, P...>) {
    return {&microTile<R, P + 1>...};
}

template <int... R>
constexpr std::array<std::array<TileFn, kPanels>, kRows> tileTable(
    std::integer_sequence<int, R...>) {
    return {tilesForRows<R + 1>(std::make_integer_sequence<int, kPanels>())...};
}

// kTiles[R - 1][P - 1] handles R rows and P panels.
constexpr auto kTiles = tileTable(std::make_integer_sequence<int, kRows>());

// n floats to bf16, rounding to nearest even (vcvtneps2bf16 semantics).
MONO_BF16_TARGET void toBf16(const float* src, int64_t n, uint16_t* dst) {
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        const __m256bh v = _mm512_cvtneps_pbh(_mm512_loadu_ps(src + i));
        std::memcpy(dst + i, &v, sizeof v);
    }
    for (; i < n; ++i) dst[i] = io::floatToBf16(src[i]);
}

// Y columns [c0, c1) (multiples of 16 except at the end) for all N rows.
void chunk(const uint16_t* xb, int64_t ldxb, int64_t N, const PackedBf16& W, int64_t p0, int64_t p1,
           const float* b, float* Y, int64_t ldy) {
    const int64_t panelStride = W.pairs * 2 * kLanes;
    for (int64_t r0 = 0; r0 < N; r0 += kRowBlock) {
        const int64_t r1 = std::min(N, r0 + kRowBlock);
        for (int64_t p = p0; p < p1; p += kPanels) {
            const int np = static_cast<int>(std::min<int64_t>(kPanels, p1 - p));
            const int64_t lastPanelEnd = std::min<int64_t>(W.out, (p + np) * kLanes);
            const int lastCols = static_cast<int>(lastPanelEnd - (p + np - 1) * kLanes);
            const uint16_t* w = W.data.data() + p * panelStride;
            const float* bias = b ? b + p * kLanes : nullptr;
            for (int64_t r = r0; r < r1; r += kRows) {
                const int nr = static_cast<int>(std::min<int64_t>(kRows, r1 - r));
                kTiles[nr - 1][np - 1](xb + r * ldxb, ldxb, w, panelStride, W.pairs, bias,
                                       Y + r * ldy + p * kLanes, ldy, lastCols);
            }
        }
    }
}

}  // namespace

bool bf16Supported() {
    static const bool supported = __builtin_cpu_supports("avx512f") &&
                                  __builtin_cpu_supports("avx512bw") &&
                                  __builtin_cpu_supports("avx512bf16");
    return supported;
}

PackedBf16 packBf16(const float* W, int64_t out, int64_t in) {
    PackedBf16 p;
    p.out = out;
    p.in = in;
    p.pairs = (in + 1) / 2;
    p.panels = (out + kLanes - 1) / kLanes;
    p.data.assign(static_cast<size_t>(p.panels * p.pairs * 2 * kLanes), 0);
    for (int64_t o = 0; o < out; ++o) {
        uint16_t* dst = p.data.data() + (o / kLanes) * p.pairs * 2 * kLanes + (o % kLanes) * 2;
        for (int64_t i = 0; i < in; ++i)
            dst[(i / 2) * 2 * kLanes + (i % 2)] = io::floatToBf16(W[o * in + i]);
    }
    return p;
}

void linearBf16(const float* X, int64_t ldx, int64_t N, const PackedBf16& W, const float* b,
                float* Y, int64_t ldy) {
    if (N <= 0 || W.out <= 0) return;
    // Inputs rounded once per call; rows padded to whole pairs with zeros.
    const int64_t ldxb = W.pairs * 2;
    thread_local std::vector<uint16_t> xb;
    if (static_cast<int64_t>(xb.size()) < N * ldxb) xb.resize(static_cast<size_t>(N * ldxb));
    for (int64_t r = 0; r < N; ++r) {
        uint16_t* dst = xb.data() + r * ldxb;
        toBf16(X + r * ldx, W.in, dst);
        if (ldxb > W.in) dst[W.in] = 0;
    }
    const int64_t nChunks = (W.panels + kChunkPanels - 1) / kChunkPanels;
    const bool serial = omp_in_parallel() || N * W.out * W.in < kSerialWork;
    const int threads =
        serial ? 1 : static_cast<int>(std::min<int64_t>(nChunks, omp_get_max_threads()));
    const uint16_t* x = xb.data();
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (int64_t c = 0; c < nChunks; ++c) {
        const int64_t p0 = c * kChunkPanels, p1 = std::min(W.panels, p0 + kChunkPanels);
        chunk(x, ldxb, N, W, p0, p1, b, Y, ldy);
    }
}

}  // namespace mono::model::cpu
