// File formats -> ByteBpeVocab / SpmVocab. Every problem becomes a Status naming
// the file and the key or offset; nlohmann exceptions never leave this file.

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/base/file_checks.h"
#include "core/tokenizer/bpe_detail.h"
#include "core/tokenizer/tokenizer.h"
#include "core/tokenizer/unicode.h"
#include "core/tokenizer/vocab.h"

namespace mono::tok {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr uint64_t kMaxFileBytes = uint64_t{1} << 30;
constexpr int64_t kMaxVocab = int64_t{1} << 24;

Result<std::string> readWholeFile(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return Status::notFound(path + ": no such file");
    if (fs::is_directory(path, ec))
        return Status::invalidArgument(path + ": is a folder, not a file");
    MONO_RETURN_IF_ERROR(requireRegularFile(path));
    const uintmax_t size = fs::file_size(path, ec);
    if (ec) return Status::ioError(path + ": cannot read its size: " + ec.message());
    if (size > kMaxFileBytes)
        return Status::resourceExhausted(path + ": " + std::to_string(size) +
                                         " bytes is larger than a tokenizer can be (1 GiB)");
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::ioError(path + ": cannot open for reading");
    std::string data(static_cast<size_t>(size), '\0');
    in.read(data.data(), static_cast<std::streamsize>(size));
    if (static_cast<uintmax_t>(in.gcount()) != size)
        return Status::ioError(path + ": short read (" + std::to_string(in.gcount()) + " of " +
                               std::to_string(size) + " bytes)");
    return data;
}

Result<json> parseJson(const std::string& path, const std::string& text) {
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        return Status::corruption(path + ": invalid JSON: " + e.what());
    }
}

std::string typeName(const json& j) {
    return j.type_name();
}

Status wrongType(const std::string& path, const std::string& key, const char* expected,
                 const json& found) {
    return Status::corruption(path + ": '" + key + "': expected " + expected + ", found " +
                              typeName(found));
}

// "a b" -> {"a", "b"}; tokens of BPE vocabularies never hold a plain space.
bool splitMerge(const std::string& line, std::pair<std::string, std::string>* out) {
    const size_t sp = line.find(' ');
    if (sp == std::string::npos || sp == 0 || sp + 1 >= line.size() ||
        line.find(' ', sp + 1) != std::string::npos)
        return false;
    *out = {line.substr(0, sp), line.substr(sp + 1)};
    return true;
}

Result<std::vector<std::pair<std::string, std::string>>> parseJsonMerges(const std::string& path,
                                                                         const json& merges) {
    if (!merges.is_array()) return wrongType(path, "model.merges", "an array", merges);
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
        const json& m = merges[i];
        const std::string key = "model.merges[" + std::to_string(i) + "]";
        std::pair<std::string, std::string> pair;
        if (m.is_string()) {
            if (!splitMerge(m.get<std::string>(), &pair))
                return Status::corruption(path + ": '" + key +
                                          "': expected \"left right\", found \"" +
                                          m.get<std::string>() + "\"");
        } else if (m.is_array()) {
            if (m.size() != 2 || !m[0].is_string() || !m[1].is_string())
                return Status::corruption(path + ": '" + key +
                                          "': expected a pair of two strings, found " + m.dump());
            pair = {m[0].get<std::string>(), m[1].get<std::string>()};
        } else {
            return wrongType(path, key, "a string or a pair of strings", m);
        }
        out.push_back(std::move(pair));
    }
    return out;
}

// {"piece": id, ...} -> pieces by id; ids must be unique and without holes
// (holes may be filled later by added tokens, so they are checked by the caller).
Status readVocabObject(const std::string& path, const std::string& key, const json& vocab,
                       std::vector<std::string>* pieces, std::vector<bool>* present) {
    if (!vocab.is_object()) return wrongType(path, key, "an object of token -> id", vocab);
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
        if (!it.value().is_number_integer())
            return wrongType(path, key + "[\"" + it.key() + "\"]", "an integer id", it.value());
        const int64_t id = it.value().get<int64_t>();
        if (id < 0 || id >= kMaxVocab)
            return Status::corruption(path + ": '" + key + "[\"" + it.key() + "\"]': id " +
                                      std::to_string(id) + " is outside [0, " +
                                      std::to_string(kMaxVocab) + ")");
        if (static_cast<size_t>(id) >= pieces->size()) {
            pieces->resize(id + 1);
            present->resize(id + 1, false);
        }
        if ((*present)[id])
            return Status::corruption(path + ": '" + key + "': id " + std::to_string(id) +
                                      " is given to both '" + (*pieces)[id] + "' and '" + it.key() +
                                      "'");
        (*pieces)[id] = it.key();
        (*present)[id] = true;
    }
    return Status::success();
}

