#pragma once
// When a training loop reports, evaluates and writes its periodic checkpoint.
// Steps here count finished steps (1 after the first).

#include <chrono>
#include <cstdint>

namespace mono::train {

// Every `every`-th step (every < 1 counts as 1) and the last of `totalSteps`.
bool everyNthOrLast(int64_t step, int64_t every, int64_t totalSteps);

// Periodic checkpoints: after `seconds` of wall time since the previous one,
// and every `everySteps` steps when that is > 0. Never at the last step: a loop
// always saves once more when it ends.
class CheckpointCadence {
public:
    using Clock = std::chrono::steady_clock;

    CheckpointCadence(double seconds, int64_t everySteps, Clock::time_point start)
        : m_seconds(seconds), m_everySteps(everySteps), m_last(start) {}

    bool due(int64_t step, int64_t totalSteps, Clock::time_point now) const;
    void saved(Clock::time_point now) { m_last = now; }

private:
    double m_seconds;
    int64_t m_everySteps;
    Clock::time_point m_last;
};

}  // namespace mono::train
