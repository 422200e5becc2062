#pragma once
// The effect of one feature on the tokens that follow it (sae_vis's "loss
// effect" on hover): the feature's activation is zeroed where it fires, with
// the SAE's error term kept, i.e. at each such position p
//   x'_p = x_p − a_f(p) · W_dec[f]
// (the SaeSplice clamp of f to 0), and every later token t gets
//   Δ_t = log p_ablated(token_t | tokens_<t) − log p_clean(token_t | tokens_<t)
// A negative Δ_t means the feature helped predict token t.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/model/model.h"
#include "core/sae/sae.h"

namespace mono::steer {

struct TokenEffect {
    int64_t position = 0;  // the token whose log-probability changed (≥ 1)
    double logProbClean = 0;
    double delta = 0;  // ablated − clean, nats
};

struct TokenEffects {
    std::vector<int64_t> ablated;      // positions where f fired and was zeroed, ascending
    std::vector<TokenEffect> effects;  // every token after the first ablated position
};

// `positions` restricts the ablation (empty: every position where f fires).
// Errors: a hook the model lacks or narrower/wider than the SAE, a feature out
// of range, a token outside the vocabulary, a sequence longer than the context.
// No ablated position gives empty effects, not an error.
Result<TokenEffects> featureTokenEffects(model::Model& model, std::shared_ptr<const sae::Sae> sae,
                                         const std::string& hook,
                                         const std::vector<int32_t>& tokens, int64_t feature,
                                         const std::vector<int64_t>& positions = {});

}  // namespace mono::steer
