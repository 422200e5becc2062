// Feature analysis against brute force on a store small enough to recompute
// everything, plus resumption, merging, labels and search.

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "core/features/analysis.h"
#include "core/features/feature_store.h"
#include "core/model/model.h"
#include "core/model/weights.h"
#include "tests/features/feature_test_data.h"
#include "tests/support/test_support.h"

using namespace mono;
using namespace mono::features;

namespace {

constexpr int64_t kD = 8, kF = 24, kShardRows = 64, kChunk = 32;

// The scale S the store quantizes a feature's context values to: the largest
// |value| in any of its windows (docs/FEATURE_STORE.md).
float windowScale(const FeatureRecord& rec) {
    float scale = 0;
    for (const auto* list : {&rec.topExamples, &rec.intervalExamples})
        for (const Example& e : *list)
            for (float v : e.values) scale = std::max(scale, std::abs(v));
    return scale;
}

// A stored context value against the recomputed one: within the quantization
// error S/255, and exact (to float rounding) on the example token itself.
bool storedValueMatches(const Example& e, size_t t, float scale, float truth) {
    const float tol = 1e-4f * (1 + std::abs(truth));
    if (static_cast<int>(t) == e.tokenIndex) return std::abs(e.values[t] - truth) <= tol;
    return std::abs(e.values[t] - truth) <= scale / 255.f + tol;
}

AnalysisSpec smallSpec() {
    AnalysisSpec spec;
    spec.topK = 7;
    spec.bins = 4;
    spec.perBin = 3;
    spec.contextLeft = 3;
    spec.contextRight = 2;
    spec.chunkRows = kChunk;
    spec.checkpointSeconds = 0;
    spec.coFiringSampleRows = 100000;  // every row: co-firing counts are exact
    spec.neighbours = 5;
    spec.coFiring = 4;
    spec.logitEffects = 6;
    return spec;
}

struct Occurrence {
    float v;
    int64_t row;
};

// All firings of feature i.
std::vector<Occurrence> firings(const Matrix& f, int64_t i) {
    std::vector<Occurrence> out;
    for (int64_t r = 0; r < f.rows(); ++r)
        if (f(r, i) > 0) out.push_back({f(r, i), r});
    return out;
}

Result<AnalysisSummary> run(const test::SyntheticData& data, const sae::Sae& sae,
                            const AnalysisSpec& spec, const std::string& out,
                            model::Model* model = nullptr, StopToken stop = {},
                            Progress progress = {}) {
    auto reader = acts::ActivationStoreReader::open(data.dir);
    if (!reader.ok()) return reader.status();
    AnalysisInputs in;
    in.store = &*reader;
    in.sae = &sae;
    in.model = model;
    in.saePath = "synthetic-sae";
    return analyze(in, spec, out, progress, stop);
}

// Everything computed for one feature, for comparing two stores.
std::string fingerprint(const FeatureRecord& r) {
    std::string s = std::to_string(r.summary.fireCount) + "/" +
                    std::to_string(r.summary.maxActivation) + "/" +
                    std::to_string(r.summary.density);
    for (auto c : r.histogram.counts) s.append(",").append(std::to_string(c));
    for (const auto* list : {&r.topExamples, &r.intervalExamples})
        for (const Example& e : *list) {
            s.append("|").append(std::to_string(e.bin)).append(":").append(std::to_string(e.row));
            s.append(":").append(std::to_string(e.activation)).append(":");
            s.append(std::to_string(e.tokenIndex));
            for (auto t : e.tokens) s.append(".").append(std::to_string(t));
        }
    for (const auto& c : r.coFiring)
        s.append("#").append(std::to_string(c.id)).append(":").append(std::to_string(c.count));
    return s;
}

}  // namespace

