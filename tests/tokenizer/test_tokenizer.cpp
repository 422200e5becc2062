// Tokenizers against real vocabularies: llama.cpp's conformance strings and ids,
// GPT-2's own files against the GGUF copy, the three stories260K/TinyStories
// vocabularies, decoding, and the streaming decoder.

#include <QtTest>

#include <atomic>
#include <fstream>
#include <thread>

#include "core/tokenizer/tokenizer.h"
#include "tests/support/test_support.h"

using namespace mono;
using namespace mono::tok;

namespace {

struct Case {
    std::string text;
    std::vector<TokenId> ids;
};

// llama.cpp's test-tokenizer-0 data: strings separated by "\n__ggml_vocab_test__\n"
// (also after the last one) and one line of space-separated ids per string.
std::vector<Case> readCases(const std::filesystem::path& gguf) {
    const std::string inp = test::readFile(gguf.string() + ".inp");
    const std::string out = test::readFile(gguf.string() + ".out");
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<Case> cases;
    size_t pos = 0;
    while (pos < inp.size()) {
        const size_t e = inp.find(sep, pos);
        if (e == std::string::npos) break;
        cases.push_back({inp.substr(pos, e - pos), {}});
        pos = e + sep.size();
    }
    size_t line = 0;
    pos = 0;
    while (pos < out.size() && line < cases.size()) {
        size_t e = out.find('\n', pos);
        if (e == std::string::npos) e = out.size();
        std::istringstream ss(out.substr(pos, e - pos));
        long v;
        while (ss >> v) cases[line].ids.push_back(static_cast<TokenId>(v));
        ++line;
        pos = e + 1;
    }
    if (line != cases.size()) cases.clear();  // malformed data: let the caller fail
    return cases;
}

QString idsToString(const std::vector<TokenId>& ids) {
    QStringList parts;
    for (TokenId id : ids) parts << QString::number(id);
    return parts.join(QLatin1Char(' '));
}

std::shared_ptr<const Tokenizer> mustLoad(const std::filesystem::path& path) {
    auto r = loadTokenizer(path.string());
    if (!r.ok()) qWarning("%s", r.status().toString().c_str());
    return r.ok() ? *r : nullptr;
}

// English with newlines, digits, punctuation, accents, CJK and emoji (byte fallback).
const std::string kMixedText =
    "Once upon a time, there was a little girl named Lily.\nShe had 3 red balls and 12 cats!\n\n"
    "\"Hello,\" said Tom. It's a café in Zürich — naïve façade.\n"
    "  Two spaces, a tab\there; the end?\n"
    "Emoji: \xF0\x9F\xA6\x99 \xF0\x9F\x9A\x80 and \xE4\xBD\xA0\xE5\xA5\xBD.";

}  // namespace

class TestTokenizer : public QObject {
    Q_OBJECT
private slots:
    void conformance_data() {
        QTest::addColumn<QString>("vocab");
        // The vocabularies Monoscope supports exactly (see docs/TOKENIZERS.md).
        for (const char* v :
             {"gpt-2", "llama-spm", "phi-3", "mpt", "starcoder", "refact", "falcon"})
            QTest::newRow(v) << QString::fromLatin1(v);
    }
    void conformance() {
        QFETCH(QString, vocab);
        const std::string file =
            "tokenizers/llamacpp-vocab/ggml-vocab-" + vocab.toStdString() + ".gguf";
        MONO_REQUIRE_SHARED(path, file);
        auto tok = mustLoad(path);
        QVERIFY(tok);
        const auto cases = readCases(path);
        QVERIFY2(cases.size() > 30, "could not read the .inp/.out pair");
        int failures = 0;
        for (const Case& c : cases) {
            // As llama.cpp's test-tokenizer-0: no BOS, special tokens not parsed.
            const auto ids = tok->encode(c.text, false, false);
            if (ids != c.ids) {
                ++failures;
                qWarning("%s: %s\n  expected %s\n  got      %s", qPrintable(vocab),
                         escapeBytes(c.text).c_str(), qPrintable(idsToString(c.ids)),
                         qPrintable(idsToString(ids)));
            }
        }
        QCOMPARE(failures, 0);
    }

