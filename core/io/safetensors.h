#pragma once
// safetensors: an 8-byte little-endian header length N, N bytes of JSON
// ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}),
// then the data section; offsets are relative to the data section's start.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/io/tensor.h"

namespace mono::io {

class SafetensorsFile {
public:
    // Maps and validates the file: header length, JSON, dtypes, shapes × dtype =
    // byte size, offsets inside the data section, no overlaps. Errors name the
    // file and the tensor.
    static Result<SafetensorsFile> open(const std::string& path);

    const std::string& path() const;
    const std::vector<TensorView>& tensors() const;         // in data-offset order
    const TensorView* find(const std::string& name) const;  // nullptr if absent
    const std::map<std::string, std::string>& metadata() const;

    SafetensorsFile(SafetensorsFile&&) noexcept;
    SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
    ~SafetensorsFile();

private:
    struct Impl;
    explicit SafetensorsFile(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// A tensor to write: the bytes are copied out of `data` during the call.
struct TensorToWrite {
    std::string name;
    DType dtype = DType::kF32;
    std::vector<int64_t> shape;
    const void* data = nullptr;
    uint64_t nbytes = 0;
};

// Writes atomically (temporary file + rename). Errors: InvalidArgument for
// duplicate names or a size that does not match shape × dtype; IoError.
Status writeSafetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                        const std::map<std::string, std::string>& metadata = {});

}  // namespace mono::io