class TestFeatureAnalysis : public QObject {
    Q_OBJECT
private slots:
    void analysisMatchesBruteForce_data() {
        QTest::addColumn<int64_t>("shardRows");
        QTest::newRow("small shards") << kShardRows;
        // 20000-row shards of 32-row chunks: windows of hundreds of chunks,
        // ended by the row limit (16384) as well as by shard ends.
        QTest::newRow("windows of many chunks") << int64_t(20000);
    }
    void analysisMatchesBruteForce() {
        QFETCH(int64_t, shardRows);
        const auto dir = test::tempDir();
        const auto data =
            test::writeSyntheticStore((dir / "acts").string(), 3, shardRows, kD, 50, 1);
        const sae::Sae sae = test::randomSae(kD, kF, 2);
        const AnalysisSpec spec = smallSpec();
        const std::string out = (dir / "f.sqlite").string();
        auto summary = run(data, sae, spec, out);
        MONO_VERIFY_RESULT(summary);
        QCOMPARE(summary->rowsAnalysed, data.rows);

        const Matrix f = test::bruteForceCodes(data, sae, kChunk);
        auto store = FeatureStore::open(out, FeatureStore::Mode::kReadOnly);
        MONO_VERIFY_RESULT(store);
        QCOMPARE(*store->featureCount(), kF);
        auto info = store->runInfo();
        MONO_VERIFY_RESULT(info);
        QCOMPARE(info->tokensAnalysed, data.rows);
        QCOMPARE(info->saeHash, saeContentHash(sae));
        QCOMPARE(info->hook, std::string("blocks.0.hook_resid_post"));

        int uniformBins = 0, intervalBins = 0, dead = 0, tiesChecked = 0, jaccardReorders = 0;
        for (int64_t i = 0; i < kF; ++i) {
            auto rec = store->feature(i);
            MONO_VERIFY_RESULT(rec);
            std::vector<Occurrence> occ = firings(f, i);
            const FeatureSummary& sm = rec->summary;
            QCOMPARE(sm.fireCount, int64_t(occ.size()));
            QCOMPARE(sm.density, double(occ.size()) / double(data.rows));
            if (occ.empty()) {
                ++dead;
                QCOMPARE(sm.maxActivation, 0.f);
                QVERIFY(rec->topExamples.empty() && rec->intervalExamples.empty());
                QVERIFY(rec->histogram.counts.empty());
                continue;
            }
            float maxV = 0;
            double sum = 0;
            for (auto& o : occ) {
                maxV = std::max(maxV, o.v);
                sum += o.v;
            }
            QCOMPARE(sm.maxActivation, maxV);
            QVERIFY(std::abs(sm.meanActivation - sum / occ.size()) <= 1e-5 * (sum / occ.size()));

            // Histogram: exact counts in bins (k·w, (k+1)·w], summing to the firing count.
            const double w = rec->histogram.binWidth;
            QVERIFY(w > 0);
            std::vector<int64_t> hist(rec->histogram.counts.size(), 0);
            for (auto& o : occ) {
                const int64_t k = static_cast<int64_t>(std::ceil(o.v / w)) - 1;
                QVERIFY2(k >= 0 && k < int64_t(hist.size()), "a firing outside the histogram");
                ++hist[k];
            }
            QCOMPARE(rec->histogram.counts, hist);
            QVERIFY(rec->histogram.counts.size() * w >= maxV);
            QVERIFY((rec->histogram.counts.size() - 1) * w < maxV);

            // Top-k: exactly the k best by (activation desc, row asc).
            std::vector<Occurrence> sorted = occ;
            std::sort(sorted.begin(), sorted.end(), [](const Occurrence& a, const Occurrence& b) {
                return a.v > b.v || (a.v == b.v && a.row < b.row);
            });
            const size_t k = std::min<size_t>(spec.topK, sorted.size());
            QCOMPARE(rec->topExamples.size(), k);
            for (size_t r = 0; r < k; ++r) {
                QCOMPARE(rec->topExamples[r].row, sorted[r].row);
                QCOMPARE(rec->topExamples[r].activation, sorted[r].v);
                if (r > 0 && sorted[r].v == sorted[r - 1].v) ++tiesChecked;
            }

            // Interval samples: in their bin, real, distinct, and (when flagged uniform)
            // exactly the perBin lowest-priority firings of the bin.
            const float iw = rec->intervalBinWidth;
            QVERIFY(std::abs(iw - maxV / spec.bins) <= 1e-6f * maxV);
            std::vector<std::vector<Occurrence>> inBin(spec.bins);
            for (auto& o : occ) {
                const int j = std::clamp(int(std::ceil(double(o.v) * spec.bins / maxV)) - 1, 0,
                                         spec.bins - 1);
                inBin[j].push_back(o);
            }
            std::set<int64_t> rowsSeen;
            for (int j = 0; j < spec.bins; ++j) {
                std::vector<const Example*> got;
                for (const Example& e : rec->intervalExamples)
                    if (e.bin == j) got.push_back(&e);
                QCOMPARE(got.size(), std::min<size_t>(spec.perBin, inBin[j].size()));
                bool uniform = true;
                for (const Example* e : got) {
                    const double lo = double(j) * maxV / spec.bins,
                                 hi = double(j + 1) * maxV / spec.bins;
                    QVERIFY2(e->activation > lo * (1 - 1e-6) && e->activation <= hi * (1 + 1e-6),
                             "an interval sample outside its bin");
                    QCOMPARE(e->activation, f(e->row, i));
                    QVERIFY(rowsSeen.insert(e->row).second);
                    uniform = uniform && e->uniform;
                }
                if (got.empty()) continue;
                ++intervalBins;
                if (!uniform) continue;
                ++uniformBins;
                auto& b = inBin[j];
                std::sort(b.begin(), b.end(), [&](const Occurrence& x, const Occurrence& y) {
                    const uint64_t px = samplePriority(i, x.row), py = samplePriority(i, y.row);
                    return px < py || (px == py && x.row < y.row);
                });
                for (size_t r = 0; r < got.size(); ++r) QCOMPARE(got[r]->row, b[r].row);
            }

            // Contexts: the example's own window, tokens from the store, values re-encoded
            // (and stored quantized).
            const float scale = windowScale(*rec);
            for (const auto* list : {&rec->topExamples, &rec->intervalExamples}) {
                for (const Example& e : *list) {
                    const int64_t p = e.row % 8 + 1;
                    const int64_t left = std::min<int64_t>(spec.contextLeft, p - 1);
                    const int64_t right = std::min<int64_t>(spec.contextRight, 8 - p);
                    QCOMPARE(int64_t(e.tokens.size()), left + right + 1);
                    QCOMPARE(int64_t(e.tokenIndex), left);
                    QCOMPARE(e.strings.size(), e.tokens.size());
                    QCOMPARE(e.values.size(), e.tokens.size());
                    for (size_t t = 0; t < e.tokens.size(); ++t) {
                        const int64_t row = e.row - left + int64_t(t);
                        QCOMPARE(e.tokens[t], data.tokens[row]);
                        QCOMPARE(
                            e.strings[t],
                            std::string("[").append(std::to_string(data.tokens[row])).append("]"));
                        QVERIFY(storedValueMatches(e, t, scale, f(row, i)));
                    }
                }
            }

            // Co-firing over every row (the sample is larger than the store).
            std::map<int64_t, int64_t> joint;
            for (auto& o : occ)
                for (int64_t j = 0; j < kF; ++j)
                    if (j != i && f(o.row, j) > 0) ++joint[j];
            // Ranked by Jaccard c / (n_i + n_j − c), compared as cross products.
            std::vector<std::pair<int64_t, int64_t>> co(joint.begin(), joint.end());
            const int64_t ni = int64_t(occ.size());
            auto unionOf = [&](const std::pair<int64_t, int64_t>& p) {
                return ni + int64_t(firings(f, p.first).size()) - p.second;
            };
            std::sort(co.begin(), co.end(), [&](auto& a, auto& b) {
                const int64_t lhs = a.second * unionOf(b), rhs = b.second * unionOf(a);
                if (lhs != rhs) return lhs > rhs;
                return a.second > b.second || (a.second == b.second && a.first < b.first);
            });
            std::vector<std::pair<int64_t, int64_t>> byCount = co;
            std::sort(byCount.begin(), byCount.end(), [](auto& a, auto& b) {
                return a.second > b.second || (a.second == b.second && a.first < b.first);
            });
            const size_t keep = std::min<size_t>(spec.coFiring, co.size());
            if (!std::equal(co.begin(), co.begin() + keep, byCount.begin())) ++jaccardReorders;
            QCOMPARE(rec->coFiring.size(), keep);
            for (size_t r = 0; r < rec->coFiring.size(); ++r) {
                QCOMPARE(rec->coFiring[r].id, co[r].first);
                QCOMPARE(rec->coFiring[r].count, co[r].second);
                QCOMPARE(rec->coFiring[r].value, float(double(co[r].second) / double(occ.size())));
            }
        }
        QVERIFY(dead >= 1);  // at least the feature whose bias is -1000
        QVERIFY2(tiesChecked > 0, "the duplicated rows should tie in some top-k list");
        QVERIFY2(jaccardReorders > 0,
                 "Jaccard should reorder some co-firing list against raw counts");
        QVERIFY(intervalBins > 0);
        qInfo("%d of %d interval bins exactly uniform", uniformBins, intervalBins);
        // With few firings per feature nearly every bin keeps all its items;
        // with thousands, a final bin that cuts a coarse bin is flagged
        // non-uniform more often (every uniform bin is still checked exactly).
        if (shardRows == kShardRows)
            QVERIFY2(uniformBins * 10 >= intervalBins * 9,
                     "most interval bins should be exactly uniform");
        else
            QVERIFY(uniformBins > 0);

        // Decoder neighbours by brute-force cosine.
        for (int64_t i = 0; i < kF; ++i) {
            std::vector<std::pair<float, int64_t>> cos;
            for (int64_t j = 0; j < kF; ++j)
                if (j != i)
                    cos.push_back({sae.wDec().row(i).dot(sae.wDec().row(j)) /
                                       (sae.wDec().row(i).norm() * sae.wDec().row(j).norm()),
                                   j});
            std::sort(cos.begin(), cos.end(), [](auto& a, auto& b) {
                return a.first > b.first || (a.first == b.first && a.second < b.second);
            });
            auto rec = store->feature(i);
            QCOMPARE(rec->neighbours.size(), size_t(spec.neighbours));
            for (size_t r = 0; r < rec->neighbours.size(); ++r) {
                QCOMPARE(rec->neighbours[r].id, cos[r].second);
                QVERIFY(std::abs(rec->neighbours[r].value - cos[r].first) < 1e-5f);
            }
        }
        auto dh = store->densityHistogram();
        MONO_VERIFY_RESULT(dh);
        int64_t total = dh->dead;
        for (auto c : dh->counts) total += c;
        QCOMPARE(total, kF);
        QCOMPARE(dh->dead, int64_t(dead));
    }

