#pragma once
// Building a Tokenizer from an in-memory vocabulary: what every file loader
// (tokenizer.json, vocab.json + merges.txt, GGUF, llama2.c tokenizer.bin) fills
// in. The factories validate everything (ids, merges, byte tokens) and return
// Corruption errors prefixed with `source`, so loaders stay thin.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/base/result.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::tok {

// GGUF's token_type values (llama.cpp), used for every format.
enum class TokenKind : uint8_t {
    kNormal = 1,
    kUnknown = 2,
    kControl = 3,      // BOS, EOS, <|endoftext|>: matched in text only when parseSpecial
    kUserDefined = 4,  // added tokens: always matched in text
    kUnused = 5,
    kByte = 6,  // <0xXX>
};

// The pre-tokenizer regex of a byte-level vocabulary, as llama.cpp names them.
enum class PreTokenizer {
    kGpt2,        // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    kDigitsGpt2,  // starcoder, refact: every \p{N} alone, then kGpt2 between them
    kFalcon,      // [\p{P}\$\+<=>\^~\|`]+ , then kGpt2, then [0-9][0-9][0-9]
};

struct ByteBpeVocab {
    std::string source;               // file name, prefixed to every error
    std::vector<std::string> pieces;  // GPT-2 byte-to-unicode form ("Ġthe")
    std::vector<TokenKind> kinds;     // empty = all normal
    std::vector<std::pair<std::string, std::string>> merges;  // highest priority first
    TokenId bos = -1;
    TokenId eos = -1;
    PreTokenizer pre = PreTokenizer::kGpt2;
};
Result<std::shared_ptr<const Tokenizer>> makeByteBpeTokenizer(ByteBpeVocab vocab);

struct SpmVocab {
    std::string source;
    std::vector<std::string> pieces;  // SentencePiece form: "▁the", "<0x0A>"
    std::vector<TokenKind> kinds;     // empty = inferred (<0xXX> byte, else normal)
    // Merge rule. Scores (llama.cpp / SentencePiece / llama2.c): repeatedly merge
    // the adjacent pair whose concatenation is a token with the highest score,
    // leftmost on ties. Merges (Hugging Face BPE): by rank, as listed.
    bool useMerges = false;
    std::vector<float> scores;
    std::vector<std::pair<std::string, std::string>> merges;
    TokenId bos = -1;
    TokenId eos = -1;
    TokenId unk = -1;
    bool addSpacePrefix = true;  // SentencePiece's dummy prefix "▁"
    bool fuseUnknown = false;    // Hugging Face fuse_unk: adjacent unknowns -> one <unk>
};
Result<std::shared_ptr<const Tokenizer>> makeSpmTokenizer(SpmVocab vocab);

}  // namespace mono::tok
