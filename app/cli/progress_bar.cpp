#include "app/cli/progress_bar.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace mono::cli {

Progress ProgressBar::progress() {
    return Progress([this](const ProgressUpdate& u) { draw(u); });
}

void ProgressBar::draw(const ProgressUpdate& update) {
    const auto now = std::chrono::steady_clock::now();
    const bool last = update.fraction >= 1.0;
    const bool tty = ::isatty(STDERR_FILENO);
    // A log file gets a line every few seconds, a terminal a live redraw.
    const auto interval = tty ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
    if (!last && m_drawn && now - m_lastDraw < interval) return;
    m_lastDraw = now;
    m_drawn = true;
    const double elapsed = std::chrono::duration<double>(now - m_start).count();
    std::string line = m_label;
    line += ' ';
    if (update.fraction >= 0) {
        constexpr int kWidth = 28;
        const double f = std::min(1.0, update.fraction);
        const int filled = static_cast<int>(std::round(f * kWidth));
        line += '[';
        line.append(filled, '#');
        line.append(kWidth - filled, '.');
        line += "] ";
        char pct[64];
        std::snprintf(pct, sizeof pct, "%5.1f%% ", 100 * f);
        line += pct;
        if (f > 0.001 && f < 1) {
            char eta[64];
            std::snprintf(eta, sizeof eta, "eta %.0fs ", elapsed * (1 - f) / f);
            line += eta;
        }
    }
    line += update.message;
    for (const auto& [name, value] : update.metrics) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "  %s %.4g", name.c_str(), value);
        line += buf;
    }
    if (tty)
        std::fprintf(stderr, "\r\033[K%s", line.c_str());
    else
        std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
}

void ProgressBar::finish() {
    if (m_drawn && ::isatty(STDERR_FILENO)) std::fprintf(stderr, "\n");
    m_drawn = false;
}

}  // namespace mono::cli
