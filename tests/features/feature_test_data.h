#pragma once
// Small synthetic inputs for the feature tests: an activation store written
// with the real ActivationStoreWriter, a random SAE, and a brute-force
// encoding of every row to check the analysis against.

#include <QtTest>

#include <random>
#include <string>
#include <vector>

#include "core/acts/activation_store.h"
#include "core/sae/sae.h"

namespace mono::test {

struct SyntheticData {
    std::string dir;
    int contextSize = 9;  // 8 stored rows per window
    int64_t rows = 0;
    int64_t shardRows = 0;
    Matrix acts;                  // [rows, D] exactly as stored (float32 store)
    std::vector<int32_t> tokens;  // [rows]
};

// `shards` shards of `shardRows` rows (a multiple of 8), width d. Row r has
// position r % 8 + 1 and a token id in [0, vocab). Rows 100 and 150 repeat
// row 5, so equal activations tie and tie-breaking is exercised.
inline SyntheticData writeSyntheticStore(const std::string& dir, int shards, int64_t shardRows,
                                         int64_t d, int vocab, uint64_t seed) {
    SyntheticData data;
    data.dir = dir;
    data.shardRows = shardRows;
    data.rows = shards * shardRows;
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.f, 1.f);
    std::uniform_int_distribution<int> tok(0, vocab - 1);
    data.acts.resize(data.rows, d);
    for (int64_t i = 0; i < data.acts.size(); ++i) data.acts.data()[i] = normal(rng);
    data.acts.row(5) *= 3.f;  // strong enough to be in many top-k lists
    for (int64_t dup : {100, 150})
        if (dup < data.rows) data.acts.row(dup) = data.acts.row(5);
    data.tokens.resize(data.rows);
    for (auto& t : data.tokens) t = tok(rng);

    acts::StoreIndex header;
    header.hook = "blocks.0.hook_resid_post";
    header.dim = d;
    header.dtype = io::DType::kF32;
    header.contextSize = data.contextSize;
    header.model = "synthetic";
    auto writer = acts::ActivationStoreWriter::create(dir, header);
    if (!writer.ok()) qFatal("%s", writer.status().toString().c_str());
    for (int s = 0; s < shards; ++s) {
        std::vector<int32_t> docs(shardRows), pos(shardRows);
        for (int64_t r = 0; r < shardRows; ++r) {
            const int64_t g = s * shardRows + r;
            docs[r] = static_cast<int32_t>(g / 8);
            pos[r] = static_cast<int32_t>(g % 8 + 1);
        }
        writer->append(data.acts.row(s * shardRows).data(), shardRows,
                       data.tokens.data() + s * shardRows, docs.data(), pos.data());
        auto st = writer->commit((s + 1) * shardRows / 8, s + 1 == shards);
        if (!st.ok()) qFatal("%s", st.toString().c_str());
    }
    return data;
}

// A standard (ReLU) SAE with random weights; biases push most features below
// zero so codes are sparse; the last feature never fires.
inline sae::Sae randomSae(int64_t d, int64_t f, uint64_t seed,
                          sae::Architecture arch = sae::Architecture::kStandard, int k = 0) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.f, 1.f);
    Matrix wEnc(d, f), wDec(f, d);
    for (int64_t i = 0; i < wEnc.size(); ++i) wEnc.data()[i] = normal(rng) / std::sqrt(float(d));
    for (int64_t i = 0; i < wDec.size(); ++i) wDec.data()[i] = normal(rng);
    Vector bEnc(f), bDec(d), threshold;
    for (int64_t i = 0; i < f; ++i) bEnc(i) = -0.8f * float(i % 3);
    bEnc(f - 1) = -1000.f;
    for (int64_t i = 0; i < d; ++i) bDec(i) = 0.1f * normal(rng);
    sae::SaeConfig cfg;
    cfg.dIn = d;
    cfg.dSae = f;
    cfg.architecture = arch;
    cfg.k = k;
    if (arch == sae::Architecture::kJumpReLU) {
        threshold.resize(f);
        for (int64_t i = 0; i < f; ++i) threshold(i) = 0.2f;
    }
    auto sae = sae::Sae::create(cfg, wEnc, wDec, bEnc, bDec, threshold);
    if (!sae.ok()) qFatal("%s", sae.status().toString().c_str());
    return std::move(sae).value();
}

// f for every row, encoded in the same chunks as an analysis with `chunkRows`
// (chunks never cross shards), so the floats match the analysis bit for bit.
inline Matrix bruteForceCodes(const SyntheticData& data, const sae::Sae& sae, int64_t chunkRows) {
    Matrix f(data.rows, sae.dSae());
    for (int64_t s0 = 0; s0 < data.rows; s0 += data.shardRows) {
        for (int64_t c0 = s0; c0 < s0 + data.shardRows; c0 += chunkRows) {
            const int64_t n = std::min(chunkRows, s0 + data.shardRows - c0);
            Matrix x = data.acts.middleRows(c0, n);
            auto codes = sae.encode(x);
            if (!codes.ok()) qFatal("%s", codes.status().toString().c_str());
            f.middleRows(c0, n) = *codes;
        }
    }
    return f;
}

}  // namespace mono::test
