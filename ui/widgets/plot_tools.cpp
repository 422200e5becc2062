#include "ui/widgets/plot_tools.h"

#include <QCursor>
#include <QFileDialog>
#include <QMenu>
#include <QSvgGenerator>
#include <QToolTip>

#include <qcustomplot.h>
#include <cmath>
#include <limits>

namespace mono::ui {

namespace {
// A point farther than this from the mouse (in pixels) is not "under" it.
constexpr double kNearPixels = 24.0;

QString number(double v) {
    if (v == 0) return QStringLiteral("0");
    const double a = std::fabs(v);
    if (a >= 1e5 || a < 1e-3) return QString::number(v, 'g', 3);
    return QString::number(v, 'f', a >= 100 ? 1 : 3);
}
}  // namespace

PlotTools* PlotTools::attach(QCustomPlot* plot) {
    return new PlotTools(plot);
}

PlotTools::PlotTools(QCustomPlot* plot) : QObject(plot), m_plot(plot) {
    m_plot->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_plot, &QCustomPlot::customContextMenuRequested, this, &PlotTools::showMenu);
    connect(m_plot, &QCustomPlot::mouseMove, this, &PlotTools::onMouseMove);
}

QString PlotTools::hoverText(const QPointF& pixel) const {
    double best = kNearPixels * kNearPixels;
    QString text;
    for (int g = 0; g < m_plot->graphCount(); ++g) {
        QCPGraph* graph = m_plot->graph(g);
        if (!graph->visible() || graph->data()->isEmpty()) continue;
        const double key = graph->keyAxis()->pixelToCoord(pixel.x());
        auto it = graph->data()->findBegin(key, true);
        for (int k = 0; k < 2 && it != graph->data()->constEnd(); ++k, ++it) {
            const QPointF at = graph->coordsToPixels(it->key, it->value);
            const double d = std::pow(at.x() - pixel.x(), 2) + std::pow(at.y() - pixel.y(), 2);
            if (d >= best) continue;
            best = d;
            const QString name =
                graph->name().isEmpty() ? QString() : graph->name() + QStringLiteral(": ");
            text = QStringLiteral("%1%2 at %3").arg(name, number(it->value), number(it->key));
        }
    }
    for (int i = 0; i < m_plot->plottableCount() && text.isEmpty(); ++i) {
        auto* bars = qobject_cast<QCPBars*>(m_plot->plottable(i));
        if (!bars || !bars->visible()) continue;
        const double key = bars->keyAxis()->pixelToCoord(pixel.x());
        auto it = bars->data()->findBegin(key - bars->width() / 2, true);
        if (it != bars->data()->constEnd() && std::fabs(it->key - key) <= bars->width() / 2)
            text = QStringLiteral("%1 at %2").arg(number(it->value), number(it->key));
    }
    return text;
}

void PlotTools::onMouseMove(QMouseEvent* event) {
    const QString text = hoverText(event->position());
    if (text.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), text, m_plot);
}

bool PlotTools::save(const QString& path) const {
    if (path.endsWith(QStringLiteral(".pdf"), Qt::CaseInsensitive)) return m_plot->savePdf(path);
    if (path.endsWith(QStringLiteral(".svg"), Qt::CaseInsensitive)) return saveSvg(path);
    return m_plot->savePng(path, 0, 0, 2.0);
}

bool PlotTools::saveSvg(const QString& path) const {
    const int w = m_plot->width(), h = m_plot->height();
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(QSize(w, h));
    svg.setViewBox(QRect(0, 0, w, h));
    svg.setTitle(m_plot->objectName());
    QCPPainter painter;
    if (!painter.begin(&svg)) return false;
    m_plot->toPainter(&painter, w, h);
    return painter.end();
}

void PlotTools::showMenu(const QPoint& pos) {
    QMenu menu(m_plot);
    const auto saveAs = [this](const QString& filter, const QString& suffix) {
        QString path = QFileDialog::getSaveFileName(m_plot, tr("Save the plot"),
                                                    m_plot->objectName() + suffix, filter);
        if (path.isEmpty()) return;
        if (!path.endsWith(suffix, Qt::CaseInsensitive)) path += suffix;
        if (!save(path)) QToolTip::showText(QCursor::pos(), tr("Could not write %1").arg(path));
    };
    menu.addAction(tr("Save as PNG…"), this,
                   [saveAs] { saveAs(tr("PNG image (*.png)"), QStringLiteral(".png")); });
    menu.addAction(tr("Save as SVG…"), this,
                   [saveAs] { saveAs(tr("SVG image (*.svg)"), QStringLiteral(".svg")); });
    menu.addAction(tr("Save as PDF…"), this,
                   [saveAs] { saveAs(tr("PDF (*.pdf)"), QStringLiteral(".pdf")); });
    menu.exec(m_plot->mapToGlobal(pos));
}

}  // namespace mono::ui
