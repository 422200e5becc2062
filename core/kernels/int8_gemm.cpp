// The int8 GEMM kernels. Letters: M rows of A (tokens), N rows of B (output
// channels), K the shared inner dimension, K4 = K rounded up to 4.
//
// AVX-512 VNNI: B is packed in panels of 16 output channels; inside a panel,
// for every group of 4 k, the 16 channels' 4 bytes lie side by side, so one
// 64-byte load is the right-hand operand of vpdpbusd, whose left-hand operand
// is 4 bytes of one A row broadcast to all lanes. A tile of 4 rows × 64
// channels keeps 16 accumulators in registers.

#include "core/kernels/int8_gemm.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "core/kernels/register_tile.h"

namespace mono::kernels {

namespace {

bool cpuHasVnni() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vnni");
}

bool cpuHasAvx2() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

// Four bytes as one int32 (unaligned), the operand a broadcast repeats.
inline int32_t loadWord(const void* p) {
    int32_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
}

// Enough multiply-adds to be worth forking the OpenMP team for.
bool bigEnough(int64_t m, int64_t n, int64_t k) {
    return m * n * k >= (int64_t(1) << 21);
}

void gemmScalar(const int8_t* A, int64_t lda, int64_t M, const int8_t* B, int64_t N, int64_t K,
                int32_t* C, int64_t ldc) {
#pragma omp parallel for schedule(static) if (bigEnough(M, N, K))
    for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
            const int8_t* a = A + m * lda;
            const int8_t* b = B + n * K;
            int32_t acc = 0;
            for (int64_t k = 0; k < K; ++k) acc += int32_t(a[k]) * int32_t(b[k]);
            C[m * ldc + n] = acc;
        }
}

// One row of C: sign-extends 16 bytes to int16 and multiply-adds pairs into
// int32: exact, unlike vpmaddubsw, which saturates at int16.
__attribute__((target("avx2"))) void gemmAvx2Row(const int8_t* a, const int8_t* B, int64_t N,
                                                 int64_t K, int32_t* c) {
    const int64_t K16 = K / 16 * 16;
    int64_t n = 0;
    for (; n + 4 <= N; n += 4) {
        __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                          _mm256_setzero_si256()};
        for (int64_t k = 0; k < K16; k += 16) {
            const __m256i av =
                _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + k)));
            for (int j = 0; j < 4; ++j) {
                const __m256i bv = _mm256_cvtepi8_epi16(
                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(B + (n + j) * K + k)));
                acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(av, bv));
            }
        }
        for (int j = 0; j < 4; ++j) {
            alignas(32) int32_t lanes[8];
            _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc[j]);
            uint32_t s = 0;  // unsigned: wraps like the vector adds
            for (int l = 0; l < 8; ++l) s += uint32_t(lanes[l]);
            const int8_t* b = B + (n + j) * K;
            for (int64_t k = K16; k < K; ++k) s += uint32_t(int32_t(a[k]) * int32_t(b[k]));
            c[n + j] = int32_t(s);
        }
    }
    for (; n < N; ++n) {
        const int8_t* b = B + n * K;
        int32_t acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += int32_t(a[k]) * int32_t(b[k]);
        c[n] = acc;
    }
}

// The OpenMP loop stays outside the target attribute: clang outlines a
// parallel region into a function that does not inherit it.
void gemmAvx2(const int8_t* A, int64_t lda, int64_t M, const int8_t* B, int64_t N, int64_t K,
              int32_t* C, int64_t ldc) {
#pragma omp parallel for schedule(static) if (bigEnough(M, N, K))
    for (int64_t m = 0; m < M; ++m) gemmAvx2Row(A + m * lda, B, N, K, C + m * ldc);
}

