// Capture on a real model (stories260K): rows, tokens and activations in the
// store equal a direct forward pass; an interrupted capture resumes to the same
// store as an uninterrupted one.

#include <QtTest>

#include "core/acts/activation_store.h"
#include "core/acts/capture.h"
#include "core/model/forward_memory.h"
#include "core/model/model.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/support/test_support.h"

using namespace mono;
namespace fs = std::filesystem;

namespace {

const char* kStory =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
    "One day, she saw a big, red ball. She ran to it and kicked it very high. Her friend Tom "
    "laughed and clapped. They played together until the sun went down.\n";

std::vector<Matrix> readAll(const std::string& dir, std::vector<int32_t>* tokens = nullptr) {
    std::vector<Matrix> shards;
    auto reader = acts::ActivationStoreReader::open(dir);
    if (!reader.ok()) qFatal("%s", reader.status().toString().c_str());
    for (int s = 0; s < reader->numShards(); ++s) {
        auto shard = reader->readShard(s);
        if (!shard.ok()) qFatal("%s", shard.status().toString().c_str());
        if (tokens) tokens->insert(tokens->end(), shard->tokens.begin(), shard->tokens.end());
        shards.push_back(shard->acts);
    }
    return shards;
}

Matrix concat(const std::vector<Matrix>& parts) {
    int64_t rows = 0;
    for (const auto& p : parts) rows += p.rows();
    Matrix all(rows, parts.empty() ? 0 : parts[0].cols());
    int64_t r = 0;
    for (const auto& p : parts) {
        all.middleRows(r, p.rows()) = p;
        r += p.rows();
    }
    return all;
}

}  // namespace

class TestCapture : public QObject {
    Q_OBJECT

    std::shared_ptr<model::Model> m_model;
    std::shared_ptr<const tok::Tokenizer> m_tokenizer;
    fs::path m_corpus;

    acts::CaptureSpec spec(const fs::path& out) const {
        acts::CaptureSpec s;
        s.corpus = {m_corpus.string()};
        s.hooks = {"blocks.2.hook_resid_post", "blocks.1.mlp.hook_post"};
        s.outDirs = {(out / "resid").string(), (out / "mlp").string()};
        s.tokens = 600;
        s.contextSize = 32;
        s.batchWindows = 4;
        s.shardRows = 100;
        s.dtype = io::DType::kF32;
        return s;
    }

private slots:
    void initTestCase() {
        MONO_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        MONO_REQUIRE_SHARED(tok, "models/stories260K/tok512.bin");
        auto model = model::Model::load(bin.string());
        MONO_VERIFY_RESULT(model);
        m_model = *model;
        auto tokenizer = tok::loadTokenizer(tok.string());
        MONO_VERIFY_RESULT(tokenizer);
        m_tokenizer = *tokenizer;
        m_corpus = test::tempDir() / "corpus.txt";
        std::string text;
        for (int i = 0; i < 12; ++i) text += std::string(kStory) + "<|endoftext|>\n";
        test::writeFile(m_corpus, text);
    }

    void storesMatchDirectForward() {
        const fs::path out = test::tempDir();
        auto summary = acts::capture(*m_model, *m_tokenizer, spec(out));
        MONO_VERIFY_RESULT(summary);
        QCOMPARE(summary->windows, int64_t(20));  // ceil(600 / 31)
        QCOMPARE(summary->rows, int64_t(620));
        std::vector<int32_t> tokens;
        const Matrix resid = concat(readAll((out / "resid").string(), &tokens));
        const Matrix mlp = concat(readAll((out / "mlp").string()));
        QCOMPARE(resid.rows(), int64_t(620));
        QCOMPARE(resid.cols(), int64_t(m_model->config().dModel));
        QCOMPARE(mlp.cols(), int64_t(m_model->config().dMlp));
        auto index = acts::readStoreIndex((out / "resid").string());
        MONO_VERIFY_RESULT(index);
        QVERIFY(index->complete);
        QCOMPARE(index->shards.size(),
                 size_t(5));  // a shard per batch of 4 windows (124 ≥ 100 rows)

        // The first window is BOS + the first 31 tokens of the first story.
        const auto storyIds = m_tokenizer->encode(kStory, false, false);
        for (int i = 0; i < 31; ++i) QCOMPARE(tokens[i], storyIds[i]);

        // Its activations are what a forward pass over that window produces.
        for (int w : {0, 13}) {
            std::vector<int32_t> window{m_tokenizer->bos()};
            window.insert(window.end(), tokens.begin() + w * 31, tokens.begin() + (w + 1) * 31);
            model::Hooks hooks;
            Matrix direct(32, resid.cols());
            hooks.add("blocks.2.hook_resid_post",
                      [&](const model::HookContext&, model::ActivationBlock b) {
                          for (int64_t r = 0; r < b.rows; ++r)
                              for (int64_t c = 0; c < b.cols; ++c) direct(r, c) = b.row(r)[c];
                      });
            model::ForwardOptions options;
            options.logits = model::LogitsWanted::kNone;
            options.hooks = &hooks;
            MONO_VERIFY_OK(m_model->forward(model::Batch::single(window), options, nullptr));
            const float diff =
                (direct.bottomRows(31) - resid.middleRows(w * 31, 31)).cwiseAbs().maxCoeff();
            QVERIFY2(diff < 1e-4f,
                     qPrintable(QStringLiteral("window %1: max |diff| %2").arg(w).arg(diff)));
        }
    }