    void logitEffectsEqualDirectComputation() {
        std::mt19937_64 rng(5);
        std::normal_distribution<float> normal(0.f, 1.f);
        const int64_t V = 40;
        Matrix wDec(kF, kD), wU(V, kD);
        for (int64_t i = 0; i < wDec.size(); ++i) wDec.data()[i] = normal(rng);
        for (int64_t i = 0; i < wU.size(); ++i) wU.data()[i] = normal(rng);
        std::vector<float> gamma(kD);
        for (auto& g : gamma) g = 0.5f + std::abs(normal(rng));
        for (bool centre : {false, true}) {
            std::vector<std::vector<LogitEffect>> top, bottom;
            computeLogitEffects(wDec, gamma, centre, wU, 5, &top, &bottom);
            QCOMPARE(int64_t(top.size()), kF);
            for (int64_t i = 0; i < kF; ++i) {
                std::vector<double> dir(kD);
                double mean = 0;
                for (int64_t d = 0; d < kD; ++d) mean += wDec(i, d) / double(kD);
                for (int64_t d = 0; d < kD; ++d)
                    dir[d] = (wDec(i, d) - (centre ? mean : 0)) * gamma[d];
                std::vector<std::pair<double, int32_t>> e;
                for (int32_t v = 0; v < V; ++v) {
                    double s = 0;
                    for (int64_t d = 0; d < kD; ++d) s += dir[d] * wU(v, d);
                    e.push_back({s, v});
                }
                std::sort(e.begin(), e.end(), [](auto& a, auto& b) { return a.first > b.first; });
                QCOMPARE(top[i].size(), size_t(5));
                for (int r = 0; r < 5; ++r) {
                    QCOMPARE(top[i][r].token, e[r].second);
                    QVERIFY(std::abs(top[i][r].value - e[r].first) < 1e-4);
                    QCOMPARE(bottom[i][r].token, e[V - 1 - r].second);
                    QVERIFY(std::abs(bottom[i][r].value - e[V - 1 - r].first) < 1e-4);
                }
            }
        }
    }

