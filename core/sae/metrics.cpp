// Reconstruction metrics. Legend: B rows in a block, D = d_in, F = d_sae.

#include "core/sae/metrics.h"

#include <algorithm>
#include <cmath>

namespace mono::sae {

Result<SaeMetrics> evaluate(const Sae& sae, const Matrix& x, int64_t blockRows,
                            std::vector<double>* density) {
    if (x.cols() != sae.dIn())
        return Status::invalidArgument("SAE evaluation: activations have width " +
                                       std::to_string(x.cols()) +
                                       ", the SAE expects d_in=" + std::to_string(sae.dIn()));
    if (x.rows() == 0) return Status::invalidArgument("SAE evaluation: no activation rows");
    blockRows = std::max<int64_t>(1, blockRows);
    const int64_t N = x.rows(), D = sae.dIn(), F = sae.dSae();
    std::vector<int64_t> fired(F, 0);                 // [F] rows where each feature is active
    Eigen::VectorXd sumX = Eigen::VectorXd::Zero(D);  // [D]
    double sumSqErr = 0, sumSqX = 0, sumCos = 0, sumRatio = 0, sumL0 = 0;
    for (int64_t r0 = 0; r0 < N; r0 += blockRows) {
        const int64_t n = std::min(blockRows, N - r0);
        const Matrix block = x.middleRows(r0, n);            // [n, D]
        MONO_ASSIGN_OR_RETURN(Matrix f, sae.encode(block));  // [n, F]
        MONO_ASSIGN_OR_RETURN(Matrix xHat, sae.decode(f));   // [n, D]
        for (int64_t r = 0; r < n; ++r) {
            const auto xr = block.row(r).cast<double>();
            const auto hr = xHat.row(r).cast<double>();
            const double nx = xr.norm(), nh = hr.norm();
            sumSqErr += (xr - hr).squaredNorm();
            sumSqX += nx * nx;
            sumX += xr.transpose();
            sumCos += (nx > 0 && nh > 0) ? xr.dot(hr) / (nx * nh) : 0.0;
            sumRatio += nx > 0 ? nh / nx : 0.0;
            const float* fr = f.data() + r * F;
            int64_t active = 0;
            for (int64_t i = 0; i < F; ++i) {
                if (fr[i] != 0.0f) {
                    ++active;
                    ++fired[i];
                }
            }
            sumL0 += static_cast<double>(active);
        }
    }
    SaeMetrics m;
    m.tokens = N;
    const double n = static_cast<double>(N);
    m.l0 = sumL0 / n;
    m.mse = sumSqErr / n;
    const double variance = sumSqX / n - (sumX / n).squaredNorm();
    m.explainedVariance = variance > 0 ? 1.0 - (sumSqErr / n) / variance : 0.0;
    m.cosine = sumCos / n;
    m.l2Ratio = sumRatio / n;
    int64_t dead = 0, dense = 0;
    if (density) density->assign(F, 0.0);
    for (int64_t i = 0; i < F; ++i) {
        const double d = static_cast<double>(fired[i]) / n;
        if (fired[i] == 0) ++dead;
        if (d > 0.1) ++dense;
        if (density) (*density)[i] = d;
    }
    m.deadPct = 100.0 * static_cast<double>(dead) / static_cast<double>(F);
    m.densePct = 100.0 * static_cast<double>(dense) / static_cast<double>(F);
    return m;
}

}  // namespace mono::sae
