// AdamW, clipping and the learning-rate schedule (see optimizer.h).

#include "core/lmtrain/optimizer.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace mono::lmtrain {

double scheduledLearningRate(int64_t step, int64_t total, int64_t warmup, double lr, double minLr) {
    if (warmup > 0 && step < warmup)
        return lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
    const int64_t span = std::max<int64_t>(1, total - 1 - warmup);
    const double progress =
        std::clamp(static_cast<double>(step - warmup) / static_cast<double>(span), 0.0, 1.0);
    return minLr + 0.5 * (lr - minLr) * (1.0 + std::cos(std::numbers::pi * progress));
}

double clipGradients(AlignedVector<float>& grads, double maxNorm) {
    // Fixed chunks summed in order: the norm (and so a resumed run) does not
    // depend on how OpenMP combines partial sums.
    const int64_t n = static_cast<int64_t>(grads.size());
    constexpr int64_t kChunks = 64;
    double partial[kChunks] = {};
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < kChunks; ++c) {
        double s = 0;
        for (int64_t i = n * c / kChunks; i < n * (c + 1) / kChunks; ++i)
            s += static_cast<double>(grads[i]) * grads[i];
        partial[c] = s;
    }
    double sum = 0;
    for (double s : partial) sum += s;
    const double norm = std::sqrt(sum);
    if (maxNorm > 0 && norm > maxNorm) {
        const float scale = static_cast<float>(maxNorm / (norm + 1e-6));
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n; ++i) grads[i] *= scale;
    }
    return norm;
}

void adamwStep(const std::vector<ParamTensor>& layout, AlignedVector<float>& params,
               const AlignedVector<float>& grads, AlignedVector<float>& m, AlignedVector<float>& v,
               int64_t t, double lr, const AdamWSettings& s) {
    const float b1 = static_cast<float>(s.beta1), b2 = static_cast<float>(s.beta2);
    const float c1 = static_cast<float>(1.0 - std::pow(s.beta1, static_cast<double>(t)));
    const float c2 = static_cast<float>(1.0 - std::pow(s.beta2, static_cast<double>(t)));
    const float eps = static_cast<float>(s.eps), step = static_cast<float>(lr);
    for (const ParamTensor& tensor : layout) {
        const float keep = tensor.decay ? static_cast<float>(1.0 - lr * s.weightDecay) : 1.0f;
        float* p = params.data() + tensor.offset;
        const float* g = grads.data() + tensor.offset;
        float* mm = m.data() + tensor.offset;
        float* vv = v.data() + tensor.offset;
#pragma omp parallel for schedule(static) if (tensor.size > 65536)
        for (int64_t i = 0; i < tensor.size; ++i) {
            mm[i] = b1 * mm[i] + (1.0f - b1) * g[i];
            vv[i] = b2 * vv[i] + (1.0f - b2) * g[i] * g[i];
            const float mHat = mm[i] / c1;
            const float vHat = vv[i] / c2;
            p[i] = p[i] * keep - step * mHat / (std::sqrt(vHat) + eps);
        }
    }
}

}  // namespace mono::lmtrain
