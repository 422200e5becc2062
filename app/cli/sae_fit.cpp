#include "app/cli/sae_fit.h"

#include <filesystem>

#include "core/model/hook_points.h"

namespace mono::cli {
namespace {

// "stories260K.bin" and "stories260K.gguf" are one model in two formats.
std::string stem(const std::string& name) {
    return std::filesystem::path(name).stem().string();
}

}  // namespace

Status checkSaeFitsModel(const std::string& saePath, const sae::Sae& sae,
                         const model::ModelConfig& model, const std::string& hook,
                         const CliArgs& args) {
    const sae::SaeMetadata& meta = sae.config().metadata;
    if (!args.flag("any-hook") && !meta.hookName.empty() && meta.hookName != hook)
        return Status::invalidArgument(saePath + ": the SAE was trained at " + meta.hookName +
                                       ", not at --hook " + hook +
                                       "; pass --any-hook to use it there anyway");
    MONO_ASSIGN_OR_RETURN(const model::HookId id, model::parseHookName(model, hook));
    const int width = model::hookWidth(model, id);
    if (width != sae.dIn())
        return Status::invalidArgument(saePath + ": the SAE reads vectors of width " +
                                       std::to_string(sae.dIn()) + ", but " + hook + " of " +
                                       model.name + " has width " + std::to_string(width) +
                                       ": the SAE belongs to another model");
    // Only names Monoscope wrote (it records its training settings) are comparable;
    // other tools name models their own way ("gpt2-small" for a folder "gpt2").
    const bool ours = !meta.trainingConfigJson.empty();
    if (ours && !args.flag("any-model") && !meta.modelName.empty() &&
        stem(meta.modelName) != stem(model.name))
        return Status::invalidArgument(saePath + ": the SAE was trained on " + meta.modelName +
                                       ", not on " + model.name +
                                       "; pass --any-model to use it with this model anyway");
    return Status::success();
}

}  // namespace mono::cli
