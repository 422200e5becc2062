#include "core/steer/steer_run.h"

#include <algorithm>

namespace mono::steer {
namespace {

using model::TokenId;

Result<std::vector<TokenId>> promptIds(const model::Model& model, const tok::Tokenizer& tokenizer,
                                       const std::string& prompt) {
    std::vector<TokenId> ids = tokenizer.encode(prompt, true);
    if (ids.empty() || (tokenizer.bos() < 0 && prompt.empty())) {
        const TokenId bos = tokenizer.bos() >= 0 ? tokenizer.bos() : model.config().bosId;
        if (bos < 0) return Status::invalidArgument("the empty prompt needs a BOS token");
        ids.insert(ids.begin(), bos);
    }
    return ids;
}

// Which rows the splice edits: by position (prompt rows are those before
// promptLen) and, with skipSpecial, not those of special tokens. `tokens` holds
// the sequence's ids so far (it grows while generating).
RowFilter positionFilter(const SteerSpec& spec, const tok::Tokenizer& tokenizer,
                         const std::vector<TokenId>* tokens, int64_t promptLen) {
    return [&spec, &tokenizer, tokens, promptLen](int, int64_t pos) {
        if (spec.positions == SteerPositions::kPrompt && pos >= promptLen) return false;
        if (spec.positions == SteerPositions::kGenerated && pos < promptLen) return false;
        if (spec.skipSpecial && pos < static_cast<int64_t>(tokens->size()) &&
            tokenizer.isSpecial((*tokens)[pos]))
            return false;
        return true;
    };
}

std::vector<int64_t> distinctFeatures(const std::vector<FeatureEdit>& edits) {
    std::vector<int64_t> out;
    for (const FeatureEdit& e : edits)
        if (std::find(out.begin(), out.end(), e.feature) == out.end()) out.push_back(e.feature);
    return out;
}

// One continuation of the prompt; steered through `splice` when it is not null.
Result<Continuation> continuation(model::Model& model, const tok::Tokenizer& tokenizer,
                                  const std::vector<TokenId>& prompt, const SteerRunSpec& spec,
                                  const SaeSplice* splice, Stream stream,
                                  const SteerTokenCallback& onToken, StopToken stop) {
    std::vector<TokenId> all = prompt;
    Continuation c;
    Status hookError;
    model::Hooks hooks;
    model::GenerateOptions g = spec.generate;
    g.hooks = nullptr;
    if (splice) {
        splice->install(
            hooks, positionFilter(spec.steer, tokenizer, &all, static_cast<int64_t>(prompt.size())),
            &hookError);
        g.hooks = &hooks;
    }
    auto r = model::generate(
        model, tokenizer, prompt, g,
        [&](TokenId id, const std::string& text) {
            if (id >= 0) {
                all.push_back(id);  // the filter reads it at the next step
                c.pieces.push_back(text);
            } else if (!c.pieces.empty()) {
                c.pieces.back() += text;  // the decoder's tail
            }
            return onToken ? onToken(stream, id, text) : true;
        },
        stop);
    MONO_RETURN_IF_ERROR(hookError);
    if (!r.ok()) return r.status();
    c.tokens = std::move(r->tokens);
    c.text = std::move(r->text);
    c.stoppedAtEos = r->stoppedAtEos;
    if (c.pieces.size() != c.tokens.size()) c.pieces.resize(c.tokens.size());
    return c;
}

// Fills c.activations with the features' natural activations on its tokens.
Status traceContinuation(model::Model& model, const sae::Sae& sae, const std::string& hook,
                         const std::vector<TokenId>& prompt, const std::vector<int64_t>& features,
                         Continuation& c) {
    std::vector<TokenId> all = prompt;
    all.insert(all.end(), c.tokens.begin(), c.tokens.end());
    if (static_cast<int>(all.size()) > model.config().maxSeqLen)
        all.resize(static_cast<size_t>(model.config().maxSeqLen));
    MONO_ASSIGN_OR_RETURN(auto acts, featureTrace(model, sae, hook, all, features));
    c.activations.assign(acts.begin() + static_cast<std::ptrdiff_t>(prompt.size()), acts.end());
    return Status::success();
}

// The probability of each feature's top positive-logit tokens after the prompt,
// without and with the splice (on the prompt rows the spec allows).
Result<std::vector<FeatureShift>> shifts(model::Model& model, const tok::Tokenizer& tokenizer,
                                         const SaeSplice& splice, const SteerSpec& spec,
                                         const std::vector<TokenId>& prompt,
                                         const std::vector<int64_t>& features, int topTokens) {
    std::vector<FeatureShift> out;
    if (topTokens <= 0 || splice.sae().dIn() != model.config().dModel) return out;
    MONO_ASSIGN_OR_RETURN(std::vector<float> pBase, nextTokenProbs(model, prompt, nullptr));
    Status hookError;
    model::Hooks hooks;
    splice.install(hooks,
                   positionFilter(spec, tokenizer, &prompt, static_cast<int64_t>(prompt.size())),
                   &hookError);
    MONO_ASSIGN_OR_RETURN(std::vector<float> pSteer, nextTokenProbs(model, prompt, &hooks));
    MONO_RETURN_IF_ERROR(hookError);
    for (int64_t i : features) {
        MONO_ASSIGN_OR_RETURN(auto top,
                              topLogitTokens(model, tokenizer, splice.sae(), i, topTokens));
        FeatureShift s;
        s.feature = i;
        for (const features::LogitEffect& t : top) {
            s.tokens.push_back({t, pBase[t.token], pSteer[t.token]});
            s.sumBaseline += pBase[t.token];
            s.sumSteered += pSteer[t.token];
        }
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<std::vector<TokenId>> fluencyWindows(const model::Model& model,
                                                 const tok::Tokenizer& tokenizer,
                                                 const SteerRunSpec& spec,
                                                 const std::vector<TokenId>& prompt,
                                                 const Continuation& baseline) {
    const int ctx = std::clamp(spec.referenceContext, 2, model.config().maxSeqLen);
    if (!spec.reference.empty()) {
        const TokenId bos = tokenizer.bos() >= 0 ? tokenizer.bos() : model.config().bosId;
        return referenceWindows(tokenizer, spec.reference, ctx, bos);
    }
    std::vector<TokenId> w = prompt;
    w.insert(w.end(), baseline.tokens.begin(), baseline.tokens.end());
    if (static_cast<int>(w.size()) > model.config().maxSeqLen)
        w.resize(static_cast<size_t>(model.config().maxSeqLen));
    return {w};
}

}  // namespace

Result<SteerReport> runSteering(model::Model& model, const tok::Tokenizer& tokenizer,
                                std::shared_ptr<const sae::Sae> sae, const SteerRunSpec& spec,
                                const SteerTokenCallback& onToken, const Progress& progress,
                                StopToken stop) {
    MONO_ASSIGN_OR_RETURN(SaeSplice splice, SaeSplice::create(model.config(), sae, spec.steer.hook,
                                                              spec.steer.edits, spec.steer.mode));
    SteerReport rep;
    rep.edits = spec.steer.edits;
    rep.features = distinctFeatures(spec.steer.edits);
    MONO_ASSIGN_OR_RETURN(rep.promptTokens, promptIds(model, tokenizer, spec.prompt));

    progress.report(0.0, "generating the baseline");
    MONO_ASSIGN_OR_RETURN(rep.baseline, continuation(model, tokenizer, rep.promptTokens, spec,
                                                     nullptr, Stream::kBaseline, onToken, stop));
    progress.report(0.4, "generating the steered text");
    MONO_ASSIGN_OR_RETURN(rep.steered, continuation(model, tokenizer, rep.promptTokens, spec,
                                                    &splice, Stream::kSteered, onToken, stop));
    if (stop.stopRequested()) return Status::cancelled("steering stopped");

    progress.report(0.8, "measuring");
    MONO_RETURN_IF_ERROR(traceContinuation(model, *sae, spec.steer.hook, rep.promptTokens,
                                           rep.features, rep.baseline));
    MONO_RETURN_IF_ERROR(traceContinuation(model, *sae, spec.steer.hook, rep.promptTokens,
                                           rep.features, rep.steered));
    MONO_ASSIGN_OR_RETURN(rep.shifts, shifts(model, tokenizer, splice, spec.steer, rep.promptTokens,
                                             rep.features, spec.topTokens));
    MONO_ASSIGN_OR_RETURN(
        rep.fluency,
        measureFluency(model, tokenizer, splice, spec.steer.skipSpecial,
                       fluencyWindows(model, tokenizer, spec, rep.promptTokens, rep.baseline)));
    progress.report(1.0, "done");
    return rep;
}

Result<SweepReport> runSweep(model::Model& model, const tok::Tokenizer& tokenizer,
                             std::shared_ptr<const sae::Sae> sae, const SteerRunSpec& spec,
                             const SweepSpec& sweep, const Progress& progress, StopToken stop) {
    if (sweep.steps < 1 || sweep.steps > 1000)
        return Status::invalidArgument("sweep steps " + std::to_string(sweep.steps) +
                                       " must be between 1 and 1000");
    if (!sae) return Status::invalidArgument("steering needs an SAE");
    MONO_RETURN_IF_ERROR(checkSaeFitsHook(model.config(), *sae, spec.steer.hook));
    SweepReport rep;
    MONO_ASSIGN_OR_RETURN(rep.promptTokens, promptIds(model, tokenizer, spec.prompt));
    progress.report(0.0, "generating the baseline");
    MONO_ASSIGN_OR_RETURN(rep.baseline, continuation(model, tokenizer, rep.promptTokens, spec,
                                                     nullptr, Stream::kBaseline, {}, stop));
    const std::vector<int64_t> features{sweep.feature};
    MONO_RETURN_IF_ERROR(
        traceContinuation(model, *sae, spec.steer.hook, rep.promptTokens, features, rep.baseline));
    const auto windows = fluencyWindows(model, tokenizer, spec, rep.promptTokens, rep.baseline);

    for (int k = 0; k < sweep.steps; ++k) {
        if (stop.stopRequested()) return Status::cancelled("sweep stopped");
        SweepPoint pt;
        pt.edit.feature = sweep.feature;
        pt.edit.value = sweep.steps == 1
                            ? sweep.from
                            : sweep.from + (sweep.to - sweep.from) * k / double(sweep.steps - 1);
        pt.edit.relative = sweep.relative;
        pt.edit.maxActivation = sweep.maxActivation;
        MONO_ASSIGN_OR_RETURN(
            SaeSplice splice,
            SaeSplice::create(model.config(), sae, spec.steer.hook, {pt.edit}, spec.steer.mode));
        progress.report(double(k) / sweep.steps,
                        "value " + std::to_string(pt.edit.value) + (sweep.relative ? "x" : ""));
        MONO_ASSIGN_OR_RETURN(pt.steered, continuation(model, tokenizer, rep.promptTokens, spec,
                                                       &splice, Stream::kSteered, {}, stop));
        MONO_RETURN_IF_ERROR(traceContinuation(model, *sae, spec.steer.hook, rep.promptTokens,
                                               features, pt.steered));
        MONO_ASSIGN_OR_RETURN(auto sh, shifts(model, tokenizer, splice, spec.steer,
                                              rep.promptTokens, features, spec.topTokens));
        if (!sh.empty()) pt.shift = std::move(sh[0]);
        pt.shift.feature = sweep.feature;
        MONO_ASSIGN_OR_RETURN(
            pt.fluency, measureFluency(model, tokenizer, splice, spec.steer.skipSpecial, windows));
        rep.points.push_back(std::move(pt));
    }
    progress.report(1.0, "done");
    return rep;
}

}  // namespace mono::steer
