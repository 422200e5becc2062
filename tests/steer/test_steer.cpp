// Steering on stories260K with a TopK SAE trained here at blocks.2.hook_resid_post
// on text the model samples itself (a few seconds): the splice's error term is
// exact, clamping moves the feature's top logit tokens the right way, and the
// baseline continuation is plain generation with the same seed.

#include <QtTest>

#include <algorithm>
#include <numeric>

#include "core/acts/batch_provider.h"
#include "core/model/generate.h"
#include "core/model/model.h"
#include "core/model/model_files.h"
#include "core/sae/trainer.h"
#include "core/steer/sae_splice.h"
#include "core/steer/steer_json.h"
#include "core/steer/steer_run.h"
#include "tests/support/test_support.h"

using namespace mono;
using model::TokenId;

namespace {

constexpr const char* kHook = "blocks.2.hook_resid_post";

float maxAbsDiff(const model::Logits& a, const model::Logits& b) {
    float m = 0;
    for (size_t i = 0; i < a.data.size(); ++i) m = std::max(m, std::abs(a.data[i] - b.data[i]));
    return m;
}

}  // namespace

class TestSteer : public QObject {
    Q_OBJECT
    std::shared_ptr<model::Model> m_model;
    std::shared_ptr<const tok::Tokenizer> m_tok;
    std::shared_ptr<const sae::Sae> m_sae;
    std::vector<float> m_maxAct;      // per feature, over the training rows
    std::vector<int64_t> m_frequent;  // the features that fire most often, most first
    std::vector<TokenId> m_text;      // a held-out sequence of the model's own text

    // Logits of every position of `tokens`, with `hooks` (may be null).
    model::Logits logitsOf(const std::vector<TokenId>& tokens, const model::Hooks* hooks) {
        model::ForwardOptions fo;
        fo.hooks = hooks;
        model::Logits out;
        const Status st = m_model->forward(model::Batch::single(tokens), fo, &out);
        if (!st.ok()) qFatal("%s", st.toString().c_str());
        return out;
    }

    // The activations at the hook for every position of `tokens`.
    Matrix hookRows(const std::vector<TokenId>& tokens) {
        Matrix x;
        model::Hooks hooks;
        hooks.add(kHook, [&](const model::HookContext&, model::ActivationBlock b) {
            x = Eigen::Map<const Matrix>(b.data, b.rows, b.cols);
        });
        (void)logitsOf(tokens, &hooks);
        return x;
    }

    steer::SaeSplice splice(std::vector<steer::FeatureEdit> edits, steer::SteerMode mode) {
        auto s = steer::SaeSplice::create(m_model->config(), m_sae, kHook, std::move(edits), mode);
        if (!s.ok()) qFatal("%s", s.status().toString().c_str());
        return *s;
    }

