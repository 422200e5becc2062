#include "ui/panels/quant/report_panel.h"

#include <qcustomplot.h>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "core/quant/report.h"
#include "ui/widgets/plot_style.h"
#include "ui/widgets/plot_tools.h"
#include "ui/widgets/table_export.h"

namespace mono::ui {

namespace {
constexpr double kLogFloor = 1e-7;

QCustomPlot* barPlot(const QString& name, const QString& yLabel, bool log) {
    auto* p = new QCustomPlot;
    p->setObjectName(name);
    p->setMinimumSize(360, 220);
    if (log) {
        p->yAxis->setScaleType(QCPAxis::stLogarithmic);
        p->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    }
    p->yAxis->setLabel(yLabel);
    p->xAxis->setTickLabelRotation(60);
    stylePlot(p);
    auto* bars = new QCPBars(p->xAxis, p->yAxis);
    bars->setWidth(0.7);
    bars->setPen(Qt::NoPen);
    bars->setBrush(QColor(31, 119, 180));
    PlotTools::attach(p);
    return p;
}

QString fmt(double v, int digits) {
    return std::isfinite(v) ? QString::number(v, 'g', digits) : QStringLiteral("—");
}
}  // namespace

ReportPanel::ReportPanel(QWidget* parent) : QWidget(parent) {
    m_scheme = new QComboBox;
    for (const char* s : {"O1", "O2", "O3"}) m_scheme->addItem(QString::fromLatin1(s));
    m_scheme->setToolTip(
        tr("Activations: O1 per token, O2 per tensor (dynamic), O3 per tensor "
           "(static, from calibration)"));
    m_weights = new QComboBox;
    for (const char* w : {"per-channel", "per-tensor"}) m_weights->addItem(QString::fromLatin1(w));
    m_alphaMode = new QComboBox;
    m_alphaMode->addItems(
        {tr("α: family default"), tr("α: one value"), tr("α: automatic per layer")});
    m_alpha = new QDoubleSpinBox;
    m_alpha->setRange(0.0, 1.0);
    m_alpha->setSingleStep(0.05);
    m_alpha->setValue(0.5);
    m_alpha->setEnabled(false);
    m_rotate = new QCheckBox(tr("Hadamard rotation"));
    m_rotate->setChecked(true);
    m_run = new QPushButton(tr("Run report"));
    auto* exportButton = new QPushButton(tr("Export…"));
    auto* controls = new QHBoxLayout;
    for (QWidget* w :
         {static_cast<QWidget*>(new QLabel(tr("Scheme"))), static_cast<QWidget*>(m_scheme),
          static_cast<QWidget*>(new QLabel(tr("Weights"))), static_cast<QWidget*>(m_weights),
          static_cast<QWidget*>(m_alphaMode), static_cast<QWidget*>(m_alpha),
          static_cast<QWidget*>(m_rotate), static_cast<QWidget*>(m_run),
          static_cast<QWidget*>(exportButton)})
        controls->addWidget(w);
    controls->addStretch(1);
    m_note =
        new QLabel(tr("Run the report: FP32, naive W8A8, SmoothQuant, rotation and both, at "
                      "W8A8, W4A8 and W4A4 (per group of 128), on held-out windows."));
    m_note->setWordWrap(true);

    m_table = new QTableWidget(0, 8);
    m_table->setHorizontalHeaderLabels({tr("config"), tr("perplexity"), tr("ΔPPL"), tr("KL mean"),
                                        tr("KL p99.9"), tr("same top-1 %"), tr("RMS Δp %"),
                                        tr("description")});
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->setVisible(false);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_klPlot = barPlot(QStringLiteral("kl_mean"), tr("KL mean (nats)"), true);
    m_top1Plot = barPlot(QStringLiteral("same_top1"), tr("same top-1 %"), false);

    auto* charts = new QSplitter(Qt::Horizontal);
    charts->addWidget(m_klPlot);
    charts->addWidget(m_top1Plot);
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(m_table);
    split->addWidget(charts);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(m_note);
    layout->addWidget(split, 1);

    connect(m_alphaMode, &QComboBox::currentIndexChanged, this,
            [this](int i) { m_alpha->setEnabled(i == 1); });
    connect(m_run, &QPushButton::clicked, this, &ReportPanel::runRequested);
    connect(exportButton, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Export charts and table"));
        if (dir.isEmpty()) return;
        const QStringList files = exportTo(dir);
        m_note->setText(files.isEmpty() ? tr("Export to %1 failed").arg(dir)
                                        : tr("Exported %1 files to %2").arg(files.size()).arg(dir));
    });
}

