#pragma once
// Reconstruction metrics of an SAE over held-out activations, with the labels
// users know from SAELens and SAEBench. Rows should exclude BOS positions.

#include <cstdint>

#include "core/base/result.h"
#include "core/sae/sae.h"

namespace mono::sae {

struct SaeMetrics {
    int64_t tokens = 0;
    double l0 = 0;                 // mean number of active features per token
    double mse = 0;                // mean over tokens of Σ_d (x − x̂)²
    double explainedVariance = 0;  // 1 − E||x − x̂||² / (E||x||² − ||E x||²)
    double cosine = 0;             // mean cos(x, x̂)
    double l2Ratio = 0;            // mean ||x̂|| / ||x||
    double deadPct = 0;            // % of features that never fired on these rows
    double densePct = 0;           // % of features with density > 0.1
};

// Evaluates `x` [rows, d_in] in blocks of `blockRows`. If `density` is given it
// receives each feature's firing frequency [d_sae].
Result<SaeMetrics> evaluate(const Sae& sae, const Matrix& x, int64_t blockRows = 4096,
                            std::vector<double>* density = nullptr);

}  // namespace mono::sae
