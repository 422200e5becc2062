// Activation- and weight-only quality metrics. Legend: n rows in a block,
// D = d_in, F = d_sae.

#include "core/sae/quality_metrics.h"

#include <algorithm>
#include <cmath>

#include "core/sae/decoder_cosine.h"

namespace mono::sae {

Result<ActivationQuality> activationQuality(const Sae& sae, const Matrix& x, int64_t blockRows) {
    if (x.cols() != sae.dIn())
        return Status::invalidArgument("quality metrics: activations have width " +
                                       std::to_string(x.cols()) +
                                       ", the SAE expects d_in=" + std::to_string(sae.dIn()));
    if (x.rows() == 0) return Status::invalidArgument("quality metrics: no activation rows");
    blockRows = std::max<int64_t>(1, blockRows);
    const int64_t N = x.rows(), F = sae.dSae();
    std::vector<char> alive(F, 0);
    double sumRatio = 0, sumHatSq = 0, sumDot = 0, sumL0 = 0;
    for (int64_t r0 = 0; r0 < N; r0 += blockRows) {
        const int64_t n = std::min(blockRows, N - r0);
        const Matrix block = x.middleRows(r0, n);            // [n, D]
        MONO_ASSIGN_OR_RETURN(Matrix f, sae.encode(block));  // [n, F]
        MONO_ASSIGN_OR_RETURN(Matrix xHat, sae.decode(f));   // [n, D]
        for (int64_t r = 0; r < n; ++r) {
            const Eigen::VectorXd xr = block.row(r).transpose().cast<double>();
            const Eigen::VectorXd hr = xHat.row(r).transpose().cast<double>();
            const double nx = xr.norm();
            // SAEBench divides by 1 where ‖x‖ < 1e-4 rather than blow up.
            sumRatio += hr.norm() / (nx < 1e-4 ? 1.0 : nx);
            sumHatSq += hr.squaredNorm();
            sumDot += xr.dot(hr);
            const float* fr = f.data() + r * F;
            for (int64_t i = 0; i < F; ++i) {
                if (fr[i] != 0.0f) {
                    sumL0 += 1;
                    alive[i] = 1;
                }
            }
        }
    }
    ActivationQuality q;
    q.tokens = N;
    const double n = static_cast<double>(N);
    q.l0 = sumL0 / n;
    q.l2Ratio = sumRatio / n;
    q.relativeReconstructionBias = sumDot != 0 ? sumHatSq / sumDot : 0.0;
    q.fractionAlive =
        static_cast<double>(std::count(alive.begin(), alive.end(), 1)) / static_cast<double>(F);
    return q;
}

Result<DecoderCosineQuality> decoderCosineQuality(const Sae& sae) {
    if (sae.dSae() < 2)
        return Status::invalidArgument(
            "max decoder cosine needs at least two features, the SAE has " +
            std::to_string(sae.dSae()));
    const auto matches = topDecoderCosines(sae.wDec(), sae.wDec(), 1, true);
    DecoderCosineQuality q;
    q.maxCosine.resize(matches.size());
    q.max = -1;
    double sum = 0;
    int64_t above = 0;
    for (size_t i = 0; i < matches.size(); ++i) {
        const float c = matches[i].empty() ? 0.0f : matches[i][0].cosine;
        q.maxCosine[i] = c;
        sum += c;
        q.max = std::max(q.max, static_cast<double>(c));
        if (c > 0.9f) ++above;
    }
    const double F = static_cast<double>(matches.size());
    q.mean = sum / F;
    q.fractionAbove09 = static_cast<double>(above) / F;
    return q;
}

double sumKlDivergence(const float* clean, const float* other, int64_t rows, int64_t vocab) {
    double total = 0;
    std::vector<double> lp(static_cast<size_t>(vocab)), lq(static_cast<size_t>(vocab));
    auto logSoftmax = [vocab](const float* in, std::vector<double>& out) {
        double m = -INFINITY;
        for (int64_t v = 0; v < vocab; ++v) m = std::max(m, static_cast<double>(in[v]));
        double s = 0;
        for (int64_t v = 0; v < vocab; ++v) s += std::exp(in[v] - m);
        const double lse = m + std::log(s);
        for (int64_t v = 0; v < vocab; ++v) out[v] = in[v] - lse;
    };
    for (int64_t r = 0; r < rows; ++r) {
        logSoftmax(clean + r * vocab, lp);
        logSoftmax(other + r * vocab, lq);
        double kl = 0;
        for (int64_t v = 0; v < vocab; ++v) kl += std::exp(lp[v]) * (lp[v] - lq[v]);
        total += std::max(0.0, kl);  // ≥ 0 mathematically; clip rounding
    }
    return total;
}

double klFidelity(double klSae, double klZeroAblation) {
    return std::abs(klZeroAblation) > 1e-12 ? (klZeroAblation - klSae) / klZeroAblation : 0.0;
}

}  // namespace mono::sae
