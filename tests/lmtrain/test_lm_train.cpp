// LM training end to end on a small generated corpus: the held-out loss ends
// far below the unigram entropy, the saved folder runs in core/model with the
// same logits, a stopped and resumed run equals an uninterrupted one bit for
// bit, and bad input gives clear errors. Also the LM's own optimiser pieces:
// clipping, and AdamW over the parameter layout (the shared Adam and schedule
// are tested in tests/train).

#include <QtTest>

#include <cmath>
#include <random>

#include "core/lmtrain/hf_export.h"
#include "core/lmtrain/lm_data.h"
#include "core/lmtrain/lm_trainer.h"
#include "core/lmtrain/optimizer.h"
#include "core/model/model.h"
#include "core/model/model_files.h"
#include "core/tokenizer/bpe_trainer.h"
#include "tests/support/test_support.h"

using namespace mono;
using namespace mono::lmtrain;
namespace fs = std::filesystem;

namespace {

// Short stories from a small grammar: which word may follow depends on the
// words before it (subject and verb agree, objects fit verbs), so context helps
// a lot over unigram frequencies.
std::string generatedCorpus(int documents, uint64_t seed) {
    std::mt19937_64 rng(seed);
    const char* names[] = {"Tom", "Anna", "the cat", "the old dog", "a little bird", "Grandma"};
    const char* verbs[] = {"likes", "sees", "finds", "wants"};
    const char* objects[] = {"a red ball", "the big tree", "some cake", "the blue sea",
                             "a small box"};
    const char* endings[] = {" and smiles.", " every day.", " in the garden.", " again."};
    std::string text;
    for (int d = 0; d < documents; ++d) {
        const int sentences = 2 + static_cast<int>(rng() % 4);
        for (int s = 0; s < sentences; ++s) {
            const char* who = names[rng() % 6];
            std::string sentence = std::string(who) + " " + verbs[rng() % 4] + " " +
                                   objects[rng() % 5] + endings[rng() % 4];
            sentence[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(sentence[0])));
            text += (s ? " " : "") + sentence;
        }
        text += "\n<|endoftext|>\n";
    }
    return text;
}

struct Fixture {
    fs::path dir;
    std::string corpus;
    std::shared_ptr<const tok::Tokenizer> tokenizer;
};

Fixture makeFixture() {
    Fixture f;
    f.dir = test::tempDir();
    f.corpus = (f.dir / "corpus.txt").string();
    test::writeFile(f.corpus, generatedCorpus(1500, 11));
    tok::BpeTrainer bpe;
    Progress quiet;
    if (!bpe.addCorpus({f.corpus}, quiet, StopToken()).ok()) return f;
    auto learned = bpe.train(320);
    if (!learned.ok()) return f;
    const std::string path = (f.dir / "tokenizer.json").string();
    if (!tok::writeTokenizerJson(*learned, path).ok()) return f;
    auto tk = tok::loadTokenizer(path);
    if (tk.ok()) f.tokenizer = *tk;
    return f;
}

LmTrainSpec smallSpec(const Fixture& f, const std::string& out, int64_t tokens) {
    LmTrainSpec spec;
    spec.shape = {f.tokenizer->vocabSize(), 32, 32, 2, 2};
    spec.batchSize = 8;
    spec.totalTokens = tokens;
    spec.lr = 3e-3;
    spec.seed = 5;
    spec.outDir = out;
    spec.evalEverySteps = 50;
    spec.evalTokens = 8192;
    spec.checkpointSeconds = 1e9;
    spec.endOfText = f.tokenizer->eos();
    return spec;
}

}  // namespace

class TestLmTrain : public QObject {
    Q_OBJECT
private:
    Fixture m_f;

private slots:
    void initTestCase() {
        m_f = makeFixture();
        QVERIFY(m_f.tokenizer != nullptr);
    }

    void clipping() {
        AlignedVector<float> g = {3, 4};
        QCOMPARE(clipGradients(g, 1.0), 5.0);
        QVERIFY(std::abs(std::hypot(g[0], g[1]) - 1.0) < 1e-5);
        AlignedVector<float> small = {0.3f, 0.4f};
        clipGradients(small, 1.0);
        QCOMPARE(small[0], 0.3f);
    }

    void adamwMatchesFormula() {
        const GptShape s{4, 2, 2, 1, 1};
        const auto layout = paramLayout(s);
        const size_t P = static_cast<size_t>(s.parameterCount());
        AlignedVector<float> p(P, 1.0f), g(P, 0.5f), m(P, 0.0f), v(P, 0.0f);
        adamwStep(layout, p, g, m, v, 1, 0.01, kLmAdamW);
        // Step 1: m̂ = g, v̂ = g², so the Adam step is lr·sign(g); decay multiplies first.
        QVERIFY(std::abs(p[layout[0].offset] - (1.0f * (1 - 0.01f * 0.1f) - 0.01f)) < 1e-6);
        QVERIFY(std::abs(p[layout[2].offset] - (1.0f - 0.01f)) < 1e-6);  // ln_1: no decay
    }