    void analysisWithModelStoresLogitEffects() {
        model::ModelConfig cfg;
        cfg.arch = model::Arch::kGpt2;
        cfg.dModel = kD;
        cfg.nLayers = 1;
        cfg.nHeads = 2;
        cfg.nKvHeads = 2;
        cfg.headDim = 4;
        cfg.dMlp = 16;
        cfg.vocabSize = 50;
        cfg.maxSeqLen = 16;
        auto model = model::Model::random(cfg, 3);
        if (!model.ok())
            QSKIP(
                qPrintable(QString::fromStdString("Model::random: " + model.status().toString())));
        auto& w = (*model)->weights();
        for (int64_t d = 0; d < kD; ++d) w.lnFinal.weight(d) = 0.5f + 0.1f * float(d);
        const auto dir = test::tempDir();
        const auto data =
            test::writeSyntheticStore((dir / "acts").string(), 1, kShardRows, kD, 50, 4);
        const sae::Sae sae = test::randomSae(kD, kF, 6);
        const std::string out = (dir / "f.sqlite").string();
        MONO_VERIFY_RESULT(run(data, sae, smallSpec(), out, model->get()));
        std::vector<float> gamma(w.lnFinal.weight.data(), w.lnFinal.weight.data() + kD);
        std::vector<std::vector<LogitEffect>> top, bottom;
        computeLogitEffects(sae.wDec(), gamma, true, w.unembed(), 6, &top, &bottom);
        auto store = FeatureStore::open(out, FeatureStore::Mode::kReadOnly);
        MONO_VERIFY_RESULT(store);
        for (int64_t i = 0; i < kF; ++i) {
            auto rec = store->feature(i);
            MONO_VERIFY_RESULT(rec);
            QCOMPARE(rec->positiveLogits.size(), size_t(6));
            QCOMPARE(rec->negativeLogits.size(), size_t(6));
            for (int r = 0; r < 6; ++r) {
                QCOMPARE(rec->positiveLogits[r].token, top[i][r].token);
                QCOMPARE(rec->positiveLogits[r].value, top[i][r].value);
                QCOMPARE(rec->negativeLogits[r].token, bottom[i][r].token);
                QVERIFY(rec->positiveLogits[r].value >= rec->negativeLogits[0].value);
            }
        }
    }

