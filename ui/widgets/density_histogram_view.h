#pragma once
// The global log-density histogram above the feature browser: how many
// features fire at each order of magnitude of density. Clicking a bar selects
// that density range (the browser filters to it); clicking it again, or
// clearSelection(), clears it.

#include <QWidget>

#include <optional>

#include "core/features/feature_store.h"

class QCustomPlot;
class QCPBars;
class QLabel;

namespace mono::ui {

class DensityHistogramView : public QWidget {
    Q_OBJECT
public:
    explicit DensityHistogramView(QWidget* parent = nullptr);

    void setHistogram(const features::DensityHistogram& histogram);
    void clear();
    int barCount() const { return static_cast<int>(m_histogram.counts.size()); }
    // The density range [lo, hi] of bar `bar`.
    std::pair<double, double> densityRange(int bar) const;
    std::optional<int> selectedBar() const { return m_selected; }
    // Selects `bar` (emits rangeSelected) or, with nullopt, clears (emits rangeCleared).
    void selectBar(std::optional<int> bar);
    void clearSelection() { selectBar(std::nullopt); }
    // The same bins counted over the list's filter, drawn over the whole (the
    // whole greyed out); nullopt: no filter, the whole alone.
    void setFiltered(const std::optional<features::DensityHistogram>& filtered);
    // Features in the filtered bars (-1: no filter).
    int64_t filteredCount() const;
    QCustomPlot* plot() const { return m_plot; }

signals:
    void rangeSelected(double minDensity, double maxDensity);
    void rangeCleared();

private:
    void redraw();

    QCustomPlot* m_plot;
    QCPBars* m_bars;
    QCPBars* m_selectedBars;
    QCPBars* m_filteredBars;
    std::optional<features::DensityHistogram> m_filtered;
    QLabel* m_caption;
    features::DensityHistogram m_histogram;
    std::optional<int> m_selected;
};

}  // namespace mono::ui
