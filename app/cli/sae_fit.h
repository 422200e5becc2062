#pragma once
// Whether an SAE belongs where a command is about to splice it: the hook it was
// trained at, the width of that hook in this model, and (for SAEs Monoscope
// trained, which record the model's name) the model itself. A mismatch of hook
// or model is refused unless the user says --any-hook / --any-model; a width
// mismatch always is, since the SAE cannot read those vectors.

#include <string>

#include "app/cli/cli_args.h"
#include "core/base/status.h"
#include "core/model/model.h"
#include "core/sae/sae.h"

namespace mono::cli {

// `hook` is the hook the command will use (--hook, else the SAE's own).
Status checkSaeFitsModel(const std::string& saePath, const sae::Sae& sae,
                         const model::ModelConfig& model, const std::string& hook,
                         const CliArgs& args);

}  // namespace mono::cli