    void decodeInvertsEncode_data() {
        QTest::addColumn<QString>("vocab");
        for (const char* v :
             {"gpt-2", "llama-spm", "phi-3", "mpt", "starcoder", "refact", "falcon"})
            QTest::newRow(v) << QString::fromLatin1(v);
    }
    void decodeInvertsEncode() {
        QFETCH(QString, vocab);
        const std::string file =
            "tokenizers/llamacpp-vocab/ggml-vocab-" + vocab.toStdString() + ".gguf";
        MONO_REQUIRE_SHARED(path, file);
        auto tok = mustLoad(path);
        QVERIFY(tok);
        for (const Case& c : readCases(path))
            QCOMPARE(tok->decode(tok->encode(c.text, false, false)), c.text);
    }

    void gpt2FilesMatchGguf() {
        MONO_REQUIRE_SHARED(gguf, "tokenizers/llamacpp-vocab/ggml-vocab-gpt-2.gguf");
        MONO_REQUIRE_SHARED(folder, "tokenizers/gpt2");
        auto fromGguf = mustLoad(gguf);
        auto fromFiles = mustLoad(folder);
        QVERIFY(fromGguf && fromFiles);
        QCOMPARE(fromFiles->vocabSize(), 50257);
        QCOMPARE(fromFiles->eos(), 50256);
        QCOMPARE(fromGguf->vocabSize(), fromFiles->vocabSize());
        const auto cases = readCases(gguf);
        QVERIFY(!cases.empty());
        for (const Case& c : cases) QCOMPARE(fromFiles->encode(c.text, false, false), c.ids);
        for (TokenId id = 0; id < fromFiles->vocabSize(); id += 97)
            QCOMPARE(fromFiles->tokenBytes(id), fromGguf->tokenBytes(id));
        QCOMPARE(fromFiles->piece(464), std::string("The"));
        QCOMPARE(fromFiles->piece(262), std::string("\xC4\xA0the"));  // "Ġthe"
        QCOMPARE(fromFiles->tokenBytes(262), std::string(" the"));
    }

    void gpt2SpecialTokens() {
        MONO_REQUIRE_SHARED(folder, "tokenizers/gpt2");
        auto tok = mustLoad(folder);
        QVERIFY(tok);
        const std::string text = "Hello<|endoftext|> world";
        QCOMPARE(tok->encode(text, false, true), (std::vector<TokenId>{15496, 50256, 995}));
        auto literal = tok->encode(text, false, false);
        QVERIFY(literal.size() > 3);
        QVERIFY(std::find(literal.begin(), literal.end(), 50256) == literal.end());
        QCOMPARE(tok->decode(literal), text);
        QVERIFY(tok->isSpecial(50256));
        QVERIFY(!tok->isSpecial(15496));
        QCOMPARE(tok->encode("Hello", true).front(), 50256);
    }

    void hfTokenizerJsonMatchesVocabMerges() {
        MONO_REQUIRE_SHARED(dir, "models/tiny-random-gpt2");
        auto fromJson = loadTokenizerJson((dir / "tokenizer.json").string());
        auto fromFiles =
            loadVocabMerges((dir / "vocab.json").string(), (dir / "merges.txt").string());
        MONO_VERIFY_RESULT(fromJson);
        MONO_VERIFY_RESULT(fromFiles);
        QCOMPARE((*fromJson)->vocabSize(), 1000);
        MONO_REQUIRE_SHARED(gguf, "tokenizers/llamacpp-vocab/ggml-vocab-gpt-2.gguf");
        size_t tokens = 0;
        int roundTrips = 0;
        for (const Case& c : readCases(gguf)) {
            const auto a = (*fromJson)->encode(c.text);
            QCOMPARE(a, (*fromFiles)->encode(c.text));
            tokens += a.size();
            // Its 1000-token vocabulary lacks many bytes (tab, most non-ASCII), which
            // are dropped; texts made of bytes it has must come back whole.
            const auto& tok = *fromJson;
            if (std::all_of(c.text.begin(), c.text.end(), [&](char ch) {
                    const std::string one(1, ch);
                    return tok->decode(tok->encode(one)) == one;
                })) {
                QCOMPARE((*fromJson)->decode(a), c.text);
                ++roundTrips;
            }
        }
        QVERIFY(tokens > 0);
        QVERIFY(roundTrips > 20);
    }

