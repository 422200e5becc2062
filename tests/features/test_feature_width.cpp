// SAEs at width: decoder neighbours from the approximate index against the
// exact answer, the choice between them, and a feature store built one range
// of features at a time (the same rows as one whole analysis, labels kept).

#include <QtTest>

#include <cmath>
#include <filesystem>
#include <random>

#include "core/features/analysis.h"
#include "core/features/feature_store.h"
#include "core/sae/decoder_cosine.h"
#include "tests/features/feature_test_data.h"
#include "tests/support/test_support.h"

using namespace mono;
using namespace mono::features;

namespace {

constexpr int64_t kD = 8, kF = 24, kShardRows = 64;

// Decoder rows like a trained SAE's: features come in families around a
// shared direction (a cluster of 8), so each has real near neighbours, plus
// a few unrelated rows and one zero row.
Matrix clusteredDecoder(int64_t f, int64_t d, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.f, 1.f);
    const int64_t families = f / 8;
    Matrix centres(families, d), w(f, d);
    for (int64_t i = 0; i < centres.size(); ++i) centres.data()[i] = normal(rng);
    for (int64_t i = 0; i < f; ++i)
        for (int64_t k = 0; k < d; ++k) w(i, k) = centres(i % families, k) + 0.6f * normal(rng);
    w.row(f - 1).setZero();
    return w;
}

AnalysisSpec smallSpec() {
    AnalysisSpec spec;
    spec.topK = 7;
    spec.bins = 4;
    spec.perBin = 3;
    spec.contextLeft = 3;
    spec.contextRight = 2;
    spec.chunkRows = 32;
    spec.checkpointSeconds = 0;
    spec.coFiringSampleRows = 100000;
    spec.neighbours = 5;
    spec.coFiring = 4;
    return spec;
}

Result<AnalysisSummary> run(const test::SyntheticData& data, const sae::Sae& sae,
                            const AnalysisSpec& spec, const std::string& out) {
    auto reader = acts::ActivationStoreReader::open(data.dir);
    if (!reader.ok()) return reader.status();
    AnalysisInputs in;
    in.store = &*reader;
    in.sae = &sae;
    in.saePath = "synthetic-sae";
    return analyze(in, spec, out, {}, {});
}

// Everything stored for one feature but the annotation.
std::string fingerprint(const FeatureRecord& r) {
    std::string s = std::to_string(r.summary.fireCount) + "/" +
                    std::to_string(r.summary.maxActivation) + "/" +
                    std::to_string(r.summary.density) + "/" + r.summary.topSnippet;
    for (auto c : r.histogram.counts) s.append(",").append(std::to_string(c));
    for (const auto* list : {&r.topExamples, &r.intervalExamples})
        for (const Example& e : *list) {
            s.append("|").append(std::to_string(e.bin)).append(":").append(std::to_string(e.row));
            s.append(":").append(std::to_string(e.activation));
            for (size_t t = 0; t < e.tokens.size(); ++t)
                s.append(".")
                    .append(std::to_string(e.tokens[t]))
                    .append("=")
                    .append(std::to_string(e.values[t]));
        }
    for (const auto* list : {&r.neighbours, &r.coFiring})
        for (const RelatedFeature& n : *list)
            s.append("#").append(std::to_string(n.id)).append(":").append(std::to_string(n.value));
    return s;
}

}  // namespace

class TestFeatureWidth : public QObject {
    Q_OBJECT
private slots:
    void exactNeighboursOfARangeAreRowsOfTheWhole() {
        const Matrix w = clusteredDecoder(600, 16, 1);
        const auto all = sae::topDecoderCosines(w, w, 10, true);
        const auto part = sae::exactNeighbours(w, 130, 457, 10);
        QCOMPARE(int64_t(part.size()), int64_t(457 - 130));
        for (int64_t i = 130; i < 457; ++i) {
            QCOMPARE(part[i - 130].size(), all[i].size());
            for (size_t k = 0; k < all[i].size(); ++k) {
                QCOMPARE(part[i - 130][k].id, all[i][k].id);
                QCOMPARE(part[i - 130][k].cosine, all[i][k].cosine);
            }
        }
    }

    // The stated bound: recall@10 ≥ 0.95 against the exact answer on a
    // clustered synthetic dictionary (measured 0.99+; BENCHMARKS.md has it at width).
    void approximateNeighboursRecallAtLeastBound() {
        const int64_t F = 6000, D = 64;
        const Matrix w = clusteredDecoder(F, D, 2);
        const auto exact = sae::exactNeighbours(w, 0, F, 10);
        const auto approx = sae::approximateNeighbours(w, 0, F, 10);
        QCOMPARE(approx.size(), exact.size());
        const double recall = sae::neighbourRecall(exact, approx);
        qInfo("recall@10 of the HNSW index: %.4f", recall);
        QVERIFY2(recall >= 0.95, qPrintable(QString::number(recall)));
        // Lists are sorted, never hold the row itself, and their cosines are the true ones.
        for (int64_t i = 0; i < F - 1; i += 97) {
            const auto& list = approx[static_cast<size_t>(i)];
            QCOMPARE(int64_t(list.size()), int64_t(10));
            for (size_t k = 0; k < list.size(); ++k) {
                QVERIFY(list[k].id != i);
                if (k > 0) QVERIFY(list[k - 1].cosine >= list[k].cosine);
                const float truth = w.row(i).normalized().dot(w.row(list[k].id).normalized());
                QVERIFY(std::abs(list[k].cosine - truth) < 1e-4f);
            }
        }
        // A range queries the same index: its lists are the whole's rows.
        const auto part = sae::approximateNeighbours(w, 1000, 1100, 10);
        QCOMPARE(sae::neighbourRecall(exact, approx) > 0, true);
        double agree = sae::neighbourRecall(
            std::vector<std::vector<sae::CosineMatch>>(exact.begin() + 1000, exact.begin() + 1100),
            part);
        QVERIFY2(agree >= 0.95, qPrintable(QString::number(agree)));
    }