quant::QuantReportSpec ReportPanel::spec() const {
    quant::QuantReportSpec s;
    const auto act = quant::parseActScheme(m_scheme->currentText().toStdString());
    const auto w = quant::parseWeightScheme(m_weights->currentText().toStdString());
    if (act.ok()) s.scheme.act = *act;
    if (w.ok()) s.scheme.weight = *w;
    if (m_alphaMode->currentIndex() == 1) s.alphas = {float(m_alpha->value())};
    s.autoAlpha = m_alphaMode->currentIndex() == 2;
    s.searchWindows = 2;
    s.rotation =
        m_rotate->isChecked() ? quant::RotationKind::kHadamard : quant::RotationKind::kNone;
    return s;
}

void ReportPanel::setRunEnabled(bool enabled) {
    m_run->setEnabled(enabled);
}

void ReportPanel::setReport(std::shared_ptr<const quant::QuantReport> report) {
    m_report = std::move(report);
    m_table->setRowCount(0);
    if (m_report) {
        m_table->setRowCount(int(m_report->configs.size()));
        for (int r = 0; r < int(m_report->configs.size()); ++r) {
            const quant::ConfigReport& c = m_report->configs[size_t(r)];
            const quant::EndToEnd& e = c.endToEnd;
            const QString cells[] = {
                QString::fromStdString(c.name),          fmt(e.perplexity, 6),
                r == 0 ? QString() : fmt(e.deltaPpl, 4), r == 0 ? QString() : fmt(e.klMean, 4),
                r == 0 ? QString() : fmt(e.klP999, 4),   fmt(e.sameTop1Pct, 4),
                r == 0 ? QString() : fmt(e.rmsDpPct, 4), QString::fromStdString(c.description)};
            for (int k = 0; k < 8; ++k) m_table->setItem(r, k, new QTableWidgetItem(cells[k]));
        }
        m_table->resizeColumnsToContents();
        m_note->setText(tr("%1: %2 held-out windows of %3 tokens; α per group %4")
                            .arg(QString::fromStdString(m_report->model))
                            .arg(m_report->evalWindows)
                            .arg(m_report->seqLen)
                            .arg(m_report->spec.autoAlpha ? tr("searched") : tr("fixed")));
    }
    drawBars();
}

void ReportPanel::drawBars() {
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    QVector<double> keys, kl, top1;
    if (m_report)
        for (size_t i = 1; i < m_report->configs.size(); ++i) {  // fp32 has no KL
            const quant::ConfigReport& c = m_report->configs[i];
            keys.push_back(double(i));
            kl.push_back(std::max(c.endToEnd.klMean, kLogFloor));
            top1.push_back(c.endToEnd.sameTop1Pct);
            ticker->addTick(double(i), QString::fromStdString(c.name));
        }
    for (auto [plot, values] : {std::pair{m_klPlot, kl}, std::pair{m_top1Plot, top1}}) {
        auto* bars = qobject_cast<QCPBars*>(plot->plottable(0));
        bars->setData(keys, values);
        plot->xAxis->setTicker(ticker);
        plot->rescaleAxes();
        plot->xAxis->setRange(0.3, double(keys.size()) + 0.7);
        if (plot == m_top1Plot && !values.isEmpty())
            plot->yAxis->setRange(
                std::max(0.0, *std::min_element(values.begin(), values.end()) - 5), 100.5);
        plot->replot();
    }
}

QStringList ReportPanel::exportTo(const QString& dir) const {
    if (!QDir().mkpath(dir)) return {};
    const QDir d(dir);
    QStringList written;
    for (QCustomPlot* plot : {m_klPlot, m_top1Plot}) {
        auto* tools = plot->findChild<PlotTools*>();
        for (const char* suffix : {".png", ".svg"}) {
            const QString path = d.filePath(plot->objectName() + QLatin1String(suffix));
            if (!tools || !tools->save(path)) return {};
            written << path;
        }
    }
    const QString csv = d.filePath(QStringLiteral("end_to_end.csv"));
    if (!writeTableCsv(csv, m_table)) return {};
    written << csv;
    return written;
}

}  // namespace mono::ui
