// Damaged tokenizer files: every variant must give a clear error that names the
// file (and what was wrong), never a crash. Run under ASan+UBSan by scripts/test.

#include <QtTest>

#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

#include "core/tokenizer/tokenizer.h"
#include "tests/support/test_support.h"

using namespace mono;
using namespace mono::tok;
using json = nlohmann::json;

Q_DECLARE_METATYPE(std::string)

namespace {

std::string i32(int32_t v) {
    return std::string(reinterpret_cast<const char*>(&v), 4);
}
std::string f32(float v) {
    return std::string(reinterpret_cast<const char*>(&v), 4);
}

// Offsets where each token record (score, len, bytes) of a llama2.c tokenizer starts.
std::vector<size_t> tokenOffsets(const std::string& bin) {
    std::vector<size_t> offs;
    size_t off = 4;
    while (off + 8 <= bin.size()) {
        offs.push_back(off);
        int32_t len;
        std::memcpy(&len, bin.data() + off + 4, 4);
        off += 8 + static_cast<size_t>(len);
    }
    return offs;
}

std::string withI32(std::string s, size_t off, int32_t v) {
    std::memcpy(s.data() + off, &v, 4);
    return s;
}

// A minimal GGUF v3 writer (no tensors), independent of core/io, for vocabularies
// damaged in ways a real file would not be.
struct GgufVocab {
    std::string kvs;
    uint64_t count = 0;
    static std::string str(const std::string& v) {
        uint64_t n = v.size();
        return std::string(reinterpret_cast<const char*>(&n), 8) + v;
    }
    void add(const std::string& key, uint32_t type, const std::string& value) {
        kvs += str(key) + std::string(reinterpret_cast<const char*>(&type), 4) + value;
        ++count;
    }
    void addString(const std::string& key, const std::string& v) { add(key, 8, str(v)); }
    void addI32(const std::string& key, int32_t v) { add(key, 5, i32(v)); }
    void addStrings(const std::string& key, const std::vector<std::string>& v) {
        std::string items;
        for (const auto& e : v) items += str(e);
        add(key, 9, array(8, v.size(), items));
    }
    void addI32s(const std::string& key, const std::vector<int32_t>& v) {
        std::string items;
        for (int32_t e : v) items += i32(e);
        add(key, 9, array(5, v.size(), items));
    }
    void addF32s(const std::string& key, const std::vector<float>& v) {
        std::string items;
        for (float e : v) items += f32(e);
        add(key, 9, array(6, v.size(), items));
    }
    static std::string array(uint32_t type, uint64_t n, const std::string& items) {
        return std::string(reinterpret_cast<const char*>(&type), 4) +
               std::string(reinterpret_cast<const char*>(&n), 8) + items;
    }
    std::string build() const {
        std::string s = "GGUF";
        const uint32_t version = 3;
        const uint64_t tensors = 0;
        s += std::string(reinterpret_cast<const char*>(&version), 4);
        s += std::string(reinterpret_cast<const char*>(&tensors), 8);
        s += std::string(reinterpret_cast<const char*>(&count), 8);
        s += kvs;
        s.append((32 - s.size() % 32) % 32, '\0');
        return s;
    }
};

// A tiny byte-level vocabulary: the 256 byte tokens, "he", "llo", "hello" + damage.
struct GptParts {
    std::vector<std::string> tokens;
    std::vector<std::string> merges{"h e", "l l", "ll o", "he llo"};
    std::vector<int32_t> types;
    GptParts() {
        // GPT-2's bytes_to_unicode: printable bytes stand for themselves, the
        // others get U+0100 onwards in byte order.
        uint32_t extra = 256;
        for (int b = 0; b < 256; ++b) {
            const bool printable =
                (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
            const uint32_t cp = printable ? static_cast<uint32_t>(b) : extra++;
            std::string u;
            if (cp < 0x80) {
                u += static_cast<char>(cp);
            } else {
                u += static_cast<char>(0xC0 | (cp >> 6));
                u += static_cast<char>(0x80 | (cp & 0x3F));
            }
            tokens.push_back(u);
        }
        for (const char* t : {"he", "ll", "llo", "hello", "<|endoftext|>"}) tokens.push_back(t);
        types.assign(tokens.size(), 1);
        types.back() = 3;
    }
    std::string build(const char* model = "gpt2") const {
        GgufVocab g;
        g.addString("tokenizer.ggml.model", model);
        g.addStrings("tokenizer.ggml.tokens", tokens);
        g.addStrings("tokenizer.ggml.merges", merges);
        g.addI32s("tokenizer.ggml.token_type", types);
        return g.build();
    }
};

// Checks the common contract: an error, whose message names the file and
// contains `expect`.
void expectClearError(const Result<std::shared_ptr<const Tokenizer>>& r,
                      const std::filesystem::path& file, const std::string& expect) {
    QVERIFY2(!r.ok(), "a damaged file was accepted");
    const std::string msg = r.status().message();
    QVERIFY2(msg.find(file.filename().string()) != std::string::npos,
             qPrintable(QString::fromStdString("does not name the file: " + msg)));
    QVERIFY2(msg.find(expect) != std::string::npos,
             qPrintable(QString::fromStdString("expected '" + expect + "' in: " + msg)));
    QVERIFY(r.status().code() != StatusCode::kInternal);
}

}  // namespace

class TestTokenizerHostile : public QObject {
    Q_OBJECT
private slots:
    void llama2cBin_data() {
        QTest::addColumn<std::string>("bytes");
        QTest::addColumn<std::string>("expect");
        const std::string good =
            test::readFile(test::sharedDir() / "models/stories260K/tok512.bin");
        if (good.size() < 1000) QSKIP("shared/models/stories260K/tok512.bin not found");
        const auto offs = tokenOffsets(good);
        const size_t t0 = offs[0];
        const size_t t5 = offs[5];
        QTest::newRow("empty") << std::string() << std::string("max_token_length");
        QTest::newRow("two bytes") << good.substr(0, 2) << std::string("truncated");
        QTest::newRow("max length 0") << withI32(good, 0, 0) << std::string("max_token_length");
        QTest::newRow("max length -1") << withI32(good, 0, -1) << std::string("max_token_length");
        QTest::newRow("max length huge")
            << withI32(good, 0, 1 << 30) << std::string("max_token_length");
        QTest::newRow("header only") << good.substr(0, 4) << std::string("at least 3 tokens");
        QTest::newRow("two tokens") << good.substr(0, offs[2]) << std::string("at least 3 tokens");
        QTest::newRow("cut in first header") << good.substr(0, t0 + 5) << std::string("truncated");
        QTest::newRow("cut in first bytes") << good.substr(0, t0 + 9) << std::string("truncated");
        QTest::newRow("negative length") << withI32(good, t0 + 4, -5) << std::string("length -5");
        QTest::newRow("zero length") << withI32(good, t0 + 4, 0) << std::string("length 0");
        QTest::newRow("length INT_MAX")
            << withI32(good, t0 + 4, 0x7FFFFFFF) << std::string("length");
        QTest::newRow("length INT_MIN")
            << withI32(good, t5 + 4, INT32_MIN) << std::string("length");
        QTest::newRow("length over max")
            << withI32(withI32(good, 0, 5), t0 + 4, 6) << std::string("length 6");
        QTest::newRow("length past end")
            << good.substr(0, good.size() - 1) << std::string("truncated");
        {
            std::string s = good;
            std::memcpy(s.data() + t5, f32(std::nanf("")).data(), 4);
            QTest::newRow("NaN score") << s << std::string("finite");
            std::memcpy(s.data() + t5, f32(INFINITY).data(), 4);
            QTest::newRow("infinite score") << s << std::string("finite");
        }
        {
            std::string s = good;
            s[offs[300] + 8] = static_cast<char>(0xFF);
            QTest::newRow("invalid UTF-8 byte") << s << std::string("UTF-8");
            s = good;
            s[offs[300] + 8] = static_cast<char>(0x80);
            QTest::newRow("lone continuation byte") << s << std::string("UTF-8");
        }
        {
            auto piece = [&](const std::string& bytes) {
                return good.substr(0, 4) + f32(0) + i32(5) + "<unk>" + f32(0) + i32(3) + "<s>" +
                       f32(0) + i32(static_cast<int32_t>(bytes.size())) + bytes;
            };
            QTest::newRow("overlong encoding") << piece("\xC0\x80") << std::string("UTF-8");
            QTest::newRow("surrogate") << piece("\xED\xA0\x80") << std::string("UTF-8");
            QTest::newRow("truncated sequence") << piece("a\xE2\x96") << std::string("UTF-8");
            QTest::newRow("code point > U+10FFFF")
                << piece("\xF4\x90\x80\x80") << std::string("UTF-8");
            std::string nl = good.substr(0, 4) + f32(0) + i32(5) + "<unk>" + f32(0) + i32(3) +
                             "\n\n\n" + f32(0) + i32(5) + "</s>x";
            QTest::newRow("BOS only newlines") << nl << std::string("only newlines");
        }
        QTest::newRow("partial trailing record")
            << good + std::string(3, '\0') << std::string("truncated");
        QTest::newRow("trailing record no bytes")
            << good + f32(0) + i32(4) << std::string("truncated");
        // Cuts inside records at spread-out places.
        for (size_t k : {1u, 7u, 50u, 100u, 258u, 259u, 300u, 400u, 510u, 511u}) {
            const std::string name = "cut inside token " + std::to_string(k);
            QTest::newRow(name.c_str()) << good.substr(0, offs[k] + 6) << std::string("truncated");
        }
        QTest::newRow("not a tokenizer (json)")
            << std::string("{\"model\": {}}") << std::string("max_token_length");
    }
    void llama2cBin() {
        QFETCH(std::string, bytes);
        QFETCH(std::string, expect);
        const auto file = test::tempDir() / "tokenizer.bin";
        test::writeFile(file, bytes);
        expectClearError(loadLlama2cTokenizer(file.string()), file, expect);
        expectClearError(loadTokenizer(file.string()), file, expect);
    }

