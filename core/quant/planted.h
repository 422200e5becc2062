#pragma once
// A model with planted outlier channels and the same float function: the
// scale (and LayerNorm bias) of every block's pre-attention and pre-MLP norm
// is multiplied by `factor` on the chosen channels and the columns of the
// linears that read them are divided by it. The linear inputs then carry
// outliers `factor` times larger on those channels — the situation SmoothQuant
// and rotation are built for — while the logits stay the same up to rounding.
// (A rotation folds the norm scale into the weights and so undoes the planting
// along with spreading what is left; docs/RESULTS.md discusses what that means.)

#include <vector>

#include "core/base/result.h"
#include "core/model/config.h"
#include "core/model/weights.h"

namespace mono::quant {

struct PlantSpec {
    std::vector<int> channels = {3, 17, 40};  // residual channels (< d_model)
    float factor = 100.0f;                    // > 0
    std::vector<int> layers;                  // empty: every layer
};

// InvalidArgument naming the channel, layer or factor that does not fit the model.
Status plantOutlierChannels(model::ModelWeights& weights, const model::ModelConfig& config,
                            const PlantSpec& spec);

}  // namespace mono::quant
