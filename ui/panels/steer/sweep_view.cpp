#include "ui/panels/steer/sweep_view.h"

#include <qcustomplot.h>
#include <QHeaderView>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "ui/widgets/display_format.h"
#include "ui/widgets/plot_style.h"

namespace mono::ui {

SweepView::SweepView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* split = new QSplitter(Qt::Vertical);
    m_table = new QTableWidget(0, 6);
    m_table->setObjectName(QStringLiteral("sweepTable"));
    m_table->setHorizontalHeaderLabels({tr("value"), tr("applied"), tr("p(top tokens)"), tr("KL"),
                                        tr("Δ loss"), tr("steered text")});
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_plot = new QCustomPlot;
    m_plot->setObjectName(QStringLiteral("sweepPlot"));
    m_plot->setMinimumHeight(160);
    m_plot->addGraph();
    m_plot->addGraph();
    m_plot->graph(0)->setName(tr("Δ loss (nats)"));
    m_plot->graph(1)->setName(tr("KL (nats)"));
    stylePlot(m_plot);
    m_plot->graph(0)->setPen(QPen(plotColor(0), 2));
    m_plot->graph(1)->setPen(QPen(plotColor(1), 2, Qt::DashLine));
    for (int g = 0; g < 2; ++g)
        m_plot->graph(g)->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
    m_plot->yAxis->setLabel(tr("nats per token"));
    placeLegendAbove(m_plot);
    split->addWidget(m_table);
    split->addWidget(m_plot);
    layout->addWidget(split);
}

void SweepView::clear() {
    m_table->setRowCount(0);
    for (int g = 0; g < 2; ++g) m_plot->graph(g)->data()->clear();
    m_plot->replot();
}

int SweepView::rows() const {
    return m_table->rowCount();
}

void SweepView::setReport(const steer::SweepReport& report, bool relative) {
    clear();
    m_table->setRowCount(int(report.points.size()));
    QVector<double> x, loss, kl;
    for (int r = 0; r < int(report.points.size()); ++r) {
        const steer::SweepPoint& p = report.points[size_t(r)];
        const QString value =
            // Sweep values are round numbers ("2.5×"); −0 prints as 0.
            QString::number(std::fabs(p.edit.value) < 1e-12 ? 0.0 : p.edit.value, 'g', 4) +
            (relative ? QStringLiteral("×") : QString());
        QString text = QString::fromStdString(p.steered.text).simplified();
        const QStringList cells{value,
                                formatFixed(p.edit.absolute(), 3),
                                formatFixed(p.shift.sumSteered, 4),
                                formatFixed(p.fluency.meanKl, 3),
                                formatFixed(p.fluency.deltaLoss, 3),
                                text};
        for (int c = 0; c < cells.size(); ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            if (c < 5) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            if (c == 5) item->setToolTip(QString::fromStdString(p.steered.text));
            m_table->setItem(r, c, item);
        }
        x.push_back(p.edit.value);
        loss.push_back(p.fluency.deltaLoss);
        kl.push_back(p.fluency.meanKl);
    }
    m_table->resizeColumnsToContents();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_plot->graph(0)->setData(x, loss, true);
    m_plot->graph(1)->setData(x, kl, true);
    m_plot->xAxis->setLabel(relative ? tr("clamp value (× max activation)") : tr("clamp value"));
    m_plot->rescaleAxes();
    // Room around the points: a marker on the axis' end would be cut in half.
    const QCPRange y = m_plot->yAxis->range();
    const double pad = std::max(0.05, 0.08 * (y.upper - std::min(0.0, y.lower)));
    m_plot->yAxis->setRange(std::min(0.0, y.lower - (y.lower < 0 ? pad : 0.0)), y.upper + pad);
    const QCPRange xr = m_plot->xAxis->range();
    const double xpad = std::max(0.05, 0.03 * xr.size());
    m_plot->xAxis->setRange(xr.lower - xpad, xr.upper + xpad);
    m_plot->replot();
}

}  // namespace mono::ui