    void tokenizerJson_data() {
        QTest::addColumn<std::string>("bytes");
        QTest::addColumn<std::string>("expect");
        const std::string spmText =
            test::readFile(test::sharedDir() / "models/TinyStories-656K/tokenizer.json");
        const std::string gptText =
            test::readFile(test::sharedDir() / "models/tiny-random-gpt2/tokenizer.json");
        if (spmText.empty() || gptText.empty()) QSKIP("shared tokenizer.json files not found");
        const json spm = json::parse(spmText);
        const json gpt = json::parse(gptText);
        auto row = [](const char* name, const json& j, const char* expect) {
            QTest::newRow(name) << j.dump() << std::string(expect);
        };
        auto edit = [&](const json& base, auto&& f) {
            json j = base;
            f(j);
            return j;
        };

        QTest::newRow("empty") << std::string() << std::string("invalid JSON");
        QTest::newRow("not JSON") << std::string("tokenizer, but not json")
                                  << std::string("invalid JSON");
        QTest::newRow("truncated")
            << spmText.substr(0, spmText.size() / 2) << std::string("invalid JSON");
        QTest::newRow("truncated byte-level")
            << gptText.substr(0, 1000) << std::string("invalid JSON");
        {
            std::string s = spmText;
            const size_t at = s.find("\"<unk>\"");
            s[at + 2] = static_cast<char>(0xFF);
            QTest::newRow("invalid UTF-8 in a string") << s << std::string("invalid JSON");
        }
        QTest::newRow("deep nesting")
            << std::string(3000, '[') + std::string(3000, ']') << std::string("expected an object");
        row("top level array", json::array({1, 2}), "expected an object");
        row("no model", edit(spm, [](json& j) { j.erase("model"); }), "missing key 'model'");
        row("model is a string", edit(spm, [](json& j) { j["model"] = "BPE"; }),
            "'model': expected an object");
        row("model type Unigram", edit(spm, [](json& j) { j["model"]["type"] = "Unigram"; }),
            "Unigram");
        row("model type number", edit(spm, [](json& j) { j["model"]["type"] = 5; }), "model.type");
        row("no vocab", edit(spm, [](json& j) { j["model"].erase("vocab"); }), "model.vocab");
        row("vocab is an array", edit(spm, [](json& j) { j["model"]["vocab"] = json::array(); }),
            "model.vocab");
        row("id is a string", edit(spm, [](json& j) { j["model"]["vocab"]["he"] = "7"; }),
            "expected an integer id");
        row("id is a float", edit(gpt, [](json& j) { j["model"]["vocab"]["he"] = 1.5; }),
            "expected an integer id");
        row("negative id", edit(spm, [](json& j) { j["model"]["vocab"]["▁the"] = -3; }), "id -3");
        row("huge id", edit(spm, [](json& j) { j["model"]["vocab"]["▁the"] = 1000000000000LL; }),
            "outside");
        row("duplicate id", edit(spm, [](json& j) { j["model"]["vocab"]["▁zz9"] = 5; }),
            "id 5 is given to both");
        row("hole in ids", edit(spm, [](json& j) { j["model"]["vocab"].erase("!"); }),
            "no token has id 4");
        row("empty token",
            edit(gpt,
                 [](json& j) {
                     auto& v = j["model"]["vocab"];
                     const int id = v["he"];
                     v.erase("he");
                     v[""] = id;
                 }),
            "is empty");
        row("no merges", edit(spm, [](json& j) { j["model"].erase("merges"); }), "model.merges");
        row("merges is an object",
            edit(spm, [](json& j) { j["model"]["merges"] = json::object(); }), "model.merges");
        row("merge without space", edit(spm, [](json& j) { j["model"]["merges"][3] = "ab"; }),
            "model.merges[3]");
        row("merge with three parts", edit(gpt, [](json& j) { j["model"]["merges"][0] = "a b c"; }),
            "model.merges[0]");
        row("merge pair of one",
            edit(spm, [](json& j) { j["model"]["merges"][1] = json::array({"a"}); }),
            "model.merges[1]");
        row("merge pair of numbers",
            edit(spm,
                 [](json& j) {
                     j["model"]["merges"][1] = json::array({1, 2});
                 }),
            "model.merges[1]");
        row("merge is a number", edit(spm, [](json& j) { j["model"]["merges"][2] = 42; }),
            "model.merges[2]");
        row("merge of unknown token",
            edit(spm, [](json& j) { j["model"]["merges"][10] = "▁qqqq zzz"; }),
            "'▁qqqq' is not in the vocabulary");
        row("merge unknown byte-level", edit(gpt, [](json& j) { j["model"]["merges"][5] = "Ġ ☃"; }),
            "'☃' is not in the vocabulary");
        row("merge result unknown", edit(gpt, [](json& j) { j["model"]["merges"][5] = "t q"; }),
            "the result 'tq'");
        row("added_tokens not an array", edit(spm, [](json& j) { j["added_tokens"] = 3; }),
            "added_tokens");
        row("added token without id", edit(spm, [](json& j) { j["added_tokens"][0].erase("id"); }),
            "added_tokens[0].id");
        row("added token content number",
            edit(spm, [](json& j) { j["added_tokens"][1]["content"] = 1; }),
            "added_tokens[1].content");
        row("added token conflicts", edit(spm, [](json& j) { j["added_tokens"][2]["id"] = 40; }),
            "added_tokens[2]");
        row("added token negative id", edit(gpt, [](json& j) { j["added_tokens"][0]["id"] = -1; }),
            "added_tokens[0].id");
        row("unk token unknown", edit(spm, [](json& j) { j["model"]["unk_token"] = "<nope>"; }),
            "unk_token");
        row("neither byte-level nor byte fallback",
            edit(spm,
                 [](json& j) {
                     j["model"]["byte_fallback"] = false;
                     j["normalizer"] = nullptr;
                     j["decoder"] = nullptr;
                 }),
            "needs either");
        row("custom Split regex",
            edit(gpt,
                 [](json& j) {
                     j["pre_tokenizer"] = {
                         {"type", "Sequence"},
                         {"pretokenizers",
                          json::array({{{"type", "Split"}}, {{"type", "ByteLevel"}}})}};
                 }),
            "Split");
        row("vocab empty",
            edit(gpt,
                 [](json& j) {
                     j["model"]["vocab"] = json::object();
                     j["added_tokens"] = json::array();
                 }),
            "vocabulary is empty");
    }
    void tokenizerJson() {
        QFETCH(std::string, bytes);
        QFETCH(std::string, expect);
        const auto dir = test::tempDir();
        const auto file = dir / "tokenizer.json";
        test::writeFile(file, bytes);
        expectClearError(loadTokenizerJson(file.string()), file, expect);
        expectClearError(loadTokenizer(dir.string()), file, expect);
    }

