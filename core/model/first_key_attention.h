#pragma once
// The attention-sink statistic: attention paid to each sequence's first key
// (position 0), per (layer, head), summed over the queries at positions ≥ 1
// (the query at position 0 can only attend to itself).
//
// The forward does not expose attention probabilities, and ForwardOptions
// stays as it is: this is the smallest seam, a CPU backend made to add the
// statistic up as it runs its softmax. It runs on any model's float32 or
// bf16-resident weights whatever backend the model itself uses, so a CUDA
// model gets the statistic from a CPU pass, never from the GPU.

#include <cstdint>
#include <memory>
#include <vector>

#include "core/model/model.h"

namespace mono::model {

struct FirstKeyAttention {
    int layers = 0, heads = 0;
    std::vector<double> mass;      // [layers · heads] Σ over queries of p(key 0)
    std::vector<int64_t> queries;  // [layers] queries counted
    void reset(int nLayers, int nHeads);
    // Mean attention weight on position 0 of layer L, head h; 0 with no query.
    double mean(int layer, int head) const;
};

// A CPU backend that adds every forward's first-key attention to `*stats`
// (which it does not own; reset it to the model's shape first). Forwards
// with a KV cache count key 0 of the cached sequence. Call its forward()
// directly (Model::forward runs the model's own backend) with inputs checked
// as Model::forward checks them; it refuses stats of another shape.
std::unique_ptr<ForwardBackend> makeFirstKeyAttentionBackend(FirstKeyAttention* stats);

}  // namespace mono::model