    void exactBelowThresholdApproximateAbove() {
        using sae::NeighbourMethod;
        QCOMPARE(sae::resolveNeighbourMethod(NeighbourMethod::kAuto, 1000),
                 NeighbourMethod::kExact);
        QCOMPARE(
            sae::resolveNeighbourMethod(NeighbourMethod::kAuto, sae::kExactNeighbourMaxFeatures),
            NeighbourMethod::kExact);
        QCOMPARE(sae::resolveNeighbourMethod(NeighbourMethod::kAuto,
                                             sae::kExactNeighbourMaxFeatures + 1),
                 NeighbourMethod::kApproximate);
        QCOMPARE(sae::resolveNeighbourMethod(NeighbourMethod::kExact, 1 << 20),
                 NeighbourMethod::kExact);
        QCOMPARE(sae::resolveNeighbourMethod(NeighbourMethod::kApproximate, 10),
                 NeighbourMethod::kApproximate);
        // Below the threshold the automatic search is the exact one, tie order included.
        const Matrix w = clusteredDecoder(800, 12, 3);
        const auto viaAuto = sae::decoderNeighbourSearch(w, 0, 800, 6, NeighbourMethod::kAuto);
        const auto exact = sae::exactNeighbours(w, 0, 800, 6);
        for (size_t i = 0; i < exact.size(); ++i) {
            QCOMPARE(viaAuto[i].size(), exact[i].size());
            for (size_t k = 0; k < exact[i].size(); ++k) {
                QCOMPARE(viaAuto[i][k].id, exact[i][k].id);
                QCOMPARE(viaAuto[i][k].cosine, exact[i][k].cosine);
            }
        }
        // And an analysis reports which one it used.
        const auto dir = test::tempDir();
        const auto data =
            test::writeSyntheticStore((dir / "acts").string(), 1, kShardRows, kD, 50, 4);
        const sae::Sae sae = test::randomSae(kD, kF, 5);
        AnalysisSpec spec = smallSpec();
        auto exactRun = run(data, sae, spec, (dir / "e.sqlite").string());
        MONO_VERIFY_RESULT(exactRun);
        QVERIFY(!exactRun->approximateNeighbours);
        spec.neighbourMethod = NeighbourMethod::kApproximate;
        auto approxRun = run(data, sae, spec, (dir / "a.sqlite").string());
        MONO_VERIFY_RESULT(approxRun);
        QVERIFY(approxRun->approximateNeighbours);
    }

