#pragma once
// Co-firing measures that dense features do not dominate. The store keeps, per
// feature i, the features j that fire most often on the sampled rows where i
// fires, with share = P(j | i) in the sample. A dense feature fires almost
// everywhere, so it tops every such list; Jaccard and lift discount it:
//
//   P(i ∧ j) ≈ share · d_i          d = a feature's density over all analysed tokens
//   Jaccard  = P(i ∧ j) / (d_i + d_j − P(i ∧ j))
//   lift     = P(i ∧ j) / (d_i · d_j) = share / d_j     (1: independent)
//
// The densities come from the whole analysis and the share from its row
// sample, so both measures are estimates; Jaccard is clamped to [0, 1].

#include <cstdint>
#include <functional>
#include <vector>

#include "core/features/feature_store.h"

namespace mono::features {

struct CoFiringMeasure {
    int64_t id = 0;
    double share = 0;    // P(j | i): the stored fraction of i's firings where j fires too
    double jaccard = 0;  // 0 when a density is unknown (≤ 0)
    double lift = 0;     // 0 when j's density is unknown
    int64_t count = 0;   // joint firings in the sample
};

// `related` as stored (FeatureRecord::coFiring), `density` the feature's own,
// `densityOf(j)` each partner's. Sorted by Jaccard, largest first (ties: higher
// share, then lower id).
std::vector<CoFiringMeasure> rankCoFiring(const std::vector<RelatedFeature>& related,
                                          double density,
                                          const std::function<double(int64_t)>& densityOf);

}  // namespace mono::features
