#pragma once
// What one forward pass of the CPU backend holds besides the weights, so that
// a batch the user asked for (capture --batch 4096 at a 8k context on a 9B
// model) is refused with "needs about N GiB" before it is attempted.

#include <cstdint>

#include "core/model/config.h"

namespace mono::model {

// Bytes of activations for `tokens` rows in sequences of at most `longestSeq`
// tokens: the residual, q/k/v and MLP buffers, one attention score matrix per
// thread, and the logits when `allLogits` (else one row per sequence).
double forwardMemoryBytes(const ModelConfig& config, int64_t tokens, int64_t longestSeq,
                          bool allLogits);

}  // namespace mono::model
