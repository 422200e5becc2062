#pragma once
// The tokenizer interface every model uses. Two implementations: byte-level BPE
// (GPT-2 family) and SentencePiece-style BPE with byte fallback (Llama family).
// Thread-safe for concurrent encode/decode after construction.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"

namespace mono::tok {

using TokenId = int32_t;

class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    // Text → ids. Special tokens written literally in the text (e.g. "<|endoftext|>")
    // are matched when `parseSpecial` is true. BOS is prepended when `addBos` is
    // true and the vocabulary has one.
    virtual std::vector<TokenId> encode(std::string_view text, bool addBos = false,
                                        bool parseSpecial = true) const = 0;

    // The raw bytes of one token as it contributes to decoded text (a GPT-2 "Ġthe"
    // gives " the"; a byte-fallback "<0x0A>" gives "\n"; BOS/EOS give "").
    virtual std::string tokenBytes(TokenId id) const = 0;

    // The token's piece as stored in the vocabulary ("Ġthe", "▁the", "<0x0A>").
    virtual std::string piece(TokenId id) const = 0;

    virtual int vocabSize() const = 0;
    virtual TokenId bos() const = 0;  // -1 when the vocabulary has none
    virtual TokenId eos() const = 0;  // -1 when the vocabulary has none
    virtual bool isSpecial(TokenId id) const = 0;

    // ids → text. Llama-style tokenizers drop the leading space their normalizer added.
    // Ids outside the vocabulary contribute nothing. The bytes are returned as they
    // are: a sequence cut inside a character is not valid UTF-8.
    virtual std::string decode(const std::vector<TokenId>& ids) const;

    // True when the normalizer prepends a space (SentencePiece's dummy prefix) that
    // decoding removes again from the start of the text.
    virtual bool stripsLeadingSpace() const { return false; }

    // One line for people: kind, vocabulary size, merge rule, source file.
    virtual std::string describe() const { return {}; }
};

// Decodes a stream of ids one at a time without ever emitting half a UTF-8
// character: bytes of an incomplete sequence are held back until it completes.
class StreamingDecoder {
public:
    explicit StreamingDecoder(const Tokenizer& tokenizer) : m_tokenizer(tokenizer) {}
    // The text that became complete with this id (possibly empty).
    std::string push(TokenId id);
    // Whatever is left (invalid trailing bytes become U+FFFD).
    std::string flush();

private:
    const Tokenizer& m_tokenizer;
    std::string m_pending;
    bool m_first = true;
};

// Chooses and loads the tokenizer that belongs to a model:
//  - a folder with tokenizer.json (or vocab.json + merges.txt),
//  - a .gguf file (tokenizer.ggml.* metadata),
//  - a llama2.c tokenizer.bin (explicit path).
// Errors name the path and what was missing or malformed.
Result<std::shared_ptr<const Tokenizer>> loadTokenizer(const std::string& path);

// The loaders loadTokenizer chooses between, for callers that know the format.
// tokenizer.json (Hugging Face): byte-level BPE, or BPE with byte_fallback and the
// SentencePiece normalizer. BOS/EOS come from tokenizer_config.json or
// special_tokens_map.json beside it when present.
Result<std::shared_ptr<const Tokenizer>> loadTokenizerJson(const std::string& path);
// GPT-2's vocab.json + merges.txt (OpenAI's encoder.json + vocab.bpe).
Result<std::shared_ptr<const Tokenizer>> loadVocabMerges(const std::string& vocabPath,
                                                         const std::string& mergesPath);
// llama2.c tokenizer.bin: int32 max_token_length, then per token f32 score,
// int32 length, bytes. Pieces are given back in SentencePiece form ("▁the").
Result<std::shared_ptr<const Tokenizer>> loadLlama2cTokenizer(const std::string& path);
// The tokenizer.ggml.* metadata of a GGUF file (model "gpt2" or "llama").
Result<std::shared_ptr<const Tokenizer>> loadGgufTokenizer(const std::string& path);

// Printable form of raw token bytes: printable ASCII and valid UTF-8 as they are,
// \n \t \r \\, other bytes as \xNN.
std::string escapeBytes(std::string_view bytes);

}  // namespace mono::tok
