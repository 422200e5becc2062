#pragma once
// Reads what one hook sees for one token sequence: a single forward pass that
// computes no logits. For callers that need a hook's activations as a matrix
// (the prompt search, steering's feature traces) rather than a streaming hook.

#include <string>
#include <vector>

#include "core/base/matrix.h"
#include "core/base/result.h"
#include "core/model/model.h"

namespace mono::model {

// [tokens.size(), hook width]. Errors: an unknown hook, a failed forward, or a
// hook that did not see one row per token.
Result<Matrix> readHook(Model& model, const std::string& hook, const std::vector<TokenId>& tokens);

}  // namespace mono::model
