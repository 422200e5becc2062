#pragma once
// Matching the features of two SAEs on the same activations (different widths,
// seeds or checkpoints; or adjacent hooks of one width) by the cosine of their
// decoder directions, as in the feature-splitting and universality studies:
// best matches each way, mutual best pairs, features without a match, and the
// families in which one feature of a narrower SAE splits into several of a
// wider one. Optionally, the Pearson correlation of each candidate pair's
// activations over sampled rows.

#include <cstdint>
#include <vector>

#include "core/base/result.h"
#include "core/sae/decoder_cosine.h"
#include "core/sae/sae.h"

namespace mono::compare {

struct SaeMatching {
    int64_t featuresA = 0, featuresB = 0;
    std::vector<std::vector<sae::CosineMatch>> aToB;  // [F_a] best `top` of B, largest first
    std::vector<std::vector<sae::CosineMatch>> bToA;  // [F_b] best `top` of A
};

// InvalidArgument naming both widths when the SAEs read vectors of different widths.
Result<SaeMatching> matchDecoders(const sae::Sae& a, const sae::Sae& b, int top);

struct MatchCounts {
    int64_t matchedA = 0;  // A features whose best B match has cosine ≥ threshold
    int64_t matchedB = 0;
    int64_t mutualPairs = 0;  // (i, j) each other's best match, cosine ≥ threshold
};
MatchCounts countMatches(const SaeMatching& m, float threshold);

// A feature of one SAE and the features of the other whose best match it is
// (cosine ≥ threshold), largest cosine first.
struct SplitFamily {
    int64_t parent = 0;
    std::vector<sae::CosineMatch> children;
};
// Families with at least two children; `parentsInA` picks the side of the
// parents (the narrower SAE). Ordered by parent id.
std::vector<SplitFamily> splitFamilies(const SaeMatching& m, bool parentsInA, float threshold);

// Per A feature, the Pearson correlation over the rows of `x` [N, d_in] of
// its activations with those of each of its candidates in m.aToB (same order);
// 0 where either feature never fires. Rows are encoded in chunks.
Result<std::vector<std::vector<float>>> activationCorrelations(const sae::Sae& a, const sae::Sae& b,
                                                               const SaeMatching& m,
                                                               const Matrix& x);

}  // namespace mono::compare
