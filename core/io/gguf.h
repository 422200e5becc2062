#pragma once
// GGUF v2/v3 (llama.cpp): magic "GGUF", version, tensor count, metadata count,
// metadata key/value pairs, tensor infos, padding to general.alignment, data.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/base/result.h"
#include "core/io/tensor.h"

namespace mono::io {

// One metadata value. Arrays hold values of one type (nested arrays allowed).
struct GgufValue {
    // clang-format off
    enum class Type : uint32_t {
        kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
        kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
    };
    // clang-format on
    Type type = Type::kU32;
    std::variant<uint64_t, int64_t, double, bool, std::string, std::vector<GgufValue>> value;

    // Conversions that succeed when the stored type fits; nullopt-like via Result.
    Result<int64_t> asInt() const;                  // any integer type (u64 > INT64_MAX fails)
    Result<double> asFloat() const;                 // f32/f64 and integers
    Result<std::string> asString() const;           // string only
    const std::vector<GgufValue>* asArray() const;  // nullptr when not an array
};

const char* ggufTypeName(GgufValue::Type t);

class GgufFile {
public:
    // Maps and validates the whole file; errors name the file, the key or tensor,
    // and the byte offset where parsing failed.
    static Result<GgufFile> open(const std::string& path);

    const std::string& path() const;
    uint32_t version() const;
    uint64_t alignment() const;
    const std::map<std::string, GgufValue>& metadata() const;
    const GgufValue* find(const std::string& key) const;  // nullptr if absent

    // Tensor views carry GGUF's dimension order reversed into row-major
    // (outermost first), so a [n_embd, n_vocab] ggml tensor reads as [n_vocab, n_embd].
    const std::vector<TensorView>& tensors() const;
    const TensorView* findTensor(const std::string& name) const;

    // Typed metadata helpers: NotFound when the key is absent, Corruption on a type mismatch.
    Result<int64_t> getInt(const std::string& key) const;
    Result<double> getFloat(const std::string& key) const;
    Result<std::string> getString(const std::string& key) const;
    Result<std::vector<std::string>> getStringArray(const std::string& key) const;
    Result<std::vector<float>> getFloatArray(const std::string& key) const;
    Result<std::vector<int64_t>> getIntArray(const std::string& key) const;

    GgufFile(GgufFile&&) noexcept;
    GgufFile& operator=(GgufFile&&) noexcept;
    ~GgufFile();

private:
    struct Impl;
    explicit GgufFile(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace mono::io