    steer::FeatureEdit relative(int64_t id, double multiple) {
        steer::FeatureEdit e;
        e.feature = id;
        e.value = multiple;
        e.relative = true;
        e.maxActivation = m_maxAct[id];
        return e;
    }

private slots:
    void initTestCase() {
        MONO_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        auto model = model::Model::load(bin.string());
        MONO_VERIFY_RESULT(model);
        m_model = *model;
        auto tok = model::loadModelTokenizer(bin.string());
        MONO_VERIFY_RESULT(tok);
        m_tok = *tok;

        // Training text: 48 sampled stories of 128 tokens (the model's own
        // distribution, so the SAE sees typical activations).
        std::vector<std::vector<TokenId>> seqs;
        for (int s = 0; s < 49; ++s) {
            model::GenerateOptions g;
            g.maxNewTokens = 127;
            g.stopAtEos = false;
            g.sampling.temperature = 1.0f;
            g.sampling.seed = 1000 + s;
            auto r = model::generate(*m_model, *m_tok, {m_tok->bos()}, g);
            MONO_VERIFY_RESULT(r);
            std::vector<TokenId> seq{m_tok->bos()};
            seq.insert(seq.end(), r->tokens.begin(), r->tokens.end());
            if (s == 48)
                m_text = seq;  // held out
            else
                seqs.push_back(seq);
        }
        Matrix rows(0, 64);
        for (const auto& seq : seqs) {
            Matrix x = hookRows(seq);
            Matrix grown(rows.rows() + x.rows() - 1, 64);
            grown << rows, x.bottomRows(x.rows() - 1);  // the BOS row is not text
            rows.swap(grown);
        }

        sae::TrainSpec spec;
        spec.architecture = sae::Architecture::kTopK;
        spec.dSae = 256;
        spec.k = 8;
        spec.batchSize = 256;
        spec.totalTokens = 256 * 600;
        spec.lr = 2e-3;
        spec.deadTokens = 256 * 50;
        spec.outDir = (test::tempDir() / "sae").string();
        Progress quiet;
        acts::MatrixBatchProvider data(rows, 5);
        auto trained = sae::trainSae(spec, data, quiet, StopToken());
        MONO_VERIFY_RESULT(trained);
        m_sae = std::make_shared<const sae::Sae>(trained->sae);

        auto f = m_sae->encode(rows);
        MONO_VERIFY_RESULT(f);
        m_maxAct.assign(256, 0.0f);
        std::vector<int64_t> fires(256, 0);
        for (int64_t r = 0; r < f->rows(); ++r)
            for (int64_t i = 0; i < 256; ++i) {
                m_maxAct[i] = std::max(m_maxAct[i], (*f)(r, i));
                fires[i] += (*f)(r, i) > 0;
            }
        m_frequent.resize(256);
        std::iota(m_frequent.begin(), m_frequent.end(), 0);
        std::stable_sort(m_frequent.begin(), m_frequent.end(),
                         [&](int64_t a, int64_t b) { return fires[a] > fires[b]; });
        QVERIFY(fires[m_frequent[5]] > 20);  // the SAE learnt something that fires
        qInfo("trained on %lld rows; mse %.4f, dead %.1f%%", (long long)rows.rows(),
              trained->finalMse, trained->deadPct);
    }

    // A splice that edits nothing is the identity, bit for bit.
    void spliceWithoutEditsIsIdentity() {
        const model::Logits base = logitsOf(m_text, nullptr);
        for (auto mode : {steer::SteerMode::kClamp, steer::SteerMode::kConditionalClamp,
                          steer::SteerMode::kAdd}) {
            Status err;
            model::Hooks hooks;
            splice({}, mode).install(hooks, {}, &err);
            const model::Logits out = logitsOf(m_text, &hooks);
            MONO_VERIFY_OK(err);
            QCOMPARE(maxAbsDiff(base, out), 0.0f);
        }
    }

    // Clamping EVERY feature to its own current value at a position reproduces the
    // baseline logits there and after it (≤ 1e-5), while clamping to those values
    // plus 1 does not: the edit path is live and the error term is exact.
    void clampingToCurrentValuesIsExact() {
        const Matrix x = hookRows(m_text);
        auto f = m_sae->encode(x);
        MONO_VERIFY_RESULT(f);
        for (int64_t p : {5, 40, 100}) {
            const std::vector<TokenId> prefix(m_text.begin(), m_text.begin() + p + 1);
            const model::Logits base = logitsOf(prefix, nullptr);
            for (float offset : {0.0f, 1.0f}) {
                std::vector<steer::FeatureEdit> edits;
                for (int64_t i = 0; i < m_sae->dSae(); ++i)
                    edits.push_back({i, double((*f)(p, i) + offset), false, 0});
                Status err;
                model::Hooks hooks;
                // Only the last row (position p) is edited.
                splice(edits, steer::SteerMode::kClamp)
                    .install(
                        hooks, [p](int, int64_t pos) { return pos == p; }, &err);
                const model::Logits out = logitsOf(prefix, &hooks);
                MONO_VERIFY_OK(err);
                const float d = maxAbsDiff(base, out);
                if (offset == 0.0f)
                    QVERIFY2(d <= 1e-5f,
                             qPrintable(QString("max |Δlogit| %1 at p=%2").arg(d).arg(p)));
                else
                    QVERIFY2(d > 1e-2f,
                             qPrintable(QString("offset edit moved logits only %1").arg(d)));
            }
        }
    }

