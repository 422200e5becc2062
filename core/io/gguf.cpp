// GGUF reader. Byte layout (all little-endian), as llama.cpp's gguf.cpp writes it:
//   "GGUF" | u32 version (2 or 3) | u64 n_tensors | u64 n_kv
//   n_kv × { string key | u32 type | value }
//   n_tensors × { string name | u32 n_dims | u64 ne[n_dims] | u32 ggml_type | u64 offset }
//   padding to general.alignment (default 32) | tensor data
// string = u64 length + bytes (no terminator); array = u32 type + u64 count + values.
// ne[] is innermost-first; offsets are relative to the data section's start.

#include "core/io/gguf.h"

#include <algorithm>
#include <unordered_map>

#include "core/base/text.h"
#include "core/io/byte_reader.h"
#include "core/io/mapped_file.h"

namespace mono::io {

namespace {

using detail::ByteReader;
using detail::quoteName;

constexpr uint64_t kDefaultAlignment = 32;
constexpr uint32_t kMaxDims = 4;
constexpr int kMaxArrayDepth = 8;
// Each parsed value costs ~48 bytes however small it is in the file (a bool is
// one byte), so the total is capped: ~200 MB, far above any vocabulary (a
// 256k-token vocab with scores and types is under 1M values).
constexpr uint64_t kMaxMetadataValues = 1u << 22;
constexpr uint64_t kMaxAlignment = 1ull << 30;

// ggml_type id -> DType; false for ids ggml never assigned or removed.
bool ggmlToDType(uint32_t id, DType* out) {
    static constexpr std::pair<uint32_t, DType> kMap[] = {
        {0, DType::kF32},      {1, DType::kF16},     {2, DType::kQ4_0},     {3, DType::kQ4_1},
        {6, DType::kQ5_0},     {7, DType::kQ5_1},    {8, DType::kQ8_0},     {9, DType::kQ8_1},
        {10, DType::kQ2_K},    {11, DType::kQ3_K},   {12, DType::kQ4_K},    {13, DType::kQ5_K},
        {14, DType::kQ6_K},    {15, DType::kQ8_K},   {16, DType::kIQ2_XXS}, {17, DType::kIQ2_XS},
        {18, DType::kIQ3_XXS}, {19, DType::kIQ1_S},  {20, DType::kIQ4_NL},  {21, DType::kIQ3_S},
        {22, DType::kIQ2_S},   {23, DType::kIQ4_XS}, {24, DType::kI8},      {25, DType::kI16},
        {26, DType::kI32},     {27, DType::kI64},    {28, DType::kF64},     {29, DType::kIQ1_M},
        {30, DType::kBF16},    {34, DType::kTQ1_0},  {35, DType::kTQ2_0},   {39, DType::kMXFP4},
    };
    for (const auto& [k, v] : kMap)
        if (k == id) {
            *out = v;
            return true;
        }
    return false;
}

// The fewest bytes a value of this type occupies, to reject absurd array
// counts before allocating anything for them.
uint64_t minValueBytes(GgufValue::Type t) {
    switch (t) {
        case GgufValue::Type::kU8:
        case GgufValue::Type::kI8:
        case GgufValue::Type::kBool:
            return 1;
        case GgufValue::Type::kU16:
        case GgufValue::Type::kI16:
            return 2;
        case GgufValue::Type::kU32:
        case GgufValue::Type::kI32:
        case GgufValue::Type::kF32:
            return 4;
        case GgufValue::Type::kU64:
        case GgufValue::Type::kI64:
        case GgufValue::Type::kF64:
        case GgufValue::Type::kString:
            return 8;
        case GgufValue::Type::kArray:
            return 12;
    }
    return 1;
}

bool validType(uint32_t t) {
    return t <= static_cast<uint32_t>(GgufValue::Type::kF64);
}

class Parser {
public:
    Parser(const uint8_t* data, size_t size, const std::string& path) : r(data, size, path) {}

    bool readString(std::string* out, const std::string& what) {
        uint64_t len = 0;
        if (r.remaining() < sizeof len)  // checked here so the label is only built on failure
            return r.need(sizeof len, (what + " length").c_str());
        r.read(&len, "string length");
        if (len > r.remaining())
            return r.fail(StatusCode::kCorruption,
                          what + " length " + std::to_string(len) + " exceeds the " +
                              std::to_string(r.remaining()) + " bytes left in the file");
        return r.readBytes(len, out, what.c_str());
    }

