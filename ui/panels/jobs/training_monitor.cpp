#include "ui/panels/jobs/training_monitor.h"

#include <QGridLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include "ui/widgets/plot_style.h"

namespace mono::ui {

namespace {
QString curveTitle(TrainingMonitor::Curve c) {
    switch (c) {
        case TrainingMonitor::kLoss:
            return TrainingMonitor::tr("Loss");
        case TrainingMonitor::kMse:
            return TrainingMonitor::tr("MSE");
        case TrainingMonitor::kL0:
            return TrainingMonitor::tr("L0 (active features per token)");
        case TrainingMonitor::kDeadPct:
            return TrainingMonitor::tr("Dead features (%)");
        case TrainingMonitor::kExplainedVariance:
            return TrainingMonitor::tr("Explained variance");
        case TrainingMonitor::kCurveCount:
            break;
    }
    return {};
}
}  // namespace

QString TrainingMonitor::metricKey(Curve curve) {
    switch (curve) {
        case kLoss:
            return QStringLiteral("loss");
        case kMse:
            return QStringLiteral("mse");
        case kL0:
            return QStringLiteral("l0");
        case kDeadPct:
            return QStringLiteral("dead_pct");
        case kExplainedVariance:
            return QStringLiteral("explained_variance");
        case kCurveCount:
            break;
    }
    return {};
}

TrainingMonitor::TrainingMonitor(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* header = new QHBoxLayout;
    m_title = new QLabel(tr("No training run yet"));
    m_title->setObjectName(QStringLiteral("formLabel"));
    m_summary = new QLabel;
    m_summary->setObjectName(QStringLiteral("hint"));
    header->addWidget(m_title);
    header->addStretch(1);
    header->addWidget(m_summary);
    layout->addLayout(header);
    auto* grid = new QGridLayout;
    grid->setSpacing(6);
    for (int i = 0; i < kCurveCount; ++i) {
        auto* plot = new QCustomPlot;
        plot->setObjectName(QStringLiteral("monitor_") + metricKey(Curve(i)));
        plot->setMinimumSize(200, 120);
        plot->addGraph();
        plot->graph(0)->setPen(QPen(plotColor(i), 1.6));
        plot->plotLayout()->insertRow(0);
        auto* title = new QCPTextElement(plot, curveTitle(Curve(i)));
        title->setObjectName(QStringLiteral("title"));
        plot->plotLayout()->addElement(0, 0, title);
        plot->plotLayout()->setRowStretchFactor(0,
                                                0.001);  // the title takes its text's height only
        plot->xAxis->setLabel(tr("tokens seen"));
        useCountTicker(plot->xAxis);
        m_plots[static_cast<size_t>(i)] = plot;
        // Explained variance gets the wide bottom cell: it is the headline number.
        if (i == kExplainedVariance)
            grid->addWidget(plot, 2, 0, 1, 2);
        else
            grid->addWidget(plot, i / 2, i % 2);
    }
    layout->addLayout(grid, 1);
    restyle();
}

void TrainingMonitor::restyle() {
    for (QCustomPlot* plot : m_plots) {
        stylePlot(plot);
        if (auto* title = qobject_cast<QCPTextElement*>(plot->plotLayout()->element(0, 0))) {
            title->setTextColor(palette().color(QPalette::WindowText));
            QFont f = plot->font();
            f.setBold(true);
            title->setFont(f);
        }
        plot->replot(QCustomPlot::rpQueuedReplot);
    }
}

void TrainingMonitor::startRun(const QString& title, qint64 batchSize) {
    m_batchSize = std::max<qint64>(1, batchSize);
    m_lastStep = -1;
    m_points = 0;
    m_title->setText(title);
    m_summary->clear();
    for (QCustomPlot* plot : m_plots) {
        plot->graph(0)->data()->clear();
        plot->replot(QCustomPlot::rpQueuedReplot);
    }
}

void TrainingMonitor::addReport(const QVariantMap& metrics) {
    if (!metrics.contains(QStringLiteral("step"))) return;
    const double step = metrics.value(QStringLiteral("step")).toDouble();
    if (step <= m_lastStep) return;
    m_lastStep = step;
    const double tokens = step * static_cast<double>(m_batchSize);
    bool added = false;
    for (int i = 0; i < kCurveCount; ++i) {
        const QString key = metricKey(Curve(i));
        if (!metrics.contains(key)) continue;
        QCustomPlot* plot = m_plots[static_cast<size_t>(i)];
        plot->graph(0)->addData(tokens, metrics.value(key).toDouble());
        plot->rescaleAxes();
        // Percentages and explained variance read best on their natural range.
        if (i == kExplainedVariance)
            plot->yAxis->setRange(std::min(0.0, plot->yAxis->range().lower), 1.0);
        if (i == kDeadPct)
            plot->yAxis->setRange(0, std::max(5.0, plot->yAxis->range().upper * 1.1));
        plot->replot(QCustomPlot::rpQueuedReplot);
        added = true;
    }
    if (!added) return;
    ++m_points;
    m_summary->setText(
        tr("step %1 · %2 tokens · loss %3 · L0 %4 · EV %5")
            .arg(step, 0, 'f', 0)
            .arg(tokens, 0, 'f', 0)
            .arg(metrics.value(QStringLiteral("loss")).toDouble(), 0, 'g', 4)
            .arg(metrics.value(QStringLiteral("l0")).toDouble(), 0, 'f', 1)
            .arg(metrics.value(QStringLiteral("explained_variance")).toDouble(), 0, 'f', 3));
}

}  // namespace mono::ui