Status checkNoHoles(const std::string& path, const std::vector<bool>& present) {
    if (present.empty()) return Status::corruption(path + ": the vocabulary is empty");
    for (size_t id = 0; id < present.size(); ++id)
        if (!present[id])
            return Status::corruption(path + ": no token has id " + std::to_string(id) +
                                      " (ids must run from 0 to " +
                                      std::to_string(present.size() - 1) + " without gaps)");
    return Status::success();
}

TokenId findPiece(const std::vector<std::string>& pieces, std::string_view piece) {
    for (size_t i = 0; i < pieces.size(); ++i)
        if (pieces[i] == piece) return static_cast<TokenId>(i);
    return -1;
}

// bos_token / eos_token from tokenizer_config.json or special_tokens_map.json in
// the same folder: a string, or an object with "content".
Status readSpecialNames(const fs::path& folder, std::string* bos, std::string* eos) {
    for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"}) {
        const fs::path p = folder / name;
        std::error_code ec;
        if (!fs::exists(p, ec)) continue;
        MONO_ASSIGN_OR_RETURN(std::string text, readWholeFile(p.string()));
        MONO_ASSIGN_OR_RETURN(json j, parseJson(p.string(), text));
        if (!j.is_object()) continue;
        auto get = [&](const char* key, std::string* out) {
            if (!out->empty() || !j.contains(key)) return;
            const json& v = j[key];
            if (v.is_string())
                *out = v.get<std::string>();
            else if (v.is_object() && v.contains("content") && v["content"].is_string())
                *out = v["content"].get<std::string>();
        };
        get("bos_token", bos);
        get("eos_token", eos);
    }
    return Status::success();
}

void guessBosEos(const std::vector<std::string>& pieces, const std::string& bosName,
                 const std::string& eosName, TokenId* bos, TokenId* eos) {
    auto firstOf = [&](std::initializer_list<std::string_view> names) {
        for (auto n : names)
            if (TokenId id = findPiece(pieces, n); id >= 0) return id;
        return TokenId{-1};
    };
    *bos = bosName.empty() ? -1 : findPiece(pieces, bosName);
    *eos = eosName.empty() ? -1 : findPiece(pieces, eosName);
    if (*bos < 0) *bos = firstOf({"<s>", "<|begin_of_text|>", "<|endoftext|>"});
    if (*eos < 0) *eos = firstOf({"</s>", "<|end_of_text|>", "<|endoftext|>"});
}

bool hasType(const json& node, const char* type) {
    if (!node.is_object()) return false;
    if (node.contains("type") && node["type"] == type) return true;
    for (const char* list : {"normalizers", "pretokenizers", "decoders"})
        if (node.contains(list) && node[list].is_array())
            for (const json& child : node[list])
                if (hasType(child, type)) return true;
    return false;
}

const json* findType(const json& node, const char* type) {
    if (!node.is_object()) return nullptr;
    if (node.contains("type") && node["type"] == type) return &node;
    for (const char* list : {"normalizers", "pretokenizers", "decoders"})
        if (node.contains(list) && node[list].is_array())
            for (const json& child : node[list])
                if (const json* hit = findType(child, type)) return hit;
    return nullptr;
}