    bool readValue(GgufValue::Type type, GgufValue* out, int depth, const std::string& ctx) {
        out->type = type;
        switch (type) {
            case GgufValue::Type::kU8:
                return readScalar<uint8_t, uint64_t>(out, ctx);
            case GgufValue::Type::kI8:
                return readScalar<int8_t, int64_t>(out, ctx);
            case GgufValue::Type::kU16:
                return readScalar<uint16_t, uint64_t>(out, ctx);
            case GgufValue::Type::kI16:
                return readScalar<int16_t, int64_t>(out, ctx);
            case GgufValue::Type::kU32:
                return readScalar<uint32_t, uint64_t>(out, ctx);
            case GgufValue::Type::kI32:
                return readScalar<int32_t, int64_t>(out, ctx);
            case GgufValue::Type::kU64:
                return readScalar<uint64_t, uint64_t>(out, ctx);
            case GgufValue::Type::kI64:
                return readScalar<int64_t, int64_t>(out, ctx);
            case GgufValue::Type::kF32:
                return readScalar<float, double>(out, ctx);
            case GgufValue::Type::kF64:
                return readScalar<double, double>(out, ctx);
            case GgufValue::Type::kBool: {
                uint8_t b = 0;
                if (!r.read(&b, ctx.c_str())) return false;
                if (b > 1)
                    return r.failAt(StatusCode::kCorruption,
                                    ctx + ": bool value " + std::to_string(b) + " is not 0 or 1",
                                    r.pos() - 1);
                out->value = b == 1;
                return true;
            }
            case GgufValue::Type::kString: {
                std::string s;
                if (!readString(&s, ctx)) return false;
                out->value = std::move(s);
                return true;
            }
            case GgufValue::Type::kArray: {
                if (depth >= kMaxArrayDepth)
                    return r.fail(StatusCode::kCorruption, ctx + ": arrays nested deeper than " +
                                                               std::to_string(kMaxArrayDepth));
                uint32_t elemType = 0;
                uint64_t count = 0;
                if (!r.read(&elemType, (ctx + " array type").c_str())) return false;
                if (!validType(elemType))
                    return r.failAt(
                        StatusCode::kCorruption,
                        ctx + ": unknown array element type " + std::to_string(elemType),
                        r.pos() - 4);
                if (!r.read(&count, (ctx + " array count").c_str())) return false;
                const auto et = static_cast<GgufValue::Type>(elemType);
                const uint64_t minBytes = minValueBytes(et);
                if (count > r.remaining() / minBytes)
                    return r.failAt(
                        StatusCode::kCorruption,
                        ctx + ": array of " + std::to_string(count) + " " + ggufTypeName(et) +
                            " values needs at least " +
                            (count > UINT64_MAX / minBytes ? std::string("2^64")
                                                           : std::to_string(count * minBytes)) +
                            " bytes, only " + std::to_string(r.remaining()) + " left",
                        r.pos() - 8);
                if (count > kMaxMetadataValues - values)
                    return r.failAt(StatusCode::kResourceExhausted,
                                    ctx + ": metadata arrays hold more than " +
                                        std::to_string(kMaxMetadataValues) + " values",
                                    r.pos() - 8);
                values += count;
                std::vector<GgufValue> items(count);
                for (uint64_t i = 0; i < count; ++i)
                    if (!readValue(et, &items[i], depth + 1, ctx)) return false;
                out->value = std::move(items);
                return true;
            }
        }
        return r.fail(StatusCode::kCorruption, ctx + ": unknown value type");
    }

    template <class Stored, class Held>
    bool readScalar(GgufValue* out, const std::string& ctx) {
        Stored v{};
        if (!r.read(&v, ctx.c_str())) return false;
        out->value = static_cast<Held>(v);
        return true;
    }

