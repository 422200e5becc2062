#include "core/model/hook_points.h"

#include <charconv>

namespace mono::model {

namespace {

// The suffix after "blocks.L." of each site, or nullptr when the architecture lacks it.
const char* siteSuffix(Arch arch, HookSite site) {
    const bool gpt2 = arch == Arch::kGpt2;
    switch (site) {
        case HookSite::kResidPre:
            return "hook_resid_pre";
        case HookSite::kAttnIn:
            return gpt2 ? "attn.c_attn" : "attn.q_proj";
        case HookSite::kKIn:
            return gpt2 ? nullptr : "attn.k_proj";
        case HookSite::kVIn:
            return gpt2 ? nullptr : "attn.v_proj";
        case HookSite::kAttnOutProjIn:
            return gpt2 ? "attn.c_proj" : "attn.o_proj";
        case HookSite::kAttnOut:
            return "hook_attn_out";
        case HookSite::kResidMid:
            return "hook_resid_mid";
        case HookSite::kMlpIn:
            return gpt2 ? "mlp.c_fc" : "mlp.gate_proj";
        case HookSite::kUpIn:
            return gpt2 ? nullptr : "mlp.up_proj";
        case HookSite::kMlpPost:
            return "mlp.hook_post";
        case HookSite::kMlpOutProjIn:
            return gpt2 ? "mlp.c_proj" : "mlp.down_proj";
        case HookSite::kMlpOut:
            return "hook_mlp_out";
        case HookSite::kResidPost:
            return "hook_resid_post";
        case HookSite::kCount:
            return nullptr;
    }
    return nullptr;
}

constexpr std::string_view kFinalNorm = "ln_final.hook_normalized";

}  // namespace

std::vector<std::string> listHookNames(const ModelConfig& config) {
    std::vector<std::string> names;
    for (int L = 0; L < config.nLayers; ++L)
        for (int s = 0; s < kHookSitesPerLayer; ++s)
            if (const char* suffix = siteSuffix(config.arch, static_cast<HookSite>(s)))
                names.push_back("blocks." + std::to_string(L) + "." + suffix);
    names.emplace_back(kFinalNorm);
    return names;
}

std::string hookName(const ModelConfig& config, HookId id) {
    if (id.isFinalNorm()) return std::string(kFinalNorm);
    const char* suffix = siteSuffix(config.arch, id.site);
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
        const char* cand = siteSuffix(config.arch, static_cast<HookSite>(s));
        if (cand && suffix == cand) return HookId{layer, static_cast<HookSite>(s)};
    }
    return unknown(std::string("no point '") + std::string(suffix) + "' in a " +
                   archName(config.arch) + " block");
}

int hookWidth(const ModelConfig& config, HookId id) {
    if (id.isFinalNorm()) return config.dModel;
    if (id.site == HookSite::kMlpPost || id.site == HookSite::kMlpOutProjIn) return config.dMlp;
    return config.dModel;
}

}  // namespace mono::model