    // apply() equals the literal splice x̂(f') + (h − x̂(f)) for clamp, conditional
    // clamp and add, with several features (one edited twice) at once.
    void spliceMatchesTheLiteralFormula() {
        const Matrix h = hookRows(m_text).topRows(30);
        auto f = m_sae->encode(h);
        MONO_VERIFY_RESULT(f);
        const int64_t a = m_frequent[0], b = m_frequent[1], c = m_frequent[200];
        for (auto mode : {steer::SteerMode::kClamp, steer::SteerMode::kConditionalClamp,
                          steer::SteerMode::kAdd}) {
            const std::vector<steer::FeatureEdit> edits{
                {a, 3.0, false, 0}, {b, -2.0, false, 0}, {c, 5.0, false, 0}, {a, 4.5, false, 0}};
            Matrix fEdited = *f;
            for (int64_t r = 0; r < h.rows(); ++r)
                for (const auto& e : edits) {
                    float& v = fEdited(r, e.feature);
                    if (mode == steer::SteerMode::kClamp) v = float(e.value);
                    if (mode == steer::SteerMode::kConditionalClamp && v > 0) v = float(e.value);
                    if (mode == steer::SteerMode::kAdd) v += float(e.value);
                }
            auto xhat = m_sae->decode(*f);
            auto xhatEdited = m_sae->decode(fEdited);
            MONO_VERIFY_RESULT(xhat);
            MONO_VERIFY_RESULT(xhatEdited);
            const Matrix expected = *xhatEdited + (h - *xhat);
            Matrix got = h;
            MONO_VERIFY_OK(splice(edits, mode).apply(got.data(), got.rows()));
            const float err = (got - expected).cwiseAbs().maxCoeff();
            QVERIFY2(err < 1e-4f * std::max(1.0f, expected.cwiseAbs().maxCoeff()),
                     qPrintable(QString("mode %1: max error %2").arg(int(mode)).arg(err)));
            QVERIFY((got - h).cwiseAbs().maxCoeff() > 0.1f);  // it did change h
        }
    }

    // A conditional clamp of a feature that never fires on the text changes
    // nothing; the plain clamp of the same feature does.
    void conditionalClampOnlyActsWhereTheFeatureFires() {
        auto f = m_sae->encode(hookRows(m_text));
        MONO_VERIFY_RESULT(f);
        int64_t silent = -1;
        for (int64_t i : m_frequent)
            if (f->col(i).maxCoeff() <= 0 && m_maxAct[i] > 0) silent = i;
        QVERIFY(silent >= 0);
        const model::Logits base = logitsOf(m_text, nullptr);
        for (auto mode : {steer::SteerMode::kConditionalClamp, steer::SteerMode::kClamp}) {
            Status err;
            model::Hooks hooks;
            splice({relative(silent, 10)}, mode).install(hooks, {}, &err);
            const float d = maxAbsDiff(base, logitsOf(m_text, &hooks));
            if (mode == steer::SteerMode::kConditionalClamp)
                QCOMPARE(d, 0.0f);
            else
                QVERIFY(d > 0.1f);
        }
    }

