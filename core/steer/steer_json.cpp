#include "core/steer/steer_json.h"

#include "core/base/atomic_file.h"

namespace mono::steer {

using json = nlohmann::json;

namespace {

json continuationJson(const Continuation& c) {
    return {{"text", c.text},
            {"tokens", c.tokens},
            {"pieces", c.pieces},
            {"stopped_at_eos", c.stoppedAtEos},
            {"activations", c.activations}};
}

json fluencyJson(const FluencyReport& f) {
    return {{"ce_baseline", f.ceBaseline},
            {"ce_steered", f.ceSteered},
            {"delta_loss", f.deltaLoss},
            {"kl", f.meanKl},
            {"predicted_tokens", f.predicted}};
}

json shiftJson(const FeatureShift& s) {
    json tokens = json::array();
    for (const auto& t : s.tokens)
        tokens.push_back({{"token", t.token.token},
                          {"text", t.token.text},
                          {"logit_effect", t.token.value},
                          {"p_baseline", t.pBaseline},
                          {"p_steered", t.pSteered}});
    return {{"feature", s.feature},
            {"p_baseline", s.sumBaseline},
            {"p_steered", s.sumSteered},
            {"tokens", tokens}};
}

json editJson(const FeatureEdit& e) {
    return {{"feature", e.feature},
            {"value", e.value},
            {"relative", e.relative},
            {"max_activation", e.maxActivation},
            {"applied", e.absolute()}};
}

json settingsJson(const SteerSources& sources, const SteerRunSpec& spec) {
    const model::SamplingOptions& sampling = spec.generate.sampling;
    return {{"model", sources.model},
            {"sae", sources.sae},
            {"hook", spec.steer.hook},
            {"features_store", sources.featureStore},
            {"prompt", spec.prompt},
            {"mode", steerModeName(spec.steer.mode)},
            {"positions", steerPositionsName(spec.steer.positions)},
            {"skip_special", spec.steer.skipSpecial},
            {"n", spec.generate.maxNewTokens},
            {"seed", sampling.seed},
            {"temperature", sampling.temperature},
            {"top_k", sampling.topK},
            {"top_p", sampling.topP},
            {"frequency_penalty", sampling.frequencyPenalty},
            {"reference", sources.reference.empty() ? "prompt + baseline" : sources.reference}};
}

json sweepSettingsJson(const SweepSpec& sweep) {
    return {{"feature", sweep.feature},
            {"from", sweep.from},
            {"to", sweep.to},
            {"steps", sweep.steps},
            {"relative", sweep.relative},
            {"max_activation", sweep.maxActivation}};
}

}  // namespace

json steerJson(const SteerSources& sources, const SteerRunSpec& spec, const SteerReport& report) {
    json edits = json::array(), shifts = json::array();
    for (const auto& e : report.edits) edits.push_back(editJson(e));
    for (const auto& s : report.shifts) shifts.push_back(shiftJson(s));
    json settings = settingsJson(sources, spec);
    settings["edits"] = edits;
    return {{"settings", settings},
            {"prompt_tokens", report.promptTokens},
            {"features", report.features},
            {"baseline", continuationJson(report.baseline)},
            {"steered", continuationJson(report.steered)},
            {"shifts", shifts},
            {"fluency", fluencyJson(report.fluency)}};
}

json sweepJson(const SteerSources& sources, const SteerRunSpec& spec, const SweepSpec& sweep,
               const SweepReport& report) {
    json points = json::array();
    for (const auto& p : report.points)
        points.push_back({{"edit", editJson(p.edit)},
                          {"steered", continuationJson(p.steered)},
                          {"shift", shiftJson(p.shift)},
                          {"fluency", fluencyJson(p.fluency)}});
    json settings = settingsJson(sources, spec);
    settings["sweep"] = sweepSettingsJson(sweep);
    return {{"settings", settings},
            {"prompt_tokens", report.promptTokens},
            {"baseline", continuationJson(report.baseline)},
            {"points", points}};
}

Status writeSteerJson(const json& document, const std::string& path) {
    return writeFileAtomic(path,
                           document.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
}

}  // namespace mono::steer