// The "model" object of a tokenizer.json, checked to be a BPE with a vocab and merges.
Result<const json*> bpeModelNode(const std::string& path, const json& j) {
    if (!j.is_object()) return wrongType(path, "(top level)", "an object", j);
    if (!j.contains("model")) return Status::corruption(path + ": missing key 'model'");
    const json& model = j["model"];
    if (!model.is_object()) return wrongType(path, "model", "an object", model);
    if (model.contains("type")) {
        if (!model["type"].is_string())
            return wrongType(path, "model.type", "a string", model["type"]);
        const std::string type = model["type"].get<std::string>();
        if (type != "BPE")
            return Status::unsupported(path + ": model.type '" + type +
                                       "' is not supported (only BPE)");
    }
    if (!model.contains("vocab")) return Status::corruption(path + ": missing key 'model.vocab'");
    if (!model.contains("merges")) return Status::corruption(path + ": missing key 'model.merges'");
    return &model;
}

// What tokenizer.json says about the vocabulary, whichever tokenizer it makes.
struct JsonVocab {
    std::vector<std::string> pieces;
    std::vector<TokenKind> kinds;
    std::vector<std::pair<std::string, std::string>> merges;
    TokenId bos = -1;
    TokenId eos = -1;
};

// added_tokens: each must agree with model.vocab where both give an id, and
// may fill its holes. `added` gets each one's id and whether it is special.
Status readAddedTokens(const std::string& path, const json& j, std::vector<std::string>* pieces,
                       std::vector<bool>* present, std::vector<std::pair<TokenId, bool>>* added) {
    if (!j.contains("added_tokens") || j["added_tokens"].is_null()) return Status::success();
    const json& at = j["added_tokens"];
    if (!at.is_array()) return wrongType(path, "added_tokens", "an array", at);
    for (size_t i = 0; i < at.size(); ++i) {
        const json& t = at[i];
        const std::string key = "added_tokens[" + std::to_string(i) + "]";
        if (!t.is_object()) return wrongType(path, key, "an object", t);
        if (!t.contains("id") || !t["id"].is_number_integer())
            return Status::corruption(path + ": '" + key + ".id': expected an integer");
        if (!t.contains("content") || !t["content"].is_string())
            return Status::corruption(path + ": '" + key + ".content': expected a string");
        const int64_t id = t["id"].get<int64_t>();
        const std::string content = t["content"].get<std::string>();
        if (id < 0 || id >= kMaxVocab)
            return Status::corruption(path + ": '" + key + ".id': " + std::to_string(id) +
                                      " is outside [0, " + std::to_string(kMaxVocab) + ")");
        if (static_cast<size_t>(id) >= pieces->size()) {
            pieces->resize(id + 1);
            present->resize(id + 1, false);
        }
        if ((*present)[id] && (*pieces)[id] != content)
            return Status::corruption(path + ": '" + key + "': id " + std::to_string(id) + " is '" +
                                      content + "' here but '" + (*pieces)[id] +
                                      "' in model.vocab");
        (*pieces)[id] = content;
        (*present)[id] = true;
        const bool special =
            t.contains("special") && t["special"].is_boolean() && t["special"].get<bool>();
        added->emplace_back(static_cast<TokenId>(id), special);
    }
    return Status::success();
}

// Pieces, kinds, merges and BOS/EOS from model.vocab, added_tokens, model.merges
// and the special-token files beside `path`.
Result<JsonVocab> readJsonVocab(const std::string& path, const json& j, const json& model) {
    JsonVocab v;
    std::vector<bool> present;
    MONO_RETURN_IF_ERROR(readVocabObject(path, "model.vocab", model["vocab"], &v.pieces, &present));
    std::vector<std::pair<TokenId, bool>> added;  // id, special
    MONO_RETURN_IF_ERROR(readAddedTokens(path, j, &v.pieces, &present, &added));
    MONO_RETURN_IF_ERROR(checkNoHoles(path, present));
    for (size_t id = 0; id < v.pieces.size(); ++id)
        if (const size_t bad = detail::findInvalidUtf8(v.pieces[id]); bad != std::string::npos)
            return Status::corruption(path + ": token " + std::to_string(id) +
                                      " is not valid UTF-8");
    v.kinds.assign(v.pieces.size(), TokenKind::kNormal);
    for (auto [id, special] : added)
        v.kinds[id] = special ? TokenKind::kControl : TokenKind::kUserDefined;

    MONO_ASSIGN_OR_RETURN(v.merges, parseJsonMerges(path, model["merges"]));
    std::string bosName;
    std::string eosName;
    MONO_RETURN_IF_ERROR(readSpecialNames(fs::path(path).parent_path(), &bosName, &eosName));
    guessBosEos(v.pieces, bosName, eosName, &v.bos, &v.eos);
    return v;
}