    // A store built in three ranges holds exactly what one whole analysis
    // writes; labels set in between survive, and until the last range the
    // store says how many features it holds.
    void storeBuiltByRangesMatchesWholeAnalysis() {
        const auto dir = test::tempDir();
        const auto data =
            test::writeSyntheticStore((dir / "acts").string(), 3, kShardRows, kD, 50, 6);
        const sae::Sae sae = test::randomSae(kD, kF, 7);
        AnalysisSpec spec = smallSpec();
        const std::string ref = (dir / "ref.sqlite").string(), out = (dir / "f.sqlite").string();
        MONO_VERIFY_RESULT(run(data, sae, spec, ref));

        spec.featureBegin = 8;
        spec.featureEnd = 16;
        auto first = run(data, sae, spec, out);
        MONO_VERIFY_RESULT(first);
        QCOMPARE(first->features, int64_t(8));
        QCOMPARE(first->featuresInStore, int64_t(8));
        {
            auto rw = FeatureStore::open(out, FeatureStore::Mode::kReadWrite);
            MONO_VERIFY_RESULT(rw);
            QCOMPARE(rw->runInfo()->featuresAnalysed, int64_t(8));
            QCOMPARE(rw->runInfo()->dSae, kF);
            QCOMPARE(rw->feature(3).status().code(), StatusCode::kNotFound);
            MONO_VERIFY_OK(rw->setLabel(9, "river banks"));
            MONO_VERIFY_OK(rw->setNotes(9, "and money banks"));
            MONO_VERIFY_OK(rw->setLabel(2, "not analysed yet"));
        }
        QVERIFY(std::filesystem::exists(out + ".analysis-state.8-16"));
        spec.featureBegin = 0;
        spec.featureEnd = 8;
        MONO_VERIFY_RESULT(run(data, sae, spec, out));
        spec.featureBegin = 16;
        spec.featureEnd = 0;  // to the last
        auto last = run(data, sae, spec, out);
        MONO_VERIFY_RESULT(last);
        QCOMPARE(last->featuresInStore, kF);

        auto a = FeatureStore::open(ref, FeatureStore::Mode::kReadOnly);
        auto b = FeatureStore::open(out, FeatureStore::Mode::kReadOnly);
        MONO_VERIFY_RESULT(a);
        MONO_VERIFY_RESULT(b);
        QCOMPARE(b->runInfo()->featuresAnalysed, kF);
        QCOMPARE(*b->featureCount(), kF);
        for (int64_t i = 0; i < kF; ++i) {
            const std::string got = fingerprint(*b->feature(i)), want = fingerprint(*a->feature(i));
            size_t at = 0;
            while (at < got.size() && at < want.size() && got[at] == want[at]) ++at;
            const size_t from = at > 40 ? at - 40 : 0;
            QVERIFY2(got == want,
                     qPrintable(QString("feature %1 at %2: …%3 vs …%4")
                                    .arg(i)
                                    .arg(at)
                                    .arg(QString::fromStdString(got.substr(from, 80)))
                                    .arg(QString::fromStdString(want.substr(from, 80)))));
        }
        const auto ha = a->densityHistogram(), hb = b->densityHistogram();
        QCOMPARE(hb->counts, ha->counts);
        QCOMPARE(hb->dead, ha->dead);
        QCOMPARE(b->feature(9)->summary.label, std::string("river banks"));
        QCOMPARE(b->feature(9)->notes, std::string("and money banks"));
        QCOMPARE(b->feature(2)->summary.label, std::string("not analysed yet"));
        // Search finds the labels and the examples of every range, once each.
        auto hits = b->search("river");
        MONO_VERIFY_RESULT(hits);
        QCOMPARE(int64_t(hits->size()), int64_t(1));
        QCOMPARE(hits->front().id, int64_t(9));
        const std::string word = a->feature(20)->topExamples.at(0).strings.at(0);
        auto ra = a->search(word, 1000), rb = b->search(word, 1000);
        QCOMPARE(rb->size(), ra->size());
    }

    // A range over other tokens than the store's features would mix two
    // analyses' densities: refused, before any work, unless --fresh.
    void rangeOverOtherTokensIsRefused() {
        const auto dir = test::tempDir();
        const auto data =
            test::writeSyntheticStore((dir / "acts").string(), 2, kShardRows, kD, 50, 8);
        const sae::Sae sae = test::randomSae(kD, kF, 9);
        AnalysisSpec spec = smallSpec();
        const std::string out = (dir / "f.sqlite").string();
        spec.featureEnd = 12;
        spec.maxTokens = kShardRows;
        MONO_VERIFY_RESULT(run(data, sae, spec, out));
        spec.featureBegin = 12;
        spec.featureEnd = 0;
        spec.maxTokens = 0;
        auto refused = run(data, sae, spec, out);
        QVERIFY(!refused.ok());
        QCOMPARE(refused.status().code(), StatusCode::kInvalidArgument);
        QVERIFY2(refused.status().message().find("--tokens 64") != std::string::npos,
                 refused.status().message().c_str());
        QVERIFY(!std::filesystem::exists(out + ".analysis-state.12-24"));
        spec.fresh = true;
        auto replaced = run(data, sae, spec, out);
        MONO_VERIFY_RESULT(replaced);
        QCOMPARE(replaced->featuresInStore, int64_t(12));
        // Out-of-range requests name the SAE's width.
        spec.featureBegin = 20;
        spec.featureEnd = 30;
        auto bad = run(data, sae, spec, out);
        QCOMPARE(bad.status().code(), StatusCode::kInvalidArgument);
        QVERIFY(bad.status().message().find("24 features") != std::string::npos);
    }

    // The per-feature memory follows the range; what ranges over every
    // feature (neighbours, co-firing counts) stays.
    void memoryEstimateFollowsTheRange() {
        AnalysisSpec whole;
        AnalysisSpec part = whole;
        part.featureEnd = 16384;
        const double all = analysisMemoryBytes(1 << 20, 2304, 256000, whole);
        const double first = analysisMemoryBytes(1 << 20, 2304, 256000, part);
        // Every feature outside the range takes its reservoirs and results (3-40 KB) along.
        const double perFeature = (all - first) / double((1 << 20) - 16384);
        QVERIFY2(perFeature > 3e3 && perFeature < 4e4, qPrintable(QString::number(perFeature)));
        // The floor: the index's copy of the unit decoder rows.
        QVERIFY(first > 1.0 * (1 << 20) * 2304 * 4);
        AnalysisSpec second = part;
        second.featureBegin = 16384;
        second.featureEnd = 32768;
        QCOMPARE(analysisMemoryBytes(1 << 20, 2304, 256000, second), first);
    }
};

QTEST_GUILESS_MAIN(TestFeatureWidth)
#include "test_feature_width.moc"
