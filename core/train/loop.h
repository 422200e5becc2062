#pragma once
// The loop both trainers run: optimiser steps up to the last one, reports when
// due, periodic checkpoints (see cadence.h), and a clean stop when asked.

#include <cstdint>
#include <functional>

#include "core/base/progress.h"
#include "core/base/status.h"
#include "core/train/cadence.h"

namespace mono::train {

struct LoopActions {
    std::function<Status()> step;  // one step; advances the step counter
    std::function<void(CheckpointCadence::Clock::time_point now)> afterStep;  // reports
    std::function<Status()> save;     // the periodic checkpoint
    std::function<Status()> stopped;  // called when a stop is requested; its status ends the loop
};

// Runs until `step` (advanced by actions.step) reaches totalSteps. Returns the
// first error, the status of actions.stopped() after a stop request, or success.
Status runTrainingLoop(const int64_t& step, int64_t totalSteps, const StopToken& stop,
                       CheckpointCadence cadence, const LoopActions& actions);

}  // namespace mono::train