// Llama style: byte fallback, the "▁" prefix from a Prepend normalizer, no pre_tokenizer.
Result<std::shared_ptr<const Tokenizer>> spmFromJson(const std::string& path, const json& model,
                                                     const json& normalizer, const json& pre,
                                                     bool byteFallback, JsonVocab vocab) {
    if (!pre.is_null() && !pre.empty())
        return Status::unsupported(path + ": a SentencePiece-style BPE with a pre_tokenizer (" +
                                   pre.dump().substr(0, 80) + ") is not supported");
    SpmVocab v;
    v.source = path;
    v.useMerges = true;
    v.merges = std::move(vocab.merges);
    v.bos = vocab.bos;
    v.eos = vocab.eos;
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
        v.unk = findPiece(vocab.pieces, model["unk_token"].get<std::string>());
        if (v.unk < 0)
            return Status::corruption(path + ": model.unk_token '" +
                                      model["unk_token"].get<std::string>() +
                                      "' is not in the vocabulary");
    }
    v.fuseUnknown = model.contains("fuse_unk") && model["fuse_unk"].is_boolean() &&
                    model["fuse_unk"].get<bool>();
    const json* prepend = findType(normalizer, "Prepend");
    v.addSpacePrefix =
        prepend && prepend->contains("prepend") && (*prepend)["prepend"] == "\xE2\x96\x81";
    for (size_t id = 0; id < vocab.pieces.size(); ++id)
        if (vocab.kinds[id] == TokenKind::kNormal && byteFallback &&
            detail::parseByteToken(vocab.pieces[id]) >= 0)
            vocab.kinds[id] = TokenKind::kByte;
    v.pieces = std::move(vocab.pieces);
    v.kinds = std::move(vocab.kinds);
    return makeSpmTokenizer(std::move(v));
}

// GPT-2 style: the ByteLevel pre_tokenizer with GPT-2's own regex.
Result<std::shared_ptr<const Tokenizer>> byteLevelFromJson(const std::string& path, const json& pre,
                                                           JsonVocab vocab) {
    if (const json* bl = findType(pre, "ByteLevel");
        bl && bl->contains("add_prefix_space") && (*bl)["add_prefix_space"] == true)
        return Status::unsupported(path +
                                   ": ByteLevel pre_tokenizer with add_prefix_space=true is "
                                   "not supported");
    if (hasType(pre, "Split"))
        return Status::unsupported(path +
                                   ": a Split pre_tokenizer (a custom regex) is not supported; "
                                   "only GPT-2's ByteLevel regex");
    ByteBpeVocab v;
    v.source = path;
    v.pieces = std::move(vocab.pieces);
    v.kinds = std::move(vocab.kinds);
    v.merges = std::move(vocab.merges);
    v.bos = vocab.bos;
    v.eos = vocab.eos;
    return makeByteBpeTokenizer(std::move(v));
}

Result<std::shared_ptr<const Tokenizer>> tokenizerFromJson(const std::string& path, const json& j) {
    MONO_ASSIGN_OR_RETURN(const json* model, bpeModelNode(path, j));
    MONO_ASSIGN_OR_RETURN(JsonVocab vocab, readJsonVocab(path, j, *model));
    const json empty;
    const json& normalizer = j.contains("normalizer") ? j["normalizer"] : empty;
    const json& pre = j.contains("pre_tokenizer") ? j["pre_tokenizer"] : empty;
    const json& decoder = j.contains("decoder") ? j["decoder"] : empty;
    const bool byteFallback = model->contains("byte_fallback") &&
                              (*model)["byte_fallback"].is_boolean() &&
                              (*model)["byte_fallback"].get<bool>();
    if (byteFallback || hasType(normalizer, "Prepend") || hasType(decoder, "ByteFallback"))
        return spmFromJson(path, *model, normalizer, pre, byteFallback, std::move(vocab));
    if (hasType(pre, "ByteLevel") || hasType(decoder, "ByteLevel"))
        return byteLevelFromJson(path, pre, std::move(vocab));
    return Status::unsupported(path +
                               ": a BPE model needs either a ByteLevel pre_tokenizer (GPT-2 style) "
                               "or byte_fallback with the SentencePiece normalizer (Llama style)");
}

}  // namespace

