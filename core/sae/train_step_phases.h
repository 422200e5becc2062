#pragma once
// Internal to the SAE training step (train_step.cpp): what its phases share,
// and the two paths after the encoder. Legend as in train_step.h.

#include <cstdint>
#include <vector>

#include "core/base/matrix.h"
#include "core/sae/train_step.h"

namespace mono::sae {

// One call of lossAndGradient: its arguments and the shapes derived from them.
struct StepContext {
    const TrainParams& p;
    const Matrix& x;  // [B, D]
    const StepSettings& s;
    TrainParams* grad;  // null: loss only
    StepBuffers& buf;
    int64_t B, D, F;
    float invB;  // 1/B
    bool standard;
    int64_t rowBlock;  // rows per block of the fused passes
    int64_t nBlocks;
};

// The decoder-norm-weighted L1 term (standard only; empty otherwise).
struct L1Terms {
    Eigen::VectorXf norms;  // [F] n_i = ||W_dec[i]||
    Eigen::VectorXf grad;   // [F] λ/B n_i = ∂(L1 term)/∂f_i
};

// 1 − mse / (the batch's variance about its mean), 0 for a constant batch.
inline double explainedVariance(double mse, int64_t B, double sumSqCentered) {
    return sumSqCentered > 0 ? 1.0 - mse * B / sumSqCentered : 0.0;
}

// The rest of the step when buf.h holds f = ReLU(h) and too many latents are
// active for the sparse path: standard only, five GEMMs fused by row block.
StepStats denseReluStep(const StepContext& c, const L1Terms& l1, double sumSqCentered);

// The rest of the step from the active entries in buf's CSR: decoding and
// every gradient run over those entries (and aux-k's, from the `dead` latents).
StepStats sparseStep(const StepContext& c, const L1Terms& l1, const std::vector<uint8_t>& dead,
                     double sumSqCentered);

// JumpReLU (train_step_jumprelu.cpp). `norms` [F] are the decoder row norms
// n_i for the tanh form (empty for the step form).
Eigen::VectorXf jumpReluDecoderNorms(const StepContext& c);
// The sparsity term of the loss, from the active entries.
double jumpReluSparsityLoss(const StepContext& c, const Eigen::VectorXf& norms);
// The tanh form's share of ∂L/∂h at the active entries (into buf.gradH, before
// the weight gradients use it) and of ∂L/∂W_dec through n_i (into c.grad,
// after them). The step form has neither.
void jumpReluSparsityEntryGradients(const StepContext& c, const Eigen::VectorXf& norms);
void jumpReluSparsityDecoderGradient(const StepContext& c, const Eigen::VectorXf& norms);
// The straight-through gradient of log θ into c.grad, from buf.h,
// buf.threshold and ∂L/∂x̂ in buf.gX.
void jumpReluThresholdGradient(const StepContext& c, const Eigen::VectorXf& norms);

// Matryoshka BatchTopK (train_step_matryoshka.cpp), when c.s.prefixes has more
// than one width. The first, after x̂ and the entries: each inner prefix's
// error into buf.prefixGrad; returns the sum of their mean squared errors.
// The second, once buf.gX holds ∂L/∂x̂ of the whole dictionary: turns the
// errors into the gradients G^m and fills buf.gradOfLatent.
bool isMatryoshka(const StepContext& c);
double matryoshkaPrefixErrors(const StepContext& c);
void matryoshkaGradients(const StepContext& c);

}  // namespace mono::sae
