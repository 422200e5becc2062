#pragma once
// One look for every QCustomPlot in the application: the palette's colours,
// quiet grid, readable fonts; and the series colours, in order.

#include <QColor>

class QCPAxis;
class QCustomPlot;

namespace mono::ui {

// Applies the current application palette (light or dark) to `plot`.
void stylePlot(QCustomPlot* plot);
// Series colour `i` (cycles).
QColor plotColor(int i);
// Makes `axis` label large counts compactly: 250k, 1.5M, 2G.
void useCountTicker(QCPAxis* axis);
// Shows the legend in a row of its own above the axes, so that it never
// covers a curve; stylePlot() gives it the theme's colours.
void placeLegendAbove(QCustomPlot* plot);

}  // namespace mono::ui