Result<std::shared_ptr<const Tokenizer>> loadTokenizerJson(const std::string& path) {
    MONO_ASSIGN_OR_RETURN(std::string text, readWholeFile(path));
    MONO_ASSIGN_OR_RETURN(json j, parseJson(path, text));
    try {
        return tokenizerFromJson(path, j);
    } catch (const json::exception& e) {
        return Status::corruption(path + ": unexpected JSON content: " + e.what());
    }
}

Result<std::shared_ptr<const Tokenizer>> loadVocabMerges(const std::string& vocabPath,
                                                         const std::string& mergesPath) {
    MONO_ASSIGN_OR_RETURN(std::string vocabText, readWholeFile(vocabPath));
    MONO_ASSIGN_OR_RETURN(json j, parseJson(vocabPath, vocabText));
    std::vector<std::string> pieces;
    std::vector<bool> present;
    try {
        MONO_RETURN_IF_ERROR(readVocabObject(vocabPath, "(top level)", j, &pieces, &present));
    } catch (const json::exception& e) {
        return Status::corruption(vocabPath + ": unexpected JSON content: " + e.what());
    }
    MONO_RETURN_IF_ERROR(checkNoHoles(vocabPath, present));

    MONO_ASSIGN_OR_RETURN(std::string mergesText, readWholeFile(mergesPath));
    ByteBpeVocab v;
    v.source = vocabPath + " + " + mergesPath;
    size_t lineNo = 0;
    size_t pos = 0;
    while (pos < mergesText.size()) {
        size_t eol = mergesText.find('\n', pos);
        if (eol == std::string::npos) eol = mergesText.size();
        std::string line = mergesText.substr(pos, eol - pos);
        pos = eol + 1;
        ++lineNo;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || (lineNo == 1 && line.rfind("#version", 0) == 0)) continue;
        std::pair<std::string, std::string> pair;
        if (!splitMerge(line, &pair))
            return Status::corruption(mergesPath + ": line " + std::to_string(lineNo) +
                                      ": expected \"left right\", found \"" + line.substr(0, 80) +
                                      "\"");
        v.merges.push_back(std::move(pair));
    }
    v.kinds.assign(pieces.size(), TokenKind::kNormal);
    const TokenId eot = findPiece(pieces, "<|endoftext|>");
    if (eot >= 0) v.kinds[eot] = TokenKind::kControl;
    v.bos = v.eos = eot;
    v.pieces = std::move(pieces);
    return makeByteBpeTokenizer(std::move(v));
}

