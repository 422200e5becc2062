#pragma once
// Attention sinks: the mean attention weight each (layer, head) puts on the
// first token of its window, over a calibration sample. Heads that park most
// of their attention there are the "sinks" that the massive activations of the
// first token's residual stream make possible (Xiao et al. 2023, Sun et al.
// 2024). Read from a CPU forward that adds up the FirstKeyAttention statistic
// (core/model/first_key_attention.h).

#include <vector>

#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/model/model.h"

namespace mono::quant {

struct AttentionSinks {
    int layers = 0, heads = 0;
    std::vector<float> mass;  // [layers · heads] mean weight on position 0, queries at ≥ 1
    int64_t queries = 0;      // queries averaged per (layer, head)
    // The same mean if every query attended uniformly to the keys it sees
    // (full causal attention): the "no sink" reference, ≈ ln(T)/T for windows of T.
    float uniform = 0;
    float at(int layer, int head) const { return mass[size_t(layer) * size_t(heads) + head]; }
    bool empty() const { return mass.empty(); }
};

// Runs `windows` (each its own sequence, positions from 0) through a CPU pass
// of `model`'s weights, whatever backend the model uses. InvalidArgument when
// no window has two tokens, a window is longer than the context or holds a
// token outside the vocabulary.
Result<AttentionSinks> attentionSinks(model::Model& model,
                                      const std::vector<std::vector<model::TokenId>>& windows,
                                      StopToken stop = {});

}  // namespace mono::quant