    void trainsBelowUnigramEntropy() {
        Progress quiet;
        auto data =
            LmData::fromCorpus({m_f.corpus}, {}, *m_f.tokenizer, 32, 0.05, quiet, StopToken());
        MONO_VERIFY_RESULT(data);
        const double unigram = data->unigramEntropy();
        const fs::path out = m_f.dir / "model";
        fs::create_directories(out);
        fs::copy_file(m_f.dir / "tokenizer.json", out / "tokenizer.json");
        LmTrainSpec spec = smallSpec(m_f, out.string(), 600 * 8 * 32);
        auto result = trainLm(spec, *data, quiet, StopToken());
        MONO_VERIFY_RESULT(result);
        qInfo(
            "unigram entropy %.3f nats; held-out loss %.3f -> %.3f (%lld tokens, %.0f tok/s); "
            "runtime logit diff %.2g",
            unigram, result->log.front().heldOutLoss, result->heldOutLoss,
            (long long)result->tokens, result->tokensPerSecond, result->runtimeMaxLogitDiff);
        QVERIFY(std::abs(result->log.front().heldOutLoss - std::log(double(spec.shape.vocab))) <
                0.2);
        QVERIFY2(
            result->heldOutLoss < 0.5 * unigram,
            qPrintable(QString("held-out %1 vs unigram %2").arg(result->heldOutLoss).arg(unigram)));
        // The saved folder: core/model gives the trainer's logits.
        QVERIFY(result->runtimeMaxLogitDiff <= 1e-4);
        auto tkPath = model::findModelTokenizer(out.string());
        MONO_VERIFY_RESULT(tkPath);
        QVERIFY(fs::exists(out / "config.json") && fs::exists(out / "model.safetensors"));
        QVERIFY(fs::exists(out / kLmLogFile));

        // Independently: runtime logits over a batch of two windows vs Gpt<float>.
        auto runtime = model::Model::load(out.string());
        MONO_VERIFY_RESULT(runtime);
        Gpt<float> gpt(spec.shape);
        gpt.params = result->params;
        std::vector<int32_t> in(2 * 32), tgt(2 * 32);
        data->heldOutWindow(1, 32, in.data(), tgt.data());
        data->heldOutWindow(2, 32, in.data() + 32, tgt.data() + 32);
        gpt.forward(in.data(), nullptr, 2, 32);
        model::Logits logits;
        model::ForwardOptions opt;
        opt.logits = model::LogitsWanted::kAll;
        MONO_VERIFY_OK(
            (*runtime)->forward(model::Batch::fromSequences(
                                    {{in.begin(), in.begin() + 32}, {in.begin() + 32, in.end()}}),
                                opt, &logits));
        double worst = 0;
        for (size_t i = 0; i < logits.data.size(); ++i)
            worst = std::max(worst, double(std::abs(logits.data[i] - gpt.logits()[i])));
        QVERIFY2(worst <= 1e-4, qPrintable(QString("max logit diff %1").arg(worst)));

        // F16 export: half the size, logits within half-precision rounding.
        const fs::path half = m_f.dir / "model_f16";
        MONO_VERIFY_OK(saveHfGpt2(half.string(), spec.shape, result->params, spec.endOfText, true));
        QVERIFY(fs::file_size(half / "model.safetensors") * 10 <
                fs::file_size(out / "model.safetensors") * 6);
        auto runtime16 = model::Model::load(half.string());
        MONO_VERIFY_RESULT(runtime16);
        MONO_VERIFY_OK(
            (*runtime16)
                ->forward(model::Batch::single({in.begin(), in.begin() + 32}), opt, &logits));
        worst = 0;
        for (size_t i = 0; i < logits.data.size(); ++i)
            worst = std::max(worst, double(std::abs(logits.data[i] - gpt.logits()[i])));
        QVERIFY2(worst <= 0.05, qPrintable(QString("f16 max logit diff %1").arg(worst)));
    }

