#include "core/quant/smoothing.h"

#include <algorithm>
#include <cmath>

namespace mono::quant {

namespace {
constexpr float kMinMax = 1e-5f;  // floor of both maxima, so s stays finite and positive

const model::Linear& groupLinear(const model::ModelWeights& w, const SmoothGroup& g) {
    return g.attn ? w.layers[size_t(g.layer)].qkv : w.layers[size_t(g.layer)].up;
}
}  // namespace

std::string SmoothGroup::name() const {
    return "blocks." + std::to_string(layer) + (attn ? ".attn" : ".mlp");
}

std::vector<SmoothGroup> smoothGroups(const model::ModelConfig& config) {
    std::vector<SmoothGroup> out;
    for (int L = 0; L < config.nLayers; ++L) {
        out.push_back({L, true});
        out.push_back({L, false});
    }
    return out;
}

float defaultAlpha(const model::ModelConfig& config) {
    return config.arch == model::Arch::kGpt2 ? 0.5f : 0.85f;
}

std::vector<float> weightInputMax(const model::ModelWeights& weights, const SmoothGroup& group) {
    const model::RowMatrix& w = groupLinear(weights, group).w;  // [out, in]
    std::vector<float> m(size_t(w.cols()), 0.0f);
    for (Eigen::Index i = 0; i < w.rows(); ++i)
        for (Eigen::Index j = 0; j < w.cols(); ++j)
            m[size_t(j)] = std::max(m[size_t(j)], std::fabs(w(i, j)));
    return m;
}

Result<std::vector<float>> smoothingScales(const std::vector<float>& actMax,
                                           const std::vector<float>& weightMax, float alpha) {
    if (actMax.size() != weightMax.size())
        return Status::invalidArgument("smoothing: " + std::to_string(actMax.size()) +
                                       " activation maxima but " +
                                       std::to_string(weightMax.size()) + " weight maxima");
    if (!(alpha >= 0.0f && alpha <= 1.0f))
        return Status::invalidArgument("smoothing: alpha " + std::to_string(alpha) +
                                       " is outside [0, 1]");
    std::vector<float> s(actMax.size());
    for (size_t j = 0; j < s.size(); ++j) {
        const double a = std::max(actMax[j], kMinMax), w = std::max(weightMax[j], kMinMax);
        s[j] = float(std::pow(a, double(alpha)) / std::pow(w, 1.0 - double(alpha)));
    }
    return s;
}

namespace {
// Folding and planning read and write Linear::w, which a bf16-resident model
// leaves empty.
Status requireF32(const model::ModelWeights& weights, const char* operation) {
    if (!weights.bf16Resident()) return Status::success();
    return Status::unsupported(std::string(operation) +
                               " needs float32 weights, but the model holds its weights in bf16 "
                               "(loaded bf16-resident, --weights bf16); load it with float32 "
                               "weights (--weights f32)");
}
}  // namespace

Status foldSmoothing(model::ModelWeights& weights, const SmoothGroup& group,
                     const std::vector<float>& s) {
    MONO_RETURN_IF_ERROR(requireF32(weights, "SmoothQuant folding"));
    if (group.layer < 0 || size_t(group.layer) >= weights.layers.size())
        return Status::invalidArgument("smoothing: layer " + std::to_string(group.layer) +
                                       " does not exist");
    model::LayerWeights& lw = weights.layers[size_t(group.layer)];
    model::Norm& norm = group.attn ? lw.ln1 : lw.ln2;
    model::Linear& lin = group.attn ? lw.qkv : lw.up;
    if (Eigen::Index(s.size()) != lin.w.cols() || Eigen::Index(s.size()) != norm.weight.size())
        return Status::invalidArgument("smoothing " + group.name() + ": " +
                                       std::to_string(s.size()) + " scales for an input of " +
                                       std::to_string(lin.w.cols()));
    for (float v : s)
        if (!(v > 0.0f) || !std::isfinite(v))
            return Status::invalidArgument("smoothing " + group.name() +
                                           ": a scale is not a positive finite number");
    for (size_t j = 0; j < s.size(); ++j) {
        norm.weight[Eigen::Index(j)] /= s[j];
        if (norm.bias.size()) norm.bias[Eigen::Index(j)] /= s[j];
        lin.w.col(Eigen::Index(j)) *= s[j];
    }
    return Status::success();
}

const std::vector<float>* SmoothingPlan::scalesFor(int layer, model::HookSite site) const {
    for (size_t g = 0; g < groups.size(); ++g)
        if (groups[g].layer == layer && groups[g].site() == site) return &scales[g];
    return nullptr;
}

Result<SmoothingPlan> planSmoothing(const model::ModelWeights& weights,
                                    const model::ModelConfig& config,
                                    const Calibration& calibration,
                                    const std::vector<float>& alphas) {
    MONO_RETURN_IF_ERROR(requireF32(weights, "SmoothQuant planning"));
    SmoothingPlan plan;
    plan.groups = smoothGroups(config);
    if (alphas.size() != 1 && alphas.size() != plan.groups.size())
        return Status::invalidArgument("smoothing: " + std::to_string(alphas.size()) +
                                       " alpha values; expected 1 or " +
                                       std::to_string(plan.groups.size()) + " (one per group)");
    for (size_t g = 0; g < plan.groups.size(); ++g) {
        const SmoothGroup& grp = plan.groups[g];
        const InputStats* st = calibration.find(grp.layer, grp.site());
        if (!st)
            return Status::invalidArgument("calibration of \"" + calibration.model +
                                           "\" has no statistics for " + grp.name());
        const float a = alphas.size() == 1 ? alphas[0] : alphas[g];
        MONO_ASSIGN_OR_RETURN(auto s,
                              smoothingScales(st->channelMax, weightInputMax(weights, grp), a));
        plan.alpha.push_back(a);
        plan.scales.push_back(std::move(s));
    }
    return plan;
}

Status applySmoothing(model::ModelWeights& weights, const SmoothingPlan& plan) {
    for (size_t g = 0; g < plan.groups.size(); ++g)
        MONO_RETURN_IF_ERROR(foldSmoothing(weights, plan.groups[g], plan.scales[g]));
    return Status::success();
}

}  // namespace mono::quant
