#pragma once
// A tensor as it sits in a file: name, element type, shape and a pointer into
// memory the file owns (usually a memory map). Nothing is copied until a caller
// asks for floats.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/base/result.h"

namespace mono::io {

// clang-format off
enum class DType {
    kF32, kF16, kBF16, kF64, kI8, kU8, kI16, kI32, kI64, kBool, kQ8_0,
    // ggml block types a GGUF file may hold: sized and listed, but toFloat
    // answers Unsupported for them.
    kQ4_0, kQ4_1, kQ5_0, kQ5_1, kQ8_1, kQ2_K, kQ3_K, kQ4_K, kQ5_K, kQ6_K, kQ8_K,
    kIQ2_XXS, kIQ2_XS, kIQ3_XXS, kIQ1_S, kIQ4_NL, kIQ3_S, kIQ2_S, kIQ4_XS, kIQ1_M,
    kTQ1_0, kTQ2_0, kMXFP4,
};
// clang-format on

const char* dtypeName(DType t);  // "F32", "BF16", "Q8_0" ...

// Values per block and bytes per block: (1, 4) for F32, (32, 34) for Q8_0.
void dtypeBlock(DType t, uint64_t* valuesPerBlock, uint64_t* bytesPerBlock);
// True for the types toFloat converts.
bool dtypeConvertible(DType t);

// Bytes of `count` elements of `t`; for block formats (Q8_0: 32 values in 34
// bytes) `count` must be a multiple of the block size. Returns false on overflow
// or a partial block.
bool dtypeByteSize(DType t, uint64_t count, uint64_t* bytes);

struct TensorView {
    std::string name;
    DType dtype = DType::kF32;
    std::vector<int64_t> shape;     // row-major, outermost first (safetensors/NumPy order)
    const uint8_t* data = nullptr;  // owned by the file this view came from; may be unaligned
    uint64_t nbytes = 0;

    uint64_t numel() const;
};

// Converts F32/F16/BF16/F64/Q8_0 (and the integer types) to float32.
// Unsupported, naming the tensor and dtype, for the other block types;
// InvalidArgument when nbytes does not match shape × dtype.
Result<std::vector<float>> toFloat(const TensorView& t);
// The same into out[0, numel), which the caller sized (no zero fill, no copy).
Status toFloatInto(const TensorView& t, float* out);

// "F32 [768, 2304]"
std::string describe(const TensorView& t);
// "[768, 2304]"
std::string shapeString(const std::vector<int64_t>& shape);

// Exact IEEE conversions: subnormals, infinities and NaN are kept; narrowing
// rounds to nearest, ties to even.
float halfToFloat(uint16_t h);
float bf16ToFloat(uint16_t b);
uint16_t floatToHalf(float f);
uint16_t floatToBf16(float f);

}  // namespace mono::io
