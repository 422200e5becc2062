#pragma once
// SAEBench quality metrics of an SAE in its model, as eval-sae --metrics and the
// GUI compute them: the held-out evaluation of model_eval.h plus shrinkage,
// fraction alive, max decoder cosine, KL fidelity and first-letter absorption,
// gathered into the QualityRecord stored beside the SAE.

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/model/model.h"
#include "core/sae/absorption.h"
#include "core/sae/model_eval.h"
#include "core/sae/quality_record.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::sae {

enum QualityMetric : unsigned {
    kShrinkage = 1u << 0,
    kAlive = 1u << 1,
    kDecoderCosine = 1u << 2,
    kKlFidelity = 1u << 3,
    kAbsorption = 1u << 4,
    kAllQualityMetrics = (1u << 5) - 1,
};

// "all" or a comma-separated list of shrinkage, alive, decoder-cosine, kl,
// absorption. InvalidArgument naming an unknown one and listing the known.
Result<unsigned> parseQualityMetrics(const std::string& text);
std::string qualityMetricNames();  // "shrinkage, alive, decoder-cosine, kl, absorption"

struct QualitySpec {
    ModelEvalSpec eval;  // hook, corpus, tokens, context
    unsigned metrics = kAllQualityMetrics;
    int64_t absorptionWords = 4000;
    AbsorptionOptions absorption;
};

struct QualityResult {
    ModelEvalReport eval;         // the held-out evaluation (always run)
    AbsorptionReport absorption;  // when asked for
    QualityRecord record;         // summary and per-feature values, ready to save
    // Why absorption was asked for but not measured (a vocabulary with no letter
    // the probe gets right on a held-out word); empty otherwise. The other
    // metrics stand.
    std::string absorptionSkipped;
};

Result<QualityResult> evaluateQuality(model::Model& model, const tok::Tokenizer& tokenizer,
                                      const Sae& sae, const QualitySpec& spec,
                                      const Progress& progress = {}, StopToken stop = {});

}  // namespace mono::sae
