// The learning-rate schedule (see lr_schedule.h).

#include "core/train/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace mono::train {

LrSchedule warmupThenCosine(double peak, double floor, int64_t warmupSteps, int64_t totalSteps) {
    LrSchedule s;
    s.peak = peak;
    s.warmupSteps = static_cast<double>(warmupSteps);
    s.warmup = Warmup::kThenDecay;
    s.decay = Decay::kCosine;
    s.decayStart = static_cast<double>(warmupSteps);
    s.decayEnd =
        static_cast<double>(warmupSteps + std::max<int64_t>(1, totalSteps - 1 - warmupSteps));
    s.floor = floor;
    return s;
}

LrSchedule warmupAndLinearDecay(double peak, double warmupFraction, double decayFraction,
                                int64_t totalSteps) {
    const double steps = static_cast<double>(totalSteps);
    LrSchedule s;
    s.peak = peak;
    s.warmupSteps = std::max(1.0, warmupFraction * steps);
    s.warmup = Warmup::kScalesPeak;
    s.decay = decayFraction > 0 ? Decay::kLinear : Decay::kNone;
    s.decayStart = (1.0 - decayFraction) * steps;
    s.decayEnd = steps;
    s.floor = 0;
    return s;
}

double learningRate(const LrSchedule& schedule, int64_t step) {
    const double s = static_cast<double>(step);
    double rate = schedule.peak;
    if (s < schedule.warmupSteps) {
        if (schedule.warmup == Warmup::kThenDecay)
            return rate * static_cast<double>(step + 1) / schedule.warmupSteps;
        rate *= static_cast<double>(step + 1) / schedule.warmupSteps;
    }
    if (schedule.decay == Decay::kNone || s < schedule.decayStart) return rate;
    const double start = schedule.decayStart, end = schedule.decayEnd, floor = schedule.floor;
    if (schedule.decay == Decay::kLinear) {
        const double left = std::max(0.0, (end - s) / (end - start));  // of the decay
        return floor + (rate - floor) * left;
    }
    const double done = std::clamp((s - start) / (end - start), 0.0, 1.0);
    return floor + 0.5 * (rate - floor) * (1.0 + std::cos(std::numbers::pi * done));
}

}  // namespace mono::train
