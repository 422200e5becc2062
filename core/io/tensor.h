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

enum class DType { kF32, kF16, kBF16, kF64, kI8, kU8, kI16, kI32, kI64, kBool, kQ8_0 };

const char* dtypeName(DType t);  // "F32", "BF16", "Q8_0" ...

// Bytes of `count` elements of `t`; for block formats (Q8_0: 32 values in 34
// bytes) `count` must be a multiple of the block size. Returns false on overflow
// or a partial block.
bool dtypeByteSize(DType t, uint64_t count, uint64_t* bytes);

struct TensorView {
    std::string name;
    DType dtype = DType::kF32;
    std::vector<int64_t> shape;     // row-major, outermost first (safetensors/NumPy order)
    const uint8_t* data = nullptr;  // owned by the file this view came from
    uint64_t nbytes = 0;

    uint64_t numel() const;
};

// Converts F32/F16/BF16/F64/Q8_0 (and the integer types) to float32.
// Errors name the tensor when the dtype cannot be converted.
Result<std::vector<float>> toFloat(const TensorView& t);

// "F32 [768, 2304]"
std::string describe(const TensorView& t);

}  // namespace mono::io
