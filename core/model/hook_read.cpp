#include "core/model/hook_read.h"

namespace mono::model {

Result<Matrix> readHook(Model& model, const std::string& hook, const std::vector<TokenId>& tokens) {
    Matrix x;
    Hooks hooks;
    hooks.add(hook, [&](const HookContext&, ActivationBlock block) {
        x = Eigen::Map<const Matrix>(block.data, block.rows, block.cols);
    });
    ForwardOptions options;
    options.logits = LogitsWanted::kNone;
    options.hooks = &hooks;
    MONO_RETURN_IF_ERROR(model.forward(Batch::single(tokens), options, nullptr));
    if (x.rows() != static_cast<int64_t>(tokens.size()))
        return Status::internal("hook " + hook + " saw " + std::to_string(x.rows()) + " rows for " +
                                std::to_string(tokens.size()) + " tokens");
    return x;
}

}  // namespace mono::model