    // Clamping a feature high raises the probability of its top positive-logit
    // tokens at the next position; clamping it to a large negative value lowers it.
    // Lowering is only visible where the tokens are likely to begin with, so the
    // test looks through the frequent features for those (at least two).
    void clampMovesTopLogitTokens() {
        const std::string prompt = "Once upon a time, there was a little girl named Lily. She";
        int raised = 0, lowered = 0;
        for (int j = 0; j < 64; ++j) {
            const int64_t id = m_frequent[j];
            double sums[2][2];  // [+10x, −10x][baseline, steered]
            for (int sign = 0; sign < 2; ++sign) {
                if (sign == 1 && j >= 5 && !(sums[0][0] >= 0.02 && sums[0][0] <= 0.5)) break;
                steer::SteerRunSpec spec;
                spec.steer.hook = kHook;
                spec.steer.edits = {relative(id, sign == 0 ? 10.0 : -10.0)};
                spec.prompt = prompt;
                spec.generate.maxNewTokens = 1;
                auto rep = steer::runSteering(*m_model, *m_tok, m_sae, spec);
                MONO_VERIFY_RESULT(rep);
                QCOMPARE(rep->shifts.size(), size_t(1));
                QCOMPARE(rep->shifts[0].tokens.size(), size_t(10));
                sums[sign][0] = rep->shifts[0].sumBaseline;
                sums[sign][1] = rep->shifts[0].sumSteered;
            }
            // Raising: every one of the five most frequent features.
            if (j < 5) {
                qInfo("feature %3lld: top-10 tokens p %.2e -> %.3f at +10x max", (long long)id,
                      sums[0][0], sums[0][1]);
                QVERIFY(sums[0][1] > std::max(0.1, 10 * sums[0][0]));
                ++raised;
            }
            // (Tokens already above 1/2 can hardly rise: the top ten share the mass.)
            if (sums[0][0] >= 0.02 && sums[0][0] <= 0.5) {
                qInfo("feature %3lld: top-10 tokens p %.3f -> %.3f at +10x, %.2e at -10x max",
                      (long long)id, sums[0][0], sums[0][1], sums[1][1]);
                QCOMPARE(sums[0][0], sums[1][0]);  // the same baseline
                QVERIFY(sums[0][1] > sums[0][0]);
                QVERIFY(sums[1][1] < 0.1 * sums[1][0]);
                ++lowered;
            }
        }
        QCOMPARE(raised, 5);
        QVERIFY2(lowered >= 2,
                 qPrintable(QString("only %1 features with likely tokens").arg(lowered)));
    }

    // The baseline of a steering run is plain generation with the same seed and
    // sampler (temperature, top-p, frequency penalty); a strong clamp changes the
    // steered text; both are streamed.
    void baselineEqualsPlainGeneration() {
        steer::SteerRunSpec spec;
        spec.steer.hook = kHook;
        spec.steer.edits = {relative(m_frequent[0], 10), relative(m_frequent[1], -5)};
        spec.steer.positions = steer::SteerPositions::kAll;
        spec.prompt = "Once upon a time";
        spec.generate.maxNewTokens = 40;
        spec.generate.sampling.temperature = 0.8f;
        spec.generate.sampling.topP = 0.9f;
        spec.generate.sampling.frequencyPenalty = 1.0f;
        spec.generate.sampling.seed = 1234;
        std::vector<TokenId> streamed[2];
        auto rep = steer::runSteering(*m_model, *m_tok, m_sae, spec,
                                      [&](steer::Stream s, TokenId id, const std::string&) {
                                          if (id >= 0) streamed[int(s)].push_back(id);
                                          return true;
                                      });
        MONO_VERIFY_RESULT(rep);

        auto plain =
            model::generate(*m_model, *m_tok, m_tok->encode(spec.prompt, true), spec.generate);
        MONO_VERIFY_RESULT(plain);
        QVERIFY(!plain->tokens.empty());
        QCOMPARE(rep->baseline.tokens, plain->tokens);
        QCOMPARE(rep->baseline.text, plain->text);
        QVERIFY(rep->steered.tokens != rep->baseline.tokens);
        QCOMPARE(streamed[0], rep->baseline.tokens);
        QCOMPARE(streamed[1], rep->steered.tokens);

        // Per generated token, the natural activations of both steered features.
        QCOMPARE(rep->features, (std::vector<int64_t>{m_frequent[0], m_frequent[1]}));
        QCOMPARE(rep->steered.activations.size(), rep->steered.tokens.size());
        QCOMPARE(rep->steered.activations[0].size(), size_t(2));
        QCOMPARE(rep->baseline.pieces.size(), rep->baseline.tokens.size());
        std::string joined;
        for (const auto& p : rep->baseline.pieces) joined += p;
        QCOMPARE(joined, rep->baseline.text);
        // The activation trace is the SAE's code of the baseline text.
        std::vector<TokenId> all = rep->promptTokens;
        all.insert(all.end(), rep->baseline.tokens.begin(), rep->baseline.tokens.end());
        auto f = m_sae->encode(hookRows(all));
        MONO_VERIFY_RESULT(f);
        const int64_t p0 = static_cast<int64_t>(rep->promptTokens.size());
        for (size_t t = 0; t < rep->baseline.tokens.size(); ++t)
            QCOMPARE(rep->baseline.activations[t][0], (*f)(p0 + int64_t(t), m_frequent[0]));

        // A strong intervention damages fluency on the baseline text.
        QVERIFY(rep->fluency.predicted == int64_t(all.size()) - 1);
        QVERIFY(rep->fluency.meanKl > 0.05);
        QVERIFY(rep->fluency.deltaLoss > 0.0);

        // No edits: the steered continuation is the baseline, KL and delta loss 0.
        spec.steer.edits.clear();
        auto same = steer::runSteering(*m_model, *m_tok, m_sae, spec);
        MONO_VERIFY_RESULT(same);
        QCOMPARE(same->steered.tokens, plain->tokens);
        QCOMPARE(same->fluency.meanKl, 0.0);
        QCOMPARE(same->fluency.deltaLoss, 0.0);
    }