    void llama2cBinAndGgufAgree() {
        MONO_REQUIRE_SHARED(bin, "models/stories260K/tok512.bin");
        MONO_REQUIRE_SHARED(gguf, "models/stories260K/stories260K.gguf");
        auto a = mustLoad(bin);
        auto b = mustLoad(gguf);
        QVERIFY(a && b);
        QCOMPARE(a->vocabSize(), 512);
        QCOMPARE(b->vocabSize(), 512);
        QCOMPARE(a->bos(), 1);
        QCOMPARE(a->eos(), 2);
        QCOMPARE(b->bos(), 1);
        QCOMPARE(b->eos(), 2);
        QCOMPARE(a->piece(13), std::string("<0x0A>"));
        QCOMPARE(a->tokenBytes(13), std::string("\n"));
        QCOMPARE(a->tokenBytes(1), std::string());
        MONO_REQUIRE_SHARED(llamaCases, "tokenizers/llamacpp-vocab/ggml-vocab-llama-spm.gguf");
        std::vector<std::string> texts{kMixedText, "", " ", "Lily", "  leading", "trailing  \n"};
        for (const Case& c : readCases(llamaCases)) texts.push_back(c.text);
        for (const std::string& t : texts) {
            const auto ids = a->encode(t, true);
            QCOMPARE(ids, b->encode(t, true));
            QCOMPARE(a->decode(ids), t);
            QCOMPARE(b->decode(ids), t);
        }
        // Byte fallback: the llama emoji is not in this 512-token vocabulary.
        const auto emoji = a->encode("\xF0\x9F\xA6\x99");
        QCOMPARE(emoji.size(), size_t{5});  // "▁" + four <0xXX>
        QCOMPARE(a->piece(emoji[1]), std::string("<0xF0>"));
    }

