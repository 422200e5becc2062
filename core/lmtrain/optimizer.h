#pragma once
// The LM's optimiser, as PyTorch defines it so that the reference script runs
// the same update: the shared AdamW (core/train) over the parameter layout, and
// global-norm gradient clipping (which only the LM trainer uses).

#include <cstdint>
#include <vector>

#include "core/lmtrain/gpt.h"
#include "core/train/adam.h"

namespace mono::lmtrain {

// GPT-2 style AdamW: β2 0.95, weight decay 0.1, bias correction on the moments.
inline constexpr train::AdamSettings kLmAdamW{.beta1 = 0.9,
                                              .beta2 = 0.95,
                                              .eps = 1e-8,
                                              .weightDecay = 0.1,
                                              .biasCorrection = train::BiasCorrection::kOnMoments};

// Scales `grads` so that their global L2 norm is at most maxNorm (no change
// when maxNorm <= 0). Returns the norm before clipping.
double clipGradients(AlignedVector<float>& grads, double maxNorm);

// One AdamW update of params in place (train::adamUpdate per tensor); m and v
// are the moment buffers (same size) and `t` the 1-based step for bias
// correction. Weight decay applies to ParamTensor::decay tensors only.
void adamwStep(const std::vector<ParamTensor>& layout, AlignedVector<float>& params,
               const AlignedVector<float>& grads, AlignedVector<float>& m, AlignedVector<float>& v,
               int64_t t, double lr, const train::AdamSettings& s);

}  // namespace mono::lmtrain
