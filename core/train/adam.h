#pragma once
// Adam and AdamW (decoupled weight decay), shared by the SAE and LM trainers.
//   m ← β1 m + (1 − β1) g;  v ← β2 v + (1 − β2) g²
//   p ← p·(1 − lr·wd) − step   (the decay factor only where the caller asks for it)
// with the bias correction in one of two forms (BiasCorrection). The update
// runs over raw float spans, OpenMP-parallel over large ones; the order of the
// float operations is part of the contract, since trainers resume and are
// tested bit for bit.

#include <cstdint>
#include <span>

namespace mono::train {

// Where the bias correction of the moments goes. The forms differ only in
// where ε sits (relative to √v̂ or to √v) and in rounding; each trainer keeps the
// one its runs were made with.
enum class BiasCorrection {
    // step = lr·√(1−β2ᵗ)/(1−β1ᵗ) · m / (√v + ε): Kingma & Ba's efficient form (the SAE trainer).
    kInStepSize,
    // step = lr · m̂ / (√v̂ + ε), m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ): as in PyTorch (the LM trainer).
    kOnMoments,
};

struct AdamSettings {
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weightDecay = 0;  // decoupled (AdamW); 0: plain Adam
    BiasCorrection biasCorrection = BiasCorrection::kInStepSize;
};

// The float constants of update number t (1-based) at learning rate lr.
struct AdamStep {
    float beta1 = 0, beta2 = 0, eps = 0;
    float stepSize = 0;  // lr, or lr·√(1−β2ᵗ)/(1−β1ᵗ) for kInStepSize
    float correction1 = 1, correction2 = 1;  // 1−β1ᵗ and 1−β2ᵗ (kOnMoments)
    float decayFactor = 1;                   // 1 − lr·weightDecay
    BiasCorrection biasCorrection = BiasCorrection::kInStepSize;
};

AdamStep adamStep(const AdamSettings& settings, int64_t t, double lr);

// One update of `params` in place from `grads`; m and v are its moment buffers.
// All four spans have the same size. `decay`: multiply the weights by
// step.decayFactor (decoupled weight decay) before the Adam step.
void adamUpdate(const AdamStep& step, std::span<float> params, std::span<const float> grads,
                std::span<float> m, std::span<float> v, bool decay = false);

}  // namespace mono::train