// One tile: R rows of Au (u8, row stride K4) × P panels of 16 channels, its
// accumulators in registers (core/kernels/register_tile.h says why).
#define MONO_VNNI_BROADCAST(r) _mm512_set1_epi32(loadWord(Au + r * K4 + kk))
template <int R, int P>
__attribute__((target("avx512vnni,avx512bw,avx512f"))) inline void vnniTile(
    const uint8_t* Au, int64_t K4, const int8_t* panels, const int32_t* corr, int64_t n0, int64_t N,
    int32_t* C, int64_t ldc) {
    MONO_TILE_DECLARE(__m512i, _mm512_setzero_si512());
    const int64_t panelBytes = K4 * 16;
    const int8_t* p0 = panels;
    const int8_t* p1 = panels + (P > 1 ? panelBytes : 0);
    const int8_t* p2 = panels + (P > 2 ? 2 * panelBytes : 0);
    const int8_t* p3 = panels + (P > 3 ? 3 * panelBytes : 0);
    for (int64_t kk = 0; kk < K4; kk += 4) {
        const __m512i b0 = _mm512_loadu_si512(p0 + kk * 16);
        const __m512i b1 = P > 1 ? _mm512_loadu_si512(p1 + kk * 16) : b0;
        const __m512i b2 = P > 2 ? _mm512_loadu_si512(p2 + kk * 16) : b0;
        const __m512i b3 = P > 3 ? _mm512_loadu_si512(p3 + kk * 16) : b0;
        MONO_TILE_STEP(MONO_VNNI_BROADCAST, _mm512_dpbusd_epi32, b0, b1, b2, b3);
    }
    MONO_TILE_AS_ARRAY(__m512i, acc);
    for (int p = 0; p < P; ++p) {
        const int64_t c0 = n0 + int64_t(p) * 16;
        const int64_t cols = std::min<int64_t>(16, N - c0);
        const __mmask16 mask = cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1);
        const __m512i cv = _mm512_maskz_loadu_epi32(mask, corr + c0);
        for (int r = 0; r < R; ++r)
            _mm512_mask_storeu_epi32(C + r * ldc + c0, mask, _mm512_sub_epi32(acc[r][p], cv));
    }
}
#undef MONO_VNNI_BROADCAST

template <int MR>
void vnniRows(const uint8_t* Au, int64_t K4, const int8_t* panels, int np, const int32_t* corr,
              int64_t n0, int64_t N, int32_t* C, int64_t ldc) {
    switch (np) {
        case 1:
            vnniTile<MR, 1>(Au, K4, panels, corr, n0, N, C, ldc);
            break;
        case 2:
            vnniTile<MR, 2>(Au, K4, panels, corr, n0, N, C, ldc);
            break;
        case 3:
            vnniTile<MR, 3>(Au, K4, panels, corr, n0, N, C, ldc);
            break;
        default:
            vnniTile<MR, 4>(Au, K4, panels, corr, n0, N, C, ldc);
            break;
    }
}

void gemmVnni(const int8_t* A, int64_t lda, int64_t M, const int8_t* vnni, const int32_t* corr,
              int64_t N, int64_t K, int64_t K4, int32_t* C, int64_t ldc) {
    // A + 128 as u8 (flipping the sign bit), zero padded to K4 (B's padding is 0 too).
    thread_local std::vector<uint8_t> shifted;
    shifted.assign(size_t(M * K4), 0);
    for (int64_t m = 0; m < M; ++m)
        for (int64_t k = 0; k < K; ++k)
            shifted[size_t(m * K4 + k)] = uint8_t(A[m * lda + k]) ^ 0x80u;
    const uint8_t* Au = shifted.data();
    const int64_t panels = (N + 15) / 16;
    const int64_t groups = (panels + 3) / 4;  // 64 channels each
    // Each thread owns a fixed range of channel groups (so the sums, and the
    // bits, do not depend on the thread count) and walks the rows in blocks
    // whose activations stay in L2 while every one of its groups reads them.
    constexpr int64_t kRowBlock = 96;
#pragma omp parallel if (bigEnough(M, N, K))
    {
        const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
        const int64_t g0 = groups * t / threads, g1 = groups * (t + 1) / threads;
        for (int64_t r0 = 0; r0 < M; r0 += kRowBlock) {
            const int64_t r1 = std::min(M, r0 + kRowBlock);
            for (int64_t g = g0; g < g1; ++g) {
                const int np = int(std::min<int64_t>(4, panels - 4 * g));
                const int8_t* pb = vnni + 4 * g * K4 * 16;
                const int64_t n0 = 64 * g;
                int64_t m = r0;
                for (; m + 6 <= r1; m += 6)
                    vnniRows<6>(Au + m * K4, K4, pb, np, corr, n0, N, C + m * ldc, ldc);
                for (; m < r1; ++m)
                    vnniRows<1>(Au + m * K4, K4, pb, np, corr, n0, N, C + m * ldc, ldc);
            }
        }
    }
}

}  // namespace