    // Positions: steering only generated rows leaves the first next-token
    // distribution alone; BOS rows are skipped by default.
    void positionsAndSpecialTokens() {
        steer::SteerRunSpec spec;
        spec.steer.hook = kHook;
        spec.steer.edits = {relative(m_frequent[0], 10)};
        spec.prompt = "Once upon a time";
        spec.generate.maxNewTokens = 8;
        spec.steer.positions = steer::SteerPositions::kGenerated;
        auto gen = steer::runSteering(*m_model, *m_tok, m_sae, spec);
        MONO_VERIFY_RESULT(gen);
        QCOMPARE(gen->shifts[0].sumSteered, gen->shifts[0].sumBaseline);
        QCOMPARE(gen->steered.tokens[0], gen->baseline.tokens[0]);
        QVERIFY(gen->steered.tokens != gen->baseline.tokens);

        spec.steer.positions = steer::SteerPositions::kPrompt;
        spec.prompt = "";  // just BOS
        auto bosOnly = steer::runSteering(*m_model, *m_tok, m_sae, spec);
        MONO_VERIFY_RESULT(bosOnly);
        QCOMPARE(bosOnly->promptTokens, std::vector<TokenId>{m_tok->bos()});
        QCOMPARE(bosOnly->shifts[0].sumSteered, bosOnly->shifts[0].sumBaseline);
        spec.steer.skipSpecial = false;
        auto bosSteered = steer::runSteering(*m_model, *m_tok, m_sae, spec);
        MONO_VERIFY_RESULT(bosSteered);
        QVERIFY(bosSteered->shifts[0].sumSteered != bosSteered->shifts[0].sumBaseline);
    }

    // A sweep over one feature: the top tokens' probability grows with the clamp
    // value and the damage (KL) is largest at the extremes.
    void sweepOverClampValues() {
        steer::SteerRunSpec spec;
        spec.steer.hook = kHook;
        spec.prompt = "Once upon a time";
        spec.generate.maxNewTokens = 12;
        steer::SweepSpec sw;
        sw.feature = m_frequent[0];
        sw.from = -10;
        sw.to = 10;
        sw.steps = 5;
        sw.maxActivation = m_maxAct[sw.feature];
        auto rep = steer::runSweep(*m_model, *m_tok, m_sae, spec, sw);
        MONO_VERIFY_RESULT(rep);
        QCOMPARE(rep->points.size(), size_t(5));
        QCOMPARE(rep->points[1].edit.value, -5.0);
        QCOMPARE(rep->points[4].edit.absolute(), 10.0 * m_maxAct[sw.feature]);
        // The top tokens' probability grows with the value (below 0 it is ~0 already).
        const auto& pts = rep->points;
        QVERIFY(pts[0].shift.sumSteered <= pts[2].shift.sumSteered + 1e-6);
        QVERIFY(pts[1].shift.sumSteered <= pts[2].shift.sumSteered + 1e-6);
        QVERIFY(pts[3].shift.sumSteered > pts[2].shift.sumSteered);
        QVERIFY(pts[4].shift.sumSteered > pts[2].shift.sumSteered);
        for (const auto& p : pts)
            qInfo("%+5.1fx: top-10 p %.3f, KL %.3f, delta loss %+.3f", p.edit.value,
                  p.shift.sumSteered, p.fluency.meanKl, p.fluency.deltaLoss);
        QVERIFY(rep->points[4].fluency.meanKl > rep->points[2].fluency.meanKl);
        QVERIFY(rep->points[0].fluency.meanKl > rep->points[2].fluency.meanKl);
        QVERIFY(rep->points[4].steered.text != rep->baseline.text);
        for (const auto& p : rep->points)
            QCOMPARE(p.steered.activations.size(), p.steered.tokens.size());
    }

