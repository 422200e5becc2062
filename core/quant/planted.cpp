#include "core/quant/planted.h"

#include <cmath>
#include <string>

namespace mono::quant {

Status plantOutlierChannels(model::ModelWeights& w, const model::ModelConfig& cfg,
                            const PlantSpec& spec) {
    if (!(spec.factor > 0.0f) || !std::isfinite(spec.factor))
        return Status::invalidArgument("planted outliers: factor " + std::to_string(spec.factor) +
                                       " must be positive and finite");
    for (int c : spec.channels)
        if (c < 0 || c >= cfg.dModel)
            return Status::invalidArgument("planted outliers: channel " + std::to_string(c) +
                                           " outside d_model " + std::to_string(cfg.dModel) +
                                           " of \"" + cfg.name + "\"");
    std::vector<int> layers = spec.layers;
    if (layers.empty())
        for (int L = 0; L < cfg.nLayers; ++L) layers.push_back(L);
    for (int L : layers)
        if (L < 0 || L >= int(w.layers.size()))
            return Status::invalidArgument("planted outliers: layer " + std::to_string(L) +
                                           " outside the model's " +
                                           std::to_string(w.layers.size()));
    const float f = spec.factor;
    auto plant = [f](model::Norm& n, model::Linear& lin, int c) {
        n.weight[c] *= f;
        if (n.bias.size()) n.bias[c] *= f;
        lin.w.col(c) /= f;
    };
    for (int L : layers)
        for (int c : spec.channels) {
            plant(w.layers[size_t(L)].ln1, w.layers[size_t(L)].qkv, c);
            plant(w.layers[size_t(L)].ln2, w.layers[size_t(L)].up, c);
        }
    return Status::success();
}

}  // namespace mono::quant
