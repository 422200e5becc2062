#pragma once
// Automatic per-layer α: for every smoothing group, try α on a grid and keep
// the one that minimises that group's W8A8 output error on calibration data,
//   ‖Q(X / s) · Q(W · diag(s))ᵀ − X · Wᵀ‖ / ‖X · Wᵀ‖   (Frobenius, over the fused output),
// with X the group's float input captured from the float model.

#include <vector>

#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/model/model.h"
#include "core/quant/calibration.h"
#include "core/quant/smoothing.h"
#include "core/quant/w8a8.h"

namespace mono::quant {

struct AlphaSearchResult {
    std::vector<SmoothGroup> groups;
    std::vector<float> grid;                 // the α values tried
    std::vector<std::vector<double>> error;  // [group][grid] relative output error
    std::vector<float> alpha;                // [group] the best α
};

// The default grid: 0, 0.05, ..., 1.
std::vector<float> defaultAlphaGrid();

// Runs `windows` through `fp` once to capture each group's input, then scans the grid.
Result<AlphaSearchResult> searchAlpha(model::Model& fp, const Calibration& calibration,
                                      const std::vector<std::vector<model::TokenId>>& windows,
                                      const W8A8Scheme& scheme,
                                      const std::vector<float>& grid = defaultAlphaGrid(),
                                      const Progress& progress = {}, StopToken stop = {});

// The same with given smoothing scales s [C] (all ones: no smoothing).
Result<double> groupErrorWithScales(model::Model& fp, const SmoothGroup& group,
                                    const InputStats& stats, const std::vector<float>& X,
                                    const std::vector<model::SeqRows>& seqs,
                                    const W8A8Scheme& scheme, const std::vector<float>& s);

// One group's relative W8A8 output error at α for the input rows X [rows, C]
// (sequences as `seqs`, for O2).
Result<double> groupError(model::Model& fp, const SmoothGroup& group, const InputStats& stats,
                          const std::vector<float>& X, const std::vector<model::SeqRows>& seqs,
                          const W8A8Scheme& scheme, float alpha);

}  // namespace mono::quant
