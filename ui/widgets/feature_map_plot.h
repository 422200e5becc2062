#pragma once
// The feature map's scatter: one point per feature at its 2-D position,
// coloured by bin (one QCPGraph per colour, so 100 k points draw as a few
// batched scatters with QCustomPlot's adaptive sampling), zoom with the wheel
// and pan by dragging. A lasso — drag with Shift held, or any drag while
// lasso mode is on — selects the points inside the freehand polygon; a click
// on a point picks its feature, a double click opens it. The selected
// features are ringed and the current feature is marked.

#include <QPolygonF>
#include <QVector>
#include <QWidget>

#include <cstdint>
#include <vector>

class QCustomPlot;
class QCPCurve;
class QCPGraph;
class QCPLayer;

namespace mono::ui {

class FeatureMapPlot : public QWidget {
    Q_OBJECT
public:
    explicit FeatureMapPlot(QWidget* parent = nullptr);

    // Positions (x, y per feature, feature i at xy[2i]) with the colour bin of
    // each feature (an index into `colours`). Resets zoom, lasso and marks.
    void setPoints(const std::vector<float>& xy, const std::vector<int>& bins,
                   const QVector<QColor>& colours);
    // New colours for the same positions (keeps zoom, selection and mark).
    void setColours(const std::vector<int>& bins, const QVector<QColor>& colours);
    void clear();
    int64_t pointCount() const { return static_cast<int64_t>(m_xy.size() / 2); }
    QPointF position(qint64 id) const { return {m_xy[2 * id], m_xy[2 * id + 1]}; }

    // The feature marked as current (-1: none).
    void setCurrentFeature(qint64 id);
    qint64 currentFeature() const { return m_current; }
    // The features ringed as selected (empty: none).
    void setSelection(const QVector<qint64>& ids);
    const QVector<qint64>& selection() const { return m_selection; }

    void setLassoMode(bool on) { m_lassoMode = on; }
    bool lassoMode() const { return m_lassoMode; }

    // The features whose points lie inside `polygon` (plot coordinates), by id.
    QVector<qint64> featuresInside(const QPolygonF& polygon) const;
    // The feature nearest to `pixel` (widget coordinates of plot()) within
    // `radius` pixels; -1 when none.
    qint64 featureAt(const QPointF& pixel, double radius = 8) const;
    // Plot coordinates ↔ pixels of plot().
    QPointF toPixel(const QPointF& coord) const;
    QPointF toCoord(const QPointF& pixel) const;
    // Shows every point (after zooming).
    void resetZoom();

    QCustomPlot* plot() const { return m_plot; }

signals:
    void featureClicked(qint64 id);
    void featureActivated(qint64 id);
    // A lasso was drawn; `ids` are the features inside (possibly none).
    void lassoSelected(const QVector<qint64>& ids);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    bool lassoEvent(QEvent* event);
    void rebuildGraphs(const std::vector<int>& bins, const QVector<QColor>& colours);
    void redrawMarks();

    QCustomPlot* m_plot;
    QVector<QCPGraph*> m_binGraphs;
    QCPGraph* m_selectionGraph;
    QCPGraph* m_currentGraph;
    QCPCurve* m_lassoCurve;
    QCPLayer* m_lassoLayer;
    std::vector<float> m_xy;
    QVector<qint64> m_selection;
    qint64 m_current = -1;
    bool m_lassoMode = false;
    bool m_lassoing = false;
    QPolygonF m_lasso;  // plot coordinates
    QPoint m_pressPos;
};

}  // namespace mono::ui
