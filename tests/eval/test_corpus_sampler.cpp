// sampleCorpus on stories260K: deterministic for a seed, the requested number
// of tokens, documents that the corpus reader splits back apart.

#include <QtTest>

#include "core/io/corpus.h"
#include "core/model/corpus_sampler.h"
#include "core/model/model_files.h"
#include "tests/support/test_support.h"

using namespace mono;

class TestCorpusSampler : public QObject {
    Q_OBJECT
private slots:
    void sampledCorpusIsDeterministicAndReadable() {
        MONO_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        auto model = model::Model::load(bin.string());
        MONO_VERIFY_RESULT(model);
        auto tokenizer = model::loadModelTokenizer(bin.string());
        MONO_VERIFY_RESULT(tokenizer);
        const auto dir = test::tempDir();
        model::CorpusSampleSpec spec;
        spec.tokens = 3000;
        spec.maxLength = 200;
        std::string texts[3];
        for (int run = 0; run < 3; ++run) {
            spec.sampling.seed = run == 2 ? 7 : 1;
            spec.outPath = (dir / std::to_string(run)).string();
            auto summary = model::sampleCorpus(**model, **tokenizer, spec);
            MONO_VERIFY_RESULT(summary);
            QCOMPARE(summary->tokens, int64_t(3000));
            QVERIFY(summary->documents >= 3000 / 199);  // no document longer than 200 tokens
            texts[run] = test::readFile(spec.outPath);
        }
        QCOMPARE(texts[0], texts[1]);
        QVERIFY(texts[0] != texts[2]);

        auto reader = io::CorpusReader::open({(dir / "0").string()});
        MONO_VERIFY_RESULT(reader);
        std::string doc;
        int docs = 0;
        int64_t tokens = 0;
        while (true) {
            auto more = reader->next(doc);
            MONO_VERIFY_RESULT(more);
            if (!*more) break;
            ++docs;
            QVERIFY(doc.find("<|endoftext|>") == std::string::npos);
            tokens += static_cast<int64_t>((*tokenizer)->encode(doc, false, false).size());
        }
        QVERIFY(docs >= 15);
        // Re-tokenizing the decoded text gives about as many tokens as were sampled.
        QVERIFY2(tokens > 2700 && tokens < 3300, qPrintable(QString::number(tokens)));
    }
};

QTEST_GUILESS_MAIN(TestCorpusSampler)
#include "test_corpus_sampler.moc"
