#pragma once
// A planted dictionary with clustered directions, for the feature map: C
// random unit centres in D dimensions and, around each, M rows = centre +
// Gaussian noise (per coordinate `noise`), so the rows of one cluster have a
// high cosine with each other and near zero with other clusters'. The label
// of row r is r / M (rows are grouped by cluster). Header-only: the tests and
// bench/feature_map.cpp share it.

#include <cstdint>
#include <random>
#include <vector>

#include "core/base/matrix.h"

namespace mono::test {

struct ClusteredDictionary {
    Matrix rows;              // [C·M, D]
    std::vector<int> labels;  // cluster of each row
};

inline ClusteredDictionary makeClusteredDictionary(int64_t clusters, int64_t perCluster,
                                                   int64_t dim, float noise, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    ClusteredDictionary d;
    d.rows.resize(clusters * perCluster, dim);
    d.labels.resize(static_cast<size_t>(clusters * perCluster));
    Vector centre(dim);
    for (int64_t c = 0; c < clusters; ++c) {
        for (int64_t j = 0; j < dim; ++j) centre[j] = normal(rng);
        centre /= centre.norm();
        for (int64_t m = 0; m < perCluster; ++m) {
            const int64_t r = c * perCluster + m;
            for (int64_t j = 0; j < dim; ++j) d.rows(r, j) = centre[j] + noise * normal(rng);
            d.labels[static_cast<size_t>(r)] = static_cast<int>(c);
        }
    }
    return d;
}

}  // namespace mono::test
