#pragma once
// SAEBench's unsupervised SAE quality metrics that need only activations and the
// SAE's weights (docs/SAE.md, "Quality metrics", has the formulas):
//   shrinkage   l2 ratio  = mean_t ‖x̂_t‖ / ‖x_t‖   (‖x_t‖ < 1e-4 divides by 1)
//               relative reconstruction bias γ = mean_t ‖x̂_t‖² / mean_t ⟨x_t, x̂_t⟩
//               both reported beside the L0 they were measured at
//   alive       fraction of features that fire on at least one of the tokens
//   decoder     per feature, the largest cosine between its decoder row and any
//               other feature's; summarised by mean, max and share above 0.9
// The model-based ones live in model_eval.h (KL fidelity) and absorption.h.

#include <cstdint>
#include <vector>

#include "core/base/result.h"
#include "core/sae/sae.h"

namespace mono::sae {

struct ActivationQuality {
    int64_t tokens = 0;
    double l0 = 0;
    double l2Ratio = 0;
    double relativeReconstructionBias = 0;
    double fractionAlive = 0;
};

// One pass over x [rows, d_in] in blocks of `blockRows`. InvalidArgument on a
// width mismatch or no rows.
Result<ActivationQuality> activationQuality(const Sae& sae, const Matrix& x,
                                            int64_t blockRows = 4096);

struct DecoderCosineQuality {
    std::vector<float> maxCosine;  // [d_sae] signed; 0 for a zero row
    double mean = 0;
    double max = 0;
    double fractionAbove09 = 0;  // share of features with a near-duplicate (cos > 0.9)
};

// Needs d_sae ≥ 2 (InvalidArgument otherwise).
Result<DecoderCosineQuality> decoderCosineQuality(const Sae& sae);

// KL(p ‖ q) summed over `rows` rows of logits [rows, vocab] (row-major), p from
// `clean`, q from `other`, in float64 after a log-softmax of each row.
double sumKlDivergence(const float* clean, const float* other, int64_t rows, int64_t vocab);

// SAEBench's KL-based fidelity: (KL_zero − KL_sae) / KL_zero, 1 when the
// spliced model matches the clean one, 0 when it is as far as zero-ablation.
// 0 when KL_zero is ~0 (nothing to recover).
double klFidelity(double klSae, double klZeroAblation);

}  // namespace mono::sae
