#pragma once
// Packs a corpus into context windows: documents are tokenized one at a time,
// joined with BOS as the separator, and cut into windows of `contextSize`
// tokens that each start with BOS. Deterministic, so a job can skip the
// windows it already processed and continue.

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/io/corpus.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::acts {

struct Window {
    std::vector<int32_t> tokens;  // [contextSize], BOS first
    std::vector<int32_t>
        docs;  // [contextSize] document index of each token (-1 for the opening BOS)
};

class WindowStream {
public:
    // `bos` opens every window and separates documents. The tokenizer must outlive the stream.
    WindowStream(io::CorpusReader reader, const tok::Tokenizer& tokenizer, int contextSize,
                 int32_t bos)
        : m_reader(std::move(reader)),
          m_tokenizer(tokenizer),
          m_contextSize(contextSize),
          m_bos(bos) {}

    // The next full window; false when the corpus ends first (a partial window is dropped).
    Result<bool> next(Window& window);

private:
    Result<bool> nextToken(int32_t& token, int32_t& doc);

    io::CorpusReader m_reader;
    const tok::Tokenizer& m_tokenizer;
    int m_contextSize;
    int32_t m_bos;
    std::vector<tok::TokenId> m_tokens;  // the current document
    size_t m_pos = 0;
    int32_t m_docIndex = -1;
};

}  // namespace mono::acts
