#pragma once
// Measures of a steering intervention:
//   - the steered features' natural activations on a text (what the SAE reads
//     at each position, before any edit);
//   - fluency damage on reference text: the mean KL(p_baseline ‖ p_steered) of
//     the next-token distributions and the delta loss CE_steered − CE_baseline
//     (nats per predicted token), with the splice at every non-special position;
//   - the probability shift of a feature's top positive-logit tokens at the
//     next position after a prompt.

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/features/feature_store.h"
#include "core/model/model.h"
#include "core/steer/sae_splice.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::steer {

// acts[p][j]: activation of features[j] at position p of `tokens` (one forward,
// no edits). Errors: those of Model::forward and of a hook that does not fit the SAE.
Result<std::vector<std::vector<float>>> featureTrace(model::Model& model, const sae::Sae& sae,
                                                     const std::string& hook,
                                                     const std::vector<model::TokenId>& tokens,
                                                     const std::vector<int64_t>& features);

struct FluencyReport {
    double ceBaseline = 0;  // nats per predicted token
    double ceSteered = 0;
    double deltaLoss = 0;  // ceSteered − ceBaseline
    double meanKl = 0;     // mean over predicted positions of KL(p_base ‖ p_steered), nats
    int64_t predicted = 0;
};

// `windows` are token sequences (each typically starting with BOS; at least 2
// tokens to count). Rows of special tokens are not edited when `skipSpecial`.
Result<FluencyReport> measureFluency(model::Model& model, const tok::Tokenizer& tokenizer,
                                     const SaeSplice& splice, bool skipSpecial,
                                     const std::vector<std::vector<model::TokenId>>& windows);

// Splits each text into windows of at most `ctx` tokens, each starting with BOS
// (when the vocabulary has one), for measureFluency.
std::vector<std::vector<model::TokenId>> referenceWindows(const tok::Tokenizer& tokenizer,
                                                          const std::vector<std::string>& texts,
                                                          int ctx, model::TokenId bos);

// The n tokens a feature promotes most through the direct path (its decoder
// row through the final norm's scale and the unembedding; see
// features::computeLogitEffects), with the tokenizer's bytes as their text.
// Unsupported when the SAE is not as wide as d_model.
Result<std::vector<features::LogitEffect>> topLogitTokens(const model::Model& model,
                                                          const tok::Tokenizer& tokenizer,
                                                          const sae::Sae& sae, int64_t feature,
                                                          int n);

// Softmax of the logits at the last position of `tokens` under `hooks` (may be null).
Result<std::vector<float>> nextTokenProbs(model::Model& model,
                                          const std::vector<model::TokenId>& tokens,
                                          const model::Hooks* hooks);

}  // namespace mono::steer
