#pragma once
// UMAP's graph (McInnes, Healy & Melville 2018, §3): the k nearest neighbours
// of every point turned into a fuzzy simplicial set. Each point gets its own
// distance scale (rho: the distance to its nearest neighbour, sigma: found by
// binary search so that its k memberships sum to log2(k)), which makes the
// graph uniform in "local density" whatever the real density; the two
// directed memberships of a pair are then merged by fuzzy union, a + b − ab.

#include <cstdint>
#include <vector>

namespace mono::features::umap {

// k nearest neighbours of each of n points, self excluded, nearest first:
// ids[i·k + j], dists[i·k + j]. A point with fewer than k neighbours pads
// with id −1.
struct KnnGraph {
    int64_t n = 0;
    int k = 0;
    std::vector<int32_t> ids;
    std::vector<float> dists;
};

// A symmetric weighted graph in compressed rows: the edges of point i are
// targets/weights[offsets[i] .. offsets[i+1]), in ascending target order.
struct FuzzyGraph {
    int64_t n = 0;
    std::vector<int64_t> offsets;  // n + 1
    std::vector<int32_t> targets;
    std::vector<float> weights;  // in (0, 1]
    int64_t edges() const { return static_cast<int64_t>(targets.size()); }
};

// rho and sigma of one point from its neighbour distances (nearest first);
// `neighbours` is umap-learn's n_neighbors, the point itself included, so the
// target sum is log2(neighbours) over the dists.size() = neighbours − 1 others.
struct PointScale {
    double rho = 0, sigma = 1;
};
PointScale smoothKnnScale(const float* dists, int count, int neighbours, double meanAllDistances);

// The fuzzy union of the per-point memberships exp(−(d − rho) / sigma).
FuzzyGraph fuzzySimplicialSet(const KnnGraph& knn);

}  // namespace mono::features::umap