    void topKSaeContextsAreReencoded() {
        const auto dir = test::tempDir();
        const auto data =
            test::writeSyntheticStore((dir / "acts").string(), 2, kShardRows, kD, 50, 8);
        const sae::Sae sae = test::randomSae(kD, kF, 9, sae::Architecture::kTopK, 3);
        const std::string out = (dir / "f.sqlite").string();
        MONO_VERIFY_RESULT(run(data, sae, smallSpec(), out));
        const Matrix f = test::bruteForceCodes(data, sae, kChunk);
        auto store = FeatureStore::open(out, FeatureStore::Mode::kReadOnly);
        MONO_VERIFY_RESULT(store);
        for (int64_t i = 0; i < kF; ++i) {
            auto rec = store->feature(i);
            MONO_VERIFY_RESULT(rec);
            QCOMPARE(rec->summary.fireCount, int64_t(firings(f, i).size()));
            const float scale = windowScale(*rec);
            for (const Example& e : rec->topExamples)
                for (size_t t = 0; t < e.values.size(); ++t) {
                    const int64_t row = e.row - e.tokenIndex + int64_t(t);
                    QVERIFY(storedValueMatches(e, t, scale, f(row, i)));
                }
        }
    }

    // The estimate scales with the width and the examples kept, and a setting
    // that cannot fit is refused before any file is made.
    void analysisBeyondMemoryIsRefusedUpFront() {
        const AnalysisSpec defaults;
        const double oneMillion = analysisMemoryBytes(1 << 20, 2304, 256000, defaults);
        // About 6-7 KB of accumulators and 3-4 KB of results per feature.
        QVERIFY2(oneMillion > 4e9 && oneMillion < 4e10, qPrintable(QString::number(oneMillion)));
        QVERIFY(analysisMemoryBytes(2 << 20, 2304, 256000, defaults) > 1.9 * oneMillion);
        AnalysisSpec more = defaults;
        more.perBin *= 4;
        QVERIFY(analysisMemoryBytes(1 << 20, 2304, 256000, more) > 2 * oneMillion);

        const auto dir = test::tempDir();
        const auto data =
            test::writeSyntheticStore((dir / "acts").string(), 1, kShardRows, kD, 50, 13);
        const sae::Sae sae = test::randomSae(kD, kF, 14);
        AnalysisSpec huge = smallSpec();
        huge.bins = 1000;
        huge.perBin = 1000000;
        const std::string out = (dir / "huge.sqlite").string();
        auto r = run(data, sae, huge, out);
        QVERIFY(!r.ok());
        QCOMPARE(r.status().code(), StatusCode::kResourceExhausted);
        QVERIFY2(r.status().message().find("needs about") != std::string::npos,
                 r.status().message().c_str());
        QVERIFY(r.status().message().find("analysing " + std::to_string(kF) + " features") !=
                std::string::npos);
        QVERIFY(!std::filesystem::exists(out));
    }