    ByteReader r;
    uint64_t values = 0;  // array elements parsed so far
};

std::string typeMismatch(const std::string& path, const std::string& key, const char* expected,
                         const GgufValue& v) {
    return path + ": key " + quoteName(key) + ": expected " + expected + ", found " +
           ggufTypeName(v.type);
}

}  // namespace

const char* ggufTypeName(GgufValue::Type t) {
    switch (t) {
        case GgufValue::Type::kU8:
            return "u8";
        case GgufValue::Type::kI8:
            return "i8";
        case GgufValue::Type::kU16:
            return "u16";
        case GgufValue::Type::kI16:
            return "i16";
        case GgufValue::Type::kU32:
            return "u32";
        case GgufValue::Type::kI32:
            return "i32";
        case GgufValue::Type::kF32:
            return "f32";
        case GgufValue::Type::kBool:
            return "bool";
        case GgufValue::Type::kString:
            return "string";
        case GgufValue::Type::kArray:
            return "array";
        case GgufValue::Type::kU64:
            return "u64";
        case GgufValue::Type::kI64:
            return "i64";
        case GgufValue::Type::kF64:
            return "f64";
    }
    return "unknown";
}

Result<int64_t> GgufValue::asInt() const {
    if (const auto* u = std::get_if<uint64_t>(&value)) {
        if (*u > static_cast<uint64_t>(INT64_MAX))
            return Status::outOfRange("value " + std::to_string(*u) + " does not fit in int64");
        return static_cast<int64_t>(*u);
    }
    if (const auto* i = std::get_if<int64_t>(&value)) return *i;
    return Status::corruption(std::string("expected an integer, found ") + ggufTypeName(type));
}

Result<double> GgufValue::asFloat() const {
    if (const auto* d = std::get_if<double>(&value)) return *d;
    if (const auto* u = std::get_if<uint64_t>(&value)) return static_cast<double>(*u);
    if (const auto* i = std::get_if<int64_t>(&value)) return static_cast<double>(*i);
    return Status::corruption(std::string("expected a number, found ") + ggufTypeName(type));
}

Result<std::string> GgufValue::asString() const {
    if (const auto* s = std::get_if<std::string>(&value)) return *s;
    return Status::corruption(std::string("expected a string, found ") + ggufTypeName(type));
}

const std::vector<GgufValue>* GgufValue::asArray() const {
    return std::get_if<std::vector<GgufValue>>(&value);
}

struct GgufFile::Impl {
    MappedFile map;
    uint32_t version = 0;
    uint64_t alignment = kDefaultAlignment;
    std::map<std::string, GgufValue> metadata;
    std::vector<TensorView> tensors;
    std::unordered_map<std::string, size_t> index;
};

GgufFile::GgufFile(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

namespace {

struct GgufHeader {
    uint32_t version = 0;
    uint64_t nTensors = 0;
    uint64_t nKv = 0;
};

Status readHeader(Parser& p, const uint8_t* base, uint64_t fileSize, const std::string& path,
                  GgufHeader* header) {
    ByteReader& r = p.r;
    char magic[4] = {};
    if (fileSize < 4 || std::memcmp(base, "GGUF", 4) != 0)
        return Status::corruption(path + ": not a GGUF file (bad magic; expected \"GGUF\")");
    r.read(&magic, "magic");
    if (!r.read(&header->version, "version")) return r.error();
    if (header->version == 1)
        return Status::unsupported(path + ": GGUF version 1 is not supported (only 2 and 3)");
    if (header->version != 2 && header->version != 3)
        return Status::unsupported(path + ": unknown GGUF version " +
                                   std::to_string(header->version) + " (expected 2 or 3)");
    if (!r.read(&header->nTensors, "tensor count") || !r.read(&header->nKv, "metadata count"))
        return r.error();
    // A key/value takes at least 13 bytes, a tensor info at least 24.
    if (header->nKv > r.remaining() / 13)
        return Status::corruption(path + ": metadata count " + std::to_string(header->nKv) +
                                  " cannot fit in the " + std::to_string(r.remaining()) +
                                  " bytes left at offset " + std::to_string(r.pos()));
    if (header->nTensors > r.remaining() / 24)
        return Status::corruption(path + ": tensor count " + std::to_string(header->nTensors) +
                                  " cannot fit in the " + std::to_string(r.remaining()) +
                                  " bytes left at offset " + std::to_string(r.pos()));
    return Status::success();
}

Status readMetadata(Parser& p, const std::string& path, uint64_t nKv,
                    std::map<std::string, GgufValue>* metadata) {
    ByteReader& r = p.r;
    for (uint64_t i = 0; i < nKv; ++i) {
        const uint64_t keyAt = r.pos();
        std::string key;
        if (!p.readString(&key, "metadata key #" + std::to_string(i))) return r.error();
        if (key.empty() || !isValidUtf8(key))
            return Status::corruption(path + ": metadata key #" + std::to_string(i) + " " +
                                      quoteName(key) + " is empty or not valid UTF-8 at offset " +
                                      std::to_string(keyAt));
        if (metadata->count(key))
            return Status::corruption(path + ": duplicate metadata key " + quoteName(key) +
                                      " at offset " + std::to_string(keyAt));
        const std::string ctx = "key " + quoteName(key);
        uint32_t type = 0;
        if (!r.read(&type, (ctx + " type").c_str())) return r.error();
        if (!validType(type))
            return Status::corruption(path + ": " + ctx + ": unknown value type " +
                                      std::to_string(type) + " at offset " +
                                      std::to_string(r.pos() - 4));
        GgufValue v;
        if (!p.readValue(static_cast<GgufValue::Type>(type), &v, 0, ctx)) return r.error();
        metadata->emplace(std::move(key), std::move(v));
    }
    return Status::success();
}

// general.alignment when the file sets it, else the default.
Result<uint64_t> dataAlignment(const std::map<std::string, GgufValue>& metadata,
                               const std::string& path) {
    const auto it = metadata.find("general.alignment");
    if (it == metadata.end()) return kDefaultAlignment;
    auto a = it->second.asInt();
    if (!a.ok() || *a <= 0 || static_cast<uint64_t>(*a) > kMaxAlignment || (*a & (*a - 1)) != 0)
        return Status::corruption(
            path + ": general.alignment must be a power of two up to " +
            std::to_string(kMaxAlignment) + ", found " +
            (a.ok() ? std::to_string(*a) : std::string(ggufTypeName(it->second.type))));
    return static_cast<uint64_t>(*a);
}

// ne[] of a tensor info, innermost first; the element count must fit in int64.
Status readDimensions(ByteReader& r, const std::string& ctx, uint32_t* nDims, uint64_t* ne,
                      uint64_t* numel) {
    if (!r.read(nDims, "tensor dimension count")) return r.error();
    if (*nDims > kMaxDims)
        return Status::corruption(ctx + ": " + std::to_string(*nDims) +
                                  " dimensions (at most 4) at offset " +
                                  std::to_string(r.pos() - 4));
    *numel = 1;
    for (uint32_t d = 0; d < *nDims; ++d) {
        if (!r.read(&ne[d], "tensor dimension")) return r.error();
        if (ne[d] > static_cast<uint64_t>(INT64_MAX) || detail::mulOverflow(*numel, ne[d], numel) ||
            *numel > static_cast<uint64_t>(INT64_MAX))
            return Status::corruption(ctx + ": dimension " + std::to_string(ne[d]) +
                                      " makes the element count overflow at offset " +
                                      std::to_string(r.pos() - 8));
    }
    return Status::success();
}

// Reads tensor info #i into `t` (its data pointer is set later) and its data
// offset, relative to the data section.
Status readTensorInfo(Parser& p, const std::string& path, uint64_t i, uint64_t alignment,
                      const std::unordered_map<std::string, size_t>& index, TensorView* t,
                      uint64_t* offset) {
    ByteReader& r = p.r;
    const uint64_t infoAt = r.pos();
    if (!p.readString(&t->name, "tensor #" + std::to_string(i) + " name")) return r.error();
    const std::string ctx = path + ": tensor " + quoteName(t->name);
    if (t->name.empty() || !isValidUtf8(t->name))
        return Status::corruption(ctx + ": name is empty or not valid UTF-8 at offset " +
                                  std::to_string(infoAt));
    if (index.count(t->name))
        return Status::corruption(ctx + ": duplicate tensor name at offset " +
                                  std::to_string(infoAt));
    uint32_t nDims = 0;
    uint64_t ne[kMaxDims] = {1, 1, 1, 1};
    uint64_t numel = 1;
    MONO_RETURN_IF_ERROR(readDimensions(r, ctx, &nDims, ne, &numel));
    uint32_t ggmlType = 0;
    if (!r.read(&ggmlType, "tensor type")) return r.error();
    if (!ggmlToDType(ggmlType, &t->dtype))
        return Status::unsupported(ctx + ": unknown ggml type " + std::to_string(ggmlType) +
                                   " at offset " + std::to_string(r.pos() - 4));
    if (!r.read(offset, "tensor offset")) return r.error();
    uint64_t blockValues = 1, blockBytes = 1;
    dtypeBlock(t->dtype, &blockValues, &blockBytes);
    if (nDims > 0 && ne[0] % blockValues != 0)
        return Status::corruption(ctx + ": innermost dimension " + std::to_string(ne[0]) +
                                  " is not a multiple of the " + dtypeName(t->dtype) +
                                  " block size " + std::to_string(blockValues));
    if (!dtypeByteSize(t->dtype, numel, &t->nbytes))
        return Status::corruption(ctx + ": " + std::to_string(numel) + " " + dtypeName(t->dtype) +
                                  " values have no valid byte size");
    if (*offset % alignment != 0)
        return Status::corruption(ctx + ": data offset " + std::to_string(*offset) +
                                  " is not a multiple of the alignment " +
                                  std::to_string(alignment));
    for (uint32_t d = nDims; d > 0; --d) t->shape.push_back(static_cast<int64_t>(ne[d - 1]));
    return Status::success();
}

// A tensor's data offset, kept apart so the tensors can be checked in file order.
struct TensorPlacement {
    uint64_t offset;
    size_t index;  // into the tensor list
};

Status readTensorInfos(Parser& p, const std::string& path, uint64_t nTensors, uint64_t alignment,
                       std::vector<TensorView>* tensors,
                       std::unordered_map<std::string, size_t>* index,
                       std::vector<TensorPlacement>* placements) {
    tensors->reserve(nTensors);
    for (uint64_t i = 0; i < nTensors; ++i) {
        TensorView t;
        uint64_t offset = 0;
        MONO_RETURN_IF_ERROR(readTensorInfo(p, path, i, alignment, *index, &t, &offset));
        index->emplace(t.name, tensors->size());
        placements->push_back({offset, tensors->size()});
        tensors->push_back(std::move(t));
    }
    return Status::success();
}

// Points each tensor at its bytes after checking that they lie inside the data
// section (which starts at the first aligned offset after the tensor infos) and
// do not overlap another tensor's.
Status placeTensorData(const std::string& path, const uint8_t* base, uint64_t fileSize,
                       uint64_t infoEnd, uint64_t alignment,
                       std::vector<TensorPlacement> placements, std::vector<TensorView>* tensors) {
    const uint64_t dataStart = (infoEnd + alignment - 1) / alignment * alignment;
    if (!tensors->empty() && dataStart > fileSize)
        return Status::corruption(path + ": data section would start at offset " +
                                  std::to_string(dataStart) + ", past the end of the file (" +
                                  std::to_string(fileSize) + " bytes)");
    const uint64_t dataSize = dataStart <= fileSize ? fileSize - dataStart : 0;
    std::sort(
        placements.begin(), placements.end(),
        [](const TensorPlacement& a, const TensorPlacement& b) { return a.offset < b.offset; });
    uint64_t prevEnd = 0;
    std::string prevName;
    for (const auto& placed : placements) {
        TensorView& t = (*tensors)[placed.index];
        const std::string ctx = path + ": tensor " + quoteName(t.name);
        if (placed.offset > dataSize || t.nbytes > dataSize - placed.offset)
            return Status::corruption(ctx + ": bytes [" + std::to_string(placed.offset) + ", " +
                                      std::to_string(placed.offset) + "+" +
                                      std::to_string(t.nbytes) + ") exceed the data section (" +
                                      std::to_string(dataSize) + " bytes from offset " +
                                      std::to_string(dataStart) + ")");
        if (placed.offset < prevEnd && t.nbytes > 0)
            return Status::corruption(ctx + ": data at " + std::to_string(placed.offset) +
                                      " overlaps tensor " + quoteName(prevName) + " ending at " +
                                      std::to_string(prevEnd));
        if (t.nbytes > 0) {
            prevEnd = placed.offset + t.nbytes;
            prevName = t.name;
        }
        t.data = base + dataStart + placed.offset;
    }
    return Status::success();
}

}  // namespace

Result<GgufFile> GgufFile::open(const std::string& path) {
    auto impl = std::make_unique<Impl>();
    MONO_ASSIGN_OR_RETURN(impl->map, MappedFile::open(path));
    const uint8_t* base = impl->map.data();
    const uint64_t fileSize = impl->map.size();
    Parser p(base, fileSize, path);
    GgufHeader header;
    MONO_RETURN_IF_ERROR(readHeader(p, base, fileSize, path, &header));
    impl->version = header.version;
    MONO_RETURN_IF_ERROR(readMetadata(p, path, header.nKv, &impl->metadata));
    MONO_ASSIGN_OR_RETURN(impl->alignment, dataAlignment(impl->metadata, path));
    std::vector<TensorPlacement> placements;
    MONO_RETURN_IF_ERROR(readTensorInfos(p, path, header.nTensors, impl->alignment, &impl->tensors,
                                         &impl->index, &placements));
    MONO_RETURN_IF_ERROR(placeTensorData(path, base, fileSize, p.r.pos(), impl->alignment,
                                         std::move(placements), &impl->tensors));
    return GgufFile(std::move(impl));
}

const std::string& GgufFile::path() const {
    return m_impl->map.path();
}
uint32_t GgufFile::version() const {
    return m_impl->version;
}
uint64_t GgufFile::alignment() const {
    return m_impl->alignment;
}
const std::map<std::string, GgufValue>& GgufFile::metadata() const {
    return m_impl->metadata;
}

const GgufValue* GgufFile::find(const std::string& key) const {
    auto it = m_impl->metadata.find(key);
    return it == m_impl->metadata.end() ? nullptr : &it->second;
}

const std::vector<TensorView>& GgufFile::tensors() const {
    return m_impl->tensors;
}

const TensorView* GgufFile::findTensor(const std::string& name) const {
    auto it = m_impl->index.find(name);
    return it == m_impl->index.end() ? nullptr : &m_impl->tensors[it->second];
}

namespace {

template <class T, class Fn>
Result<T> typed(const GgufFile& f, const std::string& key, Fn fn) {
    const GgufValue* v = f.find(key);
    if (!v) return Status::notFound(f.path() + ": metadata key " + quoteName(key) + " not found");
    return fn(*v);
}

}  // namespace

Result<int64_t> GgufFile::getInt(const std::string& key) const {
    return typed<int64_t>(*this, key, [&](const GgufValue& v) -> Result<int64_t> {
        auto r = v.asInt();
        if (!r.ok())
            return Status(r.status().code(),
                          path() + ": key " + quoteName(key) + ": " + r.status().message());
        return r;
    });
}

Result<double> GgufFile::getFloat(const std::string& key) const {
    return typed<double>(*this, key, [&](const GgufValue& v) -> Result<double> {
        auto r = v.asFloat();
        if (!r.ok()) return Status::corruption(typeMismatch(path(), key, "a number", v));
        return r;
    });
}

Result<std::string> GgufFile::getString(const std::string& key) const {
    return typed<std::string>(*this, key, [&](const GgufValue& v) -> Result<std::string> {
        auto r = v.asString();
        if (!r.ok()) return Status::corruption(typeMismatch(path(), key, "a string", v));
        return r;
    });
}

Result<std::vector<std::string>> GgufFile::getStringArray(const std::string& key) const {
    return typed<std::vector<std::string>>(
        *this, key, [&](const GgufValue& v) -> Result<std::vector<std::string>> {
            const auto* a = v.asArray();
            if (!a) return Status::corruption(typeMismatch(path(), key, "an array of strings", v));
            std::vector<std::string> out;
            out.reserve(a->size());
            for (const auto& e : *a) {
                const auto* s = std::get_if<std::string>(&e.value);
                if (!s)
                    return Status::corruption(typeMismatch(path(), key, "an array of strings", e));
                out.push_back(*s);
            }
            return out;
        });
}

Result<std::vector<float>> GgufFile::getFloatArray(const std::string& key) const {
    return typed<std::vector<float>>(
        *this, key, [&](const GgufValue& v) -> Result<std::vector<float>> {
            const auto* a = v.asArray();
            if (!a) return Status::corruption(typeMismatch(path(), key, "an array of numbers", v));
            std::vector<float> out;
            out.reserve(a->size());
            for (const auto& e : *a) {
                auto f = e.asFloat();
                if (!f.ok())
                    return Status::corruption(typeMismatch(path(), key, "an array of numbers", e));
                out.push_back(static_cast<float>(*f));
            }
            return out;
        });
}

Result<std::vector<int64_t>> GgufFile::getIntArray(const std::string& key) const {
    return typed<std::vector<int64_t>>(
        *this, key, [&](const GgufValue& v) -> Result<std::vector<int64_t>> {
            const auto* a = v.asArray();
            if (!a) return Status::corruption(typeMismatch(path(), key, "an array of integers", v));
            std::vector<int64_t> out;
            out.reserve(a->size());
            for (const auto& e : *a) {
                auto i = e.asInt();
                if (!i.ok())
                    return Status::corruption(typeMismatch(path(), key, "an array of integers", e));
                out.push_back(*i);
            }
            return out;
        });
}

}  // namespace mono::io
