// Token stream, block split and window sampling (see lm_data.h).

#include "core/lmtrain/lm_data.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/io/corpus.h"

namespace mono::lmtrain {

Result<LmData> LmData::fromTokens(std::vector<int32_t> tokens, int vocab, int ctx,
                                  double heldOutFraction) {
    if (ctx <= 0 || vocab <= 0)
        return Status::invalidArgument("LM data: context and vocabulary must be positive");
    for (size_t i = 0; i < tokens.size(); ++i)
        if (tokens[i] < 0 || tokens[i] >= vocab)
            return Status::invalidArgument("LM data: token " + std::to_string(i) + " has id " +
                                           std::to_string(tokens[i]) + ", outside [0, " +
                                           std::to_string(vocab) + ")");
    LmData d;
    d.m_vocab = vocab;
    d.m_ctx = ctx;
    const int64_t total = static_cast<int64_t>(tokens.size());
    // About 200 blocks, each at least one window long and at most 8192 tokens.
    d.m_blockLen = std::max<int64_t>(ctx + 1, std::min<int64_t>(8192, total / 200));
    const int64_t blocks = total / d.m_blockLen;
    const int64_t every =
        heldOutFraction > 0 ? std::max<int64_t>(2, std::llround(1.0 / heldOutFraction)) : 0;
    for (int64_t b = 0; b < blocks; ++b) {
        if (every > 0 && b % every == every / 2)
            d.m_heldBlocks.push_back(b * d.m_blockLen);
        else
            d.m_trainBlocks.push_back(b * d.m_blockLen);
    }
    if (d.m_trainBlocks.empty() || (every > 0 && d.m_heldBlocks.empty()))
        return Status::invalidArgument(
            "LM data: " + std::to_string(total) + " tokens are too few for windows of " +
            std::to_string(ctx + 1) + " tokens" +
            (every > 0 ? " with a held-out part (need at least " +
                             std::to_string((every / 2 + 1) * d.m_blockLen) + ")"
                       : std::string()));
    d.m_tokens = std::move(tokens);
    return d;
}

Result<LmData> LmData::fromSplit(std::vector<int32_t> train, std::vector<int32_t> heldOut,
                                 int vocab, int ctx) {
    const int64_t trainSize = static_cast<int64_t>(train.size());
    const int64_t heldSize = static_cast<int64_t>(heldOut.size());
    train.insert(train.end(), heldOut.begin(), heldOut.end());
    if (heldSize < ctx + 1)
        return Status::invalidArgument(
            "LM data: the held-out text has " + std::to_string(heldSize) +
            " tokens, fewer than one window of " + std::to_string(ctx + 1));
    MONO_ASSIGN_OR_RETURN(LmData d, fromTokens(std::move(train), vocab, ctx, 0.0));
    // Blocks no longer than the held-out text, so that it is at least one block.
    d.m_blockLen = std::max<int64_t>(ctx + 1, std::min<int64_t>(8192, heldSize));
    d.m_trainBlocks.clear();
    for (int64_t s = 0; s + d.m_blockLen <= trainSize; s += d.m_blockLen)
        d.m_trainBlocks.push_back(s);
    for (int64_t s = 0; s + d.m_blockLen <= heldSize; s += d.m_blockLen)
        d.m_heldBlocks.push_back(trainSize + s);
    if (d.m_trainBlocks.empty())
        return Status::invalidArgument("LM data: " + std::to_string(trainSize) +
                                       " training tokens are too few for one block of " +
                                       std::to_string(d.m_blockLen));
    return d;
}

namespace {

Result<std::vector<int32_t>> tokenizeFiles(const std::vector<std::string>& files,
                                           const tok::Tokenizer& tokenizer, Progress& progress,
                                           StopToken stop) {
    const tok::TokenId eot = tokenizer.eos();
    if (eot < 0)
        return Status::invalidArgument(
            "LM data: the tokenizer has no end-of-text token (<|endoftext|>) to separate "
            "documents");
    uint64_t totalBytes = 0;
    for (const std::string& f : files) {
        std::error_code ec;
        const auto size = std::filesystem::file_size(f, ec);
        if (!ec) totalBytes += size;
    }
    MONO_ASSIGN_OR_RETURN(io::CorpusReader reader, io::CorpusReader::open(files));
    std::vector<int32_t> tokens;
    std::string doc;
    uint64_t bytes = 0;
    for (;;) {
        if (stop.stopRequested()) return Status::cancelled("tokenizing the corpus stopped");
        MONO_ASSIGN_OR_RETURN(bool more, reader.next(doc));
        if (!more) break;
        const std::vector<tok::TokenId> ids = tokenizer.encode(doc, false, true);
        tokens.insert(tokens.end(), ids.begin(), ids.end());
        tokens.push_back(eot);
        bytes += doc.size();
        if (reader.documentsRead() % 256 == 0 && totalBytes > 0)
            progress.report(std::min(1.0, static_cast<double>(bytes) / totalBytes),
                            "tokenizing: " + std::to_string(tokens.size()) + " tokens");
    }
    return tokens;
}

}  // namespace

Result<LmData> LmData::fromCorpus(const std::vector<std::string>& files,
                                  const std::vector<std::string>& heldOutFiles,
                                  const tok::Tokenizer& tokenizer, int ctx, double heldOutFraction,
                                  Progress& progress, StopToken stop) {
    MONO_ASSIGN_OR_RETURN(std::vector<int32_t> tokens,
                          tokenizeFiles(files, tokenizer, progress, stop));
    Result<LmData> data = Status::internal("unset");
    if (heldOutFiles.empty()) {
        data = fromTokens(std::move(tokens), tokenizer.vocabSize(), ctx, heldOutFraction);
    } else {
        MONO_ASSIGN_OR_RETURN(std::vector<int32_t> held,
                              tokenizeFiles(heldOutFiles, tokenizer, progress, stop));
        data = fromSplit(std::move(tokens), std::move(held), tokenizer.vocabSize(), ctx);
    }
    if (!data.ok()) {
        std::string names;
        for (const std::string& f : files) names += (names.empty() ? "" : ", ") + f;
        return data.status().withContext(names);
    }
    return data;
}

int64_t LmData::trainTokens() const {
    return static_cast<int64_t>(m_trainBlocks.size()) * m_blockLen;
}

int64_t LmData::heldOutTokens() const {
    return static_cast<int64_t>(m_heldBlocks.size()) * m_blockLen;
}

uint64_t LmData::fingerprint() const {
    uint64_t h = 1469598103934665603ull;  // FNV-1a over ids, block length and split
    auto mix = [&](uint64_t v) {
        for (int i = 0; i < 8; ++i) {
            h ^= (v >> (8 * i)) & 0xFF;
            h *= 1099511628211ull;
        }
    };
    for (int32_t t : m_tokens) mix(static_cast<uint32_t>(t));
    mix(static_cast<uint64_t>(m_blockLen));
    mix(m_heldBlocks.size());
    return h;
}

void LmData::sampleBatch(std::mt19937_64& rng, int B, int T, int32_t* inputs,
                         int32_t* targets) const {
    const uint64_t starts = static_cast<uint64_t>(m_blockLen - T);  // ≥ 1 since T ≤ ctx
    for (int b = 0; b < B; ++b) {
        const int64_t block = m_trainBlocks[rng() % m_trainBlocks.size()];
        const int32_t* w = m_tokens.data() + block + static_cast<int64_t>(rng() % starts);
        std::copy(w, w + T, inputs + static_cast<int64_t>(b) * T);
        std::copy(w + 1, w + T + 1, targets + static_cast<int64_t>(b) * T);
    }
}

int64_t LmData::heldOutWindows(int T) const {
    return static_cast<int64_t>(m_heldBlocks.size()) * (m_blockLen / (T + 1));
}

void LmData::heldOutWindow(int64_t i, int T, int32_t* inputs, int32_t* targets) const {
    const int64_t perBlock = m_blockLen / (T + 1);
    const int32_t* w = m_tokens.data() + m_heldBlocks[i / perBlock] + (i % perBlock) * (T + 1);
    std::copy(w, w + T, inputs);
    std::copy(w + 1, w + T + 1, targets);
}

double LmData::unigramEntropy() const {
    std::vector<int64_t> counts(static_cast<size_t>(m_vocab), 0);
    int64_t n = 0;
    for (int64_t b : m_trainBlocks)
        for (int64_t i = 0; i < m_blockLen; ++i, ++n) ++counts[m_tokens[b + i]];
    double h = 0;
    for (int64_t c : counts)
        if (c > 0) {
            const double p = static_cast<double>(c) / static_cast<double>(n);
            h -= p * std::log(p);
        }
    return h;
}

}  // namespace mono::lmtrain