    void interruptedAnalysisKeepsOldStoreAndResumes() {
        const auto dir = test::tempDir();
        const auto data =
            test::writeSyntheticStore((dir / "acts").string(), 3, kShardRows, kD, 50, 11);
        const sae::Sae sae = test::randomSae(kD, kF, 12);
        AnalysisSpec spec = smallSpec();
        const std::string ref = (dir / "ref.sqlite").string();
        MONO_VERIFY_RESULT(run(data, sae, spec, ref));

        // A first analysis of two shards, and a label.
        const std::string out = (dir / "f.sqlite").string();
        spec.maxTokens = 2 * kShardRows;
        MONO_VERIFY_RESULT(run(data, sae, spec, out));
        {
            auto rw = FeatureStore::open(out, FeatureStore::Mode::kReadWrite);
            MONO_VERIFY_RESULT(rw);
            MONO_VERIFY_OK(rw->setLabel(3, "Golden Gate Bridge"));
            MONO_VERIFY_OK(rw->setNotes(3, "fires on bridges"));
        }
        // Extend to all rows, but stop in the middle of the new shard.
        spec.maxTokens = 0;
        StopToken stop;
        Progress stopper([&](const ProgressUpdate& u) {
            auto it = u.metrics.find("rows");
            if (it != u.metrics.end() && it->second >= 2 * kShardRows + kChunk) stop.requestStop();
        });
        auto cancelled = run(data, sae, spec, out, nullptr, stop, stopper);
        QVERIFY(!cancelled.ok());
        QVERIFY(cancelled.status().isCancelled());
        {
            // The previous analysis is intact and complete.
            auto ro = FeatureStore::open(out, FeatureStore::Mode::kReadOnly);
            MONO_VERIFY_RESULT(ro);
            QCOMPARE(ro->runInfo()->tokensAnalysed, 2 * kShardRows);
            QCOMPARE(*ro->featureCount(), kF);
            auto rec = ro->feature(0);
            MONO_VERIFY_RESULT(rec);
            QVERIFY(!rec->topExamples.empty());
            QCOMPARE(ro->feature(3)->summary.label, std::string("Golden Gate Bridge"));
        }
        // Stop again while the contexts are being written: the transaction rolls back.
        StopToken stop2;
        Progress stopWriting([&](const ProgressUpdate& u) {
            if (u.message == "reading example contexts") stop2.requestStop();
        });
        auto cancelled2 = run(data, sae, spec, out, nullptr, stop2, stopWriting);
        QVERIFY(cancelled2.status().isCancelled());
        {
            auto ro = FeatureStore::open(out, FeatureStore::Mode::kReadOnly);
            MONO_VERIFY_RESULT(ro);
            QCOMPARE(ro->runInfo()->tokensAnalysed, 2 * kShardRows);
            QCOMPARE(*ro->featureCount(), kF);
        }
        // Resume: the state covers every row now, and the result equals a single run.
        auto resumed = run(data, sae, spec, out);
        MONO_VERIFY_RESULT(resumed);
        QCOMPARE(resumed->rowsResumed, data.rows);
        auto a = FeatureStore::open(ref, FeatureStore::Mode::kReadOnly);
        auto b = FeatureStore::open(out, FeatureStore::Mode::kReadOnly);
        MONO_VERIFY_RESULT(a);
        MONO_VERIFY_RESULT(b);
        QCOMPARE(b->runInfo()->tokensAnalysed, data.rows);
        for (int64_t i = 0; i < kF; ++i)
            QCOMPARE(fingerprint(*b->feature(i)), fingerprint(*a->feature(i)));
        // Labels and notes survived both re-analyses and are still searchable.
        QCOMPARE(b->feature(3)->summary.label, std::string("Golden Gate Bridge"));
        QCOMPARE(b->feature(3)->notes, std::string("fires on bridges"));
        auto hits = b->search("golden bridge");
        MONO_VERIFY_RESULT(hits);
        QVERIFY(!hits->empty());
        QCOMPARE(hits->front().id, int64_t(3));
        auto noteHits = b->search("bridges");
        QVERIFY(!noteHits->empty());
    }

