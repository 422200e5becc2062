#include "core/acts/activation_store.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/base/atomic_file.h"
#include "core/base/file_checks.h"
#include "core/io/npy.h"

namespace mono::acts {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kFormat = "monoscope-activations";
constexpr int kFormatVersion = 1;
constexpr const char* kIndexFile = "index.json";

std::string shardName(size_t i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "shard_%05zu", i);
    return buf;
}

std::string actsPath(const std::string& dir, const std::string& shard) {
    return (fs::path(dir) / (shard + ".acts.npy")).string();
}
std::string tokensPath(const std::string& dir, const std::string& shard) {
    return (fs::path(dir) / (shard + ".tokens.npy")).string();
}

Status writeIndex(const std::string& dir, const StoreIndex& index) {
    json shards = json::array();
    for (const auto& s : index.shards) shards.push_back({{"name", s.name}, {"rows", s.rows}});
    json j = {{"format", kFormat},
              {"version", kFormatVersion},
              {"hook", index.hook},
              {"d", index.dim},
              {"dtype", io::dtypeName(index.dtype)},
              {"context_size", index.contextSize},
              {"model", index.model},
              {"rows", index.rows()},
              {"windows", index.windows},
              {"complete", index.complete},
              {"shards", shards}};
    return writeFileAtomic((fs::path(dir) / kIndexFile).string(), j.dump(1) + "\n");
}

size_t elementBytes(io::DType t) {
    return t == io::DType::kF16 ? 2 : 4;
}

// The size an .npy file of `payload` bytes has: its preamble ("\x93NUMPY", version,
// header length: 2 bytes in version 1, 4 after) plus the header plus the data.
// -1 when the preamble cannot be read or is not npy.
int64_t expectedNpySize(const std::string& path, int64_t payload) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return -1;
    unsigned char head[12] = {};
    const size_t got = std::fread(head, 1, sizeof head, f);
    std::fclose(f);
    if (got < 10 || std::memcmp(head, "\x93NUMPY", 6) != 0) return -1;
    if (head[6] == 1) return 10 + int64_t(head[8] | (head[9] << 8)) + payload;
    if (got < 12) return -1;
    const int64_t len = int64_t(head[8]) | int64_t(head[9]) << 8 | int64_t(head[10]) << 16 |
                        int64_t(head[11]) << 24;
    return 12 + len + payload;
}

// A resume appends after the shards the index lists, so each must be whole:
// present, a regular file, and exactly as long as its rows say.
Status verifyShardFile(const std::string& path, int64_t payload) {
    MONO_RETURN_IF_ERROR(requireRegularFile(path).withContext("activation store"));
    std::error_code ec;
    const int64_t size = int64_t(fs::file_size(path, ec));
    const int64_t want = expectedNpySize(path, payload);
    if (ec || want < 0 || size != want)
        return Status::corruption(
            path + ": the store's index lists this shard with " + std::to_string(payload) +
            " bytes of data, but the file " +
            (want < 0 ? std::string("is not an .npy file")
                      : "has " + std::to_string(size) + " bytes, not " + std::to_string(want)) +
            "; the store is damaged (capture with --restart to start over)");
    return Status::success();
}

}  // namespace

Status verifyStoreShards(const std::string& dir, const StoreIndex& index) {
    for (const ShardInfo& shard : index.shards) {
        const int64_t rows = shard.rows;
        MONO_RETURN_IF_ERROR(verifyShardFile(
            actsPath(dir, shard.name), rows * index.dim * int64_t(elementBytes(index.dtype))));
        MONO_RETURN_IF_ERROR(verifyShardFile(tokensPath(dir, shard.name), rows * 3 * 4));
    }
    return Status::success();
}

int64_t StoreIndex::rows() const {
    int64_t n = 0;
    for (const auto& s : shards) n += s.rows;
    return n;
}

