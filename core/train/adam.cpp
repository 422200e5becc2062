// The Adam update loop (see adam.h). One template body for every form, each
// instantiated with its own loop, so that the per-element work has no branch
// and vectorises.

#include "core/train/adam.h"

#include <cassert>
#include <cmath>

namespace mono::train {
namespace {

// Below this many elements a tensor is updated on one thread (an OpenMP region
// costs more than the work).
constexpr int64_t kParallelMin = 65536;

template <BiasCorrection kForm, bool kDecay>
void update(const AdamStep& s, float* p, const float* g, float* m, float* v, int64_t n) {
    const float beta1 = s.beta1, beta2 = s.beta2, eps = s.eps, a = s.stepSize;
    const float c1 = s.correction1, c2 = s.correction2, keep = s.decayFactor;
#pragma omp parallel for schedule(static) if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) {
        m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
        v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
        const float w = kDecay ? p[i] * keep : p[i];
        if constexpr (kForm == BiasCorrection::kInStepSize) {
            p[i] = w - a * m[i] / (std::sqrt(v[i]) + eps);
        } else {
            const float mHat = m[i] / c1;
            const float vHat = v[i] / c2;
            p[i] = w - a * mHat / (std::sqrt(vHat) + eps);
        }
    }
}

}  // namespace

AdamStep adamStep(const AdamSettings& settings, int64_t t, double lr) {
    const double correction1 = 1.0 - std::pow(settings.beta1, static_cast<double>(t));
    const double correction2 = 1.0 - std::pow(settings.beta2, static_cast<double>(t));
    AdamStep s;
    s.beta1 = static_cast<float>(settings.beta1);
    s.beta2 = static_cast<float>(settings.beta2);
    s.eps = static_cast<float>(settings.eps);
    s.decayFactor = static_cast<float>(1.0 - lr * settings.weightDecay);
    s.biasCorrection = settings.biasCorrection;
    if (settings.biasCorrection == BiasCorrection::kInStepSize) {
        s.stepSize = static_cast<float>(lr * std::sqrt(correction2) / correction1);
    } else {
        s.stepSize = static_cast<float>(lr);
        s.correction1 = static_cast<float>(correction1);
        s.correction2 = static_cast<float>(correction2);
    }
    return s;
}

void adamUpdate(const AdamStep& step, std::span<float> params, std::span<const float> grads,
                std::span<float> m, std::span<float> v, bool decay) {
    assert(grads.size() == params.size() && m.size() == params.size() && v.size() == params.size());
    const int64_t n = static_cast<int64_t>(params.size());
    float* p = params.data();
    const float* g = grads.data();
    if (step.biasCorrection == BiasCorrection::kInStepSize) {
        if (decay)
            update<BiasCorrection::kInStepSize, true>(step, p, g, m.data(), v.data(), n);
        else
            update<BiasCorrection::kInStepSize, false>(step, p, g, m.data(), v.data(), n);
    } else {
        if (decay)
            update<BiasCorrection::kOnMoments, true>(step, p, g, m.data(), v.data(), n);
        else
            update<BiasCorrection::kOnMoments, false>(step, p, g, m.data(), v.data(), n);
    }
}

}  // namespace mono::train
