// The feature map (UMAP of decoder directions): the pieces against UMAP's
// definitions, the layout of a planted clustered dictionary scored for
// neighbourhood preservation (and a random layout scored the same way, so the
// thresholds mean something), determinism, cancellation, bad input, and the
// map's round trip through a feature store.

#include <QtTest>

#include <cmath>
#include <filesystem>
#include <map>
#include <random>

#include "core/features/feature_map.h"
#include "core/features/feature_store.h"
#include "core/features/map_quality.h"
#include "core/features/umap_graph.h"
#include "core/features/umap_layout.h"
#include "core/sae/decoder_cosine.h"
#include "tests/features/clustered_dictionary.h"
#include "tests/support/test_support.h"

using namespace mono;
using namespace mono::features;

namespace {

std::vector<int64_t> allIds(int64_t n) {
    std::vector<int64_t> ids(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) ids[i] = i;
    return ids;
}

// The 10 nearest rows by decoder cosine, for the recall score.
std::vector<std::vector<int64_t>> highDimNeighbours(const Matrix& rows, int k) {
    std::vector<std::vector<int64_t>> out;
    for (const auto& list : sae::topDecoderCosines(rows, rows, k, true)) {
        out.emplace_back();
        for (const auto& m : list) out.back().push_back(m.id);
    }
    return out;
}

std::vector<float> randomLayout(int64_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> u(0.f, 10.f);
    std::vector<float> xy(static_cast<size_t>(2 * n));
    for (float& v : xy) v = u(rng);
    return xy;
}

}  // namespace

class TestFeatureMap : public QObject {
    Q_OBJECT

private slots:
    void curveMatchesUmapLearn() {
        // umap-learn's find_ab_params(1.0, 0.1) gives a ≈ 1.577, b ≈ 0.895.
        const auto c = umap::fitCurve(0.1, 1.0);
        QVERIFY2(std::abs(c.a - 1.577) < 0.02, qPrintable(QString::number(c.a)));
        QVERIFY2(std::abs(c.b - 0.895) < 0.01, qPrintable(QString::number(c.b)));
        // A larger min_dist flattens the curve's start: smaller a.
        QVERIFY(umap::fitCurve(0.5, 1.0).a < c.a);
    }

    void pointScaleHitsTheTargetSum() {
        const std::vector<float> d = {0.2f, 0.25f, 0.3f, 0.4f, 0.41f, 0.5f, 0.7f, 0.9f};
        const auto s = umap::smoothKnnScale(d.data(), int(d.size()), 9, 0.5);
        QCOMPARE(s.rho, double(0.2f));
        double sum = 0;
        for (float x : d) sum += std::exp(-std::max(0.0, x - s.rho) / s.sigma);
        QVERIFY2(std::abs(sum - std::log2(9.0)) < 1e-4, qPrintable(QString::number(sum)));
    }

    void fuzzyUnionIsSymmetric() {
        const auto data = test::makeClusteredDictionary(4, 10, 16, 0.3f, 3);
        const auto matches = sae::topDecoderCosines(data.rows, data.rows, 5, true);
        umap::KnnGraph knn;
        knn.n = data.rows.rows();
        knn.k = 5;
        for (const auto& list : matches)
            for (const auto& m : list) {
                knn.ids.push_back(m.id);
                knn.dists.push_back(1.f - m.cosine);
            }
        const auto g = umap::fuzzySimplicialSet(knn);
        std::map<std::pair<int, int>, float> w;
        for (int64_t i = 0; i < g.n; ++i)
            for (int64_t e = g.offsets[i]; e < g.offsets[i + 1]; ++e)
                w[{int(i), g.targets[e]}] = g.weights[e];
        QVERIFY(w.size() >= size_t(knn.n * knn.k));  // every kNN pair, both ways
        for (const auto& [edge, weight] : w) {
            QVERIFY(edge.first != edge.second);
            QVERIFY(weight > 0 && weight <= 1);
            QCOMPARE(w.at({edge.second, edge.first}), weight);
        }
        // Each point's nearest neighbour is fully connected (local connectivity 1).
        for (int64_t i = 0; i < knn.n; ++i) QCOMPARE(w.at({int(i), knn.ids[i * 5]}), 1.0f);
    }

    void plantedClustersLandTogether() {
        // 20 clusters × 50 directions in d = 64, noise 0.15 per coordinate:
        // within a cluster cos ≈ 0.4, across clusters ≈ 0 ± 0.13.
        const auto data = test::makeClusteredDictionary(20, 50, 64, 0.15f, 11);
        auto map = computeFeatureMap(data.rows, {}, Progress(), StopToken());
        MONO_VERIFY_OK(map.status());
        QCOMPARE(map->size(), int64_t(1000));
        const auto ids = allIds(1000);
        const auto truth = highDimNeighbours(data.rows, 10);
        const double purity = clusterPurity(map->xy, data.labels, ids, 10);
        const double recall = knnRecall(map->xy, truth, ids, 10);
        const auto random = randomLayout(1000, 5);
        const double randomPurity = clusterPurity(random, data.labels, ids, 10);
        const double randomRecall = knnRecall(random, truth, ids, 10);
        const double pcaPurity = clusterPurity(pcaLayout(data.rows), data.labels, ids, 10);
        qInfo("purity@10 %.3f (random %.3f, PCA start %.3f); kNN recall@10 %.3f (random %.3f)",
              purity, randomPurity, pcaPurity, recall, randomRecall);
        QVERIFY(purity > 0.95);
        QVERIFY(randomPurity < 0.15);
        QVERIFY(purity > pcaPurity + 0.2);  // the optimisation, not the start, did it
        QVERIFY(recall > 0.25);
        QVERIFY(randomRecall < 0.05);
    }

