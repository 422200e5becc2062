// Exports of the feature store (Neuronpedia-style JSON, CSV) and search via inference.

#include <QtTest>

#include <nlohmann/json.hpp>

#include <sstream>

#include "core/features/analysis.h"
#include "core/features/export.h"
#include "core/features/feature_store.h"
#include "core/features/inference_search.h"
#include "core/model/model.h"
#include "core/model/weights.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/features/feature_test_data.h"
#include "tests/support/test_support.h"

using namespace mono;
using namespace mono::features;

namespace {

// Letters a..z are ids 1..26, anything else 27; BOS is 0.
class LetterTokenizer : public tok::Tokenizer {
public:
    std::vector<tok::TokenId> encode(std::string_view text, bool addBos, bool) const override {
        std::vector<tok::TokenId> ids;
        if (addBos) ids.push_back(0);
        for (char c : text) ids.push_back(c >= 'a' && c <= 'z' ? c - 'a' + 1 : 27);
        return ids;
    }
    std::string tokenBytes(tok::TokenId id) const override {
        if (id >= 1 && id <= 26) return std::string(1, char('a' + id - 1));
        return id == 0 ? "" : "?";
    }
    std::string piece(tok::TokenId id) const override { return tokenBytes(id); }
    int vocabSize() const override { return 50; }
    tok::TokenId bos() const override { return 0; }
    tok::TokenId eos() const override { return -1; }
    bool isSpecial(tok::TokenId id) const override { return id == 0; }
};

std::string analysedStore(const std::filesystem::path& dir) {
    const auto data = test::writeSyntheticStore((dir / "acts").string(), 2, 64, 8, 50, 41);
    const sae::Sae sae = test::randomSae(8, 16, 42);
    auto reader = acts::ActivationStoreReader::open(data.dir);
    if (!reader.ok()) qFatal("%s", reader.status().toString().c_str());
    AnalysisInputs in;
    in.store = &*reader;
    in.sae = &sae;
    AnalysisSpec spec;
    spec.topK = 5;
    spec.bins = 3;
    spec.perBin = 2;
    const std::string out = (dir / "f.sqlite").string();
    auto r = analyze(in, spec, out, Progress{}, StopToken{});
    if (!r.ok()) qFatal("%s", r.status().toString().c_str());
    return out;
}

}  // namespace

class TestFeatureExport : public QObject {
    Q_OBJECT
private slots:
    void jsonHasNeuronpediaFields() {
        const auto dir = test::tempDir();
        const std::string path = analysedStore(dir);
        {
            auto rw = FeatureStore::open(path, FeatureStore::Mode::kReadWrite);
            MONO_VERIFY_OK(rw->setLabel(1, "commas, and \"quotes\""));
        }
        auto store = FeatureStore::open(path, FeatureStore::Mode::kReadOnly);
        MONO_VERIFY_RESULT(store);
        const std::string one = (dir / "one.json").string();
        MONO_VERIFY_OK(exportJson(*store, one, 1));
        auto j = nlohmann::json::parse(test::readFile(one));
        auto rec = store->feature(1);
        QCOMPARE(j["index"].get<std::string>(), std::string("1"));
        QCOMPARE(j["maxActApprox"].get<float>(), rec->summary.maxActivation);
        QCOMPARE(j["frac_nonzero"].get<double>(), rec->summary.density);
        QCOMPARE(j["activations"].size(), rec->topExamples.size() + rec->intervalExamples.size());
        const auto& a0 = j["activations"][0];
        QCOMPARE(a0["tokens"].size(), rec->topExamples[0].tokens.size());
        QCOMPARE(a0["values"].size(), a0["tokens"].size());
        QCOMPARE(a0["maxValueTokenIndex"].get<int>(), rec->topExamples[0].tokenIndex);
        QCOMPARE(a0["maxValue"].get<float>(), rec->topExamples[0].activation);
        int64_t histSum = 0;
        for (auto& h : j["freq_hist_data_bar_heights"]) histSum += h.get<int64_t>();
        QCOMPARE(histSum, rec->summary.fireCount);
        QCOMPARE(j["topkCosSimIndices"].size(), rec->neighbours.size());
        QCOMPARE(j["explanations"][0]["description"].get<std::string>(),
                 std::string("commas, and \"quotes\""));
        QVERIFY(!exportJson(*store, (dir / "x.json").string(), 999).ok());

        const std::string all = (dir / "all.json").string();
        MONO_VERIFY_OK(exportJson(*store, all));
        auto whole = nlohmann::json::parse(test::readFile(all));
        QCOMPARE(whole["features"].size(), size_t(16));
        QCOMPARE(whole["run"]["d_sae"].get<int64_t>(), int64_t(16));
        QCOMPARE(whole["features"][1], j);

        const std::string csv = (dir / "f.csv").string();
        MONO_VERIFY_OK(exportCsv(*store, csv));
        std::istringstream lines(test::readFile(csv));
        std::string line;
        int n = 0;
        bool quoted = false;
        while (std::getline(lines, line)) {
            if (n == 0) QVERIFY(line.rfind("id,fire_count,density", 0) == 0);
            if (line.rfind("1,", 0) == 0)
                quoted = line.find("\"commas, and \"\"quotes\"\"\"") != std::string::npos;
            ++n;
        }
        QCOMPARE(n, 17);
        QVERIFY(quoted);
    }

