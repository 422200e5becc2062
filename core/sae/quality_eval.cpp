#include "core/sae/quality_eval.h"

#include <sstream>

#include "core/sae/quality_metrics.h"

namespace mono::sae {
namespace {

struct Named {
    const char* name;
    QualityMetric metric;
};
constexpr Named kNames[] = {{"shrinkage", kShrinkage},
                            {"alive", kAlive},
                            {"decoder-cosine", kDecoderCosine},
                            {"kl", kKlFidelity},
                            {"absorption", kAbsorption}};

}  // namespace

std::string qualityMetricNames() {
    std::string out;
    for (const Named& n : kNames) {
        if (!out.empty()) out += ", ";
        out += n.name;
    }
    return out;
}

Result<unsigned> parseQualityMetrics(const std::string& text) {
    if (text == "all") return static_cast<unsigned>(kAllQualityMetrics);
    unsigned set = 0;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        bool found = false;
        for (const Named& n : kNames)
            if (item == n.name) {
                set |= n.metric;
                found = true;
            }
        if (!found)
            return Status::invalidArgument("unknown metric '" + item + "' (known: all, " +
                                           qualityMetricNames() + ")");
    }
    if (set == 0)
        return Status::invalidArgument("no metric named (known: all, " + qualityMetricNames() +
                                       ")");
    return set;
}

Result<QualityResult> evaluateQuality(model::Model& model, const tok::Tokenizer& tokenizer,
                                      const Sae& sae, const QualitySpec& spec,
                                      const Progress& progress, StopToken stop) {
    QualityResult out;
    QualityRecord& r = out.record;
    r.model = model.path();
    r.hook = spec.eval.hook;
    ModelEvalSpec eval = spec.eval;
    eval.keepActivations = (spec.metrics & (kShrinkage | kAlive)) != 0;
    MONO_ASSIGN_OR_RETURN(out.eval, evaluateInModel(model, tokenizer, sae, eval, progress, stop));
    const ModelEvalReport& e = out.eval;
    r.summary.emplace_back("tokens", static_cast<double>(e.metrics.tokens));
    r.summary.emplace_back("l0", e.metrics.l0);
    r.summary.emplace_back("explained_variance", e.metrics.explainedVariance);
    r.summary.emplace_back("ce_loss_recovered", e.ceLossRecovered);
    if (eval.keepActivations) {
        MONO_ASSIGN_OR_RETURN(ActivationQuality q, activationQuality(sae, e.activations));
        if (spec.metrics & kShrinkage) {
            r.summary.emplace_back("l2_ratio", q.l2Ratio);
            r.summary.emplace_back("relative_reconstruction_bias", q.relativeReconstructionBias);
        }
        if (spec.metrics & kAlive) r.summary.emplace_back("fraction_alive", q.fractionAlive);
    }
    if (spec.metrics & kKlFidelity) {
        r.summary.emplace_back("kl_sae", e.klSae);
        r.summary.emplace_back("kl_zero_ablation", e.klZeroAblation);
        r.summary.emplace_back("kl_fidelity", e.klFidelity);
    }
    if (spec.metrics & kDecoderCosine) {
        MONO_ASSIGN_OR_RETURN(DecoderCosineQuality d, decoderCosineQuality(sae));
        r.summary.emplace_back("max_decoder_cosine_mean", d.mean);
        r.summary.emplace_back("max_decoder_cosine_max", d.max);
        r.summary.emplace_back("near_duplicate_fraction", d.fractionAbove09);
        r.maxDecoderCosine = std::move(d.maxCosine);
    }
    if (spec.metrics & kAbsorption) {
        progress.report(-1, "absorption: first-letter probe");
        const int32_t bos = tokenizer.bos() >= 0 ? tokenizer.bos() : model.config().bosId;
        if (bos < 0)
            return Status::unsupported("absorption needs a BOS token to start prompts with");
        const FirstLetterWords words = firstLetterVocabulary(tokenizer, spec.absorptionWords);
        MONO_ASSIGN_OR_RETURN(Matrix x,
                              wordActivations(model, spec.eval.hook, bos, words.tokens, stop));
        auto absorption = computeAbsorption(sae, x, words.letters, spec.absorption);
        if (absorption.status().code() == StatusCode::kInvalidArgument) {
            out.absorptionSkipped = absorption.status().message();
            return out;
        }
        MONO_RETURN_IF_ERROR(absorption.status());
        out.absorption = std::move(*absorption);
        const AbsorptionReport& a = out.absorption;
        r.summary.emplace_back("absorption_fraction", a.meanAbsorptionFraction);
        r.summary.emplace_back("full_absorption", a.meanFullAbsorption);
        r.summary.emplace_back("split_features", a.meanSplitFeatures);
        r.summary.emplace_back("absorption_words", static_cast<double>(a.words));
        r.summary.emplace_back("absorption_letters", static_cast<double>(a.letters.size()));
        r.summary.emplace_back("probe_accuracy", a.probeTestAccuracy);
        r.absorbedCount = a.absorbedCount;
        r.absorbedLetter = a.absorbedLetter;
        r.mainLetter = a.mainLetter;
    }
    return out;
}

}  // namespace mono::sae
