// evaluateInModel on stories260K with SAEs whose answers are known exactly:
// a perfect SAE (x̂ = x) recovers all of the loss and has KL fidelity 1, a
// zero SAE none of it (KL fidelity 0); the quality metrics of the perfect SAE.

#include <QtTest>

#include "core/model/model.h"
#include "core/model/model_files.h"
#include "core/sae/model_eval.h"
#include "core/sae/quality_eval.h"
#include "tests/support/test_support.h"

using namespace mono;

namespace {

// f = [ReLU(x), ReLU(−x)], x̂ = f [I; −I] = x: a lossless SAE with d_sae = 2·d.
sae::Sae perfectSae(int64_t d, bool zeroDecoder) {
    sae::SaeConfig cfg;
    cfg.dIn = d;
    cfg.dSae = 2 * d;
    cfg.applyBDecToInput = false;
    Matrix wEnc = Matrix::Zero(d, 2 * d), wDec = Matrix::Zero(2 * d, d);
    for (int64_t i = 0; i < d; ++i) {
        wEnc(i, i) = 1;
        wEnc(i, d + i) = -1;
        wDec(i, i) = zeroDecoder ? 0 : 1;
        wDec(d + i, i) = zeroDecoder ? 0 : -1;
    }
    auto s = sae::Sae::create(cfg, wEnc, wDec, Vector::Zero(2 * d), Vector::Zero(d));
    if (!s.ok()) qFatal("%s", s.status().toString().c_str());
    return *s;
}

}  // namespace

class TestSaeInModel : public QObject {
    Q_OBJECT
    std::shared_ptr<model::Model> m_model;
    std::shared_ptr<const tok::Tokenizer> m_tokenizer;
    sae::ModelEvalSpec m_spec;

private slots:
    void initTestCase() {
        MONO_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        auto model = model::Model::load(bin.string());
        MONO_VERIFY_RESULT(model);
        m_model = *model;
        auto tokenizer = model::loadModelTokenizer(bin.string());
        MONO_VERIFY_RESULT(tokenizer);
        m_tokenizer = *tokenizer;
        MONO_REQUIRE_SHARED(text, "models/stories260K/expected_greedy_t0_n256.txt");
        m_spec.hook = "blocks.2.hook_resid_post";
        m_spec.corpus = {text.string(), text.string()};
        m_spec.tokens = 200;
        m_spec.contextSize = 64;
    }

    void perfectSaeRecoversEverything() {
        auto report = sae::evaluateInModel(*m_model, *m_tokenizer, perfectSae(64, false), m_spec);
        MONO_VERIFY_RESULT(report);
        QCOMPARE(report->metrics.tokens, int64_t(4 * 63));
        QVERIFY(std::abs(report->deltaLoss) < 1e-4);
        QVERIFY(std::abs(report->ceLossRecovered - 1.0) < 1e-4);
        QVERIFY(report->metrics.explainedVariance > 0.9999);
        QVERIFY(report->ceZeroAblation > report->ceClean + 0.5);  // the hook matters
        QVERIFY(report->ceClean > 0.1 && report->ceClean < 5);
        QVERIFY(report->klSae < 1e-8);
        QVERIFY(report->klZeroAblation > 0.5);
        QVERIFY(std::abs(report->klFidelity - 1.0) < 1e-8);
    }

    void zeroSaeRecoversNothing() {
        auto report = sae::evaluateInModel(*m_model, *m_tokenizer, perfectSae(64, true), m_spec);
        MONO_VERIFY_RESULT(report);
        QVERIFY(std::abs(report->ceSae - report->ceZeroAblation) < 1e-4);
        QVERIFY(std::abs(report->ceLossRecovered) < 1e-4);
        QVERIFY(report->deltaLoss > 0.5);
        QCOMPARE(report->klSae, report->klZeroAblation);
        QCOMPARE(report->klFidelity, 0.0);
    }

    void qualityOfThePerfectSae() {
        sae::QualitySpec spec;
        spec.eval = m_spec;
        auto q = sae::evaluateQuality(*m_model, *m_tokenizer, perfectSae(64, false), spec);
        MONO_VERIFY_RESULT(q);
        const sae::QualityRecord& r = q->record;
        auto value = [&r](const char* key) {
            const double* v = r.find(key);
            if (!v) qFatal("no %s in the record", key);
            return *v;
        };
        QVERIFY(std::abs(value("l2_ratio") - 1.0) < 1e-6);
        QVERIFY(std::abs(value("relative_reconstruction_bias") - 1.0) < 1e-6);
        QVERIFY(std::abs(value("kl_fidelity") - 1.0) < 1e-8);
        // Feature i and d + i decode to e_i and −e_i: cosine −1 with each other, 0 with the rest.
        QCOMPARE(value("max_decoder_cosine_max"), 0.0);
        QCOMPARE(r.maxDecoderCosine.size(), size_t(128));
        QVERIFY(value("fraction_alive") > 0.9);
        // Absorption ran on the model's own words (stories260K has 122 of ≥ 2 letters).
        QVERIFY2(q->absorptionSkipped.empty() ? value("absorption_words") == 122
                                              : !q->absorption.letters.size(),
                 q->absorptionSkipped.c_str());
        QCOMPARE(sae::firstLetterVocabulary(*m_tokenizer).tokens.size(), size_t(122));
        auto only = sae::parseQualityMetrics("kl,shrinkage");
        MONO_VERIFY_RESULT(only);
        spec.metrics = *only;
        auto partial = sae::evaluateQuality(*m_model, *m_tokenizer, perfectSae(64, false), spec);
        MONO_VERIFY_RESULT(partial);
        QVERIFY(partial->record.find("kl_fidelity") && partial->record.find("l2_ratio"));
        QVERIFY(!partial->record.find("fraction_alive") &&
                partial->record.maxDecoderCosine.empty());
        QVERIFY(!sae::parseQualityMetrics("kl,bogus").ok());
        QVERIFY(!sae::parseQualityMetrics("").ok());
    }

    void mismatchedSaeIsRefused() {
        auto report = sae::evaluateInModel(*m_model, *m_tokenizer, perfectSae(32, false), m_spec);
        QVERIFY(!report.ok());
        QVERIFY(report.status().message().find("32") != std::string::npos);
        QVERIFY(report.status().message().find("64") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestSaeInModel)
#include "test_sae_in_model.moc"
