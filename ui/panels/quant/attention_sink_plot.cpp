#include "ui/panels/quant/attention_sink_plot.h"

#include <QToolTip>

#include <algorithm>
#include <cmath>

#include "core/quant/attention_sinks.h"
#include "ui/widgets/plot_style.h"
#include "ui/widgets/plot_tools.h"

namespace mono::ui {

AttentionSinkPlot::AttentionSinkPlot(QWidget* parent) : QCustomPlot(parent) {
    setObjectName(QStringLiteral("attention_sinks"));
    setMinimumSize(260, 220);
    stylePlot(this);
    plotLayout()->insertRow(0);
    m_title = new QCPTextElement(this, QString(), QFont(font().family(), 9));
    plotLayout()->addElement(0, 0, m_title);
    xAxis->setLabel(tr("head"));
    yAxis->setLabel(tr("layer"));
    yAxis->setRangeReversed(true);
    for (QCPAxis* axis : {xAxis, yAxis}) {
        QSharedPointer<QCPAxisTickerFixed> ticks(new QCPAxisTickerFixed);
        ticks->setTickStep(1.0);
        ticks->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
        axis->setTicker(ticks);
    }
    m_map = new QCPColorMap(xAxis, yAxis);
    auto* scale = new QCPColorScale(this);
    plotLayout()->addElement(1, 1, scale);
    scale->axis()->setLabel(tr("attention on token 0"));
    m_map->setColorScale(scale);
    m_map->setGradient(QCPColorGradient(QCPColorGradient::gpThermal));
    m_map->setInterpolate(false);
    PlotTools::attach(this);
    connect(this, &QCustomPlot::mouseMove, this, [this](QMouseEvent* e) {
        const QString t = hoverText(e->position());
        if (!t.isEmpty()) QToolTip::showText(e->globalPosition().toPoint(), t, this);
    });
    setSinks(nullptr);
}

void AttentionSinkPlot::setSinks(const quant::AttentionSinks* sinks, const QString& note) {
    const bool has = sinks && !sinks->empty();
    m_layers = has ? sinks->layers : 0;
    m_heads = has ? sinks->heads : 0;
    m_map->data()->setSize(std::max(m_heads, 1), std::max(m_layers, 1));
    m_map->data()->setRange(QCPRange(0, std::max(m_heads - 1, 1)),
                            QCPRange(0, std::max(m_layers - 1, 1)));
    m_map->data()->fill(0);
    float top = 0;
    int topLayer = 0, topHead = 0;
    for (int L = 0; L < m_layers; ++L)
        for (int h = 0; h < m_heads; ++h) {
            const float v = sinks->at(L, h);
            m_map->data()->setCell(h, L, double(v));
            if (v > top) {
                top = v;
                topLayer = L;
                topHead = h;
            }
        }
    if (has)
        m_title->setText(tr("Attention on the first token\nlargest %1 (layer %2, head %3), "
                            "uniform %4")
                             .arg(double(top), 0, 'f', 3)
                             .arg(topLayer)
                             .arg(topHead)
                             .arg(double(sinks->uniform), 0, 'f', 3));
    else
        m_title->setText(note.isEmpty() ? tr("Attention sinks")
                                        : tr("Attention sinks: %1").arg(note));
    // Colours span 0 to the largest head (at least the uniform reference), so
    // small models without sinks still show their pattern; hover gives values.
    m_map->setDataRange(QCPRange(0, has ? std::max(double(top), double(sinks->uniform)) : 1.0));
    rescaleAxes();
    xAxis->setRange(-0.5, std::max(m_heads, 1) - 0.5);
    yAxis->setRange(-0.5, std::max(m_layers, 1) - 0.5);
    replot();
}

QString AttentionSinkPlot::hoverText(const QPointF& pixel) const {
    if (m_layers == 0 || !axisRect()->rect().contains(pixel.toPoint())) return {};
    const int h = int(std::lround(xAxis->pixelToCoord(pixel.x())));
    const int L = int(std::lround(yAxis->pixelToCoord(pixel.y())));
    if (h < 0 || h >= m_heads || L < 0 || L >= m_layers) return {};
    return tr("layer %1, head %2: %3 of the attention on the first token")
        .arg(L)
        .arg(h)
        .arg(m_map->data()->cell(h, L), 0, 'f', 3);
}

}  // namespace mono::ui
