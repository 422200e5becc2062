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

#include "core/quant/alpha_search.h"
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

QLayout* QuantPanel::buildControls() {
    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Group")));
    m_groupBox = new QComboBox;
    controls->addWidget(m_groupBox, 1);
    m_actBox = new QComboBox;
    for (const char* a : {"O1", "O2", "O3", "O1-g128"}) m_actBox->addItem(QString::fromLatin1(a));
    m_actBox->setToolTip(
        tr("Activations: O1 per token, O2 per tensor (dynamic), O3 per tensor (static, from "
           "calibration), O1-g128 per token and group of 128 channels"));
    m_weightBox = new QComboBox;
    for (const char* w : {"per-channel", "per-tensor", "per-group-128"})
        m_weightBox->addItem(QString::fromLatin1(w));
    m_weightBox->setToolTip(tr("Weight scales: per output channel, per tensor, per group of 128"));
    m_alphaModeBox = new QComboBox;
    m_alphaModeBox->addItems(
        {tr("α: one for all groups"), tr("α: per group"), tr("α: automatic per group")});
    controls->addWidget(new QLabel(tr("Scheme")));
    controls->addWidget(m_actBox);
    controls->addWidget(new QLabel(tr("Weights")));
    controls->addWidget(m_weightBox);
    controls->addWidget(m_alphaModeBox);
    controls->addWidget(new QLabel(QStringLiteral("α")));
    m_slider = new QSlider(Qt::Horizontal);
    m_slider->setRange(0, 100);
    m_slider->setValue(50);
    controls->addWidget(m_slider, 2);
    m_alphaLabel = new QLabel(QStringLiteral("0.50"));
    controls->addWidget(m_alphaLabel);
    return controls;
}

QuantPanel::QuantPanel(QWidget* parent) : QWidget(parent) {
    QLayout* controls = buildControls();

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

    m_table = new QTableWidget(0, 5);
    m_table->setHorizontalHeaderLabels(
        {tr("group"), tr("W8A8 error"), tr("SmoothQuant error"), tr("gain"), QStringLiteral("α")});
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
        const float a = float(v / 100.0);
        if (alphaMode() == AlphaMode::kShared)
            std::fill(m_alphas.begin(), m_alphas.end(), a);
        else if (alphaMode() == AlphaMode::kPerGroup && group() >= 0 &&
                 size_t(group()) < m_alphas.size())
            m_alphas[size_t(group())] = a;
        redraw();
        requestErrors();
    });
    connect(m_groupBox, &QComboBox::currentIndexChanged, this, [this] {
        showAlphaOfGroup();
        redraw();
    });
    connect(m_actBox, &QComboBox::currentIndexChanged, this, [this] { requestErrors(); });
    connect(m_weightBox, &QComboBox::currentIndexChanged, this, [this] { requestErrors(); });
    connect(m_alphaModeBox, &QComboBox::currentIndexChanged, this, [this] {
        m_slider->setEnabled(alphaMode() != AlphaMode::kAutomatic);
        // Back to one α: every group takes the one shown.
        if (alphaMode() == AlphaMode::kShared)
            std::fill(m_alphas.begin(), m_alphas.end(), float(m_slider->value() / 100.0));
        redraw();
        requestErrors();
    });
}

QuantPanel::AlphaMode QuantPanel::alphaMode() const {
    return static_cast<AlphaMode>(std::max(0, m_alphaModeBox->currentIndex()));
}

void QuantPanel::setAlphaMode(AlphaMode mode) {
    m_alphaModeBox->setCurrentIndex(static_cast<int>(mode));
}

quant::W8A8Scheme QuantPanel::scheme() const {
    quant::W8A8Scheme s;
    if (auto a = quant::parseActScheme(m_actBox->currentText().toStdString()); a.ok()) s.act = *a;
    if (auto w = quant::parseWeightScheme(m_weightBox->currentText().toStdString()); w.ok())
        s.weight = *w;
    return s;
}

// The slider follows the shown group's α (without asking for errors again).
void QuantPanel::showAlphaOfGroup() {
    const int g = group();
    if (g < 0 || size_t(g) >= m_alphas.size()) return;
    const QSignalBlocker block(m_slider);
    m_slider->setValue(int(std::lround(m_alphas[size_t(g)] * 100.0f)));
    m_alphaLabel->setText(QString::number(m_slider->value() / 100.0, 'f', 2));
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
    m_alphas.assign(m_explorer ? m_explorer->groups().size() : 0, float(m_slider->value() / 100.0));
    m_table->setRowCount(0);
    redraw();
    requestErrors();
}

double QuantPanel::alpha() const {
    const int g = group();
    return g >= 0 && size_t(g) < m_alphas.size() ? double(m_alphas[size_t(g)])
                                                 : m_slider->value() / 100.0;
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

namespace {
struct ErrorResult {
    std::vector<float> alphas;
    std::vector<quant::GroupErrorRow> rows;
};
}  // namespace

void QuantPanel::requestErrors() {
    if (!m_explorer) return;
    const quint64 generation = ++m_generation;
    const bool automatic = alphaMode() == AlphaMode::kAutomatic;
    const std::vector<float> alphas = m_alphas;
    const quant::W8A8Scheme scheme = this->scheme();
    auto explorer = m_explorer;
    m_status->setText(automatic ? tr("searching α per group…") : tr("computing errors…"));
    auto* watcher = new QFutureWatcher<Result<ErrorResult>>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        if (generation != m_generation) return;  // a newer α or scheme is on its way
        const auto result = watcher->result();
        if (!result.ok()) {
            m_status->setText(QString::fromStdString(result.status().toString()));
            return;
        }
        m_alphas = result->alphas;
        showAlphaOfGroup();
        redraw();
        const auto& rows = result->rows;
        m_table->setRowCount(int(rows.size()));
        for (int r = 0; r < int(rows.size()); ++r) {
            const auto& row = rows[size_t(r)];
            const double gain = row.smoothedError > 0 ? row.plainError / row.smoothedError : 0.0;
            const QString cells[] = {QString::fromStdString(row.group),
                                     QString::number(row.plainError, 'g', 4),
                                     QString::number(row.smoothedError, 'g', 4),
                                     QStringLiteral("%1×").arg(gain, 0, 'f', 2),
                                     QString::number(double(m_alphas[size_t(r)]), 'f', 2)};
            for (int c = 0; c < 5; ++c) m_table->setItem(r, c, new QTableWidgetItem(cells[c]));
        }
        m_status->setText(tr("relative output error per group, %1, %2")
                              .arg(QString::fromStdString(this->scheme().describe()),
                                   m_alphaModeBox->currentText()));
        emit errorsUpdated();
    });
    watcher->setFuture(
        QtConcurrent::run([explorer, alphas, scheme, automatic]() -> Result<ErrorResult> {
            omp_set_num_threads(1);  // leave the other core to the GUI thread (2-core machines)
            ErrorResult r;
            r.alphas = alphas;
            if (automatic) {
                MONO_ASSIGN_OR_RETURN(r.alphas,
                                      explorer->bestAlphas(scheme, quant::defaultAlphaGrid()));
            }
            MONO_ASSIGN_OR_RETURN(r.rows, explorer->errors(r.alphas, scheme));
            return r;
        }));
}

}  // namespace mono::ui
