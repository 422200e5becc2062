#pragma once
// The learning rate a training run uses when the user gives none.
//
//   lr = 2e-4 · sqrt(16384 / F) · sqrt(768 / D)      (F = d_sae, D = d_in)
//
// The first two factors are Gao et al. (2024)'s rule as EleutherAI's sparsify
// applies it (2e-4 at 2^14 latents, ∝ 1/sqrt(F)), fitted on GPT-2 small's
// d_in = 768. The third keeps the rule valid at other widths: Adam moves every
// weight by about lr per step whatever the gradient's scale, and a unit-norm
// decoder row has entries of size 1/sqrt(D), so the angle a row turns per step
// grows as lr·sqrt(D). Scaling lr by 1/sqrt(D) keeps that angle, and so the
// number of steps a latent needs to find its direction, the same at every D.
// The input scale needs no factor: the trainer scales inputs to
// E||x|| = sqrt(D) before the first step (docs/SAE.md, "Choosing the learning
// rate").

#include <cstdint>
#include <string>

namespace mono::sae {

struct LearningRateChoice {
    double lr = 0;
    bool automatic = false;
    std::string reason;  // "auto: 2e-4 · sqrt(16384 / 1536) · sqrt(768 / 96)" or "given"
};

// `requested` > 0 is used as given; 0 picks the rule above for F latents over D inputs.
LearningRateChoice chooseLearningRate(double requested, int64_t dSae, int64_t dIn);

}  // namespace mono::sae
