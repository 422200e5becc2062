#pragma once
// The quantization report: a float model, its naive W8A8 copy, W8A8 at the
// chosen scheme without smoothing, and SmoothQuant W8A8 at that scheme (also
// run on the int8 kernels), compared per module and end to end on held-out
// windows. The JSON layout is documented in docs/QUANT_REPORT.md.

#include <string>
#include <vector>

#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/model/model.h"
#include "core/quant/alpha_search.h"
#include "core/quant/attention_sinks.h"
#include "core/quant/calibration.h"
#include "core/quant/error_metrics.h"
#include "core/quant/rotation.h"
#include "core/quant/w8a8.h"

namespace mono::quant {

struct ModuleError {
    std::string module;  // hook name, "blocks.0.attn.q_proj"
    int layer = 0;
    ErrorStats error;
};

// Per-module errors of a W8A8 model: each module sees the float model's input
// (so errors do not compound), quantized as the variant does.
class ModuleErrorProbe {
public:
    // Adds one variant; the probe keeps a pointer (it must outlive run()).
    void addVariant(W8A8Model* variant) { m_variants.push_back(variant); }
    // Runs `windows` through `fp`; result[v] lists every module in forward order.
    Result<std::vector<std::vector<ModuleError>>> run(
        model::Model& fp, const std::vector<std::vector<model::TokenId>>& windows,
        StopToken stop = {});

private:
    std::vector<W8A8Model*> m_variants;
};

// End-to-end metrics of each variant (fake path, or int8 where `int8[v]`) on
// `windows`; the float model's perplexity goes to *fpPerplexity.
Result<std::vector<EndToEnd>> compareEndToEnd(
    model::Model& fp, const std::vector<W8A8Model*>& variants, const std::vector<bool>& int8,
    const std::vector<std::vector<model::TokenId>>& windows, double* fpPerplexity,
    StopToken stop = {});

struct QuantReportSpec {
    W8A8Scheme scheme;
    std::vector<float> alphas;  // one for all groups, or one per group; empty: the default
    bool autoAlpha = false;     // search α per group (overrides alphas)
    int searchWindows = 4;      // calibration windows the α search captures
    // kNone: no rotated columns. Otherwise the rotated model is calibrated on
    // the same windows and smoothed with the same α.
    RotationKind rotation = RotationKind::kNone;
    uint64_t rotationSeed = 0x5eed;
    bool w4 = true;            // the W4A8 and W4A4 (per-group 128) columns
    bool granularity = false;  // the weight × activation granularity table
};

struct ConfigReport {
    std::string name;         // "fp32", "naive", "w8a8", "smoothquant", ... (QUANT_REPORT.md)
    std::string description;  // "W8A8 O1, weights per-channel, smoothed"
    std::vector<ModuleError> modules;  // empty for fp32 and for the int8 run
    EndToEnd endToEnd;
    int weightBits = 32, actBits = 32;
    bool smoothed = false;
    std::string rotation = "none";
};

// The outlier statistics of one residual-reading linear input, before and
// after the rotation (from the two calibrations).
struct InputOutlierStats {
    float max = 0, maxOverMedian = 0;  // of the per-channel maxima
    double kurtosis = 0;               // InputStats::kurtosis
};
struct RotationStats {
    std::string input;  // hook name of the input, "blocks.0.attn.q_proj"
    int layer = 0;
    InputOutlierStats before, after;
};
InputOutlierStats outlierStats(const InputStats& stats);

// Mean per-module relative error of one weight × activation granularity (no
// smoothing, no rotation).
struct GranularityRow {
    int weightBits = 8, actBits = 8;
    WeightScheme weight = WeightScheme::kPerChannel;
    ActScheme act = ActScheme::kPerToken;
    double meanRelError = 0, maxRelError = 0;
};

struct QuantReport {
    std::string model;
    std::string kernel;  // int8 GEMM kernel used
    int calibrationSamples = 0;
    int64_t calibrationTokens = 0;
    int evalWindows = 0;
    int seqLen = 0;
    QuantReportSpec spec;
    std::vector<SmoothGroup> groups;
    std::vector<float> alpha;  // [group] as used
    AlphaSearchResult search;  // filled with autoAlpha
    std::vector<ConfigReport> configs;
    std::vector<RotationStats> rotation;      // with a rotation: every attn / MLP input
    std::vector<GranularityRow> granularity;  // with spec.granularity
    AttentionSinks sinks;                     // of the FP32 model on the first calibration windows
    std::string sinksNote;  // why sinks is empty (a backend without attention weights)
    // The config called `name`; null when absent.
    const ConfigReport* find(const std::string& name) const;
};

// Builds the variants and measures them. `calibWindows` feed the α search.
Result<QuantReport> buildQuantReport(model::Model& fp, const Calibration& calibration,
                                     const std::vector<std::vector<model::TokenId>>& calibWindows,
                                     const std::vector<std::vector<model::TokenId>>& evalWindows,
                                     const QuantReportSpec& spec, const Progress& progress = {},
                                     StopToken stop = {});

std::string quantReportJson(const QuantReport& report);

}  // namespace mono::quant
