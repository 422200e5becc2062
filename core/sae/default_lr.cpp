#include "core/sae/default_lr.h"

#include <cmath>
#include <string>

namespace mono::sae {
namespace {

constexpr double kReferenceLr = 2e-4;
constexpr double kReferenceLatents = 16384;  // 2^14
constexpr double kReferenceDIn = 768;        // GPT-2 small, where the rule was fitted

}  // namespace

LearningRateChoice chooseLearningRate(double requested, int64_t dSae, int64_t dIn) {
    LearningRateChoice c;
    if (requested > 0 || dSae <= 0 || dIn <= 0) {
        c.lr = requested;
        c.reason = "given";
        return c;
    }
    c.automatic = true;
    c.lr = kReferenceLr * std::sqrt(kReferenceLatents / static_cast<double>(dSae)) *
           std::sqrt(kReferenceDIn / static_cast<double>(dIn));
    c.reason = "auto: 2e-4 · sqrt(16384 / " + std::to_string(dSae) + ") · sqrt(768 / " +
               std::to_string(dIn) + ")";
    return c;
}

}  // namespace mono::sae
