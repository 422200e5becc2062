#pragma once
// Evaluates an SAE inside its model: the reconstruction metrics over held-out
// corpus tokens, and the next-token loss with the SAE spliced in at its hook.
//   CE loss recovered = (CE_zero_abl − CE_sae) / (CE_zero_abl − CE_clean)
//   delta loss        = CE_sae − CE_clean   (nats)
//   KL fidelity       = (KL_zero_abl − KL_sae) / KL_zero_abl   (SAEBench kl_div_score)
// KL_* is the mean over non-BOS positions of KL(p_clean ‖ p_spliced), nats.
// CE_sae replaces the activation at the hook by x̂ (no error term); CE_zero_abl
// replaces it by zeros. The BOS row of each window is left untouched and is
// excluded from the reconstruction metrics.

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/model/model.h"
#include "core/sae/metrics.h"
#include "core/sae/sae.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::sae {

struct ModelEvalSpec {
    std::string hook;                 // where the SAE reads and is spliced
    std::vector<std::string> corpus;  // held-out text
    int64_t tokens = 50'000;          // non-BOS tokens to evaluate
    int contextSize = 128;
    int batchWindows = 8;
    bool keepActivations = false;  // fill ModelEvalReport::activations
};

struct ModelEvalReport {
    SaeMetrics metrics;
    double ceClean = 0;  // nats per predicted token
    double ceSae = 0;
    double ceZeroAblation = 0;
    double ceLossRecovered = 0;
    double deltaLoss = 0;
    double klSae = 0;  // nats per non-BOS position
    double klZeroAblation = 0;
    double klFidelity = 0;
    int64_t predictedTokens = 0;
    Matrix activations;  // the non-BOS hook rows evaluated, when spec.keepActivations
};

// Errors: an unknown hook, an SAE whose d_in differs from the hook's width
// (naming both), an unreadable corpus, a corpus too short for one window.
Result<ModelEvalReport> evaluateInModel(model::Model& model, const tok::Tokenizer& tokenizer,
                                        const Sae& sae, const ModelEvalSpec& spec,
                                        const Progress& progress = {}, StopToken stop = {});

}  // namespace mono::sae
