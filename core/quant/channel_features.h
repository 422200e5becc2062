#pragma once
// Outliers meet features: for one residual channel, the SAE features whose
// decoder directions write most to it. A feature f adds f·W_dec[f, :] to the
// reconstruction, so |W_dec[f, c]| is how much one unit of f moves channel c;
// `share` is the part of the feature's decoder norm that lands on c
// (W_dec[f, c]² / ‖W_dec[f]‖²), which tells a feature that *is* the outlier
// direction from a wide one that merely touches it.
// Takes the decoder as a plain row-major matrix so core/quant needs no SAE type.

#include <cstdint>
#include <vector>

#include "core/base/result.h"

namespace mono::quant {

struct ChannelFeature {
    int64_t feature = 0;
    float weight = 0;  // W_dec[f, c] (signed)
    float share = 0;   // W_dec[f, c]² / ‖W_dec[f]‖², in [0, 1]
};

// The `count` features with the largest |W_dec[f, c]| (ties: lower id first),
// from `wDec` [dSae, dIn] row-major. InvalidArgument when the SAE's width dIn
// is not the calibrated `width` (an SAE of another hook or model) or `channel`
// is outside [0, width).
Result<std::vector<ChannelFeature>> featuresWritingChannel(const float* wDec, int64_t dSae,
                                                           int64_t dIn, int64_t width, int channel,
                                                           int count = 10);

}  // namespace mono::quant