Result<std::shared_ptr<const Tokenizer>> loadLlama2cTokenizer(const std::string& path) {
    MONO_ASSIGN_OR_RETURN(std::string data, readWholeFile(path));
    auto fail = [&](const std::string& m) { return Status::corruption(path + ": " + m); };
    auto readI32 = [&](size_t off) {
        int32_t v;
        std::memcpy(&v, data.data() + off, 4);
        return v;
    };
    if (data.size() < 4)
        return fail("truncated: expected a 4-byte max_token_length, found " +
                    std::to_string(data.size()) + " bytes");
    const int32_t maxLen = readI32(0);
    if (maxLen <= 0 || maxLen > 65536)
        return fail("max_token_length at offset 0 is " + std::to_string(maxLen) +
                    ", expected 1..65536");
    SpmVocab v;
    v.source = path;
    size_t off = 4;
    while (off < data.size()) {
        const std::string token =
            "token " + std::to_string(v.pieces.size()) + " at offset " + std::to_string(off);
        if (data.size() - off < 8)
            return fail(token + ": truncated: expected an 8-byte score and length, found " +
                        std::to_string(data.size() - off) + " bytes");
        float score;
        std::memcpy(&score, data.data() + off, 4);
        const int32_t len = readI32(off + 4);
        if (!std::isfinite(score)) return fail(token + ": score is not a finite number");
        if (len <= 0 || len > maxLen)
            return fail(token + ": length " + std::to_string(len) +
                        " is outside 1..max_token_length (" + std::to_string(maxLen) + ")");
        off += 8;
        if (data.size() - off < static_cast<size_t>(len))
            return fail(token + ": truncated: expected " + std::to_string(len) + " bytes, found " +
                        std::to_string(data.size() - off));
        std::string piece = data.substr(off, len);
        if (const size_t bad = detail::findInvalidUtf8(piece); bad != std::string::npos)
            return fail(token + ": not valid UTF-8 at byte " + std::to_string(off + bad));
        off += len;
        v.pieces.push_back(std::move(piece));
        v.scores.push_back(score);
        if (v.pieces.size() > static_cast<size_t>(kMaxVocab))
            return fail("more than " + std::to_string(kMaxVocab) + " tokens");
    }
    if (v.pieces.size() < 3)
        return fail("expected at least 3 tokens (<unk>, <s>, </s>), found " +
                    std::to_string(v.pieces.size()));
    // llama2.c's export wrote "\n<s>\n" and "\n</s>\n" for BOS/EOS and real
    // spaces for "▁"; give the pieces back in SentencePiece form.
    for (std::string& p : v.pieces) {
        std::string out;
        for (char c : p) out += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
        p = std::move(out);
    }
    for (int id : {1, 2}) {
        std::string& p = v.pieces[id];
        while (!p.empty() && p.front() == '\n') p.erase(0, 1);
        while (!p.empty() && p.back() == '\n') p.pop_back();
        if (p.empty()) return fail("token " + std::to_string(id) + " (BOS/EOS) is only newlines");
    }
    v.kinds.resize(v.pieces.size(), TokenKind::kNormal);
    for (size_t id = 0; id < v.pieces.size(); ++id)
        if (detail::parseByteToken(v.pieces[id]) >= 0) v.kinds[id] = TokenKind::kByte;
    v.kinds[0] = TokenKind::kUnknown;
    v.kinds[1] = v.kinds[2] = TokenKind::kControl;
    v.unk = 0;
    v.bos = 1;
    v.eos = 2;
    return makeSpmTokenizer(std::move(v));
}

Result<std::shared_ptr<const Tokenizer>> loadTokenizer(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return Status::notFound(path + ": no such file or folder");
    if (fs::is_directory(path, ec)) {
        const fs::path dir(path);
        if (fs::exists(dir / "tokenizer.json", ec))
            return loadTokenizerJson((dir / "tokenizer.json").string());
        for (auto [vocab, merges] :
             {std::pair{"vocab.json", "merges.txt"}, std::pair{"encoder.json", "vocab.bpe"}})
            if (fs::exists(dir / vocab, ec) && fs::exists(dir / merges, ec))
                return loadVocabMerges((dir / vocab).string(), (dir / merges).string());
        if (fs::exists(dir / "tokenizer.bin", ec))
            return loadLlama2cTokenizer((dir / "tokenizer.bin").string());
        return Status::notFound(path +
                                ": no tokenizer found (looked for tokenizer.json, vocab.json + "
                                "merges.txt, encoder.json + vocab.bpe, tokenizer.bin)");
    }
    MONO_RETURN_IF_ERROR(requireRegularFile(path));
    char magic[4] = {};
    {
        std::ifstream in(path, std::ios::binary);
        if (!in) return Status::ioError(path + ": cannot open for reading");
        in.read(magic, 4);
    }
    if (std::memcmp(magic, "GGUF", 4) == 0) return loadGgufTokenizer(path);
    const fs::path p(path);
    if (p.extension() == ".json") {
        if (p.filename() == "vocab.json" && fs::exists(p.parent_path() / "merges.txt", ec))
            return loadVocabMerges(path, (p.parent_path() / "merges.txt").string());
        return loadTokenizerJson(path);
    }
    if (p.extension() == ".model")
        return Status::unsupported(path +
                                   ": SentencePiece .model files are not supported; use the "
                                   "tokenizer.json, GGUF or llama2.c tokenizer.bin of the model");
    return loadLlama2cTokenizer(path);
}

}  // namespace mono::tok