    void ggufVocab_data() {
        QTest::addColumn<std::string>("bytes");
        QTest::addColumn<std::string>("expect");
        {
            GgufVocab g;
            g.addStrings("tokenizer.ggml.tokens", {"a"});
            QTest::newRow("no tokenizer.ggml.model")
                << g.build() << std::string("tokenizer.ggml.model");
        }
        {
            GgufVocab g;
            g.addString("tokenizer.ggml.model", "bert");
            g.addStrings("tokenizer.ggml.tokens", {"a"});
            QTest::newRow("model bert") << g.build() << std::string("'bert' is not supported");
        }
        {
            GgufVocab g;
            g.addString("tokenizer.ggml.model", "llama");
            g.addString("tokenizer.ggml.tokens", "abc");
            QTest::newRow("tokens not an array")
                << g.build() << std::string("tokenizer.ggml.tokens");
        }
        {
            GgufVocab g;
            g.addString("tokenizer.ggml.model", "llama");
            g.addStrings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>",
                                                   "\xE2\x96\x81"
                                                   "a"});
            g.addF32s("tokenizer.ggml.scores", {0, 0, 0});
            QTest::newRow("scores count") << g.build() << std::string("scores: expected 4 entries");
        }
        {
            GgufVocab g;
            g.addString("tokenizer.ggml.model", "llama");
            g.addStrings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "<0x0A>", "x"});
            g.addF32s("tokenizer.ggml.scores", {0, 0, 0, 0, -1});
            g.addI32s("tokenizer.ggml.token_type", {2, 3, 3, 6, 6});
            QTest::newRow("byte type not <0xXX>") << g.build() << std::string("token 4 'x'");
        }
        {
            GgufVocab g;
            g.addString("tokenizer.ggml.model", "llama");
            g.addStrings("tokenizer.ggml.tokens", {"<unk>", "a\xFF"});
            g.addF32s("tokenizer.ggml.scores", {0, 0});
            QTest::newRow("token not UTF-8")
                << g.build() << std::string("token 1 is not valid UTF-8");
        }
        {
            GgufVocab g;
            g.addString("tokenizer.ggml.model", "llama");
            g.addStrings("tokenizer.ggml.tokens", {"<unk>", ""});
            g.addF32s("tokenizer.ggml.scores", {0, 0});
            QTest::newRow("empty token") << g.build() << std::string("token 1 is empty");
        }
        {
            GgufVocab g;
            g.addString("tokenizer.ggml.model", "llama");
            g.addStrings("tokenizer.ggml.tokens", {"<unk>", "a"});
            g.addF32s("tokenizer.ggml.scores", {0, std::nanf("")});
            QTest::newRow("NaN score") << g.build() << std::string("not finite");
        }
        {
            GgufVocab g;
            g.addString("tokenizer.ggml.model", "llama");
            g.addStrings("tokenizer.ggml.tokens", {"<unk>", "a"});
            g.addI32("tokenizer.ggml.bos_token_id", -5);
            QTest::newRow("negative bos id") << g.build() << std::string("bos_token_id");
        }
        GptParts ok;
        {
            GptParts p = ok;
            p.types.pop_back();
            QTest::newRow("token_type count") << p.build() << std::string("expected 261 entries");
        }
        {
            GptParts p = ok;
            p.types[3] = 9;
            QTest::newRow("token_type value") << p.build() << std::string("token_type'[3] = 9");
        }
        {
            GptParts p = ok;
            p.merges[1] = "l q\xC3\xA9";
            QTest::newRow("merge unknown token")
                << p.build() << std::string("is not in the vocabulary");
        }
        {
            GptParts p = ok;
            p.merges[2] = "llo";
            QTest::newRow("merge without space") << p.build() << std::string("merges'[2]");
        }
        {
            GptParts p = ok;
            p.merges[3] = "h llo";
            QTest::newRow("merge result unknown") << p.build() << std::string("the result 'hllo'");
        }
        {
            GgufVocab g;
            g.addString("tokenizer.ggml.model", "gpt2");
            g.addStrings("tokenizer.ggml.tokens", ok.tokens);
            QTest::newRow("gpt2 without merges")
                << g.build() << std::string("tokenizer.ggml.merges");
        }
        {
            GgufVocab g;
            g.addString("tokenizer.ggml.model", "gpt2");
            g.addString("tokenizer.ggml.pre", "deepseek-llm");
            g.addStrings("tokenizer.ggml.tokens", ok.tokens);
            g.addStrings("tokenizer.ggml.merges", ok.merges);
            QTest::newRow("unsupported pre-tokenizer")
                << g.build() << std::string("'deepseek-llm'");
        }
        const std::string good = ok.build();
        QTest::newRow("truncated GGUF") << good.substr(0, good.size() / 2) << std::string("");
    }
    void ggufVocab() {
        QFETCH(std::string, bytes);
        QFETCH(std::string, expect);
        const auto file = test::tempDir() / "vocab.gguf";
        test::writeFile(file, bytes);
        expectClearError(loadTokenizer(file.string()), file, expect);
    }

    // The builder's undamaged vocabulary loads and merges: the rows above fail
    // because of their damage, not because of the builder.
    void ggufBuilderIsSound() {
        const auto file = test::tempDir() / "vocab.gguf";
        test::writeFile(file, GptParts().build());
        auto r = loadTokenizer(file.string());
        MONO_VERIFY_RESULT(r);
        QCOMPARE((*r)->encode("hello<|endoftext|>"), (std::vector<TokenId>{259, 260}));
        QCOMPARE((*r)->decode({259}), std::string("hello"));
    }

    void vocabMerges_data() {
        QTest::addColumn<std::string>("vocab");
        QTest::addColumn<std::string>("merges");
        QTest::addColumn<std::string>("expect");
        const std::string v = R"({"a": 0, "b": 1, "ab": 2})";
        QTest::newRow("good vocab, bad merge line")
            << v << std::string("#version: 0.2\na b\nabc\n") << std::string("line 3");
        QTest::newRow("merge of unknown")
            << v << std::string("a c\n") << std::string("'c' is not in the vocabulary");
        QTest::newRow("vocab not an object")
            << std::string("[1,2]") << std::string("a b\n") << std::string("expected an object");
        QTest::newRow("vocab invalid json")
            << std::string("{\"a\": 0,") << std::string("a b\n") << std::string("invalid JSON");
        QTest::newRow("vocab gap") << std::string(R"({"a": 0, "ab": 2})") << std::string("")
                                   << std::string("no token has id 1");
    }
    void vocabMerges() {
        QFETCH(std::string, vocab);
        QFETCH(std::string, merges);
        QFETCH(std::string, expect);
        const auto dir = test::tempDir();
        test::writeFile(dir / "vocab.json", vocab);
        test::writeFile(dir / "merges.txt", merges);
        auto r = loadTokenizer(dir.string());
        QVERIFY(!r.ok());
        QVERIFY2(r.status().message().find(expect) != std::string::npos,
                 r.status().message().c_str());
        QVERIFY(r.status().message().find(dir.string()) != std::string::npos);
    }

    // Random byte damage: anything may be accepted or refused, but nothing may crash,
    // and an accepted tokenizer must still encode and decode.
    void randomDamageNeverCrashes() {
        MONO_REQUIRE_SHARED(bin, "models/stories260K/tok512.bin");
        MONO_REQUIRE_SHARED(js, "models/tiny-random-gpt2/tokenizer.json");
        std::mt19937 rng(12345);
        int refused = 0;
        int accepted = 0;
        for (const auto& src : {bin, js}) {
            const std::string good = test::readFile(src);
            for (int trial = 0; trial < 150; ++trial) {
                std::string bad = good;
                const int edits = 1 + static_cast<int>(rng() % 4);
                for (int e = 0; e < edits; ++e) bad[rng() % bad.size()] = static_cast<char>(rng());
                if (trial % 5 == 0) bad.resize(rng() % bad.size());
                const auto file = test::tempDir() / src.filename();
                test::writeFile(file, bad);
                auto r = loadTokenizer(file.string());
                if (!r.ok()) {
                    ++refused;
                    QVERIFY(r.status().message().find(file.filename().string()) !=
                            std::string::npos);
                    continue;
                }
                ++accepted;
                const auto ids = (*r)->encode("Hello world, it's 2024! \xF0\x9F\xA6\x99 <s>", true);
                (void)(*r)->decode(ids);
            }
        }
        QVERIFY(refused > 0);
        qInfo("random damage: %d refused, %d accepted", refused, accepted);
    }
};

QTEST_GUILESS_MAIN(TestTokenizerHostile)
#include "test_tokenizer_hostile.moc"