    void interruptedCaptureResumesToTheSameStore() {
        const fs::path full = test::tempDir();
        MONO_VERIFY_RESULT(acts::capture(*m_model, *m_tokenizer, spec(full)));

        const fs::path out = test::tempDir();
        StopToken stop;
        int reports = 0;
        Progress progress([&](const ProgressUpdate&) {
            if (++reports == 2) stop.requestStop();
        });
        auto first = acts::capture(*m_model, *m_tokenizer, spec(out), progress, stop);
        QVERIFY(!first.ok());
        QVERIFY(first.status().isCancelled());
        auto partial = acts::readStoreIndex((out / "resid").string());
        MONO_VERIFY_RESULT(partial);
        QVERIFY(!partial->complete);
        QVERIFY(partial->windows > 0 && partial->windows < 20);

        auto resumed = acts::capture(*m_model, *m_tokenizer, spec(out));
        MONO_VERIFY_RESULT(resumed);
        QCOMPARE(resumed->resumedWindows, partial->windows);
        QCOMPARE(resumed->rows, int64_t(620));
        for (const char* hook : {"resid", "mlp"}) {
            std::vector<int32_t> ta, tb;
            const Matrix a = concat(readAll((full / hook).string(), &ta));
            const Matrix b = concat(readAll((out / hook).string(), &tb));
            QVERIFY(ta == tb);
            QCOMPARE(a.rows(), b.rows());
            QVERIFY((a - b).cwiseAbs().maxCoeff() < 1e-5f);
        }
    }

    // Gemma 2 9B's shapes: 73,216 floats per token (5·3584 residual buffers,
    // q/k/v 32·256, attention 16·256, gated MLP 3·14336), so 16 windows of 1024
    // tokens hold about 4.8 GB, and 4096 such windows over a terabyte.
    void forwardMemoryFollowsTheModelsShapes() {
        model::ModelConfig c;
        c.arch = model::Arch::kGemma2;
        c.dModel = 3584;
        c.nHeads = 16;
        c.nKvHeads = 8;
        c.headDim = 256;
        c.dMlp = 14336;
        c.vocabSize = 256000;
        const double batch = model::forwardMemoryBytes(c, 16 * 1024, 1024, false);
        QVERIFY2(batch > 4.79e9 && batch < 4.9e9, qPrintable(QString::number(batch)));
        QVERIFY(model::forwardMemoryBytes(c, 4096 * 1024, 1024, false) > 1e12);
        // Every position's logits: 256,000 more floats per token.
        QVERIFY(model::forwardMemoryBytes(c, 16 * 1024, 1024, true) > batch + 16.7e9);
    }

    void badRequestsAreRefused() {
        const fs::path out = test::tempDir();
        auto s = spec(out);
        s.hooks[0] = "blocks.9.hook_resid_post";
        auto bad = acts::capture(*m_model, *m_tokenizer, s);
        QVERIFY(!bad.ok());
        QVERIFY(bad.status().message().find("blocks.9") != std::string::npos);

        s = spec(out);
        s.contextSize = 100000;
        QVERIFY(!acts::capture(*m_model, *m_tokenizer, s).ok());

        // A batch whose activations cannot fit is refused before anything is written.
        const fs::path big = test::tempDir() / "big";
        s = spec(big);
        s.batchWindows = 1 << 24;
        auto huge = acts::capture(*m_model, *m_tokenizer, s);
        QVERIFY(!huge.ok());
        QCOMPARE(huge.status().code(), StatusCode::kResourceExhausted);
        QVERIFY2(huge.status().message().find("needs about") != std::string::npos &&
                     huge.status().message().find("16777216 windows") != std::string::npos,
                 huge.status().message().c_str());
        QVERIFY(!fs::exists(big));

        // Resuming into a store captured with other settings is refused, not mixed.
        MONO_VERIFY_RESULT(acts::capture(*m_model, *m_tokenizer, spec(out)));
        s = spec(out);
        s.contextSize = 16;
        auto mismatch = acts::capture(*m_model, *m_tokenizer, s);
        QVERIFY(!mismatch.ok());
        QVERIFY(mismatch.status().message().find("does not match") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestCapture)
#include "test_capture.moc"
