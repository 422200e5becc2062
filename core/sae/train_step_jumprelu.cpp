// The JumpReLU parts of a training step (Rajamanoharan et al. 2024, "Jumping
// Ahead"; Anthropic's January 2025 update for the tanh penalty). Legend as in
// train_step.h; θ [F] thresholds, ε the bandwidth, n_i = ||W_dec[i]||.
//   f_bi = JumpReLU_θ(h_bi) = h_bi · H(h_bi − θ_i)
//   L    = mean_b ||x̂ − x||² + λ mean_b Σ_i S_bi, with the sparsity term
//     step: S_bi = H(h_bi − θ_i)              (the paper's L0)
//     tanh: S_bi = tanh(c f_bi n_i)           (a smooth L0 of the code)
// H has no useful derivative, so θ gets the paper's straight-through
// pseudo-derivatives with the rectangle kernel K(u) = [|u| < 1/2]:
//   ∂f_bi/∂θ_i := −(θ_i/ε) K((h_bi − θ_i)/ε),   ∂H(h_bi − θ_i)/∂θ_i := −(1/ε) K(·)
// and h gets the ordinary ones (∂f/∂h = H(h − θ); H contributes none). So the
// step form reaches θ only, while the tanh form also pushes the encoder's
// active pre-activations down (∂S/∂f = c n sech²(c f n), like an L1 that
// saturates once f is clear of 0): the sparsity signal that lets the encoder,
// not just θ, find sparse codes. Parameterised as log θ:
//   ∂L/∂log θ_i = −(θ_i/ε) Σ_b K_bi (θ_i ∂L/∂f_bi + [step] λ/B)
// where ∂L/∂f_bi = ∂L/∂x̂_b · W_dec[i] (+ [tanh] (λ/B) c n_i sech²(c f_bi n_i))
// also for entries that are off (f = 0): the kernel window straddles θ, and the
// entries just below it are the ones that would turn on were θ lowered.

#include <algorithm>
#include <cmath>

#include "core/sae/train_step_phases.h"

namespace mono::sae {
namespace {

// Latents per unit of work: one cache line of a row of h, so the row-by-row
// scan of a block reads whole lines and each latent's sums have one owner.
constexpr int64_t kLatentBlock = 16;

bool tanhForm(const StepContext& c) {
    return c.s.sparsity == JumpReluSparsity::kTanh;
}

// (λ/B) ∂tanh(c f n)/∂f = (λ/B) c n sech²(c f n).
float tanhSlope(float lambdaPerRow, float scale, float f, float n) {
    const float t = std::tanh(scale * f * n);
    return lambdaPerRow * scale * n * (1.0f - t * t);
}

}  // namespace

Eigen::VectorXf jumpReluDecoderNorms(const StepContext& c) {
    return tanhForm(c) ? Eigen::VectorXf(c.p.wDec.rowwise().norm()) : Eigen::VectorXf();
}

double jumpReluSparsityLoss(const StepContext& c, const Eigen::VectorXf& norms) {
    const StepBuffers& buf = c.buf;
    const int64_t nnz = static_cast<int64_t>(buf.index.size());
    if (!tanhForm(c)) return c.s.l0 * static_cast<double>(nnz) / static_cast<double>(c.B);
    const float scale = static_cast<float>(c.s.tanhScale);
    double sum = 0;
    for (int64_t j = 0; j < nnz; ++j) sum += std::tanh(scale * buf.value[j] * norms[buf.index[j]]);
    return c.s.l0 * sum / static_cast<double>(c.B);
}

void jumpReluSparsityEntryGradients(const StepContext& c, const Eigen::VectorXf& norms) {
    if (!tanhForm(c)) return;
    StepBuffers& buf = c.buf;
    const float lambdaPerRow = static_cast<float>(c.s.l0) * c.invB;
    const float scale = static_cast<float>(c.s.tanhScale);
    const int64_t nnz = static_cast<int64_t>(buf.index.size());
    // The term's slope in f; ∂f/∂h = 1 at an active entry.
#pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < nnz; ++j)
        buf.gradH[j] += tanhSlope(lambdaPerRow, scale, buf.value[j], norms[buf.index[j]]);
}

void jumpReluSparsityDecoderGradient(const StepContext& c, const Eigen::VectorXf& norms) {
    if (!tanhForm(c)) return;
    const StepBuffers& buf = c.buf;
    TrainParams& grad = *c.grad;
    const float lambdaPerRow = static_cast<float>(c.s.l0) * c.invB;
    const float scale = static_cast<float>(c.s.tanhScale);
    const int64_t nnz = static_cast<int64_t>(buf.index.size());
    // ∂L/∂n_i = Σ_b (λ/B) c f_bi sech²(c f_bi n_i) = Σ_b slope_bi f_bi / n_i,
    // and ∂n_i/∂W_dec[i] = W_dec[i] / n_i.
#pragma omp parallel for schedule(dynamic, 64)
    for (int64_t i = 0; i < c.F; ++i) {
        if (!(norms[i] > 0)) continue;
        float gNorm = 0;
        for (int64_t e = buf.featStart[i]; e < buf.featStart[i + 1]; ++e) {
            const int64_t id = buf.featEntry[e];
            if (id >= nnz) continue;  // an aux entry (jumprelu has none)
            gNorm += tanhSlope(lambdaPerRow, scale, buf.value[id], norms[i]) * buf.value[id];
        }
        grad.wDec.row(i) += (gNorm / (norms[i] * norms[i])) * c.p.wDec.row(i);
    }
}

void jumpReluThresholdGradient(const StepContext& c, const Eigen::VectorXf& norms) {
    StepBuffers& buf = c.buf;
    TrainParams& grad = *c.grad;
    const int64_t B = c.B, F = c.F;
    const float* theta = buf.threshold.data();
    const float half = static_cast<float>(0.5 * c.s.bandwidth);
    const float lambdaPerRow = static_cast<float>(c.s.l0) * c.invB;  // λ/B
    const bool tanh = tanhForm(c);
    const float stepTerm = tanh ? 0.0f : lambdaPerRow;
    const float scale = static_cast<float>(c.s.tanhScale);
    const float invEps = static_cast<float>(1.0 / c.s.bandwidth);
    grad.logThreshold.resize(F);
    const int64_t nBlocks = (F + kLatentBlock - 1) / kLatentBlock;
#pragma omp parallel for schedule(static)
    for (int64_t blk = 0; blk < nBlocks; ++blk) {
        const int64_t i0 = blk * kLatentBlock, i1 = std::min(F, i0 + kLatentBlock);
        float sum[kLatentBlock] = {};  // Σ_b K_bi (θ_i ∂L/∂f_bi + [step] λ/B)
        for (int64_t b = 0; b < B; ++b) {
            const float* h = buf.h.data() + b * F;
            for (int64_t i = i0; i < i1; ++i) {
                if (std::abs(h[i] - theta[i]) >= half) continue;
                float gF = buf.gX.row(b).dot(c.p.wDec.row(i));  // ∂L/∂f_bi
                if (tanh)
                    gF += tanhSlope(lambdaPerRow, scale, h[i] > theta[i] ? h[i] : 0.0f, norms[i]);
                sum[i - i0] += theta[i] * gF + stepTerm;
            }
        }
        for (int64_t i = i0; i < i1; ++i) grad.logThreshold[i] = -theta[i] * invEps * sum[i - i0];
    }
}

}  // namespace mono::sae
