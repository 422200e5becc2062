#pragma once
// TextStream: carries text that a job produces piece by piece (generated
// tokens) to the GUI thread without flooding its event queue. push() runs on
// the worker; at most one delivery is queued at a time, and each carries every
// piece pushed since the previous one. Deliveries go through JobContext::post,
// so those of a superseded job are dropped like its result.

#include <QString>

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "ui/jobs/job_runner.h"

namespace mono::ui {

class TextStream : public std::enable_shared_from_this<TextStream> {
public:
    // Called on the GUI thread with the new text (UTF-8 decoded) and how many pieces it joins.
    using Sink = std::function<void(const QString& text, int pieces)>;

    static std::shared_ptr<TextStream> create(Sink sink) {
        return std::shared_ptr<TextStream>(new TextStream(std::move(sink)));
    }

    // Worker thread. `piece` is UTF-8 and does not end inside a character.
    void push(const JobContext& job, const std::string& piece) {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_pending += piece;
        ++m_pieces;
        if (m_posted) return;
        m_posted = true;
        job.post([self = shared_from_this()] { self->drain(); });
    }

    // GUI thread: delivers whatever is pending now (also called by the posts).
    void drain() {
        std::string text;
        int pieces = 0;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            text.swap(m_pending);
            pieces = m_pieces;
            m_pieces = 0;
            m_posted = false;
        }
        if (pieces > 0 && m_sink) m_sink(QString::fromStdString(text), pieces);
    }

private:
    explicit TextStream(Sink sink) : m_sink(std::move(sink)) {}

    Sink m_sink;
    std::mutex m_mutex;
    std::string m_pending;  // guarded by m_mutex
    int m_pieces = 0;       // guarded by m_mutex
    bool m_posted = false;  // guarded by m_mutex: a drain is queued
};

}  // namespace mono::ui