    // The --json document (docs/STEERING.md): its fields, filled from the report and the sources.
    void steerJsonHoldsTheDocumentedFields() {
        steer::SteerRunSpec spec;
        spec.steer.hook = kHook;
        spec.steer.edits = {relative(m_frequent[0], 4.0)};
        spec.prompt = "Once upon a time";
        spec.generate.maxNewTokens = 4;
        auto rep = steer::runSteering(*m_model, *m_tok, m_sae, spec);
        MONO_VERIFY_RESULT(rep);
        const steer::SteerSources sources{"stories260K.bin", "ws/saes/x", "ws/features/x.sqlite",
                                          ""};
        const nlohmann::json doc = steer::steerJson(sources, spec, *rep);
        for (const char* key :
             {"settings", "prompt_tokens", "features", "baseline", "steered", "shifts", "fluency"})
            QVERIFY2(doc.contains(key), key);
        const nlohmann::json& settings = doc["settings"];
        QCOMPARE(settings["reference"].get<std::string>(), std::string("prompt + baseline"));
        QCOMPARE(settings["features_store"].get<std::string>(),
                 std::string("ws/features/x.sqlite"));
        QCOMPARE(settings["mode"].get<std::string>(), std::string("clamp"));
        QCOMPARE(settings["edits"][0]["applied"].get<double>(), 4.0 * m_maxAct[m_frequent[0]]);
        QCOMPARE(doc["steered"]["pieces"].size(), rep->steered.tokens.size());
        QCOMPARE(doc["fluency"]["predicted_tokens"].get<int64_t>(), rep->fluency.predicted);

        steer::SweepSpec sw;
        sw.feature = m_frequent[0];
        sw.from = 0;
        sw.to = 4;
        sw.steps = 2;
        sw.maxActivation = m_maxAct[sw.feature];
        auto sweep = steer::runSweep(*m_model, *m_tok, m_sae, spec, sw);
        MONO_VERIFY_RESULT(sweep);
        const nlohmann::json sweepDoc = steer::sweepJson(sources, spec, sw, *sweep);
        QCOMPARE(sweepDoc["settings"]["sweep"]["steps"].get<int>(), 2);
        QCOMPARE(sweepDoc["points"].size(), size_t(2));
        QVERIFY(!sweepDoc.contains("features") && !sweepDoc["settings"].contains("edits"));

        // Two-space indented with a final newline; bytes that are not UTF-8 become U+FFFD.
        const std::filesystem::path path = test::tempDir() / "steer.json";
        nlohmann::json withByte = doc;
        withByte["baseline"]["text"] = std::string("\xE2");
        MONO_VERIFY_OK(steer::writeSteerJson(withByte, path.string()));
        const std::string text = test::readFile(path);
        QVERIFY(text.rfind("{\n  \"baseline\": {", 0) == 0);
        QVERIFY(text.size() > 2 && text.compare(text.size() - 2, 2, "}\n") == 0);
        QVERIFY(text.find("\"text\": \"\xEF\xBF\xBD\"") != std::string::npos);
    }

