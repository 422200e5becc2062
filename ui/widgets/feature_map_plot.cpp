#include "ui/widgets/feature_map_plot.h"

#include <QMouseEvent>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

#include <qcustomplot.h>

#include "ui/widgets/plot_style.h"

namespace mono::ui {
namespace {

// Below this many pixels between press and release a press is a click, not a drag.
constexpr int kClickSlop = 4;

void styleScatter(QCPGraph* g, const QCPScatterStyle& style) {
    g->setLineStyle(QCPGraph::lsNone);
    g->setScatterStyle(style);
    g->setAdaptiveSampling(true);
}

}  // namespace

FeatureMapPlot::FeatureMapPlot(QWidget* parent) : QWidget(parent), m_plot(new QCustomPlot) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    stylePlot(m_plot);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    // Scatters of many points: no antialiasing, batched fast drawing.
    m_plot->setNotAntialiasedElements(QCP::aeScatters);
    m_plot->setPlottingHint(QCP::phFastPolylines, true);
    m_plot->xAxis->setTickLabels(false);
    m_plot->yAxis->setTickLabels(false);
    m_plot->xAxis->grid()->setVisible(false);
    m_plot->yAxis->grid()->setVisible(false);

    m_plot->addLayer(QStringLiteral("marks"), m_plot->layer(QStringLiteral("main")));
    m_plot->addLayer(QStringLiteral("lasso"), m_plot->layer(QStringLiteral("marks")));
    m_lassoLayer = m_plot->layer(QStringLiteral("lasso"));
    // Its own buffer: redrawing the lasso while dragging repaints only it.
    m_lassoLayer->setMode(QCPLayer::lmBuffered);

    const QColor ink = palette().color(QPalette::WindowText);
    m_selectionGraph = m_plot->addGraph();
    m_selectionGraph->setLayer(QStringLiteral("marks"));
    styleScatter(m_selectionGraph,
                 QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(ink, 1), Qt::NoBrush, 6));
    m_currentGraph = m_plot->addGraph();
    m_currentGraph->setLayer(QStringLiteral("marks"));
    styleScatter(m_currentGraph, QCPScatterStyle(QCPScatterStyle::ssCircle,
                                                 QPen(QColor(220, 40, 40), 2.5), Qt::NoBrush, 14));
    m_lassoCurve = new QCPCurve(m_plot->xAxis, m_plot->yAxis);
    m_lassoCurve->setLayer(m_lassoLayer);
    m_lassoCurve->setPen(QPen(ink, 1.5, Qt::DashLine));
    m_lassoCurve->setBrush(QColor(ink.red(), ink.green(), ink.blue(), 30));
    m_plot->installEventFilter(this);
}

void FeatureMapPlot::setPoints(const std::vector<float>& xy, const std::vector<int>& bins,
                               const QVector<QColor>& colours) {
    m_xy = xy;
    m_selection.clear();
    m_current = -1;
    m_lasso.clear();
    m_lassoCurve->data()->clear();
    rebuildGraphs(bins, colours);
    redrawMarks();
    resetZoom();
}