    void resumeAfterPartialPassMatchesSingleRun() {
        const auto dir = test::tempDir();
        const auto data =
            test::writeSyntheticStore((dir / "acts").string(), 3, kShardRows, kD, 50, 21);
        const sae::Sae sae = test::randomSae(kD, kF, 22);
        const AnalysisSpec spec = smallSpec();
        const std::string ref = (dir / "ref.sqlite").string(), out = (dir / "f.sqlite").string();
        MONO_VERIFY_RESULT(run(data, sae, spec, ref));
        StopToken stop;
        Progress stopper([&](const ProgressUpdate& u) {
            auto it = u.metrics.find("rows");
            if (it != u.metrics.end() && it->second >= 3 * kChunk) stop.requestStop();
        });
        QVERIFY(run(data, sae, spec, out, nullptr, stop, stopper).status().isCancelled());
        // Nothing was written to a fresh store but its empty schema.
        QCOMPARE(*FeatureStore::open(out, FeatureStore::Mode::kReadOnly)->featureCount(),
                 int64_t(0));
        auto resumed = run(data, sae, spec, out);
        MONO_VERIFY_RESULT(resumed);
        QCOMPARE(resumed->rowsResumed, 3 * kChunk);
        auto a = FeatureStore::open(ref, FeatureStore::Mode::kReadOnly);
        auto b = FeatureStore::open(out, FeatureStore::Mode::kReadOnly);
        for (int64_t i = 0; i < kF; ++i)
            QCOMPARE(fingerprint(*b->feature(i)), fingerprint(*a->feature(i)));
        // A different SAE never continues this state.
        const sae::Sae other = test::randomSae(kD, kF, 23);
        auto fresh = run(data, other, spec, out);
        MONO_VERIFY_RESULT(fresh);
        QCOMPARE(fresh->rowsResumed, int64_t(0));
        QCOMPARE(b->runInfo()->saeHash, saeContentHash(other));
    }

