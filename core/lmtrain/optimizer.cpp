// Clipping and AdamW over the LM's parameter layout (see optimizer.h).

#include "core/lmtrain/optimizer.h"

#include <cmath>
#include <span>

namespace mono::lmtrain {

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
               int64_t t, double lr, const train::AdamSettings& s) {
    const train::AdamStep step = train::adamStep(s, t, lr);
    for (const ParamTensor& tensor : layout) {
        const size_t offset = static_cast<size_t>(tensor.offset);
        const size_t size = static_cast<size_t>(tensor.size);
        train::adamUpdate(
            step, std::span(params).subspan(offset, size), std::span(grads).subspan(offset, size),
            std::span(m).subspan(offset, size), std::span(v).subspan(offset, size), tensor.decay);
    }
}

}  // namespace mono::lmtrain
