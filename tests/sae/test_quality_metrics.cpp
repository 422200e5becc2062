// SAEBench quality metrics against the NumPy reference's golden outputs
// (tests/reference/quality_reference.py → tests/data/quality/): shrinkage,
// fraction alive, max decoder cosine, KL fidelity and first-letter absorption
// on a planted SAE whose features 4-7 absorb the letter 'a' on three words each.

#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>

#include "core/acts/batch_provider.h"
#include "core/sae/absorption.h"
#include "core/sae/quality_metrics.h"
#include "core/sae/quality_record.h"
#include "core/sae/sae_io.h"
#include "tests/support/test_support.h"

using namespace mono;
using namespace mono::sae;
namespace fs = std::filesystem;

namespace {

fs::path dataDir() {
    return test::sourceDir() / "tests" / "data" / "quality";
}

bool near(double got, double want, double tol) {
    if (std::abs(got - want) <= tol * std::max(1.0, std::abs(want))) return true;
    qWarning("got %.9g, want %.9g", got, want);
    return false;
}

}  // namespace

class TestQualityMetrics : public QObject {
    Q_OBJECT
    nlohmann::json m_expected;
    Sae m_sae;
    Matrix m_words;
    std::vector<int> m_letters;

private slots:
    void initTestCase() {
        std::ifstream in(dataDir() / "expected.json");
        QVERIFY(in.good());
        m_expected = nlohmann::json::parse(in);
        auto sae = loadSae((dataDir() / "sae").string());
        MONO_VERIFY_RESULT(sae);
        m_sae = *sae;
        auto words = acts::readActivationsNpy((dataDir() / "words.npy").string());
        MONO_VERIFY_RESULT(words);
        m_words = *words;
        m_letters = m_expected["letters"].get<std::vector<int>>();
    }

    void shrinkageAndAlive() {
        auto q = activationQuality(m_sae, m_words, 7);  // blocks that do not divide the rows
        MONO_VERIFY_RESULT(q);
        const auto& e = m_expected["activation"];
        QCOMPARE(q->tokens, m_words.rows());
        QVERIFY(near(q->l0, e["l0"], 1e-12));
        QVERIFY(near(q->l2Ratio, e["l2_ratio"], 1e-5));
        QVERIFY(near(q->relativeReconstructionBias, e["relative_reconstruction_bias"], 1e-5));
        QVERIFY(near(q->fractionAlive, e["fraction_alive"], 1e-12));
        QVERIFY(!activationQuality(m_sae, Matrix(3, 5)).ok());
        QVERIFY(!activationQuality(m_sae, Matrix(0, 16)).ok());
    }

    void decoderCosine() {
        auto q = decoderCosineQuality(m_sae);
        MONO_VERIFY_RESULT(q);
        const auto& e = m_expected["decoder"];
        const auto want = e["max_decoder_cosine"].get<std::vector<double>>();
        QCOMPARE(q->maxCosine.size(), want.size());
        for (size_t i = 0; i < want.size(); ++i) QVERIFY(near(q->maxCosine[i], want[i], 1e-5));
        QVERIFY(near(q->mean, e["mean"], 1e-5));
        QVERIFY(near(q->max, e["max"], 1e-5));
        QVERIFY(near(q->fractionAbove09, e["fraction_above_09"], 1e-12));
        QVERIFY(near(q->max, 2 / std::sqrt(5.0), 1e-5));  // feature 0 vs an absorber: 2u_a + v
    }

    void klFidelityScore() {
        const auto& e = m_expected["kl"];
        auto flat = [&](const char* key) {
            std::vector<float> out;
            for (const auto& row : e[key])
                for (const auto& v : row) out.push_back(v.get<float>());
            return out;
        };
        const auto clean = flat("clean"), spliced = flat("sae"), zero = flat("zero");
        const int64_t rows = static_cast<int64_t>(e["clean"].size()), vocab = 20;
        const double klSae = sumKlDivergence(clean.data(), spliced.data(), rows, vocab);
        const double klZero = sumKlDivergence(clean.data(), zero.data(), rows, vocab);
        QVERIFY(near(klSae, e["kl_sae_sum"], 1e-9));
        QVERIFY(near(klZero, e["kl_zero_sum"], 1e-9));
        QVERIFY(near(klFidelity(klSae, klZero), e["kl_fidelity"], 1e-9));
        QCOMPARE(sumKlDivergence(clean.data(), clean.data(), rows, vocab), 0.0);
        QCOMPARE(klFidelity(0.5, 0.0), 0.0);
    }

