#pragma once
// What every plot offers besides its curves: the value under the mouse in a
// tooltip (the nearest data point of any graph), and a context menu that saves
// the plot as PNG, SVG or PDF (the last two vector). Attach once per plot; the
// tools are owned by it.

#include <QObject>
#include <QString>

class QCustomPlot;
class QMouseEvent;

namespace mono::ui {

class PlotTools : public QObject {
    Q_OBJECT
public:
    // Attaches hover values and the save menu to `plot` (which owns the tools).
    static PlotTools* attach(QCustomPlot* plot);

    // The text hovering at `pixel` (plot coordinates) shows; "" when no point is near.
    QString hoverText(const QPointF& pixel) const;
    // Saves the plot at its current size, by the path's suffix: .svg, .pdf, or
    // otherwise PNG at twice the pixels. False when the file could not be written.
    bool save(const QString& path) const;

private:
    explicit PlotTools(QCustomPlot* plot);
    void onMouseMove(QMouseEvent* event);
    void showMenu(const QPoint& pos);
    bool saveSvg(const QString& path) const;

    QCustomPlot* m_plot;
};

}  // namespace mono::ui
