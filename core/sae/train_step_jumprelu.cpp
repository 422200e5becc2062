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

#include <algorithm>
#include <cmath>

#include "core/sae/train_step_phases.h"

namespace mono::sae {
namespace {

// Latents per unit of work: one cache line of a row of h, so the row-by-row
// scan of a block reads whole lines and each latent's sums have one owner.
constexpr int64_t kLatentBlock = 16;

}  // namespace

void jumpReluThresholdGradient(const StepContext& c) {
    StepBuffers& buf = c.buf;
    TrainParams& grad = *c.grad;
    const int64_t B = c.B, F = c.F;
    const float* theta = buf.threshold.data();
    const float half = static_cast<float>(0.5 * c.s.bandwidth);
    const float l0PerRow = static_cast<float>(c.s.l0) * c.invB;  // λ/B
    const float invEps = static_cast<float>(1.0 / c.s.bandwidth);
    grad.logThreshold.resize(F);
    const int64_t nBlocks = (F + kLatentBlock - 1) / kLatentBlock;
#pragma omp parallel for schedule(static)
    for (int64_t blk = 0; blk < nBlocks; ++blk) {
        const int64_t i0 = blk * kLatentBlock, i1 = std::min(F, i0 + kLatentBlock);
        float sum[kLatentBlock] = {};  // Σ_b K_bi (θ_i ∂L/∂f_bi + λ/B)
        for (int64_t b = 0; b < B; ++b) {
            const float* h = buf.h.data() + b * F;
            for (int64_t i = i0; i < i1; ++i) {
                if (std::abs(h[i] - theta[i]) >= half) continue;
                const float gF = buf.gX.row(b).dot(c.p.wDec.row(i));  // ∂L/∂f_bi
                sum[i - i0] += theta[i] * gF + l0PerRow;
            }
        }
        for (int64_t i = i0; i < i1; ++i) grad.logThreshold[i] = -theta[i] * invEps * sum[i - i0];
    }
}

}  // namespace mono::sae
