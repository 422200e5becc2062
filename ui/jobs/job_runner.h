#pragma once
// JobRunner: runs core jobs on a worker thread and hands their progress and
// results to the GUI thread, in the manner of hotspot's JobTracker.
//
//   m_runner = new JobRunner(this);
//   connect(m_runner, &JobRunner::failed, this, [this](quint64, const QString& label,
//                                                      const QString& message) { ... });
//   TrainJobSpec spec = readSpecFromWidgets();    // settings are copied in here ...
//   m_runner->start(tr("Training"),
//       [spec](const JobContext& job) {           // ... and never read from widgets again
//           return runTrainJob(spec, job.progress(), job.stop());   // Result<T> or Status
//       },
//       [this](TrainJobSummary result) { show(result); });          // GUI thread
//
// Contract:
//  - The job runs on the runner's own pool of one thread, so jobs of one runner
//    run one after the other. It must not touch widgets; it may call
//    JobContext::post() to hand partial data (streamed tokens) to the GUI thread.
//  - "Latest request wins": start() asks the job before it to stop, and whatever
//    that earlier job still delivers (result, error, progress, posts) is dropped.
//  - Progress is delivered on the GUI thread at most every kProgressIntervalMs
//    (the newest update wins), and once more when the job ends.
//  - Outcomes of the current job, on the GUI thread, in this order: the posts it
//    made; then onResult(value) + succeeded(), or failed(label, message) for an
//    error (an escaped exception becomes one too), or cancelled() when it
//    returned Status::cancelled(); then finished(); then busyChanged(false) unless
//    one of these handlers started the next job. isBusy() is already false while
//    they run. Cancelled is not an error.
//  - The destructor asks the current job to stop and waits for the worker.
// All member functions are for the GUI thread (the thread that owns the runner).

#include <QObject>
#include <QString>
#include <QTimer>
#include <QVariantMap>

#include <QThreadPool>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "core/base/progress.h"
#include "core/base/result.h"

namespace mono::ui {

class JobRunner;

namespace detail {
struct JobState;
}

// What a running job sees. Safe to use from the worker thread.
class JobContext {
public:
    // Pass these to the core function.
    const Progress& progress() const { return m_progress; }
    const StopToken& stop() const { return m_stop; }
    bool stopRequested() const { return m_stop.stopRequested(); }

    // Runs `fn` on the GUI thread (queued, in order, before the job's result)
    // unless a newer job has been started by the time it arrives.
    void post(std::function<void()> fn) const;

    quint64 id() const { return m_id; }

private:
    friend class JobRunner;
    JobContext(JobRunner* runner, quint64 id, Progress progress, StopToken stop)
        : m_runner(runner), m_id(id), m_progress(std::move(progress)), m_stop(std::move(stop)) {}

    JobRunner* m_runner;
    quint64 m_id;
    Progress m_progress;
    StopToken m_stop;
};

class JobRunner : public QObject {
    Q_OBJECT
public:
    static constexpr int kProgressIntervalMs = 50;  // at most 20 updates per second

    explicit JobRunner(QObject* parent = nullptr);
    ~JobRunner() override;

    // Starts `work` on the worker thread and returns the job's id. `work` is called
    // as work(const JobContext&) or work(const Progress&, StopToken) and returns
    // mono::Result<T> or mono::Status; capture its inputs by value. On success
    // `onResult(T)` (or `onResult()` for a Status job) runs on the GUI thread, only
    // if no newer job was started meanwhile. The job started before is asked to stop.
    template <class Work, class OnResult>
    quint64 start(const QString& label, Work work, OnResult onResult);

    // Asks the current job to stop (it then reports cancelled()). No-op when idle.
    void cancel();
    // Asks the current job to stop and drops everything it would still deliver
    // (no outcome signals); the runner is idle at once. No-op when idle.
    void abandon();
    // True from start() until the current job's outcome has been delivered.
    bool isBusy() const { return m_busy; }
    // The id of the newest job (0 before the first).
    quint64 currentId() const { return m_generation; }
    QString currentLabel() const { return m_label; }

signals:
    void started(quint64 id, const QString& label);
    // fraction in 0..1, or negative when unknown.
    void progressChanged(quint64 id, double fraction, const QString& message,
                         const QVariantMap& metrics);
    void succeeded(quint64 id);
    void failed(quint64 id, const QString& label, const QString& message);
    void cancelled(quint64 id);
    void finished(quint64 id);  // after succeeded / failed / cancelled
    void busyChanged(bool busy);

private:
    friend class JobContext;
    // What the worker hands back: the status and, on success, the call that
    // passes the value to onResult.
    struct Outcome {
        Status status;
        std::function<void()> deliver;
    };
    using ErasedJob = std::function<Outcome(const JobContext&)>;

    quint64 startErased(const QString& label, ErasedJob job);
    void deliverOutcome(quint64 id, Outcome outcome);
    void postFromWorker(quint64 id, std::function<void()> fn);
    void flushProgress();

    template <class Work>
    static auto invokeWork(Work& work, const JobContext& context) {
        if constexpr (std::is_invocable_v<Work&, const JobContext&>)
            return work(context);
        else
            return work(context.progress(), context.stop());
    }

    QThreadPool m_pool;
    QTimer m_progressTimer;
    quint64 m_generation = 0;
    std::shared_ptr<detail::JobState> m_current;
    QString m_label;
    bool m_busy = false;
    bool m_delivering = false;  // inside deliverOutcome's handlers
};

// ---------------------------------------------------------------------------

template <class Work, class OnResult>
quint64 JobRunner::start(const QString& label, Work work, OnResult onResult) {
    ErasedJob job = [work = std::move(work),
                     onResult = std::move(onResult)](const JobContext& context) mutable -> Outcome {
        auto result = invokeWork(work, context);
        using R = decltype(result);
        if constexpr (std::is_same_v<R, Status>) {
            if (!result.ok()) return {std::move(result), {}};
            return {Status::success(), [onResult]() mutable { onResult(); }};
        } else {
            if (!result.ok()) return {result.status(), {}};
            using T = std::decay_t<decltype(std::move(result).value())>;
            auto value = std::make_shared<T>(std::move(result).value());
            return {Status::success(),
                    [onResult, value]() mutable { onResult(std::move(*value)); }};
        }
    };
    return startErased(label, std::move(job));
}

}  // namespace mono::ui