bool int8KernelSupported(Int8Kernel kernel) {
    switch (kernel) {
        case Int8Kernel::kScalar:
            return true;
        case Int8Kernel::kAvx2:
            return cpuHasAvx2();
        case Int8Kernel::kAvx512Vnni:
            return cpuHasVnni();
    }
    return false;
}

Int8Kernel bestInt8Kernel() {
    static const Int8Kernel best = cpuHasVnni()   ? Int8Kernel::kAvx512Vnni
                                   : cpuHasAvx2() ? Int8Kernel::kAvx2
                                                  : Int8Kernel::kScalar;
    return best;
}

const char* int8KernelName(Int8Kernel kernel) {
    switch (kernel) {
        case Int8Kernel::kScalar:
            return "scalar";
        case Int8Kernel::kAvx2:
            return "avx2";
        case Int8Kernel::kAvx512Vnni:
            return "avx512-vnni";
    }
    return "?";
}

PackedInt8 PackedInt8::pack(const int8_t* B, int64_t n, int64_t k, Int8Kernel kernel) {
    PackedInt8 p;
    p.m_kernel = int8KernelSupported(kernel) ? kernel : Int8Kernel::kScalar;
    p.m_n = n;
    p.m_k = k;
    p.m_k4 = (k + 3) / 4 * 4;
    if (p.m_kernel != Int8Kernel::kAvx512Vnni) {
        p.m_rows.assign(B, B + n * k);
        return p;
    }
    const int64_t panels = (n + 15) / 16;
    p.m_vnni.assign(size_t(panels * p.m_k4 * 16), 0);
    p.m_rowSum.assign(size_t(panels * 16), 0);
    for (int64_t r = 0; r < n; ++r) {
        int8_t* panel = p.m_vnni.data() + (r / 16) * p.m_k4 * 16;
        const int64_t lane = r % 16;
        int32_t sum = 0;
        for (int64_t c = 0; c < k; ++c) {
            panel[(c / 4) * 64 + lane * 4 + c % 4] = B[r * k + c];
            sum += B[r * k + c];
        }
        p.m_rowSum[size_t(r)] = 128 * sum;  // the +128 shift's contribution, subtracted later
    }
    return p;
}

void gemmInt8(const int8_t* A, int64_t lda, int64_t m, const PackedInt8& B, int32_t* C,
              int64_t ldc) {
    if (m <= 0 || B.m_n <= 0) return;
    if (B.m_k == 0) {
        for (int64_t r = 0; r < m; ++r) std::fill(C + r * ldc, C + r * ldc + B.m_n, 0);
        return;
    }
    switch (B.m_kernel) {
        case Int8Kernel::kAvx512Vnni:
            gemmVnni(A, lda, m, B.m_vnni.data(), B.m_rowSum.data(), B.m_n, B.m_k, B.m_k4, C, ldc);
            return;
        case Int8Kernel::kAvx2:
            gemmAvx2(A, lda, m, B.m_rows.data(), B.m_n, B.m_k, C, ldc);
            return;
        case Int8Kernel::kScalar:
            gemmScalar(A, lda, m, B.m_rows.data(), B.m_n, B.m_k, C, ldc);
            return;
    }
}

void gemmInt8Reference(const int8_t* A, int64_t m, const int8_t* B, int64_t n, int64_t k,
                       int32_t* C) {
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            int64_t acc = 0;
            for (int64_t c = 0; c < k; ++c) acc += int64_t(A[i * k + c]) * int64_t(B[j * k + c]);
            C[i * n + j] = static_cast<int32_t>(acc);
        }
}

}  // namespace mono::kernels
