#pragma once
// Helpers the quantization tests share: random token windows, the relative
// L2 error of two logit vectors, and a model's logits over windows.

#include <QtGlobal>

#include <cmath>
#include <random>
#include <vector>

#include "core/model/model.h"

namespace mono::quant_test {

using Windows = std::vector<std::vector<model::TokenId>>;

inline Windows randomWindows(int count, int len, int vocab, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> tok(0, vocab - 1);
    Windows w(static_cast<size_t>(count));
    for (auto& s : w) {
        s.resize(size_t(len));
        for (auto& t : s) t = tok(rng);
    }
    return w;
}

// ‖a − b‖ / ‖b‖; infinite when the sizes differ.
inline double relL2(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return INFINITY;
    double d = 0, n = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        d += double(a[i] - b[i]) * double(a[i] - b[i]);
        n += double(b[i]) * double(b[i]);
    }
    return std::sqrt(d / n);
}

// Every position's logits, [windows × len, vocab]; empty (with a warning) on failure.
inline std::vector<float> logitsOf(model::Model& m, const Windows& w,
                                   model::ForwardOptions opt = {}) {
    model::Batch b;
    for (const auto& s : w) b.add(s.data(), int64_t(s.size()));
    model::Logits out;
    opt.logits = model::LogitsWanted::kAll;
    const Status st = m.forward(b, opt, &out);
    if (!st.ok()) qWarning("%s", st.toString().c_str());
    return out.data;
}

}  // namespace mono::quant_test