    void pagesSortAndFilter() {
        const auto dir = test::tempDir();
        const auto data =
            test::writeSyntheticStore((dir / "acts").string(), 2, kShardRows, kD, 50, 31);
        const sae::Sae sae = test::randomSae(kD, kF, 32);
        const std::string out = (dir / "f.sqlite").string();
        MONO_VERIFY_RESULT(run(data, sae, smallSpec(), out));
        auto store = FeatureStore::open(out, FeatureStore::Mode::kReadWrite);
        MONO_VERIFY_RESULT(store);
        std::vector<FeatureSummary> all;
        for (int64_t i = 0; i < kF; ++i) all.push_back(store->feature(i)->summary);

        PageRequest req;
        req.sort = SortKey::kDensity;
        req.descending = true;
        req.limit = 5;
        req.offset = 2;
        auto page = store->page(req);
        MONO_VERIFY_RESULT(page);
        QCOMPARE(page->total, kF);
        auto byDensity = all;
        std::sort(byDensity.begin(), byDensity.end(), [](auto& a, auto& b) {
            return a.density > b.density || (a.density == b.density && a.id < b.id);
        });
        QCOMPARE(page->rows.size(), size_t(5));
        for (int r = 0; r < 5; ++r) QCOMPARE(page->rows[r].id, byDensity[2 + r].id);

        req = PageRequest{};
        req.sort = SortKey::kMaxActivation;
        req.filter.minDensity = 0.05;
        req.filter.maxActivation = 3.0;
        req.limit = 100;
        page = store->page(req);
        MONO_VERIFY_RESULT(page);
        int64_t expected = 0;
        for (auto& s : all) expected += (s.density >= 0.05 && s.maxActivation <= 3.0f);
        QCOMPARE(page->total, expected);
        for (size_t r = 1; r < page->rows.size(); ++r)
            QVERIFY(page->rows[r - 1].maxActivation <= page->rows[r].maxActivation);

        req = PageRequest{};
        req.filter.deadOnly = true;
        req.sort = SortKey::kId;
        req.descending = true;
        int64_t deadCount = 0;
        for (auto& s : all) deadCount += s.fireCount == 0;
        QVERIFY(deadCount >= 1);
        QCOMPARE(store->page(req)->total, deadCount);
        QCOMPARE(store->page(req)->rows[0].id, kF - 1);
        req.filter.deadOnly = false;
        req.filter.aliveOnly = true;
        QCOMPARE(store->page(req)->total, kF - deadCount);
        req.filter = FeatureFilter{};
        req.filter.denseOnly = true;
        req.filter.denseThreshold = 0.3;
        expected = 0;
        for (auto& s : all) expected += s.density > 0.3;
        QCOMPARE(store->page(req)->total, expected);

        MONO_VERIFY_OK(store->setLabel(7, "beta"));
        MONO_VERIFY_OK(store->setLabel(2, "Alpha"));
        req = PageRequest{};
        req.filter.hasLabel = true;
        req.sort = SortKey::kLabel;
        page = store->page(req);
        QCOMPARE(page->total, int64_t(2));
        QCOMPARE(page->rows[0].id, int64_t(2));  // case-insensitive order
        QCOMPARE(page->rows[1].label, std::string("beta"));
        req.filter.hasLabel = false;
        QCOMPARE(store->page(req)->total, kF - 2);
        // Removing a label: empty label and notes.
        MONO_VERIFY_OK(store->setLabel(7, ""));
        req.filter.hasLabel = true;
        QCOMPARE(store->page(req)->total, int64_t(1));
        QVERIFY(store->search("beta")->empty());

        // Text filter over example text: every token string is "[id]".
        const FeatureRecord rec0 = *store->feature(0);
        const Example& top = rec0.topExamples.at(0);
        const std::string word = std::to_string(top.tokens[top.tokenIndex]);
        req = PageRequest{};
        req.filter.text = word;
        page = store->page(req);
        MONO_VERIFY_RESULT(page);
        QVERIFY(page->total >= 1);
        bool found = false;
        for (auto& s : page->rows) found = found || s.id == 0;
        QVERIFY(found);
        // A read-only store refuses labels.
        auto ro = FeatureStore::open(out, FeatureStore::Mode::kReadOnly);
        QVERIFY(!ro->setLabel(1, "x").ok());
    }
};

QTEST_GUILESS_MAIN(TestFeatureAnalysis)
#include "test_feature_analysis.moc"
