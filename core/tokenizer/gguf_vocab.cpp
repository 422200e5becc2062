#include "core/tokenizer/gguf_vocab.h"

#include "core/tokenizer/bpe_detail.h"
#include "core/tokenizer/vocab.h"

namespace mono::tok {
namespace {

// An optional key: absent -> fallback; present with a wrong type -> the error.
Result<int64_t> optionalInt(const io::GgufFile& f, const std::string& key, int64_t fallback) {
    if (!f.find(key)) return fallback;
    return f.getInt(key);
}

Result<bool> optionalBool(const io::GgufFile& f, const std::string& key, bool fallback) {
    const io::GgufValue* v = f.find(key);
    if (!v) return fallback;
    if (const auto* b = std::get_if<bool>(&v->value)) return *b;
    return Status::corruption(f.path() + ": key '" + key + "': expected a bool, found " +
                              io::ggufTypeName(v->type));
}

Result<std::vector<TokenKind>> tokenKinds(const io::GgufFile& f, size_t n) {
    const std::string key = "tokenizer.ggml.token_type";
    std::vector<TokenKind> kinds(n, TokenKind::kNormal);
    if (!f.find(key)) return kinds;
    MONO_ASSIGN_OR_RETURN(std::vector<int64_t> types, f.getIntArray(key));
    if (types.size() != n)
        return Status::corruption(f.path() + ": key '" + key + "': expected " + std::to_string(n) +
                                  " entries (one per token), found " +
                                  std::to_string(types.size()));
    for (size_t i = 0; i < n; ++i) {
        if (types[i] < 0 || types[i] > 6)
            return Status::corruption(f.path() + ": key '" + key + "'[" + std::to_string(i) +
                                      "] = " + std::to_string(types[i]) +
                                      ", expected a token type 0..6");
        // 0 is llama.cpp's "undefined": treat as normal.
        kinds[i] = types[i] == 0 ? TokenKind::kNormal : static_cast<TokenKind>(types[i]);
    }
    return kinds;
}

Result<TokenId> tokenIdKey(const io::GgufFile& f, const std::string& key, size_t n) {
    MONO_ASSIGN_OR_RETURN(int64_t id, optionalInt(f, key, -1));
    if (id < -1 || id >= static_cast<int64_t>(n)) {
        // Some converters store an id past the vocabulary for "none"; keep it as none.
        if (id >= static_cast<int64_t>(n)) return TokenId{-1};
        return Status::corruption(f.path() + ": key '" + key + "' = " + std::to_string(id) +
                                  " is not a token id");
    }
    return static_cast<TokenId>(id);
}

Result<PreTokenizer> preTokenizerFor(const io::GgufFile& f) {
    const std::string key = "tokenizer.ggml.pre";
    if (!f.find(key)) return PreTokenizer::kGpt2;
    MONO_ASSIGN_OR_RETURN(std::string pre, f.getString(key));
    if (pre == "gpt-2" || pre == "gpt2" || pre == "mpt" || pre == "olmo" || pre == "jais" ||
        pre == "gpt-neox")
        return PreTokenizer::kGpt2;
    if (pre == "starcoder" || pre == "refact" || pre == "command-r" || pre == "smollm" ||
        pre == "codeshell")
        return PreTokenizer::kDigitsGpt2;
    if (pre == "falcon") return PreTokenizer::kFalcon;
    return Status::unsupported(f.path() + ": key '" + key + "' = '" + pre +
                               "': this pre-tokenizer regex is not supported (supported: gpt-2, "
                               "mpt, olmo, gpt-neox, starcoder, refact, command-r, falcon)");
}

}  // namespace

Result<std::shared_ptr<const Tokenizer>> loadGgufTokenizer(const io::GgufFile& f) {
    MONO_ASSIGN_OR_RETURN(std::string model, f.getString("tokenizer.ggml.model"));
    MONO_ASSIGN_OR_RETURN(std::vector<std::string> tokens,
                          f.getStringArray("tokenizer.ggml.tokens"));
    const size_t n = tokens.size();
    MONO_ASSIGN_OR_RETURN(std::vector<TokenKind> kinds, tokenKinds(f, n));
    MONO_ASSIGN_OR_RETURN(TokenId bos, tokenIdKey(f, "tokenizer.ggml.bos_token_id", n));
    MONO_ASSIGN_OR_RETURN(TokenId eos, tokenIdKey(f, "tokenizer.ggml.eos_token_id", n));

    if (model == "gpt2") {
        MONO_ASSIGN_OR_RETURN(PreTokenizer pre, preTokenizerFor(f));
        MONO_ASSIGN_OR_RETURN(std::vector<std::string> lines,
                              f.getStringArray("tokenizer.ggml.merges"));
        ByteBpeVocab v;
        v.source = f.path();
        v.merges.reserve(lines.size());
        for (size_t i = 0; i < lines.size(); ++i) {
            const std::string& line = lines[i];
            const size_t sp = line.find(' ', 1);
            if (sp == std::string::npos || sp + 1 >= line.size())
                return Status::corruption(
                    f.path() + ": key 'tokenizer.ggml.merges'[" + std::to_string(i) +
                    "]: expected \"left right\", found \"" + line.substr(0, 80) + "\"");
            v.merges.emplace_back(line.substr(0, sp), line.substr(sp + 1));
        }
        v.pieces = std::move(tokens);
        v.kinds = std::move(kinds);
        v.bos = bos;
        v.eos = eos;
        v.pre = pre;
        return makeByteBpeTokenizer(std::move(v));
    }
    if (model == "llama") {
        SpmVocab v;
        v.source = f.path();
        if (f.find("tokenizer.ggml.scores")) {
            MONO_ASSIGN_OR_RETURN(v.scores, f.getFloatArray("tokenizer.ggml.scores"));
        } else {
            v.scores.assign(n, 0.0f);
        }
        MONO_ASSIGN_OR_RETURN(v.addSpacePrefix,
                              optionalBool(f, "tokenizer.ggml.add_space_prefix", true));
        MONO_ASSIGN_OR_RETURN(v.unk, tokenIdKey(f, "tokenizer.ggml.unknown_token_id", n));
        if (v.unk < 0)
            for (size_t i = 0; i < n; ++i)
                if (kinds[i] == TokenKind::kUnknown) {
                    v.unk = static_cast<TokenId>(i);
                    break;
                }
        v.pieces = std::move(tokens);
        v.kinds = std::move(kinds);
        v.bos = bos;
        v.eos = eos;
        return makeSpmTokenizer(std::move(v));
    }
    return Status::unsupported(f.path() + ": tokenizer.ggml.model '" + model +
                               "' is not supported (only gpt2 and llama)");
}

Result<std::shared_ptr<const Tokenizer>> loadGgufTokenizer(const std::string& path) {
    MONO_ASSIGN_OR_RETURN(io::GgufFile file, io::GgufFile::open(path));
    return loadGgufTokenizer(file);
}

}  // namespace mono::tok