Result<StoreIndex> readStoreIndex(const std::string& dir) {
    const std::string path = (fs::path(dir) / kIndexFile).string();
    std::error_code ec;
    if (!fs::exists(path, ec))
        return Status::notFound(dir + ": no activation store here (no " + kIndexFile + ")");
    MONO_ASSIGN_OR_RETURN(std::string text, readWholeFile(path, 64 << 20));
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return Status::corruption(path + ": not a JSON object");
    if (j.value("format", std::string()) != kFormat)
        return Status::corruption(path + ": 'format' is not \"" + kFormat + "\"");
    StoreIndex index;
    try {
        if (j.at("version").get<int>() > kFormatVersion)
            return Status::unsupported(path + ": store version is newer than this Monoscope");
        index.hook = j.at("hook").get<std::string>();
        index.dim = j.at("d").get<int64_t>();
        const std::string dtype = j.at("dtype").get<std::string>();
        if (dtype == "F16")
            index.dtype = io::DType::kF16;
        else if (dtype == "F32")
            index.dtype = io::DType::kF32;
        else
            return Status::corruption(path + ": dtype '" + dtype + "' (expected F16 or F32)");
        index.contextSize = j.at("context_size").get<int>();
        index.model = j.value("model", std::string());
        index.windows = j.at("windows").get<int64_t>();
        index.complete = j.at("complete").get<bool>();
        for (const auto& s : j.at("shards")) {
            ShardInfo info{s.at("name").get<std::string>(), s.at("rows").get<int64_t>()};
            if (info.rows <= 0 || info.name.find('/') != std::string::npos || info.name.empty())
                return Status::corruption(path + ": bad shard entry '" + info.name + "'");
            index.shards.push_back(std::move(info));
        }
    } catch (const json::exception& e) {
        return Status::corruption(path + ": missing or mistyped field (" + e.what() + ")");
    }
    if (index.dim <= 0 || index.dim > (1 << 20))
        return Status::corruption(path + ": width d = " + std::to_string(index.dim) +
                                  " out of range");
    if (index.contextSize < 2) return Status::corruption(path + ": context_size below 2");
    return index;
}

Result<ActivationStoreWriter> ActivationStoreWriter::create(const std::string& dir,
                                                            StoreIndex header) {
    if (header.dim <= 0) return Status::invalidArgument(dir + ": store width must be positive");
    if (header.dtype != io::DType::kF16 && header.dtype != io::DType::kF32)
        return Status::invalidArgument(dir + ": activation dtype must be F16 or F32");
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status::ioError(dir + ": cannot create the folder: " + ec.message());
    header.shards.clear();
    header.windows = 0;
    header.complete = false;
    MONO_RETURN_IF_ERROR(writeIndex(dir, header));
    return ActivationStoreWriter(dir, std::move(header));
}

Result<ActivationStoreWriter> ActivationStoreWriter::resume(const std::string& dir) {
    MONO_ASSIGN_OR_RETURN(StoreIndex index, readStoreIndex(dir));
    MONO_RETURN_IF_ERROR(verifyStoreShards(dir, index));
    return ActivationStoreWriter(dir, std::move(index));
}

void ActivationStoreWriter::append(const float* rows, int64_t n, const int32_t* tokens,
                                   const int32_t* docs, const int32_t* positions) {
    const size_t count = static_cast<size_t>(n * m_index.dim);
    const size_t old = m_acts.size();
    m_acts.resize(old + count * elementBytes(m_index.dtype));
    if (m_index.dtype == io::DType::kF16) {
        uint16_t* out = reinterpret_cast<uint16_t*>(m_acts.data() + old);
        for (size_t i = 0; i < count; ++i) out[i] = io::floatToHalf(rows[i]);
    } else {
        std::memcpy(m_acts.data() + old, rows, count * sizeof(float));
    }
    m_tokens.insert(m_tokens.end(), tokens, tokens + n);
    m_docs.insert(m_docs.end(), docs, docs + n);
    m_positions.insert(m_positions.end(), positions, positions + n);
}

