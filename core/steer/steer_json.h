#pragma once
// The steering result document (`monoscope-cli steer --json`): the settings of
// the run, the prompt's tokens, the continuations, the shifts of the steered
// features' top tokens and the fluency measures. A single run and a sweep have
// one layout each; docs/STEERING.md lists the fields. Files are written
// atomically; errors name the output file.
//
//   auto report = runSteering(model, tokenizer, sae, spec);
//   MONO_RETURN_IF_ERROR(writeSteerJson(steerJson(sources, spec, *report), "steer.json"));

#include <string>

#include <nlohmann/json.hpp>

#include "core/base/result.h"
#include "core/steer/steer_run.h"

namespace mono::steer {

// What the spec does not record about a run: where its inputs came from.
struct SteerSources {
    std::string model;         // MODEL as given
    std::string sae;           // the SAE folder as given
    std::string featureStore;  // the store relative values were resolved from; empty: none
    std::string reference;     // the reference text file; empty: the prompt + baseline
};

nlohmann::json steerJson(const SteerSources& sources, const SteerRunSpec& spec,
                         const SteerReport& report);
nlohmann::json sweepJson(const SteerSources& sources, const SteerRunSpec& spec,
                         const SweepSpec& sweep, const SweepReport& report);

// Two-space indented with a final newline; text that is not valid UTF-8 (a
// token that is one byte of a multi-byte character) is written with U+FFFD.
Status writeSteerJson(const nlohmann::json& document, const std::string& path);

}  // namespace mono::steer