    void badInputIsAClearError() {
        using steer::SaeSplice;
        // An SAE of the wrong width.
        sae::SaeConfig cfg;
        cfg.dIn = 32;
        cfg.dSae = 8;
        auto narrow = sae::Sae::create(cfg, Matrix::Zero(32, 8), Matrix::Zero(8, 32),
                                       Vector::Zero(8), Vector::Zero(32));
        MONO_VERIFY_RESULT(narrow);
        auto s = SaeSplice::create(m_model->config(), std::make_shared<sae::Sae>(*narrow), kHook,
                                   {}, steer::SteerMode::kClamp);
        QVERIFY(!s.ok());
        QVERIFY(s.status().message().find("32") != std::string::npos);
        QVERIFY(s.status().message().find("64") != std::string::npos);
        // A hook the model lacks.
        s = SaeSplice::create(m_model->config(), m_sae, "blocks.9.hook_resid_post", {},
                              steer::SteerMode::kClamp);
        QVERIFY(!s.ok());
        QVERIFY(s.status().message().find("blocks.9") != std::string::npos);
        // A feature id out of range, and a relative value with no max activation.
        s = SaeSplice::create(m_model->config(), m_sae, kHook, {{256, 1.0, false, 0}},
                              steer::SteerMode::kClamp);
        QVERIFY(!s.ok());
        QVERIFY(s.status().message().find("256") != std::string::npos);
        s = SaeSplice::create(m_model->config(), m_sae, kHook, {{3, 10.0, true, 0}},
                              steer::SteerMode::kClamp);
        QVERIFY(!s.ok());
        QVERIFY(s.status().message().find("max activation") != std::string::npos);
        // The same errors come out of a whole run.
        steer::SteerRunSpec spec;
        spec.steer.hook = kHook;
        spec.steer.edits = {{999, 1.0, false, 0}};
        QVERIFY(!steer::runSteering(*m_model, *m_tok, m_sae, spec).ok());
        steer::SweepSpec sw;
        sw.feature = 999;
        sw.maxActivation = 1;
        QVERIFY(!steer::runSweep(*m_model, *m_tok, m_sae, spec, sw).ok());
    }

    void parsesEditsModesAndPositions() {
        auto e = steer::parseFeatureEdit("12=10x");
        MONO_VERIFY_RESULT(e);
        QCOMPARE(e->feature, int64_t(12));
        QCOMPARE(e->value, 10.0);
        QVERIFY(e->relative);
        e = steer::parseFeatureEdit("7=-2.5");
        MONO_VERIFY_RESULT(e);
        QCOMPARE(e->value, -2.5);
        QVERIFY(!e->relative);
        for (const char* bad : {"7", "=3", "7=", "x=3", "-1=2", "3=abc", "3=1e999", "3=2y"})
            QVERIFY2(!steer::parseFeatureEdit(bad).ok(), bad);
        QVERIFY(*steer::parseSteerMode("cond") == steer::SteerMode::kConditionalClamp);
        QVERIFY(!steer::parseSteerMode("boost").ok());
        QVERIFY(*steer::parseSteerPositions("gen") == steer::SteerPositions::kGenerated);
        QVERIFY(!steer::parseSteerPositions("middle").ok());

        std::vector<steer::FeatureEdit> edits{*steer::parseFeatureEdit("2=3x"),
                                              *steer::parseFeatureEdit("1=0.5")};
        MONO_VERIFY_OK(steer::resolveFromTable(edits, {0.0f, 0.0f, 2.0f}, "table"));
        QCOMPARE(edits[0].absolute(), 6.0);
        QCOMPARE(edits[1].absolute(), 0.5);
        auto missing = steer::loadMaxActivations((test::tempDir() / "none.sqlite").string());
        QVERIFY(!missing.ok());
        QVERIFY(missing.status().message().find("none.sqlite") != std::string::npos);
        std::vector<steer::FeatureEdit> dead{*steer::parseFeatureEdit("1=3x")};
        QVERIFY(!steer::resolveFromTable(dead, {0.0f, 0.0f}, "table").ok());
    }
};

QTEST_GUILESS_MAIN(TestSteer)
#include "test_steer.moc"