    void absorption() {
        auto r = computeAbsorption(m_sae, m_words, m_letters);
        MONO_VERIFY_RESULT(r);
        const auto& e = m_expected["absorption"];
        QVERIFY(near(r->probeTestAccuracy, e["probe_test_accuracy"], 1e-12));
        QVERIFY(near(r->meanAbsorptionFraction, e["mean_absorption_fraction"], 1e-6));
        QVERIFY(near(r->meanFullAbsorption, e["mean_full_absorption"], 1e-12));
        QVERIFY(near(r->meanSplitFeatures, e["mean_split_features"], 1e-12));
        QCOMPARE(r->letters.size(), e["letters"].size());
        for (size_t i = 0; i < r->letters.size(); ++i) {
            const auto& want = e["letters"][i];
            const LetterAbsorption& got = r->letters[i];
            QCOMPARE(got.letter, want["letter"].get<int>());
            QCOMPARE(got.probeTruePositives, want["probe_true_positives"].get<int64_t>());
            QCOMPARE(got.mainFeatures, want["main_features"].get<std::vector<int32_t>>());
            QVERIFY(near(got.meanAbsorptionFraction, want["mean_absorption_fraction"], 1e-6));
            QVERIFY(near(got.fullAbsorptionRate, want["full_absorption_rate"], 1e-12));
        }
        QCOMPARE(r->absorbedCount, e["absorbed_count"].get<std::vector<int32_t>>());
        const auto absorbedLetter = e["absorbed_letter"].get<std::vector<int>>();
        const auto mainLetter = e["main_letter"].get<std::vector<int>>();
        for (int64_t f = 0; f < m_sae.dSae(); ++f) {
            QCOMPARE(int(r->absorbedLetter[f]), absorbedLetter[f]);
            QCOMPARE(int(r->mainLetter[f]), mainLetter[f]);
        }
        // The planted story: 'a' is absorbed by features 4-7 on one held-out word each.
        QCOMPARE(r->letters[0].mainFeatures, std::vector<int32_t>{0});
        for (int f = 4; f < 8; ++f) {
            QCOMPARE(r->absorbedCount[f], 1);
            QCOMPARE(int(r->absorbedLetter[f]), 0);
        }
        QVERIFY(r->letters[0].fullAbsorptionRate > 0.3);
    }

    void absorptionRejectsBadInput() {
        std::vector<int> letters = m_letters;
        letters[3] = 26;
        QVERIFY(!computeAbsorption(m_sae, m_words, letters).ok());
        letters.pop_back();
        QVERIFY(!computeAbsorption(m_sae, m_words, letters).ok());
        // One word per letter: nothing is both trained and held out.
        QVERIFY(!computeAbsorption(m_sae, m_words.topRows(3), {0, 1, 2}).ok());
    }

    void recordRoundTrip() {
        QTemporaryDir dir;
        const std::string saeDir = dir.path().toStdString();
        const std::string path = qualityRecordPath(saeDir);
        QCOMPARE(fs::path(path).filename().string(), std::string("metrics.json"));
        QCOMPARE(qualityRecordPath(saeDir + "/x.safetensors"),
                 saeDir + "/x.safetensors.metrics.json");
        QualityRecord r;
        r.model = "m";
        r.hook = "blocks.0.hook_resid_post";
        r.summary = {{"l0", 3.5}, {"kl_fidelity", 0.9}};
        r.maxDecoderCosine = {0.5f, -0.25f};
        r.absorbedCount = {0, 2};
        r.absorbedLetter = {-1, 4};
        r.mainLetter = {25, -1};
        MONO_VERIFY_OK(saveQualityRecord(path, r));
        auto back = loadQualityRecord(path);
        MONO_VERIFY_RESULT(back);
        QCOMPARE(back->summary, r.summary);
        QCOMPARE(*back->find("kl_fidelity"), 0.9);
        QVERIFY(!back->find("nope"));
        QCOMPARE(back->maxDecoderCosine, r.maxDecoderCosine);
        QCOMPARE(back->absorbedCount, r.absorbedCount);
        QCOMPARE(back->absorbedLetter, r.absorbedLetter);
        QCOMPARE(back->mainLetter, r.mainLetter);
        r.summary.push_back({"bad", std::nan("")});
        QVERIFY(!saveQualityRecord(path, r).ok());
        std::ofstream(path) << "{\"version\": 1, \"summary\": 3}";
        auto bad = loadQualityRecord(path);
        QVERIFY(!bad.ok());
        QVERIFY(bad.status().toString().find("summary") != std::string::npos);
        QVERIFY(!loadQualityRecord(saeDir + "/absent.json").ok());
    }
};

QTEST_GUILESS_MAIN(TestQualityMetrics)
#include "test_quality_metrics.moc"
