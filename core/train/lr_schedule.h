#pragma once
// The learning rate over a training run: a linear warm-up, then an optional
// decay (linear or cosine) from the peak to a floor. The SAE trainer uses a
// linear warm-up and a linear decay to 0 over the last steps (as SAELens), the
// LM trainer a warm-up then a cosine to a floor at the last step (as nanoGPT).

#include <cstdint>

namespace mono::train {

// How warm-up and decay combine. They also round differently in the last bit;
// each trainer keeps its own form, so its runs stay what they were bit for bit.
enum class Warmup {
    // Steps s < warmupSteps run at peak·(s+1)/warmupSteps; the decay starts after.
    kThenDecay,
    // The peak is scaled by (s+1)/warmupSteps while s < warmupSteps, and a decay
    // that has already started runs from the scaled peak (the two may overlap).
    kScalesPeak,
};

enum class Decay {
    kNone,
    kLinear,  // to the floor at decayEnd
    kCosine,  // half a cosine, to the floor at decayEnd
};

struct LrSchedule {
    double peak = 0;
    double warmupSteps = 0;  // 0: no warm-up
    Warmup warmup = Warmup::kThenDecay;
    Decay decay = Decay::kNone;
    double decayStart = 0;  // steps s ≥ decayStart decay (steps are 0-based)
    double decayEnd = 0;    // > decayStart
    double floor = 0;
};

// The LM's schedule: linear warm-up over `warmupSteps`, then cosine from `peak`
// down to `floor`, which the last of `totalSteps` steps reaches.
LrSchedule warmupThenCosine(double peak, double floor, int64_t warmupSteps, int64_t totalSteps);

// The SAE's schedule: linear warm-up over warmupFraction of the steps (at least
// one step), and linear decay to 0 over the last decayFraction of them, ending
// at step totalSteps (one past the last).
LrSchedule warmupAndLinearDecay(double peak, double warmupFraction, double decayFraction,
                                int64_t totalSteps);

// The rate of step `step` (0-based).
double learningRate(const LrSchedule& schedule, int64_t step);

}  // namespace mono::train
