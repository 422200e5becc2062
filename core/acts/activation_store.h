#pragma once
// The activation store of one hook point: what capture writes and what SAE
// training and feature analysis read. Stores larger than memory are normal:
// rows live in shards that are read one (or a few) at a time.
//
//   activations/<hook>/
//     index.json              format, hook, width d, dtype, context size, shards, windows
//     shard_00000.acts.npy    [rows, d] float16 (default) or float32
//     shard_00000.tokens.npy  [rows, 3] int32: token id, document index, position
//
// Rows are tokens of packed context windows; the BOS row that opens each window
// is not stored (its activation is an outlier that SAEs should not learn).
// index.json is rewritten atomically after each shard, and it is the commit
// point: shards it does not list are ignored and overwritten on resume.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/base/matrix.h"
#include "core/base/result.h"
#include "core/io/tensor.h"

namespace mono::acts {

struct ShardInfo {
    std::string name;  // "shard_00000"
    int64_t rows = 0;
};

struct StoreIndex {
    std::string hook;
    int64_t dim = 0;
    io::DType dtype = io::DType::kF16;  // kF16 or kF32
    int contextSize = 0;                // tokens per window, BOS included
    std::string model;                  // what produced the activations
    std::vector<ShardInfo> shards;
    int64_t windows = 0;    // context windows captured so far (the resume point)
    bool complete = false;  // capture reached its target

    int64_t rows() const;
};

// One shard in memory.
struct Shard {
    Matrix acts;                     // [rows, dim], as float32
    std::vector<int32_t> tokens;     // [rows]
    std::vector<int32_t> docs;       // [rows] document index in the corpus
    std::vector<int32_t> positions;  // [rows] position in its window (≥ 1)
    int64_t rows() const { return acts.rows(); }
};

// Reads index.json of a store folder. NotFound when absent, Corruption naming
// the file and field when malformed.
Result<StoreIndex> readStoreIndex(const std::string& dir);

// Checks that every shard `index` lists is present, a regular file and exactly
// as long as its rows make it (a truncated or deleted shard is Corruption
// naming the file). Reads only each file's first bytes.
Status verifyStoreShards(const std::string& dir, const StoreIndex& index);

class ActivationStoreWriter {
public:
    // Starts a new store in `dir` (created if needed), replacing any old index.
    static Result<ActivationStoreWriter> create(const std::string& dir, StoreIndex header);
    // Continues the store in `dir` after its last committed shard.
    static Result<ActivationStoreWriter> resume(const std::string& dir);

    const StoreIndex& index() const { return m_index; }
    int64_t bufferedRows() const { return static_cast<int64_t>(m_tokens.size()); }

    // Buffers `n` rows of width dim (row-major floats) with their token metadata.
    void append(const float* rows, int64_t n, const int32_t* tokens, const int32_t* docs,
                const int32_t* positions);
    // Writes the buffered rows as one shard (if any), then the index with
    // `windows` and `complete`. After it returns ok, the data survives a crash.
    Status commit(int64_t windows, bool complete);

private:
    explicit ActivationStoreWriter(std::string dir, StoreIndex index)
        : m_dir(std::move(dir)), m_index(std::move(index)) {}

    std::string m_dir;
    StoreIndex m_index;
    std::vector<uint8_t> m_acts;  // buffered rows in the store's dtype
    std::vector<int32_t> m_tokens, m_docs, m_positions;
};

class ActivationStoreReader {
public:
    // Opens a store and checks that every listed shard exists.
    static Result<ActivationStoreReader> open(const std::string& dir);

    const StoreIndex& index() const { return m_index; }
    const std::string& dir() const { return m_dir; }
    int numShards() const { return static_cast<int>(m_index.shards.size()); }
    // Loads shard i; Corruption naming the file when its shape or dtype do not match the index.
    Result<Shard> readShard(int i) const;

private:
    ActivationStoreReader(std::string dir, StoreIndex index)
        : m_dir(std::move(dir)), m_index(std::move(index)) {}
    std::string m_dir;
    StoreIndex m_index;
};

}  // namespace mono::acts