    void searchByInferenceRanksFeatures() {
        model::ModelConfig cfg;
        cfg.arch = model::Arch::kGpt2;
        cfg.dModel = 8;
        cfg.nLayers = 1;
        cfg.nHeads = 2;
        cfg.nKvHeads = 2;
        cfg.headDim = 4;
        cfg.dMlp = 16;
        cfg.vocabSize = 50;
        cfg.maxSeqLen = 32;
        cfg.bosId = 0;
        auto model = model::Model::random(cfg, 7);
        if (!model.ok()) QSKIP(qPrintable(QString::fromStdString(model.status().toString())));
        // Random weights are tiny (0.02): scale the embeddings so codes are not all zero.
        (*model)->weights().tokenEmbedding *= 50.f;
        const sae::Sae sae = test::randomSae(8, 16, 8);
        LetterTokenizer tokenizer;
        const std::string hook = "blocks.0.hook_resid_post";
        auto result = searchByInference(**model, tokenizer, sae, hook, "golden gate", 3, 100);
        MONO_VERIFY_RESULT(result);
        QCOMPARE(result->tokens.size(), size_t(11));  // BOS left out
        QCOMPARE(result->tokens[0].text, std::string("g"));

        // Direct: capture the hook, encode, rank by the max over non-BOS tokens.
        Matrix x;
        model::Hooks hooks;
        hooks.add(hook, [&](const model::HookContext&, model::ActivationBlock b) {
            x = Eigen::Map<const Matrix>(b.data, b.rows, b.cols);
        });
        model::ForwardOptions opt;
        opt.logits = model::LogitsWanted::kNone;
        opt.hooks = &hooks;
        MONO_VERIFY_OK((*model)->forward(
            model::Batch::single(tokenizer.encode("golden gate", true, true)), opt, nullptr));
        auto f = sae.encode(x);
        MONO_VERIFY_RESULT(f);
        std::vector<std::pair<float, int64_t>> expected;
        for (int64_t i = 0; i < 16; ++i) {
            float m = 0;
            for (int64_t t = 1; t < f->rows(); ++t) m = std::max(m, (*f)(t, i));
            if (m > 0) expected.push_back({m, i});
        }
        std::sort(expected.begin(), expected.end(), [](auto& a, auto& b) {
            return a.first > b.first || (a.first == b.first && a.second < b.second);
        });
        QVERIFY(!expected.empty());
        QCOMPARE(result->ranked.size(), expected.size());
        for (size_t r = 0; r < expected.size(); ++r) {
            QCOMPARE(result->ranked[r].id, expected[r].second);
            QCOMPARE(result->ranked[r].maxValue, expected[r].first);
            QCOMPARE((*f)(result->ranked[r].tokenIndex + 1, expected[r].second), expected[r].first);
        }
        for (const PromptToken& t : result->tokens) {
            QVERIFY(t.top.size() <= 3);
            for (size_t k = 1; k < t.top.size(); ++k) QVERIFY(t.top[k - 1].value >= t.top[k].value);
        }
        // Normalising by the store's maxima reorders by the ratio.
        std::vector<float> storeMax(16, 1.f);
        storeMax[expected.back().second] = expected.back().first / 1000.f;
        auto norm =
            searchByInference(**model, tokenizer, sae, hook, "golden gate", 3, 100, storeMax);
        MONO_VERIFY_RESULT(norm);
        QCOMPARE(norm->ranked[0].id, expected.back().second);
        // Errors, not crashes.
        QVERIFY(!searchByInference(**model, tokenizer, sae, "blocks.9.hook_resid_post", "x").ok());
        QVERIFY(!searchByInference(**model, tokenizer, sae, "blocks.0.mlp.hook_post", "x").ok());
        QVERIFY(!searchByInference(**model, tokenizer, sae, hook, "").ok());
    }
};

QTEST_GUILESS_MAIN(TestFeatureExport)
#include "test_feature_export.moc"
