#include "ui/panels/quant/quant_panel.h"

#include <omp.h>
#include <qcustomplot.h>
#include <QComboBox>
#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPointer>
#include <QSlider>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent>

#include <algorithm>

#include "core/quant/smoothing_explorer.h"
#include "ui/widgets/plot_style.h"

namespace mono::ui {

namespace {
// Log axes cannot show 0: values are floored here for drawing only.
constexpr double kLogFloor = 1e-6;

QVector<double> toPlot(const std::vector<float>& v) {
    QVector<double> out;
    out.reserve(qsizetype(v.size()));
    for (float x : v) out.push_back(std::max(double(x), kLogFloor));
    return out;
}
}  // namespace

QuantPanel::QuantPanel(QWidget* parent) : QWidget(parent) {
    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Group")));
    m_groupBox = new QComboBox;
    controls->addWidget(m_groupBox, 1);
    controls->addWidget(new QLabel(QStringLiteral("α")));
    m_slider = new QSlider(Qt::Horizontal);
    m_slider->setRange(0, 100);
    m_slider->setValue(50);
    controls->addWidget(m_slider, 2);
    m_alphaLabel = new QLabel(QStringLiteral("0.50"));
    controls->addWidget(m_alphaLabel);

    m_plot = new QCustomPlot;
    m_plot->setMinimumHeight(260);
    m_plot->yAxis->setScaleType(QCPAxis::stLogarithmic);
    m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    m_plot->xAxis->setLabel(tr("input channel"));
    m_plot->yAxis->setLabel(tr("max |value|"));
    stylePlot(m_plot);
    placeLegendAbove(m_plot);
    // Thousands of points per line: antialiased lines on a log axis take seconds
    // to draw, plain polylines a few milliseconds.
    m_plot->setNotAntialiasedElements(QCP::aePlottables);
    m_plot->setPlottingHint(QCP::phFastPolylines, true);
    const struct {
        QString name;
        QColor color;
        Qt::PenStyle style;
        double width;
    } series[] = {{tr("max|X| before"), QColor(150, 150, 150), Qt::SolidLine, 1.2},
                  {tr("max|X| after"), QColor(31, 119, 180), Qt::DashLine, 1.6},
                  {tr("max|W| before"), QColor(255, 152, 150), Qt::SolidLine, 1.2},
                  {tr("max|W| after"), QColor(214, 39, 40), Qt::SolidLine, 3.0},
                  {tr("s"), QColor(44, 160, 44), Qt::DotLine, 1.4}};
    for (const auto& s : series) {
        QCPGraph* g = m_plot->addGraph();
        g->setName(s.name);
        g->setPen(QPen(s.color, s.width, s.style));
    }
    // At α = 0.5 the smoothed maxima of X and W coincide (s_j balances them):
    // max|X| after is drawn dashed over a wider max|W| after, so both show.
    m_plot->addLayer(QStringLiteral("front"), m_plot->layer(QStringLiteral("main")),
                     QCustomPlot::limAbove);
    m_plot->graph(1)->setLayer(QStringLiteral("front"));

    m_table = new QTableWidget(0, 4);
    m_table->setHorizontalHeaderLabels(
        {tr("group"), tr("W8A8 error"), tr("SmoothQuant error"), tr("gain")});
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_table->verticalHeader()->setVisible(false);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);

    m_status = new QLabel;
    auto* splitter = new QSplitter(Qt::Vertical);
    splitter->addWidget(m_plot);
    splitter->addWidget(m_table);
    // The plot is what α moves: it gets most of the height, the table the rest.
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    m_table->setMinimumHeight(120);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(splitter, 1);
    layout->addWidget(m_status);