void FeatureMapPlot::setColours(const std::vector<int>& bins, const QVector<QColor>& colours) {
    rebuildGraphs(bins, colours);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void FeatureMapPlot::clear() {
    setPoints({}, {}, {});
}

void FeatureMapPlot::rebuildGraphs(const std::vector<int>& bins, const QVector<QColor>& colours) {
    for (QCPGraph* g : m_binGraphs) m_plot->removeGraph(g);
    m_binGraphs.clear();
    QVector<QVector<QCPGraphData>> data(colours.size());
    const int64_t n = pointCount();
    for (int64_t i = 0; i < n && i < static_cast<int64_t>(bins.size()); ++i) {
        const int b = bins[i];
        if (b >= 0 && b < colours.size()) data[b].push_back({m_xy[2 * i], m_xy[2 * i + 1]});
    }
    // Point size by how many there are: dots for 100 k, discs for a few hundred.
    const double size = n > 20000 ? 2.5 : n > 2000 ? 4 : 6;
    for (int b = 0; b < colours.size(); ++b) {
        QCPGraph* g = m_plot->addGraph();
        // Past 20 k points a square (one fillRect) instead of a disc (an
        // ellipse path each): at 2-3 pixels they look alike and draw faster.
        const auto shape = n > 20000 ? QCPScatterStyle::ssSquare : QCPScatterStyle::ssDisc;
        QCPScatterStyle style(shape, colours[b], colours[b], size);
        styleScatter(g, style);
        std::sort(data[b].begin(), data[b].end(), qcpLessThanSortKey<QCPGraphData>);
        g->data()->set(data[b], true);
        m_binGraphs.push_back(g);
    }
}

void FeatureMapPlot::resetZoom() {
    float x0 = std::numeric_limits<float>::max(), x1 = -x0, y0 = x0, y1 = -x0;
    for (int64_t i = 0; i < pointCount(); ++i) {
        x0 = std::min(x0, m_xy[2 * i]), x1 = std::max(x1, m_xy[2 * i]);
        y0 = std::min(y0, m_xy[2 * i + 1]), y1 = std::max(y1, m_xy[2 * i + 1]);
    }
    if (pointCount() == 0) x0 = y0 = 0, x1 = y1 = 1;
    const double mx = std::max(1e-6, 0.04 * (x1 - x0)), my = std::max(1e-6, 0.04 * (y1 - y0));
    m_plot->xAxis->setRange(x0 - mx, x1 + mx);
    m_plot->yAxis->setRange(y0 - my, y1 + my);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void FeatureMapPlot::setCurrentFeature(qint64 id) {
    m_current = id >= 0 && id < pointCount() ? id : -1;
    redrawMarks();
}

void FeatureMapPlot::setSelection(const QVector<qint64>& ids) {
    m_selection = ids;
    if (ids.isEmpty()) {
        m_lasso.clear();
        m_lassoCurve->data()->clear();
    }
    redrawMarks();
}

void FeatureMapPlot::redrawMarks() {
    QVector<QCPGraphData> sel;
    for (qint64 id : m_selection)
        if (id >= 0 && id < pointCount()) sel.push_back({m_xy[2 * id], m_xy[2 * id + 1]});
    std::sort(sel.begin(), sel.end(), qcpLessThanSortKey<QCPGraphData>);
    m_selectionGraph->data()->set(sel, true);
    m_currentGraph->data()->clear();
    if (m_current >= 0) m_currentGraph->addData(m_xy[2 * m_current], m_xy[2 * m_current + 1]);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

QVector<qint64> FeatureMapPlot::featuresInside(const QPolygonF& polygon) const {
    QVector<qint64> ids;
    if (polygon.size() < 3) return ids;
    const QRectF box = polygon.boundingRect();
    for (int64_t i = 0; i < pointCount(); ++i) {
        const QPointF p(m_xy[2 * i], m_xy[2 * i + 1]);
        if (box.contains(p) && polygon.containsPoint(p, Qt::OddEvenFill)) ids.push_back(i);
    }
    return ids;
}

QPointF FeatureMapPlot::toPixel(const QPointF& c) const {
    return {m_plot->xAxis->coordToPixel(c.x()), m_plot->yAxis->coordToPixel(c.y())};
}

QPointF FeatureMapPlot::toCoord(const QPointF& p) const {
    return {m_plot->xAxis->pixelToCoord(p.x()), m_plot->yAxis->pixelToCoord(p.y())};
}

qint64 FeatureMapPlot::featureAt(const QPointF& pixel, double radius) const {
    qint64 best = -1;
    double bestD2 = radius * radius;
    for (int64_t i = 0; i < pointCount(); ++i) {
        const QPointF p = toPixel({m_xy[2 * i], m_xy[2 * i + 1]}) - pixel;
        const double d2 = p.x() * p.x() + p.y() * p.y();
        if (d2 <= bestD2) bestD2 = d2, best = i;
    }
    return best;
}

bool FeatureMapPlot::eventFilter(QObject* watched, QEvent* event) {
    if (watched != m_plot) return QWidget::eventFilter(watched, event);
    if (lassoEvent(event)) return true;
    if (event->type() == QEvent::MouseButtonPress) {
        m_pressPos = static_cast<QMouseEvent*>(event)->position().toPoint();
    } else if (event->type() == QEvent::MouseButtonRelease) {
        auto* me = static_cast<QMouseEvent*>(event);
        if ((me->position().toPoint() - m_pressPos).manhattanLength() <= kClickSlop &&
            me->button() == Qt::LeftButton) {
            const qint64 id = featureAt(me->position());
            if (id >= 0) emit featureClicked(id);
        }
    } else if (event->type() == QEvent::MouseButtonDblClick) {
        const qint64 id = featureAt(static_cast<QMouseEvent*>(event)->position());
        if (id >= 0) emit featureActivated(id);
        return id >= 0;
    }
    return false;
}

// Press (in lasso mode or with Shift) starts a polygon, moves extend it, the
// release closes it and reports the points inside. The plot never sees these
// events, so it does not pan meanwhile.
bool FeatureMapPlot::lassoEvent(QEvent* event) {
    const auto type = event->type();
    if (type != QEvent::MouseButtonPress && type != QEvent::MouseMove &&
        type != QEvent::MouseButtonRelease)
        return false;
    auto* me = static_cast<QMouseEvent*>(event);
    if (type == QEvent::MouseButtonPress) {
        if (me->button() != Qt::LeftButton ||
            !(m_lassoMode || me->modifiers().testFlag(Qt::ShiftModifier)))
            return false;
        m_lassoing = true;
        m_lasso = QPolygonF{toCoord(me->position())};
    } else if (!m_lassoing) {
        return false;
    } else {
        m_lasso.push_back(toCoord(me->position()));
    }
    QVector<double> t, x, y;
    for (int i = 0; i < m_lasso.size(); ++i) t << i, x << m_lasso[i].x(), y << m_lasso[i].y();
    if (type == QEvent::MouseButtonRelease && !m_lasso.isEmpty())
        t << m_lasso.size(), x << m_lasso.front().x(), y << m_lasso.front().y();
    m_lassoCurve->setData(t, x, y, true);
    m_lassoLayer->replot();
    if (type == QEvent::MouseButtonRelease) {
        m_lassoing = false;
        const QVector<qint64> ids = featuresInside(m_lasso);
        setSelection(ids);
        emit lassoSelected(ids);
    }
    return true;
}

}  // namespace mono::ui
