#include "core/train/loop.h"

namespace mono::train {

Status runTrainingLoop(const int64_t& step, int64_t totalSteps, const StopToken& stop,
                       CheckpointCadence cadence, const LoopActions& actions) {
    while (step < totalSteps) {
        if (stop.stopRequested()) return actions.stopped();
        MONO_RETURN_IF_ERROR(actions.step());
        const auto now = CheckpointCadence::Clock::now();
        actions.afterStep(now);
        if (cadence.due(step, totalSteps, now)) {
            MONO_RETURN_IF_ERROR(actions.save());
            cadence.saved(now);
        }
    }
    return Status::success();
}

}  // namespace mono::train
