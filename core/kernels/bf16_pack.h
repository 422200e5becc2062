#pragma once
// Filling and reading the packed bf16 layout of bf16_gemm.h without the f32
// matrix it is usually packed from: a model held in bf16 ("bf16-resident",
// core/model/weights.h) packs each checkpoint tensor straight from the file's
// bf16 (or rounds its f32) rows, and reads rows back for embedding lookups
// and tiles back for float32 compute. Plain C++: none of these needs AVX-512
// BF16, so a bf16-resident model loads and runs in f32 on any CPU.

#include <cstdint>

#include "core/kernels/bf16_gemm.h"

namespace mono::kernels {

// Sizes `p` for an [out, in] matrix, every element (and the padding) zero.
void allocateBf16(PackedBf16& p, int64_t out, int64_t in);

// A source of `rows` matrix rows in a file: element (r, i) of the rows is
// src[r * rowStride + i * colStride] (colStride 1: row-major rows; rowStride 1:
// a transposed [in, rows] tensor, GPT-2's Conv1D).
struct Bf16Source {
    const void* data = nullptr;  // may be unaligned (a memory-mapped file)
    bool isBf16 = true;          // bf16 values; false: float32, rounded to nearest even
    int64_t rowStride = 0, colStride = 1;
};

// Writes source rows [0, rows) into rows [destRow, destRow + rows) of `p`
// (p.in columns each). Returns the index of the first NaN or infinite value
// met (row-major within the rows), or -1 when all are finite.
int64_t packBf16Rows(PackedBf16& p, int64_t destRow, int64_t rows, const Bf16Source& src);

// Row `row` of `p` as float32 into out[0, p.in).
void bf16RowToFloat(const PackedBf16& p, int64_t row, float* out);

// Rows [row0, row0 + rows) of `p` as a row-major float32 [rows, p.in] matrix.
void unpackBf16Rows(const PackedBf16& p, int64_t row0, int64_t rows, float* out);

// Payload bytes of `p` (padding included): what holding it costs.
inline int64_t bf16Bytes(const PackedBf16& p) {
    return static_cast<int64_t>(p.data.size() * sizeof(uint16_t));
}

}  // namespace mono::kernels
