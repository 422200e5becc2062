// Report and checkpoint cadence (see cadence.h).

#include "core/train/cadence.h"

#include <algorithm>

namespace mono::train {

bool everyNthOrLast(int64_t step, int64_t every, int64_t totalSteps) {
    return step % std::max<int64_t>(1, every) == 0 || step == totalSteps;
}

bool CheckpointCadence::due(int64_t step, int64_t totalSteps, Clock::time_point now) const {
    const bool byTime = std::chrono::duration<double>(now - m_last).count() >= m_seconds;
    const bool bySteps = m_everySteps > 0 && step % m_everySteps == 0;
    return (byTime || bySteps) && step < totalSteps;
}

}  // namespace mono::train
