#include "core/model/hook_points.h"

#include <charconv>

namespace mono::model {

namespace {

// The linear-module names of a family: the TransformerLens-style "attn." /
// "mlp." prefix with the Hugging Face module name.
struct ModuleNames {
    const char *q, *k, *v, *o, *mlpIn, *upIn, *down;  // by HookSite order
};

const ModuleNames& moduleNames(const ModelConfig& c) {
    static const ModuleNames kGpt2{"attn.c_attn", nullptr, nullptr,     "attn.c_proj",
                                   "mlp.c_fc",    nullptr, "mlp.c_proj"};
    static const ModuleNames kNeox{
        "attn.query_key_value", nullptr, nullptr, "attn.dense", "mlp.dense_h_to_4h", nullptr,
        "mlp.dense_4h_to_h"};
    static const ModuleNames kLlama{"attn.q_proj",   "attn.k_proj", "attn.v_proj",  "attn.o_proj",
                                    "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
    if (c.arch == Arch::kGpt2) return kGpt2;
    if (c.arch == Arch::kGptNeox) return kNeox;
    return kLlama;
}

// TransformerLens's flattened hook_z is the out projection's input.
constexpr std::string_view kHookZ = "attn.hook_z";

}  // namespace

const char* hookSiteSuffix(const ModelConfig& config, HookSite site) {
    const ModuleNames& m = moduleNames(config);
    switch (site) {
        case HookSite::kResidPre:
            return "hook_resid_pre";
        case HookSite::kAttnIn:
            return m.q;
        case HookSite::kKIn:
            return m.k;
        case HookSite::kVIn:
            return m.v;
        case HookSite::kAttnOutProjIn:
            return m.o;
        case HookSite::kAttnOut:
            return "hook_attn_out";
        case HookSite::kResidMid:
            // With a parallel residual no stream exists between attention and MLP.
            return config.parallelResidual ? nullptr : "hook_resid_mid";
        case HookSite::kMlpIn:
            return m.mlpIn;
        case HookSite::kUpIn:
            return m.upIn;
        case HookSite::kMlpPost:
            return "mlp.hook_post";
        case HookSite::kMlpOutProjIn:
            return m.down;
        case HookSite::kMlpOut:
            return "hook_mlp_out";
        case HookSite::kResidPost:
            return "hook_resid_post";
        case HookSite::kCount:
            return nullptr;
    }
    return nullptr;
}

namespace {

constexpr std::string_view kFinalNorm = "ln_final.hook_normalized";

}  // namespace

std::vector<std::string> listHookNames(const ModelConfig& config) {
    std::vector<std::string> names;
    for (int L = 0; L < config.nLayers; ++L)
        for (int s = 0; s < kHookSitesPerLayer; ++s)
            if (const char* suffix = hookSiteSuffix(config, static_cast<HookSite>(s)))
                names.push_back("blocks." + std::to_string(L) + "." + suffix);
    names.emplace_back(kFinalNorm);
    return names;
}

std::string hookName(const ModelConfig& config, HookId id) {
    if (id.isFinalNorm()) return std::string(kFinalNorm);
    const char* suffix = hookSiteSuffix(config, id.site);
    return "blocks." + std::to_string(id.layer) + "." + (suffix ? suffix : "?");
}

Result<HookId> parseHookName(const ModelConfig& config, std::string_view name) {
    if (name == kFinalNorm) return HookId{-1, HookSite::kResidPost};
    auto unknown = [&](const std::string& why) {
        return Status::invalidArgument("unknown hook point '" + std::string(name) + "': " + why +
                                       " (the model has " + std::to_string(config.nLayers) +
                                       " layers; e.g. blocks.0.hook_resid_post)");
    };
    constexpr std::string_view kPrefix = "blocks.";
    if (name.substr(0, kPrefix.size()) != kPrefix) return unknown("expected 'blocks.L.<point>'");
    std::string_view rest = name.substr(kPrefix.size());
    int layer = -1;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), layer);
    if (ec != std::errc() || end == rest.data() || end == rest.data() + rest.size() || *end != '.')
        return unknown("expected a layer number after 'blocks.'");
    if (layer < 0 || layer >= config.nLayers) return unknown("layer out of range");
    std::string_view suffix(end + 1, rest.data() + rest.size() - (end + 1));
    for (int s = 0; s < kHookSitesPerLayer; ++s) {
        const char* cand = hookSiteSuffix(config, static_cast<HookSite>(s));
        if (cand && suffix == cand) return HookId{layer, static_cast<HookSite>(s)};
    }
    if (suffix == kHookZ) return HookId{layer, HookSite::kAttnOutProjIn};
    return unknown(std::string("no point '") + std::string(suffix) + "' in a " +
                   archName(config.arch) + " block");
}

int hookWidth(const ModelConfig& config, HookId id) {
    if (id.isFinalNorm()) return config.dModel;
    if (id.site == HookSite::kMlpPost || id.site == HookSite::kMlpOutProjIn) return config.dMlp;
    // The heads' outputs: H · head_dim, which Gemma and Qwen 3 set apart from d_model.
    if (id.site == HookSite::kAttnOutProjIn) return config.nHeads * config.headDim;
    return config.dModel;
}

}  // namespace mono::model
