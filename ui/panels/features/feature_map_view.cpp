#include "ui/panels/features/feature_map_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

#include "ui/jobs/feature_map_job.h"
#include "ui/jobs/job_runner.h"
#include "ui/panels/features/map_colouring.h"
#include "ui/session/feature_store_handle.h"
#include "ui/widgets/feature_map_plot.h"

namespace mono::ui {

FeatureMapView::FeatureMapView(FeatureStoreHandle* store, QWidget* parent)
    : QWidget(parent), m_store(store), m_runner(new JobRunner(this)), m_plot(new FeatureMapPlot) {
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(buildToolbar());
    m_progress = new QProgressBar;
    m_progress->setRange(0, 1000);
    m_progress->setVisible(false);
    layout->addWidget(m_progress);
    m_message = new QLabel;
    m_message->setWordWrap(true);
    m_message->setVisible(false);
    layout->addWidget(m_message);
    layout->addWidget(m_plot, 1);
    m_caption = new QLabel;
    m_caption->setWordWrap(true);
    layout->addWidget(m_caption);

    connect(m_plot, &FeatureMapPlot::featureClicked, this, &FeatureMapView::featureClicked);
    connect(m_plot, &FeatureMapPlot::featureActivated, this, &FeatureMapView::featureActivated);
    connect(m_plot, &FeatureMapPlot::lassoSelected, this, [this](const QVector<qint64>& ids) {
        m_clear->setEnabled(true);
        setMessage(ids.isEmpty() ? tr("No feature inside the lasso.") : QString());
        emit selectionChanged(ids);
    });
    connect(m_store, &FeatureStoreHandle::storeChanged, this, [this] {
        m_stale = true;
        if (isVisible()) reload();
    });
    connect(m_store, &FeatureStoreHandle::annotationChanged, this,
            &FeatureMapView::onAnnotationChanged);
    connect(m_runner, &JobRunner::progressChanged, this,
            [this](quint64, double fraction, const QString& text, const QVariantMap&) {
                m_progress->setValue(static_cast<int>(1000 * std::max(0.0, fraction)));
                m_progress->setFormat(text + QStringLiteral(" %p%"));
            });
    connect(m_runner, &JobRunner::busyChanged, this, [this](bool busy) {
        m_progress->setVisible(busy);
        m_compute->setEnabled(!busy);
    });
    connect(m_runner, &JobRunner::failed, this, [this](quint64, const QString&, const QString& m) {
        setMessage(tr("The map could not be computed: %1").arg(m));
    });
}

QWidget* FeatureMapView::buildToolbar() {
    auto* bar = new QWidget;
    auto* row = new QHBoxLayout(bar);
    row->setContentsMargins(0, 0, 0, 0);
    row->addWidget(new QLabel(tr("Colour by")));
    m_colour = new QComboBox;
    m_colour->addItem(tr("log density"), int(MapColour::kDensity));
    m_colour->addItem(tr("max activation"), int(MapColour::kMaxActivation));
    m_colour->addItem(tr("labelled or not"), int(MapColour::kLabel));
    row->addWidget(m_colour);
    m_lasso = new QToolButton;
    m_lasso->setText(tr("Lasso"));
    m_lasso->setCheckable(true);
    m_lasso->setToolTip(
        tr("Drag to draw a lasso around features (or drag with Shift held); "
           "the list then shows only the features inside"));
    row->addWidget(m_lasso);
    m_clear = new QPushButton(tr("Clear selection"));
    m_clear->setEnabled(false);
    row->addWidget(m_clear);
    row->addStretch(1);
    m_compute = new QPushButton(tr("Compute map"));
    m_compute->setToolTip(tr("Lay out the features by their decoder directions (UMAP)"));
    row->addWidget(m_compute);
    connect(m_colour, &QComboBox::currentIndexChanged, this, &FeatureMapView::recolour);
    connect(m_lasso, &QToolButton::toggled, m_plot, &FeatureMapPlot::setLassoMode);
    connect(m_clear, &QPushButton::clicked, this, &FeatureMapView::clearSelection);
    connect(m_compute, &QPushButton::clicked, this, &FeatureMapView::computeMap);
    return bar;
}

bool FeatureMapView::hasMap() const {
    return m_plot->pointCount() > 0;
}

QString FeatureMapView::message() const {
    return m_message->isVisible() ? m_message->text() : QString();
}

void FeatureMapView::setMessage(const QString& text) {
    m_message->setText(text);
    m_message->setVisible(!text.isEmpty());
}

void FeatureMapView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_stale) reload();
}

void FeatureMapView::reload() {
    m_stale = false;
    m_summaries.clear();
    m_plot->clear();
    m_caption->clear();
    m_clear->setEnabled(false);
    m_compute->setText(tr("Compute map"));
    const features::FeatureStore* store = m_store->store();
    if (!store) {
        setMessage(tr("Open a feature store to see its map."));
        return;
    }
    auto map = store->featureMap();
    auto run = store->runInfo();
    if (!map.ok() || !run.ok() || !map->matches(*run, m_store->featureCount())) {
        setMessage(map.ok() ? tr("The stored map belongs to another analysis of these features; "
                                 "compute it again.")
                   : map.status().code() == StatusCode::kNotFound
                       ? tr("No map of these features yet. Compute it (UMAP of the decoder "
                            "directions; about a minute for 100 k features).")
                       : QString::fromStdString(map.status().toString()));
        return;
    }
    auto page = store->page({{}, features::SortKey::kId, false, 0, m_store->featureCount()});
    if (!page.ok()) {
        setMessage(QString::fromStdString(page.status().toString()));
        return;
    }
    m_summaries = std::move(page->rows);
    setMessage({});
    const MapColouring c = colourFeatures(m_summaries, MapColour(m_colour->currentData().toInt()));
    m_plot->setPoints(map->xy, c.bins, c.colours);
    m_compute->setText(tr("Recompute map"));
    m_caption->setText(c.caption);
    m_plot->setCurrentFeature(m_current);
}

void FeatureMapView::recolour() {
    if (!hasMap()) return;
    const MapColouring c = colourFeatures(m_summaries, MapColour(m_colour->currentData().toInt()));
    m_plot->setColours(c.bins, c.colours);
    m_caption->setText(c.caption);
}

void FeatureMapView::onAnnotationChanged(qint64 id) {
    if (id < 0 || id >= static_cast<qint64>(m_summaries.size()) || !m_store->store()) return;
    auto rec = m_store->store()->feature(id);
    if (!rec.ok()) return;
    m_summaries[id].label = rec->summary.label;
    if (MapColour(m_colour->currentData().toInt()) == MapColour::kLabel) recolour();
}

void FeatureMapView::computeMap() {
    if (!m_store->isOpen() || m_runner->isBusy()) return;
    setMessage({});
    const std::string path = m_store->path().toStdString();
    m_runner->start(
        tr("Feature map"),
        [path](const Progress& progress, StopToken stop) {
            return runFeatureMapJob(path, progress, stop);
        },
        [this](features::FeatureMap) { reload(); });
}

void FeatureMapView::setCurrentFeature(qint64 id) {
    m_current = id;
    m_plot->setCurrentFeature(id);
}

void FeatureMapView::clearSelection() {
    m_plot->setSelection({});
    m_clear->setEnabled(false);
    setMessage({});
    emit selectionCleared();
}

}  // namespace mono::ui
