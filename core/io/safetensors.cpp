// safetensors reader and writer. Byte layout:
//   u64 N (little-endian) | N bytes of UTF-8 JSON, padded with spaces | data section
// JSON: {"__metadata__": {str: str}?, "<name>": {"dtype": "F32", "shape": [..],
//        "data_offsets": [begin, end]}, ...}; offsets are relative to the data section.
// The reference implementation caps N at 100 MB and requires the JSON to start
// with '{'; we do the same.

#include "core/io/safetensors.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "core/base/atomic_file.h"
#include "core/base/text.h"
#include "core/io/byte_reader.h"
#include "core/io/mapped_file.h"

namespace mono::io {

namespace {

using detail::quoteName;
using nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct DTypeName {
    const char* name;
    DType type;
};
constexpr DTypeName kSafetensorsDTypes[] = {
    {"F32", DType::kF32}, {"F16", DType::kF16},   {"BF16", DType::kBF16}, {"F64", DType::kF64},
    {"I8", DType::kI8},   {"U8", DType::kU8},     {"I16", DType::kI16},   {"I32", DType::kI32},
    {"I64", DType::kI64}, {"BOOL", DType::kBool},
};
// Valid safetensors dtypes we do not convert: named in the Unsupported message.
constexpr const char* kKnownOtherDTypes[] = {"U16",     "U32",     "U64",     "F8_E4M3", "F8_E5M2",
                                             "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4",      "C64"};

bool parseDType(const std::string& s, DType* out) {
    for (const auto& d : kSafetensorsDTypes)
        if (s == d.name) {
            *out = d.type;
            return true;
        }
    return false;
}

bool isSafetensorsDType(DType t) {
    for (const auto& d : kSafetensorsDTypes)
        if (d.type == t) return true;
    return false;
}

// A JSON number that is a non-negative integer (nlohmann keeps those unsigned).
bool asIndex(const json& j, uint64_t* out) {
    if (j.is_number_unsigned()) {
        *out = j.get<uint64_t>();
        return true;
    }
    if (j.is_number_integer() && j.get<int64_t>() >= 0) {
        *out = static_cast<uint64_t>(j.get<int64_t>());
        return true;
    }
    return false;
}

}  // namespace

struct SafetensorsFile::Impl {
    MappedFile map;
    std::vector<TensorView> tensors;
    std::unordered_map<std::string, size_t> index;
    std::map<std::string, std::string> metadata;
};

SafetensorsFile::SafetensorsFile(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

namespace {

// The JSON header after the u64 length; `headerBytes` gets that length.
Result<json> readHeader(const uint8_t* base, uint64_t fileSize, const std::string& path,
                        uint64_t* headerBytes) {
    if (fileSize < 8)
        return Status::corruption(path + ": " + std::to_string(fileSize) +
                                  " bytes is too short for a safetensors header length (8 bytes)");
    uint64_t n = 0;
    std::memcpy(&n, base, 8);
    if (n > kMaxHeaderBytes)
        return Status::corruption(path + ": header length " + std::to_string(n) +
                                  " exceeds the 100 MB limit");
    if (n > fileSize - 8)
        return Status::corruption(path + ": header length " + std::to_string(n) +
                                  " exceeds the file (" + std::to_string(fileSize - 8) +
                                  " bytes after the length)");
    if (n < 2 || base[8] != '{')
        return Status::corruption(path + ": header at offset 8 does not start with '{'");

    const char* text = reinterpret_cast<const char*>(base + 8);
    // Parse without exceptions: a malformed header yields a discarded value.
    json header;
    try {
        header = json::parse(text, text + n, nullptr, /*allow_exceptions=*/false);
    } catch (const std::exception&) {
        header = json(json::value_t::discarded);
    }
    if (header.is_discarded())
        return Status::corruption(path + ": header (offset 8, " + std::to_string(n) +
                                  " bytes) is not valid UTF-8 JSON");
    if (!header.is_object()) return Status::corruption(path + ": header is JSON but not an object");
    *headerBytes = n;
    return header;
}

Status readMetadata(const std::string& path, const json& entry,
                    std::map<std::string, std::string>* metadata) {
    if (!entry.is_object()) return Status::corruption(path + ": __metadata__ is not an object");
    for (const auto& [k, v] : entry.items()) {
        if (!v.is_string())
            return Status::corruption(path + ": __metadata__ value for " + quoteName(k) +
                                      " is not a string");
        (*metadata)[k] = v.get<std::string>();
    }
    return Status::success();
}

Status readDType(const std::string& ctx, const json& dt, DType* out) {
    if (!dt.is_string()) return Status::corruption(ctx + ": dtype is not a string");
    const std::string dtype = dt.get<std::string>();
    if (parseDType(dtype, out)) return Status::success();
    for (const char* known : kKnownOtherDTypes)
        if (dtype == known)
            return Status::unsupported(ctx + ": dtype " + dtype + " is not supported");
    return Status::corruption(ctx + ": unknown dtype " + quoteName(dtype));
}

Status readShape(const std::string& ctx, const json& sh, std::vector<int64_t>* shape,
                 uint64_t* numel) {
    if (!sh.is_array()) return Status::corruption(ctx + ": shape is not an array");
    *numel = 1;
    for (const auto& d : sh) {
        uint64_t dim = 0;
        if (!asIndex(d, &dim) || dim > static_cast<uint64_t>(INT64_MAX))
            return Status::corruption(ctx + ": shape " + sh.dump() +
                                      " holds a value that is not a non-negative integer");
        if (detail::mulOverflow(*numel, dim, numel))
            return Status::corruption(ctx + ": shape " + sh.dump() + " overflows");
        shape->push_back(static_cast<int64_t>(dim));
    }
    return Status::success();
}

// A tensor's bytes, relative to the data section.
struct ByteRange {
    uint64_t begin = 0, end = 0;
};

// One tensor entry of the header, its bytes inside `data` (the data section, `dataSize` long).
Status readTensorEntry(const std::string& path, const std::string& name, const json& entry,
                       const uint8_t* data, uint64_t dataSize, TensorView* t, ByteRange* range) {
    const std::string ctx = path + ": tensor " + quoteName(name);
    if (!entry.is_object()) return Status::corruption(ctx + ": entry is not an object");
    auto dt = entry.find("dtype");
    auto sh = entry.find("shape");
    auto off = entry.find("data_offsets");
    if (dt == entry.end() || sh == entry.end() || off == entry.end())
        return Status::corruption(ctx + ": entry needs dtype, shape and data_offsets");
    t->name = name;
    MONO_RETURN_IF_ERROR(readDType(ctx, *dt, &t->dtype));
    uint64_t numel = 1;
    MONO_RETURN_IF_ERROR(readShape(ctx, *sh, &t->shape, &numel));
    uint64_t& begin = range->begin;
    uint64_t& end = range->end;
    if (!off->is_array() || off->size() != 2 || !asIndex((*off)[0], &begin) ||
        !asIndex((*off)[1], &end))
        return Status::corruption(ctx + ": data_offsets " + off->dump() +
                                  " is not [begin, end] with non-negative integers");
    if (end < begin)
        return Status::corruption(ctx + ": data_offsets [" + std::to_string(begin) + ", " +
                                  std::to_string(end) + ") end before they begin");
    if (!dtypeByteSize(t->dtype, numel, &t->nbytes) || t->nbytes != end - begin)
        return Status::corruption(
            ctx + ": " + dt->get<std::string>() + " " + shapeString(t->shape) + " needs " +
            (dtypeByteSize(t->dtype, numel, &t->nbytes) ? std::to_string(t->nbytes)
                                                        : std::string("more than 2^64")) +
            " bytes but data_offsets span " + std::to_string(end - begin));
    if (end > dataSize)
        return Status::corruption(ctx + ": data_offsets [" + std::to_string(begin) + ", " +
                                  std::to_string(end) + ") exceed the data section (" +
                                  std::to_string(dataSize) + " bytes)");
    t->data = data + begin;
    return Status::success();
}

// Puts the tensors in file order after checking that no two overlap.
Status orderByOffset(const std::string& path, const std::vector<ByteRange>& ranges,
                     std::vector<TensorView>* tensors) {
    std::vector<size_t> order(ranges.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return ranges[a].begin != ranges[b].begin ? ranges[a].begin < ranges[b].begin
                                                  : ranges[a].end < ranges[b].end;
    });
    uint64_t prevEnd = 0;
    size_t prevIndex = SIZE_MAX;
    for (size_t i : order) {
        const ByteRange& r = ranges[i];
        if (r.begin == r.end) continue;  // empty tensors occupy nothing
        if (r.begin < prevEnd)
            return Status::corruption(
                path + ": tensor " + quoteName((*tensors)[i].name) + ": data_offsets [" +
                std::to_string(r.begin) + ", " + std::to_string(r.end) + ") overlap tensor " +
                quoteName((*tensors)[prevIndex].name) + " ending at " + std::to_string(prevEnd));
        prevEnd = r.end;
        prevIndex = i;
    }
    std::vector<TensorView> ordered;
    ordered.reserve(order.size());
    for (size_t i : order) ordered.push_back(std::move((*tensors)[i]));
    *tensors = std::move(ordered);
    return Status::success();
}

}  // namespace

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
    auto impl = std::make_unique<Impl>();
    MONO_ASSIGN_OR_RETURN(impl->map, MappedFile::open(path));
    const uint8_t* base = impl->map.data();
    const uint64_t fileSize = impl->map.size();
    uint64_t headerBytes = 0;
    MONO_ASSIGN_OR_RETURN(const json header, readHeader(base, fileSize, path, &headerBytes));
    const uint64_t dataStart = 8 + headerBytes;
    std::vector<ByteRange> ranges;
    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            MONO_RETURN_IF_ERROR(readMetadata(path, entry, &impl->metadata));
            continue;
        }
        TensorView t;
        ByteRange range;
        MONO_RETURN_IF_ERROR(
            readTensorEntry(path, name, entry, base + dataStart, fileSize - dataStart, &t, &range));
        ranges.push_back(range);
        impl->tensors.push_back(std::move(t));
    }
    MONO_RETURN_IF_ERROR(orderByOffset(path, ranges, &impl->tensors));
    for (size_t i = 0; i < impl->tensors.size(); ++i) impl->index[impl->tensors[i].name] = i;
    return SafetensorsFile(std::move(impl));
}

