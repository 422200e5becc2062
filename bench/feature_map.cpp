// Feature map benchmark: the UMAP layout of a planted clustered dictionary of
// N decoder directions (default 100 000 × 256: 1000 clusters of 100 rows
// around random unit centres, noise 0.1 per coordinate, so a cluster's rows
// have cosine ≈ 0.28 with each other and ≈ 0 ± 0.06 with other clusters').
// Reports the time of each step (exact kNN, fuzzy set, PCA start, SGD), the
// kNN share of the total, and the layout's neighbourhood preservation on a
// sample of queries: cluster purity@10 and kNN recall@10 (core/features/
// map_quality.h), with a random layout's scores measured alongside.
//
//   bench_feature_map [--n N] [--d D] [--cluster-size M] [--noise S] [--queries Q] [--epochs E]

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "bench/bench_common.h"
#include "core/features/feature_map.h"
#include "core/features/map_quality.h"
#include "core/sae/decoder_cosine.h"
#include "tests/features/clustered_dictionary.h"

using namespace mono;

namespace {

struct Args {
    int64_t n = 100000, d = 256, clusterSize = 100, queries = 2000;
    double noise = 0.1;
    int epochs = 0;
};

Args parseArgs(int argc, char** argv) {
    Args a;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        const char* v = argv[i + 1];
        if (k == "--n")
            a.n = std::atoll(v);
        else if (k == "--d")
            a.d = std::atoll(v);
        else if (k == "--cluster-size")
            a.clusterSize = std::atoll(v);
        else if (k == "--noise")
            a.noise = std::atof(v);
        else if (k == "--queries")
            a.queries = std::atoll(v);
        else if (k == "--epochs")
            a.epochs = std::atoi(v);
        else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            std::exit(2);
        }
    }
    if (a.n < a.clusterSize || a.clusterSize < 2 || a.d < 2 || a.queries < 1) {
        std::fprintf(stderr, "need --n ≥ --cluster-size ≥ 2, --d ≥ 2, --queries ≥ 1\n");
        std::exit(2);
    }
    return a;
}

}  // namespace

int main(int argc, char** argv) {
    const Args a = parseArgs(argc, argv);
    const int64_t clusters = a.n / a.clusterSize;
    const auto data = test::makeClusteredDictionary(clusters, a.clusterSize, a.d,
                                                    static_cast<float>(a.noise), 17);
    const int64_t n = data.rows.rows();
    std::printf(
        "feature map of %lld directions in d=%lld (%lld clusters of %lld), %d threads, load %.1f\n",
        (long long)n, (long long)a.d, (long long)clusters, (long long)a.clusterSize,
        omp_get_max_threads(), bench::loadAverage());

    features::FeatureMapSpec spec;
    spec.epochs = a.epochs;
    const double t0 = bench::nowSeconds();
    auto map = features::computeFeatureMap(data.rows, spec, Progress(), StopToken());
    const double total = bench::nowSeconds() - t0;
    if (!map.ok()) {
        std::fprintf(stderr, "%s\n", map.status().toString().c_str());
        return 1;
    }
    std::printf("graph: %lld edges (%.1f per feature)\n", (long long)map->edges,
                double(map->edges) / double(n));
    bench::printResult("map_knn_s", map->secondsKnn, "s");
    bench::printResult("map_graph_s", map->secondsGraph, "s");
    bench::printResult("map_init_s", map->secondsInit, "s");
    bench::printResult("map_optimise_s", map->secondsOptimise, "s");
    bench::printResult("map_total_s", total, "s");
    bench::printResult("map_knn_share", map->secondsKnn / total, "ratio");

    // Scores on evenly spaced query features.
    std::vector<int64_t> queries;
    const int64_t q = std::min(a.queries, n);
    for (int64_t i = 0; i < q; ++i) queries.push_back(i * n / q);
    Matrix qrows(q, a.d);
    for (int64_t i = 0; i < q; ++i) qrows.row(i) = data.rows.row(queries[i]);
    std::vector<std::vector<int64_t>> truth;
    const auto top = sae::topDecoderCosines(qrows, data.rows, 11, false);
    for (int64_t i = 0; i < q; ++i) {
        truth.emplace_back();
        for (const auto& m : top[i])
            if (m.id != queries[i] && truth.back().size() < 10) truth.back().push_back(m.id);
    }
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<float> u(0.f, 10.f);
    std::vector<float> random(map->xy.size());
    for (float& v : random) v = u(rng);
    bench::printResult("map_purity10", features::clusterPurity(map->xy, data.labels, queries, 10),
                       "frac");
    bench::printResult("random_purity10", features::clusterPurity(random, data.labels, queries, 10),
                       "frac");
    bench::printResult("map_recall10", features::knnRecall(map->xy, truth, queries, 10), "frac");
    bench::printResult("random_recall10", features::knnRecall(random, truth, queries, 10), "frac");
    return 0;
}
