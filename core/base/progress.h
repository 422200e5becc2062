#pragma once
// Progress reporting and cancellation shared by every long job (capture,
// training, analysis, calibration). A job calls report() as often as it likes;
// the sink decides how often to show it (the CLI draws a bar, the GUI emits a
// throttled signal). Thread-safe: the job reports from its worker thread.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace mono {

// A request to stop, shared between whoever starts a job and the job itself.
class StopToken {
public:
    StopToken() : m_flag(std::make_shared<std::atomic<bool>>(false)) {}
    void requestStop() const { m_flag->store(true, std::memory_order_relaxed); }
    bool stopRequested() const { return m_flag->load(std::memory_order_relaxed); }

private:
    std::shared_ptr<std::atomic<bool>> m_flag;
};

struct ProgressUpdate {
    double fraction = 0.0;                  // 0..1, or negative when unknown
    std::string message;                    // "capturing blocks.2.hook_resid_post"
    std::map<std::string, double> metrics;  // live numbers: loss, L0, tokens/s ...
};

class Progress {
public:
    using Sink = std::function<void(const ProgressUpdate&)>;

    Progress() = default;  // reports go nowhere
    explicit Progress(Sink sink) : m_sink(std::move(sink)) {}

    void report(const ProgressUpdate& update) const {
        if (m_sink) m_sink(update);
    }
    void report(double fraction, const std::string& message) const {
        report(ProgressUpdate{fraction, message, {}});
    }

private:
    Sink m_sink;
};

}  // namespace mono
