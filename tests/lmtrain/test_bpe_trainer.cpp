// BPE training: the merges of a hand-counted corpus in the right order, a
// round trip through the tokenizer.json loader, determinism, bad input.

#include <QtTest>

#include <filesystem>

#include "core/tokenizer/bpe_trainer.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/support/test_support.h"

using namespace mono;
using namespace mono::tok;

namespace {

// A few paragraphs of varied English, repeated with small changes so that
// frequent words become tokens.
std::string sampleText() {
    std::string text;
    const char* lines[] = {
        "The quick brown fox jumps over the lazy dog.\n",
        "A tokenizer splits text into pieces; the model sees only the pieces.\n",
        "Numbers like 12345 and 2026 are split by the pre-tokenizer, too!\n",
        "  Indented lines, tabs\tand newlines\n\nare kept exactly.\n",
        "Ünïcödé wörds — and emoji 🙂 — must survive a round trip.\n",
        "It's the model's job; we'll see what they've learned.\n",
    };
    for (int r = 0; r < 40; ++r)
        for (const char* l : lines) text += std::string(l) + (r % 3 == 0 ? "" : " again\n");
    return text;
}

}  // namespace

class TestBpeTrainer : public QObject {
    Q_OBJECT
private slots:
    // The Hugging Face course example, counted by hand: "hug"×10, "pug"×5,
    // "pun"×12, "bun"×4, "hugs"×5. Pair counts: "u g" 20, "p u" 17, "u n" 16,
    // "h u" 15. After "u g": "u n" 16 > "h ug" 15 > "p u" 12. Then "h ug".
    void mergesInFrequencyOrder() {
        BpeTrainer t;
        auto add = [&](const char* w, int n) {
            for (int i = 0; i < n; ++i) t.addText(w);
        };
        add("hug", 10);
        add("pug", 5);
        add("pun", 12);
        add("bun", 4);
        add("hugs", 5);
        QCOMPARE(t.distinctWords(), int64_t{5});
        auto bpe = t.train(256 + 3 + 1);
        MONO_VERIFY_RESULT(bpe);
        QCOMPARE(bpe->merges.size(), size_t{3});
        auto name = [&](int i) {
            return bpe->tokens[bpe->merges[i].first] + " " + bpe->tokens[bpe->merges[i].second];
        };
        QCOMPARE(name(0), std::string("u g"));
        QCOMPARE(name(1), std::string("u n"));
        QCOMPARE(name(2), std::string("h ug"));
        QCOMPARE(bpe->tokens.size(), size_t{260});
        QCOMPARE(bpe->tokens[256], std::string("ug"));
        QCOMPARE(bpe->tokens[258], std::string("hug"));
        QCOMPARE(bpe->endOfText, 259);
        QCOMPARE(bpe->tokens[259], std::string(kEndOfText));
    }

    // Overlapping pairs ("aaaa") merge left to right and counts stay exact.
    void overlappingPairs() {
        BpeTrainer t;
        for (int i = 0; i < 3; ++i) t.addText("aaaa");
        auto bpe = t.train(256 + 2 + 1);
        MONO_VERIFY_RESULT(bpe);
        QCOMPARE(bpe->merges.size(), size_t{2});
        QCOMPARE(bpe->tokens[256], std::string("aa"));
        QCOMPARE(bpe->tokens[257], std::string("aaaa"));
    }

    // Training stops early when no pair is left.
    void runsOutOfPairs() {
        BpeTrainer t;
        t.addText("ab");
        auto bpe = t.train(1000);
        MONO_VERIFY_RESULT(bpe);
        QCOMPARE(bpe->tokens.size(), size_t{258});
        QCOMPARE(bpe->endOfText, 257);
    }

    void roundTripThroughLoader() {
        BpeTrainer t;
        const std::string text = sampleText();
        t.addText(text);
        auto bpe = t.train(400);
        MONO_VERIFY_RESULT(bpe);
        QCOMPARE(bpe->tokens.size(), size_t{400});
        const auto path = (test::tempDir() / "tokenizer.json").string();
        MONO_VERIFY_OK(writeTokenizerJson(*bpe, path));
        auto tk = loadTokenizer(path);
        MONO_VERIFY_RESULT(tk);
        QCOMPARE((*tk)->vocabSize(), 400);
        QCOMPARE((*tk)->eos(), bpe->endOfText);
        QVERIFY((*tk)->isSpecial(bpe->endOfText));
        for (int id = 0; id < 399; ++id) QCOMPARE((*tk)->tokenBytes(id), bpe->tokens[id]);
        QCOMPARE((*tk)->piece(399), std::string(kEndOfText));
        // Lossless on the training text and on unseen text, special token included.
        const std::string unseen = "Zebras 987 zigzag\r\n\x01\xff binary after";
        for (const std::string& s : {text, unseen}) {
            const auto ids = (*tk)->encode(s);
            QCOMPARE((*tk)->decode(ids), s);
        }
        const auto ids = (*tk)->encode("x<|endoftext|>y");
        QCOMPARE(ids.size(), size_t{3});
        QCOMPARE(ids[1], bpe->endOfText);
        // The learned merges compress: clearly fewer tokens than bytes.
        const auto trainIds = (*tk)->encode(text);
        QVERIFY2(
            trainIds.size() * 2 < text.size(),
            qPrintable(QString("%1 tokens for %2 bytes").arg(trainIds.size()).arg(text.size())));
        // The most frequent word of the text is one token.
        QCOMPARE((*tk)->encode(" again").size(), size_t{1});
    }

    void deterministic() {
        const std::string text = sampleText();
        std::string first;
        for (int run = 0; run < 2; ++run) {
            BpeTrainer t;
            // Different insertion orders must give the same vocabulary.
            if (run == 0) {
                t.addText(text);
            } else {
                const size_t half = text.find('\n', text.size() / 2) + 1;
                t.addText(text.substr(half));
                t.addText(text.substr(0, half));
            }
            auto bpe = t.train(350);
            MONO_VERIFY_RESULT(bpe);
            const std::string json = tokenizerJson(*bpe);
            if (run == 0)
                first = json;
            else
                QVERIFY(json == first);
        }
    }

    void corpusFiles() {
        const auto dir = test::tempDir();
        test::writeFile(dir / "a.txt", "one two three\n<|endoftext|>\nthree two one\n");
        BpeTrainer t;
        Progress quiet;
        MONO_VERIFY_OK(t.addCorpus({(dir / "a.txt").string()}, quiet, StopToken()));
        QVERIFY(t.distinctWords() >= 4);
        const Status missing = t.addCorpus({(dir / "nope.txt").string()}, quiet, StopToken());
        QVERIFY(!missing.ok());
        QVERIFY(missing.toString().find("nope.txt") != std::string::npos);
    }

    void tooSmallVocabulary() {
        BpeTrainer t;
        t.addText("abc");
        auto bpe = t.train(100);
        QVERIFY(!bpe.ok());
        QCOMPARE(bpe.status().code(), StatusCode::kInvalidArgument);
    }
};

QTEST_GUILESS_MAIN(TestBpeTrainer)
#include "test_bpe_trainer.moc"