Status ActivationStoreWriter::commit(int64_t windows, bool complete) {
    const int64_t rows = bufferedRows();
    StoreIndex next = m_index;
    if (rows > 0) {
        const std::string name = shardName(m_index.shards.size());
        io::NpyArray acts{m_index.dtype, {rows, m_index.dim}, std::move(m_acts)};
        m_acts = {};
        io::NpyArray meta{io::DType::kI32, {rows, 3}, {}};
        meta.bytes.resize(static_cast<size_t>(rows) * 3 * sizeof(int32_t));
        int32_t* m = reinterpret_cast<int32_t*>(meta.bytes.data());
        for (int64_t r = 0; r < rows; ++r) {
            m[3 * r] = m_tokens[r];
            m[3 * r + 1] = m_docs[r];
            m[3 * r + 2] = m_positions[r];
        }
        m_tokens.clear();
        m_docs.clear();
        m_positions.clear();
        MONO_RETURN_IF_ERROR(io::writeNpy(actsPath(m_dir, name), acts));
        MONO_RETURN_IF_ERROR(io::writeNpy(tokensPath(m_dir, name), meta));
        next.shards.push_back({name, rows});
    }
    next.windows = windows;
    next.complete = complete;
    MONO_RETURN_IF_ERROR(writeIndex(m_dir, next));
    m_index = std::move(next);
    return Status::success();
}

Result<ActivationStoreReader> ActivationStoreReader::open(const std::string& dir) {
    MONO_ASSIGN_OR_RETURN(StoreIndex index, readStoreIndex(dir));
    std::error_code ec;
    for (const auto& s : index.shards) {
        for (const auto& p : {actsPath(dir, s.name), tokensPath(dir, s.name)})
            if (!fs::exists(p, ec))
                return Status::corruption(dir + ": shard file " + fs::path(p).filename().string() +
                                          " listed in index.json is missing");
    }
    return ActivationStoreReader(dir, std::move(index));
}

Result<Shard> ActivationStoreReader::readShard(int i) const {
    if (i < 0 || i >= numShards())
        return Status::outOfRange(m_dir + ": shard " + std::to_string(i) + " of " +
                                  std::to_string(numShards()));
    const ShardInfo& info = m_index.shards[i];
    const std::string aPath = actsPath(m_dir, info.name);
    const std::string tPath = tokensPath(m_dir, info.name);
    MONO_ASSIGN_OR_RETURN(io::NpyArray acts, io::readNpy(aPath));
    MONO_ASSIGN_OR_RETURN(io::NpyArray meta, io::readNpy(tPath));
    if (acts.dtype != m_index.dtype || acts.shape.size() != 2 || acts.shape[0] != info.rows ||
        acts.shape[1] != m_index.dim)
        return Status::corruption(aPath + ": expected " + io::dtypeName(m_index.dtype) + " [" +
                                  std::to_string(info.rows) + ", " + std::to_string(m_index.dim) +
                                  "], found " + io::describe(acts.view()));
    if (meta.dtype != io::DType::kI32 || meta.shape.size() != 2 || meta.shape[0] != info.rows ||
        meta.shape[1] != 3)
        return Status::corruption(tPath + ": expected I32 [" + std::to_string(info.rows) +
                                  ", 3], found " + io::describe(meta.view()));
    Shard shard;
    shard.acts.resize(info.rows, m_index.dim);  // converted in place: no zero fill, no copy
    MONO_RETURN_IF_ERROR(io::toFloatInto(acts.view(aPath), shard.acts.data()));
    const int32_t* m = reinterpret_cast<const int32_t*>(meta.bytes.data());
    shard.tokens.resize(info.rows);
    shard.docs.resize(info.rows);
    shard.positions.resize(info.rows);
    for (int64_t r = 0; r < info.rows; ++r) {
        shard.tokens[r] = m[3 * r];
        shard.docs[r] = m[3 * r + 1];
        shard.positions[r] = m[3 * r + 2];
    }
    return shard;
}

}  // namespace mono::acts
