#pragma once
// Internal: the CPU storage behind KvCache. Per layer, keys and values of
// every slot: k[L] is [slots, capacity, Hkv·hd] row-major (v[L] the same);
// keys are stored after RoPE.

#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "core/model/model.h"

namespace mono::model {

struct KvCache::Impl {
    int slots = 0;
    int capacity = 0;
    int layers = 0;
    int kvDim = 0;             // Hkv · hd
    std::vector<int> lengths;  // [slots]
    std::vector<std::vector<float, Eigen::aligned_allocator<float>>> k,
        v;  // [layers][slots · capacity · kvDim]

    float* keys(int layer, int slot) { return k[layer].data() + int64_t(slot) * capacity * kvDim; }
    float* values(int layer, int slot) {
        return v[layer].data() + int64_t(slot) * capacity * kvDim;
    }
};

}  // namespace mono::model
