#include "ui/jobs/job_runner.h"

#include <exception>
#include <mutex>
#include <string>

namespace mono::ui {

namespace detail {
// One job's shared state: its stop flag and the newest progress not yet shown.
struct JobState {
    quint64 id = 0;
    StopToken stop;
    std::mutex mutex;
    ProgressUpdate latest;  // guarded by mutex
    bool dirty = false;     // guarded by mutex: latest not yet emitted
};
}  // namespace detail

void JobContext::post(std::function<void()> fn) const {
    m_runner->postFromWorker(m_id, std::move(fn));
}

JobRunner::JobRunner(QObject* parent) : QObject(parent) {
    m_pool.setMaxThreadCount(1);
    m_progressTimer.setInterval(kProgressIntervalMs);
    connect(&m_progressTimer, &QTimer::timeout, this, &JobRunner::flushProgress);
}

JobRunner::~JobRunner() {
    if (m_current) m_current->stop.requestStop();
    m_pool.waitForDone();
}

quint64 JobRunner::startErased(const QString& label, ErasedJob job) {
    if (m_current) m_current->stop.requestStop();  // latest request wins
    const quint64 id = ++m_generation;
    auto state = std::make_shared<detail::JobState>();
    state->id = id;
    m_current = state;
    m_label = label;

    Progress progress([state](const ProgressUpdate& update) {
        std::lock_guard<std::mutex> lock(state->mutex);
        state->latest = update;
        state->dirty = true;
    });
    const JobContext context(this, id, std::move(progress), state->stop);
    m_pool.start([this, id, context, job = std::move(job)]() mutable {
        Outcome outcome;
        try {
            outcome = job(context);
        } catch (const std::exception& e) {
            outcome = {Status::internal(std::string("unexpected exception: ") + e.what()), {}};
        } catch (...) {
            outcome = {Status::internal("unexpected exception of unknown type"), {}};
        }
        QMetaObject::invokeMethod(
            this, [this, id, outcome]() { deliverOutcome(id, outcome); }, Qt::QueuedConnection);
    });

    m_progressTimer.start();
    if (!m_busy) {
        m_busy = true;
        // Started from an outcome handler: the runner was never reported idle.
        if (!m_delivering) emit busyChanged(true);
    }
    emit started(id, label);
    return id;
}

void JobRunner::cancel() {
    if (m_current) m_current->stop.requestStop();
}

void JobRunner::abandon() {
    if (!m_current) return;
    m_current->stop.requestStop();
    m_current.reset();
    ++m_generation;  // its outcome, progress and posts are stale from now on
    m_progressTimer.stop();
    if (m_busy && !m_delivering) {
        m_busy = false;
        emit busyChanged(false);
    }
}

void JobRunner::postFromWorker(quint64 id, std::function<void()> fn) {
    QMetaObject::invokeMethod(
        this,
        [this, id, fn = std::move(fn)]() {
            if (id == m_generation) fn();
        },
        Qt::QueuedConnection);
}

void JobRunner::flushProgress() {
    if (!m_current) return;
    ProgressUpdate update;
    {
        std::lock_guard<std::mutex> lock(m_current->mutex);
        if (!m_current->dirty) return;
        update = m_current->latest;
        m_current->dirty = false;
    }
    QVariantMap metrics;
    for (const auto& [name, value] : update.metrics)
        metrics.insert(QString::fromStdString(name), value);
    emit progressChanged(m_current->id, update.fraction, QString::fromStdString(update.message),
                         metrics);
}

void JobRunner::deliverOutcome(quint64 id, Outcome outcome) {
    if (id != m_generation) return;  // a newer job was started: drop this one's outcome
    flushProgress();
    m_progressTimer.stop();
    m_current.reset();
    const QString label = m_label;

    // Idle while the outcome is handled, so that a handler may start the next job
    // (busy then stays true without a flicker).
    m_busy = false;
    m_delivering = true;
    if (outcome.status.ok()) {
        if (outcome.deliver) outcome.deliver();
        emit succeeded(id);
    } else if (outcome.status.isCancelled()) {
        emit cancelled(id);
    } else {
        emit failed(id, label, QString::fromStdString(outcome.status.toString()));
    }
    emit finished(id);
    m_delivering = false;
    if (!m_busy) emit busyChanged(false);
}

}  // namespace mono::ui
