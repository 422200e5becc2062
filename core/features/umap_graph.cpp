#include "core/features/umap_graph.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mono::features::umap {
namespace {

// umap-learn's constants: sigma search steps and tolerance, and the floor on
// sigma relative to the mean distance (keeps memberships finite when all of
// a point's neighbours sit at the same distance).
constexpr int kSearchSteps = 64;
constexpr double kTolerance = 1e-5;
constexpr double kMinScale = 1e-3;

struct DirectedEdge {
    int32_t from, to;
    float weight;
};

}  // namespace

PointScale smoothKnnScale(const float* dists, int count, int neighbours, double meanAllDistances) {
    PointScale s;
    // local_connectivity = 1: rho is the nearest nonzero distance, so every
    // point is fully connected (membership 1) to at least its nearest neighbour.
    for (int j = 0; j < count; ++j)
        if (dists[j] > 0) {
            s.rho = dists[j];
            break;
        }
    const double target = std::log2(static_cast<double>(neighbours));
    double lo = 0, hi = std::numeric_limits<double>::infinity(), mid = 1;
    for (int step = 0; step < kSearchSteps; ++step) {
        double sum = 0;
        for (int j = 0; j < count; ++j) {
            const double d = dists[j] - s.rho;
            sum += d > 0 ? std::exp(-d / mid) : 1.0;
        }
        if (std::abs(sum - target) < kTolerance) break;
        if (sum > target) {
            hi = mid;
            mid = 0.5 * (lo + hi);
        } else {
            lo = mid;
            mid = std::isinf(hi) ? mid * 2 : 0.5 * (lo + hi);
        }
    }
    double mean = 0;
    for (int j = 0; j < count; ++j) mean += dists[j];
    mean = count ? mean / count : 0;
    const double floor = kMinScale * (s.rho > 0 ? mean : meanAllDistances);
    s.sigma = std::max(mid, floor);
    return s;
}

FuzzyGraph fuzzySimplicialSet(const KnnGraph& knn) {
    const int64_t n = knn.n;
    const int k = knn.k;
    double meanAll = 0;
    for (float d : knn.dists) meanAll += d;
    meanAll = knn.dists.empty() ? 0 : meanAll / static_cast<double>(knn.dists.size());

    // Each directed membership twice, once as (i, j) and once transposed, so
    // that after sorting a pair's two memberships sit side by side.
    std::vector<DirectedEdge> edges(static_cast<size_t>(2 * n * k), DirectedEdge{-1, -1, 0});
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
        const float* d = &knn.dists[static_cast<size_t>(i * k)];
        const int32_t* id = &knn.ids[static_cast<size_t>(i * k)];
        int count = 0;
        while (count < k && id[count] >= 0) ++count;
        const PointScale s = smoothKnnScale(d, count, k + 1, meanAll);
        for (int j = 0; j < count; ++j) {
            const double over = d[j] - s.rho;
            const auto w = static_cast<float>(over <= 0 ? 1.0 : std::exp(-over / s.sigma));
            const auto self = static_cast<int32_t>(i);
            edges[static_cast<size_t>(2 * (i * k + j))] = {self, id[j], w};
            edges[static_cast<size_t>(2 * (i * k + j) + 1)] = {id[j], self, w};
        }
    }
    std::erase_if(edges, [](const DirectedEdge& e) { return e.from < 0 || e.weight <= 0; });
    std::sort(edges.begin(), edges.end(), [](const DirectedEdge& a, const DirectedEdge& b) {
        return a.from != b.from ? a.from < b.from : a.to < b.to;
    });

    FuzzyGraph g;
    g.n = n;
    g.offsets.assign(static_cast<size_t>(n + 1), 0);
    for (size_t e = 0; e < edges.size();) {
        // A pair appears once (one direction was a neighbour) or twice (both were).
        const bool both = e + 1 < edges.size() && edges[e + 1].from == edges[e].from &&
                          edges[e + 1].to == edges[e].to;
        const float a = edges[e].weight, b = both ? edges[e + 1].weight : 0.0f;
        g.targets.push_back(edges[e].to);
        g.weights.push_back(a + b - a * b);
        ++g.offsets[static_cast<size_t>(edges[e].from) + 1];
        e += both ? 2 : 1;
    }
    for (int64_t i = 0; i < n; ++i) g.offsets[i + 1] += g.offsets[i];
    return g;
}

}  // namespace mono::features::umap
