#include "core/quant/attention_sinks.h"

#include <string>

#include "core/model/first_key_attention.h"

namespace mono::quant {

Result<AttentionSinks> attentionSinks(model::Model& model,
                                      const std::vector<std::vector<model::TokenId>>& windows,
                                      StopToken stop) {
    const model::ModelConfig& cfg = model.config();
    model::FirstKeyAttention stats;
    stats.reset(cfg.nLayers, cfg.nHeads);
    // A CPU pass of its own: the model's backend (CUDA perhaps) has no such statistic.
    const std::unique_ptr<model::ForwardBackend> cpu = model::makeFirstKeyAttentionBackend(&stats);
    model::ForwardOptions opt;
    opt.logits = model::LogitsWanted::kNone;
    opt.stopAfterLastHook = false;
    double uniform = 0;  // Σ over the queries counted of 1 / (keys it sees)
    for (size_t i = 0; i < windows.size(); ++i) {
        const auto& w = windows[i];
        if (stop.stopRequested()) return Status::cancelled("attention sinks cancelled");
        if (w.size() < 2) continue;
        // The checks Model::forward would make: the backend trusts its input.
        if (int64_t(w.size()) > cfg.maxSeqLen)
            return Status::invalidArgument("attention sinks: window " + std::to_string(i) +
                                           " has " + std::to_string(w.size()) +
                                           " tokens, more than the context of " +
                                           std::to_string(cfg.maxSeqLen));
        for (model::TokenId t : w)
            if (t < 0 || t >= cfg.vocabSize)
                return Status::invalidArgument("attention sinks: token " + std::to_string(t) +
                                               " in window " + std::to_string(i) +
                                               " is outside the vocabulary");
        MONO_RETURN_IF_ERROR(
            cpu->forward(cfg, model.weights(), model::Batch::single(w), opt, nullptr)
                .withContext("attention sinks"));
        for (size_t t = 1; t < w.size(); ++t) uniform += 1.0 / double(t + 1);
    }
    if (cfg.nLayers > 0 && stats.queries[0] == 0)
        return Status::invalidArgument("attention sinks: no window has two tokens");
    AttentionSinks out;
    out.layers = cfg.nLayers;
    out.heads = cfg.nHeads;
    out.queries = cfg.nLayers > 0 ? stats.queries[0] : 0;
    out.uniform = out.queries > 0 ? float(uniform / double(out.queries)) : 0.0f;
    out.mass.resize(stats.mass.size());
    for (int L = 0; L < cfg.nLayers; ++L)
        for (int h = 0; h < cfg.nHeads; ++h)
            out.mass[size_t(L) * size_t(cfg.nHeads) + size_t(h)] = float(stats.mean(L, h));
    return out;
}

}  // namespace mono::quant
