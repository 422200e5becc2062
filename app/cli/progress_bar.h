#pragma once
// A one-line progress bar on stderr for long CLI jobs: fraction, message and
// live metrics, redrawn at most ten times a second (always on the last update).

#include <chrono>
#include <string>

#include "core/base/progress.h"

namespace mono::cli {

class ProgressBar {
public:
    explicit ProgressBar(std::string label) : m_label(std::move(label)) {}
    // A Progress whose reports draw this bar. The bar must outlive it.
    Progress progress();
    // Ends the line.
    void finish();

private:
    void draw(const ProgressUpdate& update);
    std::string m_label;
    std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point m_lastDraw{};
    bool m_drawn = false;
};

}  // namespace mono::cli