    void resumeEqualsUninterrupted() {
        Progress quiet;
        auto data =
            LmData::fromCorpus({m_f.corpus}, {}, *m_f.tokenizer, 32, 0.05, quiet, StopToken());
        MONO_VERIFY_RESULT(data);
        const int64_t tokens = 40 * 8 * 32;
        LmTrainSpec whole = smallSpec(m_f, (m_f.dir / "whole").string(), tokens);
        whole.evalEverySteps = 15;
        whole.verifySaved = false;
        auto a = trainLm(whole, *data, quiet, StopToken());
        MONO_VERIFY_RESULT(a);

        LmTrainSpec parts = whole;
        parts.outDir = (m_f.dir / "parts").string();
        parts.reportEverySteps = 1;
        StopToken stop;
        Progress stopAt17([&](const ProgressUpdate& u) {
            if (u.metrics.at("step") >= 17) stop.requestStop();
        });
        auto first = trainLm(parts, *data, stopAt17, stop);
        QVERIFY(!first.ok());
        QCOMPARE(first.status().code(), StatusCode::kCancelled);
        parts.resume = true;
        auto b = trainLm(parts, *data, quiet, StopToken());
        MONO_VERIFY_RESULT(b);
        QCOMPARE(b->steps, a->steps);
        QVERIFY(a->params == b->params);  // bit for bit
        QCOMPARE(b->log.size(), a->log.size());
        for (size_t i = 0; i < a->log.size(); ++i) {
            QCOMPARE(b->log[i].step, a->log[i].step);
            QCOMPARE(b->log[i].heldOutLoss, a->log[i].heldOutLoss);
            if (i > 0) QCOMPARE(b->log[i].trainLoss, a->log[i].trainLoss);
        }
        QVERIFY(test::readFile(fs::path(whole.outDir) / "model.safetensors") ==
                test::readFile(fs::path(parts.outDir) / "model.safetensors"));

        // A resume that changes the seed is refused, naming the key.
        LmTrainSpec other = parts;
        other.seed = 6;
        auto refused = trainLm(other, *data, quiet, StopToken());
        QVERIFY(!refused.ok());
        QVERIFY(refused.status().toString().find("'seed'") != std::string::npos);
        // Resuming without a checkpoint names the missing file.
        other = parts;
        other.outDir = (m_f.dir / "empty").string();
        auto missing = trainLm(other, *data, quiet, StopToken());
        QVERIFY(!missing.ok());
        QVERIFY(missing.status().toString().find(kLmCheckpointFile) != std::string::npos);
        // A damaged checkpoint is refused with the file named, not read.
        const fs::path damaged = fs::path(parts.outDir) / kLmCheckpointFile;
        std::string bytes = test::readFile(damaged);
        test::writeFile(damaged, bytes.substr(0, bytes.size() / 2));
        auto corrupt = trainLm(parts, *data, quiet, StopToken());
        QVERIFY(!corrupt.ok());
        QVERIFY(corrupt.status().toString().find(kLmCheckpointFile) != std::string::npos);
    }

    void badInput() {
        // Too short for a held-out split.
        auto tiny = LmData::fromTokens({1, 2, 3, 4, 5}, 10, 4, 0.05);
        QVERIFY(!tiny.ok());
        QCOMPARE(tiny.status().code(), StatusCode::kInvalidArgument);
        // Ids outside the vocabulary.
        auto bad = LmData::fromTokens(std::vector<int32_t>(1000, 12), 10, 4, 0.0);
        QVERIFY(!bad.ok());
        QVERIFY(bad.status().toString().find("outside [0, 10)") != std::string::npos);
        // A shape that does not divide.
        auto data = LmData::fromTokens(std::vector<int32_t>(5000, 3), 10, 8, 0.1);
        MONO_VERIFY_RESULT(data);
        LmTrainSpec spec;
        spec.shape = {10, 8, 10, 1, 3};
        spec.outDir = (m_f.dir / "bad").string();
        spec.totalTokens = 100;
        Progress quiet;
        auto r = trainLm(spec, *data, quiet, StopToken());
        QVERIFY(!r.ok());
        QVERIFY(r.status().toString().find("d_model 10") != std::string::npos);
        // A separate held-out text: all of it held out, all of the rest trained on.
        auto split =
            LmData::fromSplit(std::vector<int32_t>(3000, 1), std::vector<int32_t>(500, 2), 10, 8);
        MONO_VERIFY_RESULT(split);
        QCOMPARE(split->heldOutTokens(), int64_t{500});
        QCOMPARE(split->trainTokens(), int64_t{3000});
        std::vector<int32_t> in(8), tgt(8);
        split->heldOutWindow(split->heldOutWindows(8) - 1, 8, in.data(), tgt.data());
        QCOMPARE(in[0], 2);
        QCOMPARE(split->unigramEntropy(), 0.0);
        QVERIFY(!LmData::fromSplit(std::vector<int32_t>(3000, 1), {2, 2}, 10, 8).ok());
    }
};

QTEST_GUILESS_MAIN(TestLmTrain)
#include "test_lm_train.moc"
