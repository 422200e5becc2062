#include "ui/panels/quant/outlier_panel.h"

#include <qcustomplot.h>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>

#include "core/quant/outliers.h"
#include "core/quant/report.h"
#include "core/sae/sae.h"
#include "ui/panels/quant/attention_sink_plot.h"
#include "ui/panels/quant/channel_feature_list.h"
#include "ui/widgets/plot_style.h"
#include "ui/widgets/plot_tools.h"
#include "ui/widgets/table_export.h"

namespace mono::ui {

namespace {
// Log scales cannot show 0: values are floored here for drawing only.
constexpr double kLogFloor = 1e-4;

QCustomPlot* logPlot(const QString& xLabel, const QString& yLabel) {
    auto* p = new QCustomPlot;
    p->setMinimumSize(320, 220);
    p->yAxis->setScaleType(QCPAxis::stLogarithmic);
    p->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    p->xAxis->setLabel(xLabel);
    p->yAxis->setLabel(yLabel);
    stylePlot(p);
    return p;
}

QCPItemStraightLine* marker(QCustomPlot* plot) {
    auto* line = new QCPItemStraightLine(plot);
    line->setPen(QPen(QColor(214, 39, 40), 1.5, Qt::DashLine));
    line->setVisible(false);
    return line;
}

}  // namespace

OutlierPanel::OutlierPanel(QWidget* parent) : QWidget(parent) {
    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Input")));
    m_inputBox = new QComboBox;
    controls->addWidget(m_inputBox, 1);
    m_sort = new QCheckBox(tr("Sort channels by max"));
    controls->addWidget(m_sort);
    m_rotate = new QCheckBox(tr("Hadamard rotation"));
    m_rotate->setToolTip(
        tr("Show the input of a copy of the model whose residual stream is "
           "rotated by a Hadamard matrix (folded into the weights; same "
           "float function)"));
    controls->addWidget(m_rotate);
    auto* exportButton = new QPushButton(tr("Export…"));
    controls->addWidget(exportButton);
    m_summary = new QLabel;
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_heatPlot = new QCustomPlot;
    m_heatPlot->setMinimumSize(360, 240);
    m_heatPlot->setObjectName(QStringLiteral("heatmap"));
    stylePlot(m_heatPlot);
    m_heatPlot->xAxis->setLabel(tr("channel"));
    m_heatPlot->yAxis->setLabel(tr("token"));
    m_heatPlot->yAxis->setRangeReversed(true);
    m_heatmap = new QCPColorMap(m_heatPlot->xAxis, m_heatPlot->yAxis);
    auto* scale = new QCPColorScale(m_heatPlot);
    m_heatPlot->plotLayout()->addElement(0, 1, scale);
    scale->setDataScaleType(QCPAxis::stLogarithmic);
    scale->axis()->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    scale->axis()->setLabel(tr("|x|"));
    m_heatmap->setColorScale(scale);
    m_heatmap->setGradient(QCPColorGradient(QCPColorGradient::gpThermal));
    m_heatmap->setInterpolate(false);
    m_heatMark = marker(m_heatPlot);
    PlotTools::attach(m_heatPlot);
    connect(m_heatPlot, &QCustomPlot::mouseMove, this, [this](QMouseEvent* e) {
        const QString t = heatmapHoverText(e->position());
        if (!t.isEmpty()) QToolTip::showText(e->globalPosition().toPoint(), t, m_heatPlot);
    });

    m_maxPlot = logPlot(tr("channel"), tr("max |x|"));
    m_maxPlot->setObjectName(QStringLiteral("maxima"));
    m_maxPlot->addGraph()->setPen(QPen(QColor(31, 119, 180), 1.2));
    m_maxPlot->graph(0)->setName(tr("max |x|"));
    m_maxPlot->graph(0)->setLineStyle(QCPGraph::lsStepCenter);
    m_maxMark = marker(m_maxPlot);
    PlotTools::attach(m_maxPlot);

    m_massivePlot = logPlot(tr("layer (residual stream after the block)"), tr("|x|"));
    m_massivePlot->setObjectName(QStringLiteral("massive"));
    placeLegendAbove(m_massivePlot);
    const QColor colors[] = {QColor(214, 39, 40), QColor(255, 127, 14), QColor(188, 189, 34),
                             QColor(120, 120, 120)};
    const QString names[] = {tr("top 1"), tr("top 2"), tr("top 3"), tr("median")};
    for (int i = 0; i < 4; ++i) {
        QCPGraph* g = m_massivePlot->addGraph();
        g->setName(names[i]);
        g->setPen(QPen(colors[i], i == 0 ? 2.0 : 1.3));
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
    }
    QSharedPointer<QCPAxisTickerFixed> layerTicks(new QCPAxisTickerFixed);
    layerTicks->setTickStep(1.0);
    layerTicks->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    m_massivePlot->xAxis->setTicker(layerTicks);
    PlotTools::attach(m_massivePlot);

    m_table = new QTableWidget(0, 5);
    m_table->setHorizontalHeaderLabels({tr("channel"), tr("max |x|"), tr("max / median"),
                                        tr("% tokens > 6× median"),
                                        tr("layers where it stands out")});
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->setVisible(false);

    auto* top = new QSplitter(Qt::Horizontal);
    top->addWidget(m_heatPlot);
    top->addWidget(m_maxPlot);
    m_sinkPlot = new AttentionSinkPlot;
    m_features = new ChannelFeatureList;
    connect(m_features, &ChannelFeatureList::featureRequested, this,
            &OutlierPanel::featureRequested);
    auto* tables = new QSplitter(Qt::Vertical);
    tables->addWidget(m_table);
    tables->addWidget(m_features);
    auto* bottom = new QSplitter(Qt::Horizontal);
    bottom->addWidget(tables);
    bottom->addWidget(m_massivePlot);
    bottom->addWidget(m_sinkPlot);
    bottom->setStretchFactor(0, 4);  // the tables' text needs the width more than the plots
    bottom->setStretchFactor(1, 3);
    bottom->setStretchFactor(2, 2);
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(top);
    split->addWidget(bottom);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(m_summary);
    layout->addWidget(split, 1);

    connect(m_inputBox, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
    connect(m_sort, &QCheckBox::toggled, this, [this] { redraw(); });
    connect(m_rotate, &QCheckBox::toggled, this, [this] {
        fillTable();
        redraw();
    });
    connect(m_table, &QTableWidget::itemSelectionChanged, this, [this] {
        const auto rows = m_table->selectionModel()->selectedRows();
        if (!rows.isEmpty())
            setChannel(m_table->item(rows.front().row(), 0)->data(Qt::UserRole).toInt());
    });
    connect(exportButton, &QPushButton::clicked, this, &OutlierPanel::exportDialog);
    setData(nullptr);
}

void OutlierPanel::setData(std::shared_ptr<const quant::OutlierData> data) {
    m_data = std::move(data);
    m_channel = -1;
    {
        const QSignalBlocker block(m_inputBox);
        m_inputBox->clear();
        if (m_data)
            for (const quant::InputStats& s : m_data->plain.inputs)
                if (s.input.site == model::HookSite::kAttnIn ||
                    s.input.site == model::HookSite::kMlpIn)
                    m_inputBox->addItem(QString::fromStdString(s.input.hook));
    }
    const bool canRotate = m_data && m_data->hasRotation();
    m_rotate->setEnabled(canRotate);
    if (!canRotate) m_rotate->setChecked(false);
    m_rotate->setToolTip(m_data && !canRotate ? QString::fromStdString(m_data->rotationNote)
                                              : m_rotate->toolTip());
    fillTable();
    drawMassive();
    m_sinkPlot->setSinks(m_data ? &m_data->sinks : nullptr,
                         m_data ? QString::fromStdString(m_data->sinksNote) : QString());
    redraw();
}

void OutlierPanel::setFeatureSource(std::shared_ptr<const sae::Sae> sae,
                                    const FeatureStoreHandle* store, const QString& name) {
    m_features->setSource(std::move(sae), store, name);
    setChannel(m_channel);
}

void OutlierPanel::setInput(int index) {
    m_inputBox->setCurrentIndex(index);
}
int OutlierPanel::input() const {
    return m_inputBox->currentIndex();
}
bool OutlierPanel::rotated() const {
    return m_rotate->isChecked();
}
bool OutlierPanel::sorted() const {
    return m_sort->isChecked();
}

const quant::InputStats* OutlierPanel::shownInput() const {
    if (!m_data || input() < 0) return nullptr;
    const quant::Calibration& c = rotated() ? m_data->rotated : m_data->plain;
    int k = 0;
    for (const quant::InputStats& s : c.inputs) {
        if (s.input.site != model::HookSite::kAttnIn && s.input.site != model::HookSite::kMlpIn)
            continue;
        if (k++ == input()) return &s;
    }
    return nullptr;
}

int OutlierPanel::channelColumn() const {
    const auto it = std::find(m_order.begin(), m_order.end(), m_channel);
    return it == m_order.end() ? -1 : int(it - m_order.begin());
}

void OutlierPanel::setChannel(int channel) {
    m_channel = channel;
    const int col = channelColumn();
    for (QCPItemStraightLine* line : {m_heatMark, m_maxMark}) {
        line->setVisible(col >= 0);
        line->point1->setCoords(col, 0);
        line->point2->setCoords(col, 1);
    }
    if (col >= 0 && shownInput()) {
        const quant::InputStats& s = *shownInput();
        m_summary->setText(tr("%1 — channel %2: max |x| %3")
                               .arg(QString::fromStdString(s.input.hook))
                               .arg(channel)
                               .arg(double(s.channelMax[size_t(channel)]), 0, 'g', 4));
    }
    // Decoder directions live in the model's own basis, not the rotated one.
    const quant::InputStats* s = shownInput();
    m_features->setChannel(rotated() || !s ? -1 : channel, s ? int(s->channelMax.size()) : 0);
    m_heatPlot->replot();
    m_maxPlot->replot();
}

void OutlierPanel::redraw() {
    const quant::InputStats* s = shownInput();
    m_shownMax = s ? s->channelMax : std::vector<float>{};
    const int C = int(m_shownMax.size());
    m_order = sorted() ? quant::sortedOrder(m_shownMax) : std::vector<int>();
    if (!sorted())
        for (int c = 0; c < C; ++c) m_order.push_back(c);
    const int rows = s ? s->heatmapRows : 0;
    m_heatmap->data()->setSize(std::max(C, 1), std::max(rows, 1));
    m_heatmap->data()->setRange(QCPRange(0, std::max(C - 1, 1)),
                                QCPRange(0, std::max(rows - 1, 1)));
    m_heatmap->data()->fill(kLogFloor);
    QVector<double> keys, values;
    for (int x = 0; x < C; ++x) {
        const int c = m_order[size_t(x)];
        for (int t = 0; t < rows; ++t)
            m_heatmap->data()->setCell(
                x, t, std::max(double(s->heatmap[size_t(t) * size_t(C) + size_t(c)]), kLogFloor));
        keys.push_back(x);
        values.push_back(std::max(double(m_shownMax[size_t(c)]), kLogFloor));
    }
    m_heatmap->rescaleDataRange(true);
    m_heatPlot->rescaleAxes();
    m_maxPlot->graph(0)->setData(keys, values, true);
    m_maxPlot->rescaleAxes();
    m_maxPlot->yAxis->setRangeUpper(m_maxPlot->yAxis->range().upper * 1.6);
    m_maxPlot->xAxis->setLabel(sorted() ? tr("channels, largest max first") : tr("channel"));
    m_heatPlot->xAxis->setLabel(m_maxPlot->xAxis->label());
    if (s && C > 0) {
        const quant::InputOutlierStats st = quant::outlierStats(*s);
        m_summary->setText(tr("%1%2: max |x| %3, max / median channel %4, kurtosis %5")
                               .arg(QString::fromStdString(s->input.hook))
                               .arg(rotated() ? tr(" (rotated)") : QString())
                               .arg(double(st.max), 0, 'g', 4)
                               .arg(double(st.maxOverMedian), 0, 'f', 1)
                               .arg(st.kurtosis, 0, 'f', 1));
    } else {
        m_summary->setText(m_data ? tr("No input to show.") : tr("Calibrate to see outliers."));
    }
    setChannel(m_channel);
}

void OutlierPanel::fillTable() {
    const QSignalBlocker block(m_table);
    m_table->setRowCount(0);
    if (!m_data) return;
    const auto& rows = rotated() ? m_data->rotatedTable : m_data->table;
    m_table->setRowCount(int(rows.size()));
    for (int r = 0; r < int(rows.size()); ++r) {
        const quant::OutlierRow& o = rows[size_t(r)];
        QStringList layers;
        for (int L : o.layers) layers << QString::number(L);
        const QString cells[] = {QString::number(o.channel), QString::number(double(o.max), 'g', 4),
                                 QString::number(double(o.ratio), 'f', 1),
                                 QString::number(double(o.pctAbove), 'f', 1),
                                 layers.join(QStringLiteral(", "))};
        for (int c = 0; c < 5; ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            item->setData(Qt::UserRole, o.channel);
            m_table->setItem(r, c, item);
        }
    }
    m_table->resizeColumnsToContents();
}

void OutlierPanel::drawMassive() {
    for (int g = 0; g < 4; ++g) m_massivePlot->graph(g)->data()->clear();
    m_massivePlot->clearItems();
    if (m_data) {
        for (const quant::MassiveLayer& m : m_data->massive) {
            for (int k = 0; k < 3; ++k)
                m_massivePlot->graph(k)->addData(m.layer,
                                                 std::max(double(m.top[size_t(k)]), kLogFloor));
            m_massivePlot->graph(3)->addData(m.layer, std::max(double(m.median), kLogFloor));
            // Where the largest value sits: the token and the channel.
            auto* label = new QCPItemText(m_massivePlot);
            label->position->setCoords(m.layer, std::max(double(m.top[0]), kLogFloor));
            label->setPositionAlignment(Qt::AlignHCenter | Qt::AlignBottom);
            label->setText(QStringLiteral("%1 @%2 ch %3")
                               .arg(QString::fromStdString(m.topToken[0]).left(12))
                               .arg(m.topPosition[0])
                               .arg(m.topChannel[0]));
            label->setFont(QFont(font().family(), 7));
        }
    }
    m_massivePlot->rescaleAxes();
    m_massivePlot->xAxis->scaleRange(1.15);
    m_massivePlot->yAxis->scaleRange(3.0);
    m_massivePlot->replot();
}

QString OutlierPanel::heatmapHoverText(const QPointF& pixel) const {
    const quant::InputStats* s = shownInput();
    if (!s || !m_heatPlot->axisRect()->rect().contains(pixel.toPoint())) return {};
    const int x = int(std::lround(m_heatPlot->xAxis->pixelToCoord(pixel.x())));
    const int t = int(std::lround(m_heatPlot->yAxis->pixelToCoord(pixel.y())));
    const int C = int(s->channelMax.size());
    if (x < 0 || x >= C || t < 0 || t >= s->heatmapRows || x >= int(m_order.size())) return {};
    const int c = m_order[size_t(x)];
    const QString token = t < int(m_data->heatmapTokens.size())
                              ? QString::fromStdString(m_data->heatmapTokens[size_t(t)])
                              : QString::number(t);
    return tr("token %1 “%2”, channel %3: |x| = %4")
        .arg(t)
        .arg(token)
        .arg(c)
        .arg(double(s->heatmap[size_t(t) * size_t(C) + size_t(c)]), 0, 'g', 4);
}

QStringList OutlierPanel::exportTo(const QString& dir) const {
    if (!QDir().mkpath(dir)) return {};
    QStringList written;
    const QDir d(dir);
    for (QCustomPlot* plot :
         {m_heatPlot, m_maxPlot, m_massivePlot, static_cast<QCustomPlot*>(m_sinkPlot)}) {
        auto* tools = plot->findChild<PlotTools*>();
        for (const char* suffix : {".png", ".svg"}) {
            const QString path = d.filePath(plot->objectName() + QLatin1String(suffix));
            if (!tools || !tools->save(path)) return {};
            written << path;
        }
    }
    const QString table = d.filePath(QStringLiteral("outliers.csv"));
    if (!writeTableCsv(table, m_table)) return {};
    written << table;
    // The massive-activation numbers behind the plot.
    QTableWidget massive(0, 8);
    massive.setHorizontalHeaderLabels({QStringLiteral("layer"), QStringLiteral("top1"),
                                       QStringLiteral("top1_token"), QStringLiteral("top1_channel"),
                                       QStringLiteral("top2"), QStringLiteral("top3"),
                                       QStringLiteral("median"), QStringLiteral("top1_position")});
    if (m_data)
        for (const quant::MassiveLayer& m : m_data->massive) {
            const int r = massive.rowCount();
            massive.insertRow(r);
            const QString cells[] = {QString::number(m.layer),
                                     QString::number(double(m.top[0])),
                                     QString::fromStdString(m.topToken[0]),
                                     QString::number(m.topChannel[0]),
                                     QString::number(double(m.top[1])),
                                     QString::number(double(m.top[2])),
                                     QString::number(double(m.median)),
                                     QString::number(m.topPosition[0])};
            for (int c = 0; c < 8; ++c) massive.setItem(r, c, new QTableWidgetItem(cells[c]));
        }
    const QString massivePath = d.filePath(QStringLiteral("massive_activations.csv"));
    if (!writeTableCsv(massivePath, &massive)) return {};
    written << massivePath;
    // Attention sinks, one row per (layer, head).
    QTableWidget sinks(0, 3);
    sinks.setHorizontalHeaderLabels(
        {QStringLiteral("layer"), QStringLiteral("head"), QStringLiteral("first_token_mass")});
    if (m_data)
        for (int L = 0; L < m_data->sinks.layers; ++L)
            for (int h = 0; h < m_data->sinks.heads; ++h) {
                const int r = sinks.rowCount();
                sinks.insertRow(r);
                sinks.setItem(r, 0, new QTableWidgetItem(QString::number(L)));
                sinks.setItem(r, 1, new QTableWidgetItem(QString::number(h)));
                sinks.setItem(
                    r, 2, new QTableWidgetItem(QString::number(double(m_data->sinks.at(L, h)))));
            }
    const QString sinksPath = d.filePath(QStringLiteral("attention_sinks.csv"));
    if (!writeTableCsv(sinksPath, &sinks)) return {};
    written << sinksPath;
    return written;
}

void OutlierPanel::exportDialog() {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Export plots and tables to"));
    if (dir.isEmpty()) return;
    const QStringList files = exportTo(dir);
    m_summary->setText(files.isEmpty() ? tr("Export to %1 failed").arg(dir)
                                       : tr("Exported %1 files to %2").arg(files.size()).arg(dir));
}

}  // namespace mono::ui
