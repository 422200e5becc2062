#include "core/kernels/bf16_gemm.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "core/io/tensor.h"
#include "core/kernels/bf16_simd.h"
#include "core/kernels/register_tile.h"

namespace mono::kernels {

namespace {

constexpr int kLanes = simd::kLanes;      // float outputs per vector = outputs per panel
constexpr int kRows = 6;                  // rows per micro-tile
constexpr int kPanels = 4;                // panels per micro-tile: 6 × 4 = 24 accumulators
constexpr int64_t kRowBlock = 96;         // rows whose bf16 inputs stay in L2 across panel groups
constexpr int64_t kChunkPanels = 8;       // 128 outputs: the unit of work of one thread
constexpr int64_t kSerialWork = 1 << 17;  // multiply-adds below which forking costs more
// Input pairs per pass over a row block: a 4-panel strip of W (128 KiB) and the
// block's inputs (192 KiB for 96 rows) stay in L2 when the inputs are long (an
// SAE's decoder has 16384, a weight gradient sums over a 4096-row batch).
constexpr int64_t kDepthPairs = 512;

// One micro-tile: R rows × P panels over one depth pass of input pairs, added
// to the bias (first pass) or to Y's partial sums (later passes), stored with
// a mask for a partial last panel. The accumulators stay in registers
// (core/kernels/register_tile.h says why).
inline int32_t loadPair(const uint16_t* p) {
    int32_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
}
#define MONO_BF16_BROADCAST(r) (__m512bh) _mm512_set1_epi32(loadPair(x + r * ldx + 2 * k))
template <int R, int P>
MONO_BF16_TARGET void microTile(const uint16_t* x, int64_t ldx, const uint16_t* w,
                                int64_t panelStride, int64_t pairs, const float* bias, float* y,
                                int64_t ldy, int lastCols, bool accumulate) {
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
        for (int r = 0; r < R; ++r) {
            float* out = y + r * ldy + j * kLanes;
            const __m512 base = accumulate ? _mm512_maskz_loadu_ps(mask, out) : b;
            _mm512_mask_storeu_ps(out, mask, _mm512_add_ps(acc[r][j], base));
        }
    }
}
#undef MONO_BF16_BROADCAST

using TileFn = void (*)(const uint16_t*, int64_t, const uint16_t*, int64_t, int64_t, const float*,
                        float*, int64_t, int, bool);

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

// Y rows [rBegin, rEnd) × panels [p0, p1), in depth passes of kDepthPairs: the
// first pass adds the bias, later passes add into Y.
// Y's column 0 and b[0] belong to output pBase · 16.
void chunk(const uint16_t* xb, int64_t ldxb, int64_t rBegin, int64_t rEnd, const PackedBf16& W,
           int64_t p0, int64_t p1, const float* b, float* Y, int64_t ldy, int64_t pBase = 0) {
    const int64_t panelStride = W.pairs * 2 * kLanes;
    // Up to two blocks' worth of rows make one block: W is then read once (the
    // SAE trainer's 192-row blocks, each a serial call on its own thread).
    const int64_t rowBlock = rEnd - rBegin <= 2 * kRowBlock ? rEnd - rBegin : kRowBlock;
    for (int64_t r0 = rBegin; r0 < rEnd; r0 += rowBlock) {
        const int64_t r1 = std::min(rEnd, r0 + rowBlock);
        // At least one pass, so that zero inputs still store the bias.
        for (int64_t k0 = 0; k0 == 0 || k0 < W.pairs; k0 += kDepthPairs) {
            const int64_t depth = std::min(kDepthPairs, W.pairs - k0);
            const bool accumulate = k0 > 0;
            for (int64_t p = p0; p < p1; p += kPanels) {
                const int np = static_cast<int>(std::min<int64_t>(kPanels, p1 - p));
                const int64_t lastPanelEnd = std::min<int64_t>(W.out, (p + np) * kLanes);
                const int lastCols = static_cast<int>(lastPanelEnd - (p + np - 1) * kLanes);
                const uint16_t* w = W.data.data() + p * panelStride + k0 * 2 * kLanes;
                const float* bias = b ? b + (p - pBase) * kLanes : nullptr;
                for (int64_t r = r0; r < r1; r += kRows) {
                    const int nr = static_cast<int>(std::min<int64_t>(kRows, r1 - r));
                    kTiles[nr - 1][np - 1](xb + r * ldxb + k0 * 2, ldxb, w, panelStride, depth,
                                           bias, Y + r * ldy + (p - pBase) * kLanes, ldy, lastCols,
                                           accumulate);
                }
            }
        }
    }
}

// (lo[j], hi[j]) bf16 pairs for j < 16 from memory; masked-off lanes are zero.
MONO_BF16_TARGET __m512i pairUp(const float* lo, const float* hi, __mmask16 mask) {
    return simd::pairUp(_mm512_maskz_loadu_ps(mask, lo),
                        hi ? _mm512_maskz_loadu_ps(mask, hi) : _mm512_setzero_ps());
}

MONO_BF16_TARGET void packPanel(const float* W, int64_t out, int64_t in, int64_t outStride,
                                int64_t inStride, int64_t panel, uint16_t* dst, int64_t pairs) {
    const int64_t o0 = panel * kLanes;
    const int width = static_cast<int>(std::min<int64_t>(kLanes, out - o0));
    if (outStride == 1) {
        // Two source rows per pair, 16 consecutive outputs from each.
        const __mmask16 mask = __mmask16((1u << width) - 1u);
        for (int64_t k = 0; k < pairs; ++k) {
            const float* lo = W + 2 * k * inStride + o0;
            const float* hi = 2 * k + 1 < in ? lo + inStride : nullptr;
            _mm512_store_si512(dst + k * 2 * kLanes, pairUp(lo, hi, mask));
        }
        return;
    }
    {  // inStride == 1 (packBf16Into requires one of the strides to be 1)
        // One source row per output: 16 pairs at a time rounded in a vector,
        // then spread to their 16 pair slots.
        for (int j = 0; j < width; ++j) {
            const float* row = W + (o0 + j) * outStride;
            for (int64_t k0 = 0; k0 < pairs; k0 += kLanes) {
                const int64_t n = std::min<int64_t>(2 * kLanes, in - 2 * k0);
                const __mmask16 loMask = __mmask16((1u << std::min<int64_t>(kLanes, n)) - 1u);
                const __mmask16 hiMask =
                    n > kLanes ? __mmask16((1u << (n - kLanes)) - 1u) : __mmask16(0);
                const __m512 lo = _mm512_maskz_loadu_ps(loMask, row + 2 * k0);
                const __m512 hi = _mm512_maskz_loadu_ps(hiMask, row + 2 * k0 + kLanes);
                alignas(64) uint32_t both[kLanes];  // pair q = (row[2(k0+q)], row[2(k0+q)+1])
                _mm512_store_si512(both, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
                const int64_t count = std::min<int64_t>(kLanes, pairs - k0);
                for (int64_t q = 0; q < count; ++q)
                    std::memcpy(dst + (k0 + q) * 2 * kLanes + 2 * j, &both[q], sizeof(uint32_t));
            }
        }
        for (int j = width; j < kLanes; ++j)
            for (int64_t k = 0; k < pairs; ++k) {
                dst[k * 2 * kLanes + 2 * j] = 0;
                dst[k * 2 * kLanes + 2 * j + 1] = 0;
            }
        return;
    }
}

}  // namespace

namespace {
// MONO_NO_AVX512_BF16=1 in the environment, or setBf16Disabled(true), hides
// the instructions: the no-AVX-512-BF16 paths then run (and are tested) here.
std::atomic<bool>& bf16Disabled() {
    static std::atomic<bool> disabled{[] {
        const char* v = std::getenv("MONO_NO_AVX512_BF16");
        return v && *v && std::strcmp(v, "0") != 0;
    }()};
    return disabled;
}
}  // namespace

bool bf16Supported() {
    static const bool hardware = __builtin_cpu_supports("avx512f") &&
                                 __builtin_cpu_supports("avx512bw") &&
                                 __builtin_cpu_supports("avx512bf16");
    return hardware && !bf16Disabled().load();
}

void setBf16Disabled(bool disabled) {
    bf16Disabled().store(disabled);
}

PackedBf16 packBf16(const float* W, int64_t out, int64_t in) {
    PackedBf16 p;
    packBf16Into(W, out, in, in, 1, p);
    return p;
}

void packBf16Into(const float* W, int64_t out, int64_t in, int64_t outStride, int64_t inStride,
                  PackedBf16& p) {
    assert(outStride == 1 || inStride == 1);
    p.out = out;
    p.in = in;
    p.pairs = (in + 1) / 2;
    p.panels = (out + kLanes - 1) / kLanes;
    p.data.resize(static_cast<size_t>(p.panels * p.pairs * 2 * kLanes));
    const int64_t panelSize = p.pairs * 2 * kLanes;
    const bool serial = omp_in_parallel() || out * in < kSerialWork;
#pragma omp parallel for schedule(static) if (!serial)
    for (int64_t panel = 0; panel < p.panels; ++panel)
        packPanel(W, out, in, outStride, inStride, panel, p.data.data() + panel * panelSize,
                  p.pairs);
}

void linearBf16(const float* X, int64_t ldx, int64_t N, const PackedBf16& W, const float* b,
                float* Y, int64_t ldy) {
    linearBf16Panels(X, ldx, N, W, 0, W.panels, b, Y, ldy);
}

void linearBf16Rounded(const uint16_t* xb, int64_t ldxb, int64_t N, const PackedBf16& W,
                       const float* b, float* Y, int64_t ldy) {
    linearBf16RoundedPanels(xb, ldxb, N, W, 0, W.panels, b, Y, ldy);
}

void linearBf16Panels(const float* X, int64_t ldx, int64_t N, const PackedBf16& W,
                      int64_t panelBegin, int64_t panelEnd, const float* b, float* Y, int64_t ldy) {
    if (N <= 0 || W.out <= 0 || panelEnd <= panelBegin) return;
    // Inputs rounded once per call; rows padded to whole pairs with zeros.
    const int64_t ldxb = W.pairs * 2;
    thread_local std::vector<uint16_t> xb;
    if (static_cast<int64_t>(xb.size()) < N * ldxb) xb.resize(static_cast<size_t>(N * ldxb));
    for (int64_t r = 0; r < N; ++r) {
        uint16_t* dst = xb.data() + r * ldxb;
        toBf16(X + r * ldx, W.in, dst);
        if (ldxb > W.in) dst[W.in] = 0;
    }
    linearBf16RoundedPanels(xb.data(), ldxb, N, W, panelBegin, panelEnd, b, Y, ldy);
}

void linearBf16RoundedPanels(const uint16_t* xb, int64_t ldxb, int64_t N, const PackedBf16& W,
                             int64_t panelBegin, int64_t panelEnd, const float* b, float* Y,
                             int64_t ldy) {
    if (N <= 0 || W.out <= 0 || panelEnd <= panelBegin) return;
    const int64_t q0 = panelBegin, panels = panelEnd - panelBegin;
    const int64_t nChunks = (panels + kChunkPanels - 1) / kChunkPanels;
    const int64_t nRowBlocks = (N + kRowBlock - 1) / kRowBlock;
    const bool serial = omp_in_parallel() || N * W.out * W.in < kSerialWork;
    if (serial) {
        chunk(xb, ldxb, 0, N, W, q0, panelEnd, b, Y, ldy, q0);
        return;
    }
    // Many rows and few outputs (a weight gradient: F rows, d outputs): split
    // the rows, so that each thread reads its inputs once. Otherwise split the
    // outputs, so that each thread reads its share of W once.
    if (nRowBlocks >= 4 * nChunks) {
#pragma omp parallel for schedule(dynamic, 1)
        for (int64_t rb = 0; rb < nRowBlocks; ++rb)
            chunk(xb, ldxb, rb * kRowBlock, std::min(N, (rb + 1) * kRowBlock), W, q0, panelEnd, b,
                  Y, ldy, q0);
        return;
    }
    const int threads = static_cast<int>(std::min<int64_t>(nChunks, omp_get_max_threads()));
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (int64_t c = 0; c < nChunks; ++c) {
        const int64_t p0 = q0 + c * kChunkPanels, p1 = std::min(panelEnd, p0 + kChunkPanels);
        chunk(xb, ldxb, 0, N, W, p0, p1, b, Y, ldy, q0);
    }
}

}  // namespace mono::kernels
