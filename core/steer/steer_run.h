#pragma once
// A steering experiment: the baseline and the steered continuation of one
// prompt, generated with the same sampler settings and seed (so they differ
// only by the splice), streamed token by token, and measured.
//
//   SteerRunSpec spec;  spec.steer.hook = "blocks.2.hook_resid_post";
//   spec.steer.edits = {*parseFeatureEdit("123=10x")};
//   MONO_RETURN_IF_ERROR(resolveFromStore(spec.steer.edits, store));
//   spec.prompt = "Once upon a time";  spec.generate.maxNewTokens = 64;
//   auto report = runSteering(model, tokenizer, sae, spec);
//
// Positions: the splice edits the hook rows of the prompt, of the generated
// tokens, or both. The row of the last prompt token yields the first generated
// token, so "gen" starts to act on the second generated token. Rows of special
// tokens (BOS) are skipped when spec.steer.skipSpecial.
// Thread-safety: one experiment at a time per Model (forward() serialises).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/model/generate.h"
#include "core/steer/steer_measures.h"
#include "core/steer/steer_spec.h"

namespace mono::steer {

struct SteerRunSpec {
    SteerSpec steer;
    model::GenerateOptions generate;  // sampling, length, EOS; its hooks are ignored
    std::string prompt;               // text; BOS is prepended when the vocabulary has one
    // Reference text for the fluency measures; empty: the prompt and the
    // baseline continuation (text the unsteered model finds likely).
    std::vector<std::string> reference;
    int referenceContext = 128;  // window length for the reference text
    int topTokens = 10;          // top positive-logit tokens per steered feature
};

struct Continuation {
    std::vector<model::TokenId> tokens;  // generated ids, without the prompt
    std::vector<std::string> pieces;     // text of each generated token (concatenated: text)
    std::string text;
    bool stoppedAtEos = false;
    // activations[t][j]: natural activation (before any edit) of the j-th steered
    // feature (SteerReport::features) at generated token t.
    std::vector<std::vector<float>> activations;
};

struct TokenShift {
    features::LogitEffect token;
    double pBaseline = 0;  // probability at the next position after the prompt
    double pSteered = 0;
};

struct FeatureShift {
    int64_t feature = 0;
    std::vector<TokenShift> tokens;  // the feature's top positive-logit tokens
    double sumBaseline = 0;          // Σ of their probabilities
    double sumSteered = 0;
};

struct SteerReport {
    std::vector<model::TokenId> promptTokens;
    std::vector<int64_t> features;  // distinct steered features, in edit order
    std::vector<FeatureEdit> edits;
    Continuation baseline;
    Continuation steered;
    std::vector<FeatureShift> shifts;  // empty when the SAE is not on the residual stream
    FluencyReport fluency;
};

enum class Stream { kBaseline, kSteered };
// Each new token of either continuation (baseline first, then steered) and the
// text it completes (possibly empty). Return false to stop that continuation.
using SteerTokenCallback =
    std::function<bool(Stream stream, model::TokenId id, const std::string& text)>;

// Errors: those of SaeSplice::create (hook, widths, feature ids), an empty
// prompt with no BOS, generation errors; Cancelled when `stop` is requested.
Result<SteerReport> runSteering(model::Model& model, const tok::Tokenizer& tokenizer,
                                std::shared_ptr<const sae::Sae> sae, const SteerRunSpec& spec,
                                const SteerTokenCallback& onToken = {},
                                const Progress& progress = {}, StopToken stop = {});

// One feature's value over a range, everything else as in spec.steer (its edits
// are replaced by this one feature).
struct SweepSpec {
    int64_t feature = 0;
    double from = -10, to = 10;  // values, or multiples of the max activation when relative
    int steps = 11;              // ≥ 2: from, …, to evenly; 1: from only
    bool relative = true;
    double maxActivation = 0;  // needed when relative
};

struct SweepPoint {
    FeatureEdit edit;  // the value used (edit.absolute() is what the splice sets)
    Continuation steered;
    FeatureShift shift;  // empty tokens when the SAE is not on the residual stream
    FluencyReport fluency;
};

struct SweepReport {
    std::vector<model::TokenId> promptTokens;
    Continuation baseline;
    std::vector<SweepPoint> points;
};

Result<SweepReport> runSweep(model::Model& model, const tok::Tokenizer& tokenizer,
                             std::shared_ptr<const sae::Sae> sae, const SteerRunSpec& spec,
                             const SweepSpec& sweep, const Progress& progress = {},
                             StopToken stop = {});

}  // namespace mono::steer
