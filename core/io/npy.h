#pragma once
// NumPy .npy (v1/v2/v3 headers; little-endian f32/f16/f64/i32/i64/u8/i8/bool;
// C order) and .npz (a zip of .npy members, stored or deflated).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/io/tensor.h"

namespace mono::io {

// An array read into memory (npz members may be compressed, so no zero-copy).
struct NpyArray {
    DType dtype = DType::kF32;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;  // C order, little-endian

    TensorView view(const std::string& name = {}) const;
};

// Parses .npy bytes; `source` names the file (and member) in errors.
Result<NpyArray> parseNpy(const uint8_t* data, size_t size, const std::string& source);
Result<NpyArray> readNpy(const std::string& path);
// Writes atomically. Fortran order is never written.
Status writeNpy(const std::string& path, const NpyArray& array);

// All members of an .npz, keyed by name without the ".npy" suffix.
Result<std::map<std::string, NpyArray>> readNpz(const std::string& path);
// Writes an uncompressed (stored) .npz, atomically.
Status writeNpz(const std::string& path, const std::map<std::string, NpyArray>& arrays);

}  // namespace mono::io
