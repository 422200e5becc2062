#pragma once
// SmoothQuant smoothing: move activation outliers into the weights with a
// per-channel scale s that leaves the float function unchanged.
//
//   s_j = max|X_j|^α / max|W_j|^(1−α)      (both clamped to ≥ 1e-5)
//   norm weight (and bias) /= s,   weight columns that read channel j *= s
//
// max|W_j| is taken jointly over the linears that share the input. A group is
// one norm and the linears after it: GPT-2 ln_1 → c_attn, ln_2 → c_fc; Llama
// (Mistral, Qwen) input_layernorm → q,k,v, post_attention_layernorm → gate,up;
// GPT-NeoX input_layernorm → query_key_value, post_attention_layernorm →
// dense_h_to_4h (with a parallel residual each still reads its own norm);
// Gemma input_layernorm → q,k,v, pre_feedforward_layernorm → gate,up. Gemma's
// post-norms act on outputs and are not part of a group, and its (1 + w) norms
// are held as the factor itself (weights.h), so dividing it by s is exact. Qwen 3
// / Gemma 3 q/k norms follow q_proj/k_proj and see the unchanged outputs. The
// output projections are not smoothed (no norm precedes them to fold into).

#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/model/model.h"
#include "core/model/weights.h"
#include "core/quant/calibration.h"

namespace mono::quant {

struct SmoothGroup {
    int layer = 0;
    bool attn = true;  // true: ln1 → attention input; false: ln2 → MLP input
    model::HookSite site() const {
        return attn ? model::HookSite::kAttnIn : model::HookSite::kMlpIn;
    }
    std::string name() const;  // "blocks.3.attn", "blocks.3.mlp"
};

// Two groups per layer, in forward order (attn of 0, mlp of 0, attn of 1 ...).
std::vector<SmoothGroup> smoothGroups(const model::ModelConfig& config);

// The paper's default α for the family: GPT-2 0.5, Llama 0.85.
float defaultAlpha(const model::ModelConfig& config);

// [in] max_i |W[i, j]| over every row of the fused matrix of a group.
std::vector<float> weightInputMax(const model::ModelWeights& weights, const SmoothGroup& group);

// s_j from the two maxima; InvalidArgument on mismatched sizes or α outside [0, 1].
Result<std::vector<float>> smoothingScales(const std::vector<float>& actMax,
                                           const std::vector<float>& weightMax, float alpha);

// Divides the group's norm weight (and bias) by s and multiplies the fused
// weight's column j by s_j. InvalidArgument when s has the wrong size or a
// non-positive value.
Status foldSmoothing(model::ModelWeights& weights, const SmoothGroup& group,
                     const std::vector<float>& s);

// α and s for every group (indexed like smoothGroups()).
struct SmoothingPlan {
    std::vector<SmoothGroup> groups;
    std::vector<float> alpha;
    std::vector<std::vector<float>> scales;
    // s of the group reading (layer, site); null for an input that is not smoothed.
    const std::vector<float>* scalesFor(int layer, model::HookSite site) const;
};

// A plan from calibration statistics. `alphas` holds one α for all groups or
// one per group. InvalidArgument when the calibration does not fit the model.
Result<SmoothingPlan> planSmoothing(const model::ModelWeights& weights,
                                    const model::ModelConfig& config,
                                    const Calibration& calibration,
                                    const std::vector<float>& alphas);

// Folds every group of the plan into the weights.
Status applySmoothing(model::ModelWeights& weights, const SmoothingPlan& plan);

}  // namespace mono::quant