    connect(m_slider, &QSlider::valueChanged, this, [this](int v) {
        m_alphaLabel->setText(QString::number(v / 100.0, 'f', 2));
        redraw();
        requestErrors();
    });
    connect(m_groupBox, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
}

QuantPanel::~QuantPanel() = default;

void QuantPanel::setExplorer(std::shared_ptr<const quant::SmoothingExplorer> explorer) {
    m_explorer = std::move(explorer);
    {
        const QSignalBlocker block(m_groupBox);
        m_groupBox->clear();
        if (m_explorer)
            for (const auto& g : m_explorer->groups())
                m_groupBox->addItem(QString::fromStdString(g.name()));
    }
    m_table->setRowCount(0);
    redraw();
    requestErrors();
}

double QuantPanel::alpha() const {
    return m_slider->value() / 100.0;
}

void QuantPanel::setAlpha(double alpha) {
    m_slider->setValue(int(std::lround(std::clamp(alpha, 0.0, 1.0) * 100.0)));
}

int QuantPanel::group() const {
    return m_groupBox->currentIndex();
}

void QuantPanel::setGroup(int group) {
    m_groupBox->setCurrentIndex(group);
}

void QuantPanel::redraw() {
    QElapsedTimer timer;
    timer.start();
    m_shownSmoothed.clear();
    const int g = group();
    if (!m_explorer || g < 0) {
        for (int i = 0; i < m_plot->graphCount(); ++i) m_plot->graph(i)->data()->clear();
        m_plot->replot();
        return;
    }
    auto view = m_explorer->view(size_t(g), float(alpha()));
    if (!view.ok()) {
        m_status->setText(QString::fromStdString(view.status().toString()));
        return;
    }
    QVector<double> x(qsizetype(view->scales.size()));
    for (qsizetype i = 0; i < x.size(); ++i) x[i] = double(i);
    const std::vector<float>* data[] = {&view->actMax, &view->actMaxSmoothed, &view->weightMax,
                                        &view->weightMaxSmoothed, &view->scales};
    double lo = 1e30, hi = 0;
    for (int i = 0; i < 5; ++i) {
        const QVector<double> y = toPlot(*data[i]);
        m_plot->graph(i)->setData(x, y, true);
        for (double v : y) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    }
    m_plot->xAxis->setRange(-0.5, double(x.size()) - 0.5);
    m_plot->yAxis->setRange(lo / 1.5, hi * 1.5);
    m_plot->replot();
    m_shownSmoothed = view->actMaxSmoothed;
    m_lastRedrawMs = double(timer.nsecsElapsed()) / 1e6;
}

void QuantPanel::requestErrors() {
    if (!m_explorer) return;
    const quint64 generation = ++m_generation;
    const float a = float(alpha());
    auto explorer = m_explorer;
    m_status->setText(tr("computing errors at α = %1…").arg(a, 0, 'f', 2));
    auto* watcher = new QFutureWatcher<Result<std::vector<quant::GroupErrorRow>>>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation, a] {
        watcher->deleteLater();
        if (generation != m_generation) return;  // a newer α is on its way
        const auto rows = watcher->result();
        if (!rows.ok()) {
            m_status->setText(QString::fromStdString(rows.status().toString()));
            return;
        }
        m_table->setRowCount(int(rows->size()));
        for (int r = 0; r < int(rows->size()); ++r) {
            const auto& row = (*rows)[size_t(r)];
            const double gain = row.smoothedError > 0 ? row.plainError / row.smoothedError : 0.0;
            const QString cells[] = {QString::fromStdString(row.group),
                                     QString::number(row.plainError, 'g', 4),
                                     QString::number(row.smoothedError, 'g', 4),
                                     QStringLiteral("%1×").arg(gain, 0, 'f', 2)};
            for (int c = 0; c < 4; ++c) m_table->setItem(r, c, new QTableWidgetItem(cells[c]));
        }
        m_status->setText(tr("relative W8A8 output error per group at α = %1").arg(a, 0, 'f', 2));
        emit errorsUpdated();
    });
    watcher->setFuture(QtConcurrent::run([explorer, a] {
        omp_set_num_threads(1);  // leave the other core to the GUI thread (2-core machines)
        return explorer->errors(a);
    }));
}

}  // namespace mono::ui
