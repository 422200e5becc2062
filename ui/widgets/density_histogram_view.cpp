#include "ui/widgets/density_histogram_view.h"

#include <QLabel>
#include <QVBoxLayout>

#include <qcustomplot.h>
#include <cmath>

#include "ui/widgets/display_format.h"
#include "ui/widgets/plot_style.h"

namespace mono::ui {

DensityHistogramView::DensityHistogramView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    m_caption = new QLabel;
    m_caption->setObjectName(QStringLiteral("hint"));
    layout->addWidget(m_caption);
    m_plot = new QCustomPlot;
    m_plot->setObjectName(QStringLiteral("densityHistogram"));
    m_plot->setMinimumHeight(130);
    m_plot->setToolTip(tr("Click a bar to show only the features of that density range"));
    layout->addWidget(m_plot);
    stylePlot(m_plot);
    m_bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_selectedBars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_filteredBars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_filteredBars->setPen(Qt::NoPen);
    m_filteredBars->setBrush(plotColor(0));
    m_filteredBars->setSelectable(QCP::stNone);
    m_bars->setPen(Qt::NoPen);
    m_selectedBars->setPen(Qt::NoPen);
    m_bars->setBrush(plotColor(0));
    m_selectedBars->setBrush(QColor(0xf5, 0x9e, 0x0b));
    m_plot->xAxis->setLabel(tr("log₁₀ density"));
    m_plot->yAxis->setLabel(tr("features"));
    connect(m_plot, &QCustomPlot::plottableClick, this,
            [this](QCPAbstractPlottable*, int dataIndex, QMouseEvent*) {
                if (dataIndex < 0 || dataIndex >= barCount()) return;
                // QCPBars' data index follows the sorted keys, which are the bars in order.
                if (m_selected == dataIndex)
                    selectBar(std::nullopt);
                else
                    selectBar(dataIndex);
            });
    clear();
}

void DensityHistogramView::clear() {
    m_histogram = {};
    m_filtered.reset();
    m_selected.reset();
    redraw();
}

void DensityHistogramView::setFiltered(const std::optional<features::DensityHistogram>& filtered) {
    m_filtered = filtered;
    redraw();
}

int64_t DensityHistogramView::filteredCount() const {
    if (!m_filtered) return -1;
    int64_t n = 0;
    for (int64_t c : m_filtered->counts) n += c;
    return n;
}

void DensityHistogramView::setHistogram(const features::DensityHistogram& histogram) {
    m_histogram = histogram;
    m_filtered.reset();
    m_selected.reset();
    redraw();
}

std::pair<double, double> DensityHistogramView::densityRange(int bar) const {
    const double lo = m_histogram.lo + bar * m_histogram.width;
    return {std::pow(10.0, lo), std::pow(10.0, lo + m_histogram.width)};
}

void DensityHistogramView::selectBar(std::optional<int> bar) {
    if (bar && (*bar < 0 || *bar >= barCount())) bar.reset();
    m_selected = bar;
    redraw();
    if (bar) {
        const auto [lo, hi] = densityRange(*bar);
        emit rangeSelected(lo, hi);
    } else {
        emit rangeCleared();
    }
}

void DensityHistogramView::redraw() {
    const auto& h = m_histogram;
    QVector<double> keys, values, selKeys, selValues;
    double top = 1;
    for (size_t i = 0; i < h.counts.size(); ++i) {
        const double key = h.lo + (static_cast<double>(i) + 0.5) * h.width;
        const double value = static_cast<double>(h.counts[i]);
        keys.append(key);
        values.append(m_selected == static_cast<int>(i) ? 0.0 : value);
        if (m_selected == static_cast<int>(i)) {
            selKeys.append(key);
            selValues.append(value);
        }
        top = std::max(top, value);
    }
    // Under a filter the whole is the grey background and the filtered bars the subject.
    QColor whole = plotColor(0);
    if (m_filtered) whole.setAlpha(60);
    m_bars->setBrush(whole);
    QVector<double> filteredValues;
    if (m_filtered && m_filtered->counts.size() == h.counts.size())
        for (size_t i = 0; i < h.counts.size(); ++i)
            filteredValues.append(m_selected == static_cast<int>(i)
                                      ? 0.0
                                      : static_cast<double>(m_filtered->counts[i]));
    m_filteredBars->setData(filteredValues.isEmpty() ? QVector<double>() : keys, filteredValues,
                            true);
    m_filteredBars->setWidth(h.width * 0.92);
    m_bars->setData(keys, values, true);
    m_selectedBars->setData(selKeys, selValues, true);
    m_bars->setWidth(h.width * 0.92);
    m_selectedBars->setWidth(h.width * 0.92);
    if (!h.counts.empty()) {
        m_plot->xAxis->setRange(h.lo, h.lo + h.width * static_cast<double>(h.counts.size()));
        m_plot->yAxis->setRange(0, top * 1.08);
    }
    int64_t live = 0;
    for (int64_t c : h.counts) live += c;
    QString caption = h.counts.empty()
                          ? tr("No density histogram")
                          : tr("Feature density: %1 live, %2 dead").arg(live).arg(h.dead);
    if (m_filtered) caption += tr(" — %1 in the list's filter").arg(filteredCount());
    if (m_selected) {
        const auto [lo, hi] = densityRange(*m_selected);
        caption += tr(" — showing density %1 to %2 (click the bar again to clear)")
                       .arg(formatDensity(lo), formatDensity(hi));
    }
    m_caption->setText(caption);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace mono::ui
