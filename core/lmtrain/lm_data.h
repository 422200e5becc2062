#pragma once
// The token stream an LM trains on, split into training and held-out parts.
// The stream (documents separated by the end-of-text id) is cut into blocks of
// equal length; every k-th block is held out, so the held-out text comes from
// all over the corpus, not only its end. Training windows of T+1 tokens are
// drawn from the training blocks at random; held-out windows are fixed.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::lmtrain {

class LmData {
public:
    // Splits `tokens` (every id in [0, vocab)) for windows of `ctx` + 1 tokens,
    // holding out about `heldOutFraction` of the blocks (none when 0).
    // InvalidArgument when an id is out of range or the stream is too short.
    static Result<LmData> fromTokens(std::vector<int32_t> tokens, int vocab, int ctx,
                                     double heldOutFraction);
    // Trains on all of `train` and holds out all of `heldOut` (both cut into blocks).
    static Result<LmData> fromSplit(std::vector<int32_t> train, std::vector<int32_t> heldOut,
                                    int vocab, int ctx);
    // Tokenizes every document of the corpus files (core/io/corpus.h formats)
    // and ends each with the tokenizer's end-of-text id. With heldOutFiles, those
    // are the held-out text and heldOutFraction is ignored. Errors name the file.
    static Result<LmData> fromCorpus(const std::vector<std::string>& files,
                                     const std::vector<std::string>& heldOutFiles,
                                     const tok::Tokenizer& tokenizer, int ctx,
                                     double heldOutFraction, Progress& progress, StopToken stop);

    int64_t totalTokens() const { return static_cast<int64_t>(m_tokens.size()); }
    int64_t trainTokens() const;
    int64_t heldOutTokens() const;
    int vocab() const { return m_vocab; }
    int ctx() const { return m_ctx; }
    // Identifies the stream and its split (a resumed run must see the same data).
    uint64_t fingerprint() const;

    // B training windows: inputs [B, T] and targets [B, T] (inputs shifted by one).
    // T ≤ ctx. Draws from `rng` only.
    void sampleBatch(std::mt19937_64& rng, int B, int T, int32_t* inputs, int32_t* targets) const;
    // The fixed held-out windows of T + 1 tokens, in order.
    int64_t heldOutWindows(int T) const;
    void heldOutWindow(int64_t i, int T, int32_t* inputs, int32_t* targets) const;

    // Entropy (nats) of the unigram distribution of the training tokens: the loss
    // of the best model that ignores context.
    double unigramEntropy() const;

private:
    std::vector<int32_t> m_tokens;
    int m_vocab = 0;
    int m_ctx = 0;
    int64_t m_blockLen = 0;
    std::vector<int64_t> m_trainBlocks;  // start offsets into m_tokens
    std::vector<int64_t> m_heldBlocks;
};

}  // namespace mono::lmtrain
