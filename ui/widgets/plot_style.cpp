#include "ui/widgets/plot_style.h"

#include <QApplication>
#include <QPalette>

#include <qcustomplot.h>
#include <array>
#include <cmath>

namespace mono::ui {

void stylePlot(QCustomPlot* plot) {
    const QPalette palette = QApplication::palette();
    const QColor background = palette.color(QPalette::Base);
    const QColor text = palette.color(QPalette::Text);
    QColor grid = text;
    grid.setAlpha(28);
    QColor axis = text;
    axis.setAlpha(120);
    plot->setBackground(background);
    for (QCPAxis* a : {plot->xAxis, plot->yAxis}) {
        a->setBasePen(QPen(axis));
        a->setTickPen(QPen(axis));
        a->setSubTickPen(QPen(axis));
        a->setTickLabelColor(text);
        a->setLabelColor(text);
        a->grid()->setPen(QPen(grid));
        a->grid()->setZeroLinePen(QPen(grid));
        QFont font = plot->font();
        font.setPointSizeF(8.5);
        a->setTickLabelFont(font);
        a->setLabelFont(font);
    }
    plot->axisRect()->setAutoMargins(QCP::msAll);
    // The legend follows the theme too (QCustomPlot's default is white on white).
    plot->legend->setBrush(QBrush(background));
    plot->legend->setTextColor(text);
    plot->legend->setBorderPen(Qt::NoPen);
    QFont legendFont = plot->font();
    legendFont.setPointSizeF(8.5);
    plot->legend->setFont(legendFont);
}

void placeLegendAbove(QCustomPlot* plot) {
    plot->legend->setVisible(true);
    if (plot->plotLayout()->hasElement(0, 0) && plot->plotLayout()->element(0, 0) == plot->legend)
        return;
    plot->axisRect()->insetLayout()->take(plot->legend);
    plot->plotLayout()->insertRow(0);
    plot->plotLayout()->addElement(0, 0, plot->legend);
    plot->plotLayout()->setRowStretchFactor(0, 0.001);
    plot->plotLayout()->setRowSpacing(0);
    plot->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    plot->legend->setMargins(QMargins(4, 2, 4, 0));
}

namespace {
// Tick labels of counts with an SI suffix instead of QCustomPlot's "1·10⁶".
class CountTicker : public QCPAxisTicker {
protected:
    QString getTickLabel(double tick, const QLocale&, QChar, int) override {
        const double a = std::abs(tick);
        if (a >= 1e9) return QString::number(tick / 1e9, 'g', 3) + QLatin1Char('G');
        if (a >= 1e6) return QString::number(tick / 1e6, 'g', 3) + QLatin1Char('M');
        if (a >= 1e3) return QString::number(tick / 1e3, 'g', 3) + QLatin1Char('k');
        return QString::number(tick, 'g', 3);
    }
};
}  // namespace

void useCountTicker(QCPAxis* axis) {
    axis->setTicker(QSharedPointer<CountTicker>::create());
}

QColor plotColor(int i) {
    static const std::array<QColor, 6> kColors = {
        QColor(0x25, 0x63, 0xeb), QColor(0xdc, 0x26, 0x26), QColor(0x05, 0x96, 0x69),
        QColor(0x7c, 0x3a, 0xed), QColor(0xd9, 0x77, 0x06), QColor(0x08, 0x91, 0xb2)};
    return kColors[static_cast<size_t>(i) % kColors.size()];
}

}  // namespace mono::ui
