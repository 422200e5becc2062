#pragma once
// "Search via inference": run a prompt through the model, encode the hook's
// activations with the SAE, and rank the features that fire, per token and
// overall. Needs the model, so it lives beside the analysis rather than in
// the store. Thread-safety: as Model::forward (calls on one model serialise).

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/sae/sae.h"

namespace mono::model {
class Model;
}
namespace mono::tok {
class Tokenizer;
}

namespace mono::features {

struct FeatureActivation {
    int64_t id = 0;
    float value = 0;
};

struct PromptToken {
    int32_t token = 0;
    std::string text;                    // decoded (UTF-8, invalid bytes as U+FFFD)
    std::vector<FeatureActivation> top;  // strongest features on this token, largest first
};

struct RankedFeature {
    int64_t id = 0;
    float maxValue = 0;  // largest activation over the prompt's tokens
    int tokenIndex = 0;  // where (index into PromptResult::tokens)
    float score = 0;     // maxValue, or maxValue / the feature's max in the store when given
    int tokensFiring = 0;
};

struct PromptResult {
    std::vector<PromptToken> tokens;    // the prompt's tokens after BOS
    std::vector<RankedFeature> ranked;  // by score, largest first (ties: lower id)
    int64_t featuresFiring = 0;  // distinct features that fire on any token (ranked may be cut)
};

// BOS is prepended (when the tokenizer has one) and left out of the ranking,
// as in the activation store. `storeMax` (optional, [d_sae]) normalises scores
// by each feature's max activation in the feature store. Errors: unknown hook,
// hook width ≠ d_in, empty prompt.
Result<PromptResult> searchByInference(model::Model& model, const tok::Tokenizer& tokenizer,
                                       const sae::Sae& sae, const std::string& hook,
                                       const std::string& prompt, int perToken = 5,
                                       int overall = 50, const std::vector<float>& storeMax = {});

}  // namespace mono::features