const std::string& SafetensorsFile::path() const {
    return m_impl->map.path();
}
const std::vector<TensorView>& SafetensorsFile::tensors() const {
    return m_impl->tensors;
}
const std::map<std::string, std::string>& SafetensorsFile::metadata() const {
    return m_impl->metadata;
}

const TensorView* SafetensorsFile::find(const std::string& name) const {
    auto it = m_impl->index.find(name);
    return it == m_impl->index.end() ? nullptr : &m_impl->tensors[it->second];
}

Status writeSafetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                        const std::map<std::string, std::string>& metadata) {
    // Build the header with insertion order kept: readers sort by offset anyway,
    // and a stable order makes files reproducible.
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    std::string text;
    try {
        if (!metadata.empty()) {
            auto& m = header["__metadata__"];
            m = nlohmann::ordered_json::object();
            for (const auto& [k, v] : metadata) {
                if (!isValidUtf8(k) || !isValidUtf8(v))
                    return Status::invalidArgument(path + ": metadata " + quoteName(k) +
                                                   " is not valid UTF-8");
                m[k] = v;
            }
        }
        std::set<std::string> names;
        uint64_t offset = 0;
        for (const auto& t : tensors) {
            const std::string ctx = path + ": tensor " + quoteName(t.name);
            if (t.name.empty() || t.name == "__metadata__" || !isValidUtf8(t.name))
                return Status::invalidArgument(ctx + ": name is empty, reserved or not UTF-8");
            if (!names.insert(t.name).second)
                return Status::invalidArgument(ctx + ": duplicate name");
            if (!isSafetensorsDType(t.dtype))
                return Status::invalidArgument(ctx + ": dtype " + dtypeName(t.dtype) +
                                               " cannot be stored in safetensors");
            uint64_t numel = 1;
            for (int64_t d : t.shape)
                if (d < 0 || detail::mulOverflow(numel, static_cast<uint64_t>(d), &numel))
                    return Status::invalidArgument(ctx + ": invalid shape " + shapeString(t.shape));
            uint64_t bytes = 0;
            if (!dtypeByteSize(t.dtype, numel, &bytes) || bytes != t.nbytes)
                return Status::invalidArgument(
                    ctx + ": " + dtypeName(t.dtype) + " " + shapeString(t.shape) + " needs " +
                    std::to_string(bytes) + " bytes, given " + std::to_string(t.nbytes));
            if (t.nbytes > 0 && !t.data) return Status::invalidArgument(ctx + ": data is null");
            auto& e = header[t.name];
            e["dtype"] = dtypeName(t.dtype);
            e["shape"] = t.shape;
            e["data_offsets"] = {offset, offset + t.nbytes};
            offset += t.nbytes;
        }
        text = header.dump();
    } catch (const std::exception& e) {
        return Status::internal(path + ": building the header failed: " + e.what());
    }
    // Pad with spaces so the data section starts 8-byte aligned, as the reference does.
    text.append((8 - text.size() % 8) % 8, ' ');
    const uint64_t n = text.size();

    MONO_ASSIGN_OR_RETURN(AtomicFileWriter w, AtomicFileWriter::create(path));
    MONO_RETURN_IF_ERROR(w.write(&n, 8));
    MONO_RETURN_IF_ERROR(w.write(text));
    for (const auto& t : tensors) MONO_RETURN_IF_ERROR(w.write(t.data, t.nbytes));
    return w.commit();
}

}  // namespace mono::io
