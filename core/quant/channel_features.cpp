#include "core/quant/channel_features.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace mono::quant {

Result<std::vector<ChannelFeature>> featuresWritingChannel(const float* wDec, int64_t dSae,
                                                           int64_t dIn, int64_t width, int channel,
                                                           int count) {
    if (dIn != width)
        return Status::invalidArgument("features of a channel: the SAE reads width " +
                                       std::to_string(dIn) + " but the calibrated stream has " +
                                       std::to_string(width) + " channels");
    if (channel < 0 || channel >= width)
        return Status::invalidArgument("features of a channel: channel " + std::to_string(channel) +
                                       " is outside [0, " + std::to_string(width) + ")");
    if (!wDec || dSae <= 0 || count <= 0) return std::vector<ChannelFeature>{};
    std::vector<ChannelFeature> all(static_cast<size_t>(dSae));
    for (int64_t f = 0; f < dSae; ++f) {
        const float* row = wDec + f * dIn;
        double norm2 = 0;
        for (int64_t c = 0; c < dIn; ++c) norm2 += double(row[c]) * row[c];
        const float w = row[channel];
        all[size_t(f)] = {f, w, norm2 > 0 ? float(double(w) * w / norm2) : 0.0f};
    }
    const size_t k = std::min<size_t>(size_t(count), all.size());
    std::partial_sort(all.begin(), all.begin() + long(k), all.end(),
                      [](const ChannelFeature& a, const ChannelFeature& b) {
                          const float x = std::fabs(a.weight), y = std::fabs(b.weight);
                          return x != y ? x > y : a.feature < b.feature;
                      });
    all.resize(k);
    return all;
}

}  // namespace mono::quant