    void deterministicForASeed() {
        const auto data = test::makeClusteredDictionary(5, 40, 32, 0.2f, 2);
        FeatureMapSpec spec;
        spec.epochs = 60;
        auto a = computeFeatureMap(data.rows, spec, Progress(), StopToken());
        auto b = computeFeatureMap(data.rows, spec, Progress(), StopToken());
        spec.seed = 43;
        auto c = computeFeatureMap(data.rows, spec, Progress(), StopToken());
        MONO_VERIFY_OK(a.status());
        MONO_VERIFY_OK(b.status());
        MONO_VERIFY_OK(c.status());
        QVERIFY(a->xy == b->xy);
        QVERIFY(a->xy != c->xy);
        for (float v : a->xy) QVERIFY(std::isfinite(v));
    }

    void progressRisesAndCancelStops() {
        const auto data = test::makeClusteredDictionary(5, 40, 32, 0.2f, 2);
        double last = -1;
        bool monotone = true;
        StopToken stop;
        const Progress progress([&](const ProgressUpdate& u) {
            monotone = monotone && u.fraction >= last;
            last = u.fraction;
            if (u.fraction > 0.7) stop.requestStop();
        });
        auto map = computeFeatureMap(data.rows, {}, progress, stop);
        QCOMPARE(map.status().code(), StatusCode::kCancelled);
        QVERIFY(monotone);
        QVERIFY(last > 0.7 && last < 1.0);
    }

    void badInputIsRefused() {
        Matrix two = Matrix::Ones(2, 4);
        auto map = computeFeatureMap(two, {}, Progress(), StopToken());
        QCOMPARE(map.status().code(), StatusCode::kInvalidArgument);
        QVERIFY(map.status().message().find("at least 3") != std::string::npos);
        FeatureMapSpec spec;
        spec.neighbours = 1;
        map = computeFeatureMap(Matrix::Random(10, 4), spec, Progress(), StopToken());
        QCOMPARE(map.status().code(), StatusCode::kInvalidArgument);
        // Zero rows (dead features) and duplicates still get finite positions.
        Matrix dead = Matrix::Random(30, 8);
        dead.topRows(5).setZero();
        dead.row(10) = dead.row(11);
        auto ok = computeFeatureMap(dead, {}, Progress(), StopToken());
        MONO_VERIFY_OK(ok.status());
        for (float v : ok->xy) QVERIFY(std::isfinite(v));
    }

    void storeRoundTrip() {
        const std::string path = (test::tempDir() / "map.sqlite").string();
        auto store = FeatureStore::open(path, FeatureStore::Mode::kReadWrite);
        MONO_VERIFY_OK(store.status());
        RunInfo run;
        run.saeHash = "hash-a";
        run.dSae = 4;
        MONO_VERIFY_OK(store->replaceAnalysis(run, 4, [](int64_t id, FeatureRecord* r) {
            r->summary.id = id;
            return Status::success();
        }));
        QCOMPARE(store->featureMap().status().code(), StatusCode::kNotFound);

        StoredFeatureMap map;
        map.xy = {0.f, 1.f, 2.5f, -3.f, 1e-7f, 4.f, 123.456f, 7.f};
        map.saeHash = "hash-a";
        map.settingsJson = FeatureMapSpec{}.toJson();
        MONO_VERIFY_OK(store->replaceFeatureMap(map));
        // A new analysis leaves the map alone; matches() tells whether it still fits.
        MONO_VERIFY_OK(store->replaceAnalysis(run, 4, [](int64_t id, FeatureRecord* r) {
            r->summary.id = id;
            return Status::success();
        }));
        auto ro = FeatureStore::open(path, FeatureStore::Mode::kReadOnly);
        MONO_VERIFY_OK(ro.status());
        auto back = ro->featureMap();
        MONO_VERIFY_OK(back.status());
        QVERIFY(back->xy == map.xy);
        QCOMPARE(back->saeHash, std::string("hash-a"));
        QCOMPARE(back->settingsJson, map.settingsJson);
        QVERIFY(!back->date.empty());
        QVERIFY(back->matches(*ro->runInfo(), 4));
        QVERIFY(!back->matches(*ro->runInfo(), 5));
        run.saeHash = "hash-b";
        QVERIFY(!back->matches(run, 4));

        QCOMPARE(ro->replaceFeatureMap(map).code(), StatusCode::kInvalidArgument);
        map.xy[3] = NAN;
        QCOMPARE(store->replaceFeatureMap(map).code(), StatusCode::kInvalidArgument);
        // A smaller map replaces the larger one entirely.
        map.xy = {1.f, 2.f};
        MONO_VERIFY_OK(store->replaceFeatureMap(map));
        QCOMPARE(store->featureMap()->size(), int64_t(1));
    }
};

QTEST_GUILESS_MAIN(TestFeatureMap)
#include "test_feature_map.moc"
