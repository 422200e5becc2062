#include "core/kernels/bf16_pack.h"

#include <omp.h>

#include <cmath>
#include <cstring>

#include "core/io/tensor.h"

namespace mono::kernels {

namespace {

constexpr int64_t kLanes = 16;  // outputs per panel (bf16_gemm.h)

// Index of element (row, col) of `p` in p.data.
inline int64_t at(const PackedBf16& p, int64_t row, int64_t col) {
    return (((row / kLanes) * p.pairs + col / 2) * kLanes + row % kLanes) * 2 + col % 2;
}

inline bool bf16Finite(uint16_t v) {
    return (v & 0x7F80u) != 0x7F80u;
}

// One source element as bf16 bits; `bad` set when it is NaN or infinite.
inline uint16_t sourceValue(const Bf16Source& s, int64_t offset, bool* bad) {
    if (s.isBf16) {
        uint16_t v;
        std::memcpy(&v, static_cast<const uint8_t*>(s.data) + 2 * offset, sizeof v);
        *bad = !bf16Finite(v);
        return v;
    }
    float f;
    std::memcpy(&f, static_cast<const uint8_t*>(s.data) + 4 * offset, sizeof f);
    *bad = !std::isfinite(f);
    return io::floatToBf16(f);
}

}  // namespace

void allocateBf16(PackedBf16& p, int64_t out, int64_t in) {
    p.out = out;
    p.in = in;
    p.pairs = (in + 1) / 2;
    p.panels = (out + kLanes - 1) / kLanes;
    p.data.assign(static_cast<size_t>(p.panels * p.pairs * 2 * kLanes), 0);
}

int64_t packBf16Rows(PackedBf16& p, int64_t destRow, int64_t rows, const Bf16Source& src) {
    int64_t firstBad = -1;
    // Rows in order, so that the 16 rows of a panel write one panel's span
    // (pairs × 64 bytes, in L2) while reading the source sequentially.
#pragma omp parallel for schedule(static) if (rows * p.in > (1 << 18) && !omp_in_parallel())
    for (int64_t r = 0; r < rows; ++r) {
        int64_t bad = -1;
        for (int64_t i = 0; i < p.in; ++i) {
            bool b = false;
            p.data[size_t(at(p, destRow + r, i))] =
                sourceValue(src, r * src.rowStride + i * src.colStride, &b);
            if (b && bad < 0) bad = r * p.in + i;
        }
        if (bad >= 0) {
#pragma omp critical(mono_bf16_pack_bad)
            if (firstBad < 0 || bad < firstBad) firstBad = bad;
        }
    }
    return firstBad;
}

void bf16RowToFloat(const PackedBf16& p, int64_t row, float* out) {
    const uint16_t* base = p.data.data() + ((row / kLanes) * p.pairs * kLanes + row % kLanes) * 2;
    for (int64_t k = 0; k < p.pairs; ++k) {
        const uint16_t* pair = base + k * 2 * kLanes;
        const uint32_t lo = uint32_t(pair[0]) << 16, hi = uint32_t(pair[1]) << 16;
        std::memcpy(out + 2 * k, &lo, sizeof lo);
        if (2 * k + 1 < p.in) std::memcpy(out + 2 * k + 1, &hi, sizeof hi);
    }
}

void unpackBf16Rows(const PackedBf16& p, int64_t row0, int64_t rows, float* out) {
#pragma omp parallel for schedule(static) if (rows * p.in > (1 << 16) && !omp_in_parallel())
    for (int64_t r = 0; r < rows; ++r) bf16RowToFloat(p, row0 + r, out + r * p.in);
}

}  // namespace mono::kernels
