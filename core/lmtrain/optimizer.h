#pragma once
// The optimiser pieces of LM training, as PyTorch defines them so that the
// reference script runs the same update: AdamW (decoupled weight decay,
// bias-corrected moments), global-norm gradient clipping, and a learning rate
// with linear warm-up then cosine decay to a floor.

#include <cstdint>
#include <vector>

#include "core/lmtrain/gpt.h"

namespace mono::lmtrain {

struct AdamWSettings {
    double beta1 = 0.9;
    double beta2 = 0.95;
    double eps = 1e-8;
    double weightDecay = 0.1;  // applied to ParamTensor::decay tensors only
};

// Step `step` (0-based) of `total`: lr·(step+1)/warmup during warm-up, then
// cosine from lr down to minLr at the last step.
double scheduledLearningRate(int64_t step, int64_t total, int64_t warmup, double lr, double minLr);

// Scales `grads` so that their global L2 norm is at most maxNorm (no change
// when maxNorm <= 0). Returns the norm before clipping.
double clipGradients(AlignedVector<float>& grads, double maxNorm);

// One AdamW update of params in place; m and v are the moment buffers (same
// size) and `t` the 1-based step for bias correction.
//   p ← p·(1 − lr·wd)   (decay tensors only)
//   m ← β1 m + (1 − β1) g;  v ← β2 v + (1 − β2) g²
//   p ← p − lr · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + eps)
void adamwStep(const std::vector<ParamTensor>& layout, AlignedVector<float>& params,
               const AlignedVector<float>& grads, AlignedVector<float>& m, AlignedVector<float>& v,
               int64_t t, double lr, const AdamWSettings& s);

}  // namespace mono::lmtrain
