#pragma once
// What the outlier panel shows, computed here so the UI only draws:
//   - the outlier table: residual channels whose calibrated maxima at the
//     attention / MLP inputs stand far above the median channel
//   - the massive-activation picture: per layer, the three largest |x| of the
//     residual stream (with the token and channel where each occurs) and the
//     median |x|
//   - the same calibration of a rotated copy of the model, for the toggle

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/model/model.h"
#include "core/quant/attention_sinks.h"
#include "core/quant/calibration.h"
#include "core/quant/rotation.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::quant {

struct OutlierRow {
    int channel = 0;
    float max = 0;    // largest |x| of the channel over the attention / MLP inputs of every layer
    float ratio = 0;  // the channel's max over the median channel max, at the input where it peaks
    float pctAbove = 0;  // % of the heatmap tokens (all those inputs) whose |x| tops the threshold
    std::vector<int> layers;  // layers where ratio ≥ the threshold at either input
};

// Every channel of width d_model, sorted by ratio (largest first); `threshold`
// is a multiple of the median channel max ("stands out" and "above"). Empty for
// a calibration without attention / MLP inputs.
std::vector<OutlierRow> outlierTable(const Calibration& calibration, float threshold = 6.0f);

// Channel indices in decreasing order of `values`.
std::vector<int> sortedOrder(const std::vector<float>& values);

struct MassiveLayer {
    int layer = 0;
    std::array<float, 3> top{};        // the three largest |x| of hook_resid_post, largest first
    std::array<int, 3> topChannel{};   // where they occur
    std::array<int, 3> topPosition{};  // position of the token in its window
    std::array<std::string, 3> topToken;
    float median = 0;  // median |x| over the layer's values
};

// Runs `windows` through the model with a hook on every layer's residual
// stream. InvalidArgument on no windows.
Result<std::vector<MassiveLayer>> massiveActivations(
    model::Model& model, const std::vector<std::vector<model::TokenId>>& windows,
    const tok::Tokenizer* tokenizer);

// Everything the panel draws, from one job.
struct OutlierData {
    std::string model;
    Calibration plain;
    Calibration rotated;                     // inputs empty when the family cannot be rotated
    std::string rotationNote;                // why there is no rotated calibration
    std::vector<std::string> heatmapTokens;  // text of the calibration's heatmap rows
    std::vector<OutlierRow> table;
    std::vector<OutlierRow> rotatedTable;
    std::vector<MassiveLayer> massive;
    AttentionSinks sinks;   // on the massive-activation windows; empty when the backend cannot
    std::string sinksNote;  // why there are no attention sinks
    bool hasRotation() const { return !rotated.inputs.empty(); }
};

// Calibrates `model` (and a Hadamard-rotated copy) on `windows`, builds the
// tables, the massive-activation picture and the attention sinks.
Result<OutlierData> buildOutlierData(model::Model& model,
                                     const std::vector<std::vector<model::TokenId>>& windows,
                                     const tok::Tokenizer* tokenizer, int heatmapRows = 64,
                                     const Progress& progress = {}, StopToken stop = {});

}  // namespace mono::quant
