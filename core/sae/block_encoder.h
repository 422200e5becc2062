#pragma once
// The seam for encoding activation rows somewhere other than the CPU, used by
// feature analysis' streaming pass (core/features/analysis.cpp). The CUDA
// encoder is gpu/sae_encoder_cuda.*; without one the pass calls
// Sae::encodeInBlocks. An encoder must hand out exactly Sae::encodeInBlocks'
// nonzero codes (ascending indices per row), up to float rounding of the values.

#include <string>

#include "core/base/result.h"
#include "core/sae/sae.h"

namespace mono::sae {

class BlockEncoder {
public:
    virtual ~BlockEncoder() = default;
    virtual std::string device() const = 0;
    // As Sae::encodeInBlocks: blocks in ascending row order, with the thread
    // number the visitor files them under (an encoder that visits from one
    // thread passes 0).
    virtual Status encodeInBlocks(Eigen::Ref<const Matrix> x,
                                  const Sae::BlockVisitor& visit) const = 0;
};

}  // namespace mono::sae