    void llama2cDecodesTheGoldenGreedyIds() {
        MONO_REQUIRE_SHARED(bin, "models/stories260K/tok512.bin");
        MONO_REQUIRE_SHARED(idsFile, "models/stories260K/golden_greedy_ids_n64.txt");
        MONO_REQUIRE_SHARED(textFile, "models/stories260K/expected_greedy_t0_n256.txt");
        auto tok = mustLoad(bin);
        QVERIFY(tok);
        std::vector<TokenId> ids;
        std::istringstream in(test::readFile(idsFile));
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty() || line[0] == '#') continue;
            std::istringstream ls(line);
            int pos;
            int id;
            if (ls >> pos >> id) ids.push_back(id);
        }
        QCOMPARE(ids.size(), size_t{64});
        const std::string decoded = tok->decode(ids);
        const std::string expected = test::readFile(textFile);
        QVERIFY(decoded.size() > 100);
        QCOMPARE(expected.substr(0, decoded.size()), decoded);
        // The prompt of the other golden file tokenizes the way run.c does.
        const auto prompt = tok->encode("Once upon a time", true);
        QCOMPARE(prompt.front(), 1);
        QCOMPARE(tok->decode(prompt), std::string("Once upon a time"));
        QCOMPARE(std::vector<TokenId>(ids.begin(), ids.begin() + 3),
                 std::vector<TokenId>(prompt.begin() + 1, prompt.begin() + 4));
    }

    void tinyStoriesTokenizerJson() {
        MONO_REQUIRE_SHARED(dir, "models/TinyStories-656K");
        auto tok = mustLoad(dir);
        QVERIFY(tok);
        QCOMPARE(tok->vocabSize(), 2048);
        QCOMPARE(tok->bos(), 1);
        QCOMPARE(tok->eos(), 2);
        QVERIFY(tok->stripsLeadingSpace());
        MONO_REQUIRE_SHARED(story, "models/TinyStories-656K/expected_greedy_from_BOS_n100.txt");
        const std::string english =
            test::readFile(story) + "\nTom had 25 apples, 3 pears and 1 dog. \"Why?\" she asked.\n";
        const auto ids = tok->encode(english, true);
        QCOMPARE(ids.front(), 1);
        QVERIFY(ids.size() < english.size() / 2);  // real merges happened
        QVERIFY(std::find(ids.begin(), ids.end(), 0) == ids.end());
        QCOMPARE(tok->decode(ids), english);
        QCOMPARE(tok->encode("<|end_story|>", false, true), std::vector<TokenId>{2});
        // This vocabulary has no <0xXX> tokens: an emoji becomes one fused <unk>.
        const auto emoji = tok->encode("hi \xF0\x9F\xA6\x99\xF0\x9F\x9A\x80!");
        QCOMPARE(std::count(emoji.begin(), emoji.end(), 0), 1L);
    }

    void streamingDecoderHoldsPartialCharacters() {
        MONO_REQUIRE_SHARED(bin, "models/stories260K/tok512.bin");
        MONO_REQUIRE_SHARED(gpt2, "tokenizers/gpt2");
        for (const auto& path : {bin, gpt2}) {
            auto tok = mustLoad(path);
            QVERIFY(tok);
            const auto ids = tok->encode(kMixedText, true);
            StreamingDecoder stream(*tok);
            std::string joined;
            int heldBack = 0;
            for (TokenId id : ids) {
                const std::string part = stream.push(id);
                // Every piece handed out is complete, valid UTF-8 on its own.
                QVERIFY(QString::fromUtf8(part.data(), static_cast<int>(part.size())).toUtf8() ==
                        QByteArray(part.data(), static_cast<int>(part.size())));
                if (part.empty() && !tok->tokenBytes(id).empty()) ++heldBack;
                joined += part;
            }
            joined += stream.flush();
            QCOMPARE(joined, kMixedText);
            QVERIFY(heldBack > 0);  // the emoji really were split across tokens
        }
        // An incomplete character at the end becomes U+FFFD.
        MONO_REQUIRE_SHARED(bin2, "models/stories260K/tok512.bin");
        auto tok = mustLoad(bin2);
        StreamingDecoder s(*tok);
        QCOMPARE(s.push(3 + 0xF0), std::string());
        QCOMPARE(s.push(3 + 0x9F), std::string());
        QCOMPARE(s.flush(), std::string("\xEF\xBF\xBD"));
    }

    // The contract: concurrent encode/decode on one tokenizer after construction.
    void concurrentEncodeMatchesSerial() {
        MONO_REQUIRE_SHARED(gpt2, "tokenizers/gpt2");
        MONO_REQUIRE_SHARED(bin, "models/stories260K/tok512.bin");
        MONO_REQUIRE_SHARED(gguf, "tokenizers/llamacpp-vocab/ggml-vocab-gpt-2.gguf");
        std::vector<std::string> texts;
        for (const Case& c : readCases(gguf)) texts.push_back(c.text);
        texts.push_back(kMixedText);
        for (const auto& path : {gpt2, bin}) {
            auto tok = mustLoad(path);
            QVERIFY(tok);
            std::vector<std::vector<TokenId>> serial;
            for (const auto& t : texts) serial.push_back(tok->encode(t));
            std::atomic<int> mismatches{0};
            std::vector<std::thread> threads;
            for (int k = 0; k < 4; ++k)
                threads.emplace_back([&, k] {
                    for (int round = 0; round < 20; ++round)
                        for (size_t i = 0; i < texts.size(); ++i) {
                            const size_t j = (i + k * 7 + round) % texts.size();
                            const auto ids = tok->encode(texts[j]);
                            if (ids != serial[j] || tok->decode(ids) != texts[j]) ++mismatches;
                        }
                });
            for (auto& t : threads) t.join();
            QCOMPARE(mismatches.load(), 0);
        }
    }

    void loaderChoosesByPath() {
        MONO_REQUIRE_SHARED(gpt2, "tokenizers/gpt2");
        auto missing = loadTokenizer((test::tempDir() / "nothing-here").string());
        QCOMPARE(missing.status().code(), StatusCode::kNotFound);
        auto empty = loadTokenizer(test::tempDir().string());
        QCOMPARE(empty.status().code(), StatusCode::kNotFound);
        QVERIFY(empty.status().message().find("tokenizer.json") != std::string::npos);
        auto viaFile = loadTokenizer((gpt2 / "encoder.json").string());
        QVERIFY(!viaFile.ok());  // encoder.json alone is a vocab without merges
        auto tok = mustLoad(gpt2);
        QVERIFY(tok);
        QVERIFY(tok->describe().find("byte-level BPE") != std::string::npos);
    }

    void escapeBytesIsReadable() {
        QCOMPARE(escapeBytes("a\nb\t\\"), std::string("a\\nb\\t\\\\"));
        QCOMPARE(escapeBytes("\xC3\xA9"), std::string("\xC3\xA9"));
        QCOMPARE(escapeBytes("\xF0\x9F"), std::string("\\xF0\\x9F"));
        QCOMPARE(escapeBytes(std::string("\0", 1)), std::string("\\x00"));
    }
};

QTEST_GUILESS_MAIN(TestTokenizer)
#include "test_tokenizer.moc"
