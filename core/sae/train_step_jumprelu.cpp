// The JumpReLU parts of a training step (Rajamanoharan et al. 2024, "Jumping
// Ahead"). Legend as in train_step.h; θ [F] thresholds, ε the bandwidth.
//   f_bi = JumpReLU_θ(h_bi) = h_bi · H(h_bi − θ_i)
//   L    = mean_b ||x̂ − x||² + λ mean_b Σ_i H(h_bi − θ_i)
// H has no useful derivative, so θ gets the paper's straight-through
// pseudo-derivatives with the rectangle kernel K(u) = [|u| < 1/2]:
//   ∂f_bi/∂θ_i := −(θ_i/ε) K((h_bi − θ_i)/ε),   ∂H(h_bi − θ_i)/∂θ_i := −(1/ε) K(·)
// and h gets the ordinary ones (∂f/∂h = H(h − θ); the step contributes none),
// so only θ feels the L0 term. Parameterised as log θ:
//   ∂L/∂log θ_i = θ_i ∂L/∂θ_i = −(θ_i/ε) Σ_b K_bi (θ_i ∂L/∂f_bi + λ/B)
// where ∂L/∂f_bi = ∂L/∂x̂_b · W_dec[i] also for entries that are off (f = 0):
// the kernel window straddles θ, and the entries just below it are the ones
// that would turn on were θ lowered.

#include <cmath>

#include <omp.h>

#include "core/sae/train_step_phases.h"

namespace mono::sae {

void jumpReluThresholdGradient(const StepContext& c) {
    StepBuffers& buf = c.buf;
    const int64_t B = c.B, F = c.F;
    const float* theta = buf.threshold.data();
    const float half = static_cast<float>(0.5 * c.s.bandwidth);
    const float l0PerRow = static_cast<float>(c.s.l0) * c.invB;  // λ/B
    const int maxThreads = omp_get_max_threads();
    buf.thresholdPart.resize(maxThreads);
    int usedThreads = 1;
#pragma omp parallel
    {
        const int t = omp_get_thread_num();
#pragma omp single
        usedThreads = omp_get_num_threads();
        Eigen::VectorXf& sum = buf.thresholdPart[t];  // [F] Σ_b K_bi (θ_i ∂L/∂f_bi + λ/B)
        sum.setZero(F);
#pragma omp for schedule(static)
        for (int64_t b = 0; b < B; ++b) {
            const float* h = buf.h.data() + b * F;
            for (int64_t i = 0; i < F; ++i) {
                if (std::abs(h[i] - theta[i]) >= half) continue;
                const float gF = buf.gX.row(b).dot(c.p.wDec.row(i));  // ∂L/∂f_bi
                sum[i] += theta[i] * gF + l0PerRow;
            }
        }
    }
    // Thread order, so a run with the same thread count is reproducible.
    Eigen::VectorXf total = buf.thresholdPart[0];
    for (int t = 1; t < usedThreads; ++t) total += buf.thresholdPart[t];
    const float invEps = static_cast<float>(1.0 / c.s.bandwidth);
    c.grad->logThreshold = -(buf.threshold.array() * invEps * total.array()).matrix();
}

}  // namespace mono::sae
