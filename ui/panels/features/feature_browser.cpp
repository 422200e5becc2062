#include "ui/panels/features/feature_browser.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QTableView>
#include <QVBoxLayout>

#include "ui/models/feature_table_model.h"
#include "ui/session/feature_store_handle.h"
#include "ui/widgets/density_histogram_view.h"

namespace mono::ui {

FeatureBrowser::FeatureBrowser(FeatureStoreHandle* store, QWidget* parent)
    : QWidget(parent), m_store(store) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 4, 8);
    layout->setSpacing(6);

    m_histogram = new DensityHistogramView;
    layout->addWidget(m_histogram);

    auto* bar = new QHBoxLayout;
    m_search = new QLineEdit;
    m_search->setObjectName(QStringLiteral("featureSearch"));
    m_search->setPlaceholderText(tr("Search example text, labels and notes  (Ctrl+F)"));
    m_search->setClearButtonEnabled(true);
    bar->addWidget(m_search, 1);
    m_kind = new QComboBox;
    m_kind->setObjectName(QStringLiteral("featureKind"));
    m_kind->addItem(tr("All features"), int(Kind::kAll));
    m_kind->addItem(tr("Alive"), int(Kind::kAlive));
    m_kind->addItem(tr("Dead"), int(Kind::kDead));
    m_kind->addItem(tr("Dense (> 10 %)"), int(Kind::kDense));
    m_kind->addItem(tr("Labelled"), int(Kind::kLabelled));
    m_kind->addItem(tr("Unlabelled"), int(Kind::kUnlabelled));
    bar->addWidget(m_kind);
    layout->addLayout(bar);

    m_model = new FeatureTableModel(store, this);
    m_table = new QTableView;
    m_table->setObjectName(QStringLiteral("featureTable"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(FeatureTableModel::kIdColumn, Qt::AscendingOrder);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideRight);
    m_table->verticalHeader()->hide();
    // Fixed row heights keep the view from measuring rows it has not fetched.
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 8);
    QHeaderView* header = m_table->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setStretchLastSection(true);
    header->resizeSection(FeatureTableModel::kIdColumn, 72);
    header->resizeSection(FeatureTableModel::kLabelColumn, 190);
    header->resizeSection(FeatureTableModel::kDensityColumn, 84);
    header->resizeSection(FeatureTableModel::kMaxColumn, 88);
    layout->addWidget(m_table, 1);
    m_count = new QLabel;
    m_count->setObjectName(QStringLiteral("hint"));
    layout->addWidget(m_count);

    m_filterTimer.setSingleShot(true);
    m_filterTimer.setInterval(200);  // a typing pause, so a long store is not re-queried per key
    connect(&m_filterTimer, &QTimer::timeout, this, &FeatureBrowser::applyFilter);
    connect(m_search, &QLineEdit::textChanged, this, &FeatureBrowser::scheduleFilter);
    connect(m_search, &QLineEdit::returnPressed, this, [this] {
        applyFilterNow();
        m_table->setFocus();
        if (m_model->rowCount() > 0) m_table->selectRow(0);
    });
    connect(m_kind, &QComboBox::currentIndexChanged, this, &FeatureBrowser::applyFilterNow);
    connect(m_histogram, &DensityHistogramView::rangeSelected, this, [this](double lo, double hi) {
        m_densityRange = {lo, hi};
        applyFilterNow();
    });
    connect(m_histogram, &DensityHistogramView::rangeCleared, this, [this] {
        m_densityRange.reset();
        applyFilterNow();
    });
    connect(m_model, &FeatureTableModel::reloaded, this, &FeatureBrowser::updateCount);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) {
                if (!current.isValid()) return;
                const qint64 id = m_model->featureId(current.row());
                if (id >= 0) emit featureSelected(id);
            });
    connect(m_store, &FeatureStoreHandle::storeChanged, this, &FeatureBrowser::reloadHistogram);
    reloadHistogram();
    updateCount(m_model->rowCount());
}

void FeatureBrowser::reloadHistogram() {
    m_densityRange.reset();
    const features::FeatureStore* store = m_store->store();
    if (!store) {
        m_histogram->clear();
        return;
    }
    auto histogram = store->densityHistogram();
    if (histogram.ok())
        m_histogram->setHistogram(*histogram);
    else
        m_histogram->clear();
}

void FeatureBrowser::scheduleFilter() {
    m_filterTimer.start();
}

void FeatureBrowser::applyFilterNow() {
    m_filterTimer.stop();
    applyFilter();
}

void FeatureBrowser::applyFilter() {
    features::FeatureFilter filter;
    filter.text = m_search->text().trimmed().toStdString();
    if (m_densityRange) {
        filter.minDensity = m_densityRange->first;
        filter.maxDensity = m_densityRange->second;
    }
    switch (Kind(m_kind->currentData().toInt())) {
        case Kind::kAll:
            break;
        case Kind::kAlive:
            filter.aliveOnly = true;
            break;
        case Kind::kDead:
            filter.deadOnly = true;
            break;
        case Kind::kDense:
            filter.denseOnly = true;
            break;
        case Kind::kLabelled:
            filter.hasLabel = true;
            break;
        case Kind::kUnlabelled:
            filter.hasLabel = false;
            break;
    }
    const qint64 keep = selectedFeature();
    m_model->setFilter(filter);
    if (keep >= 0) selectFeature(keep);
}

void FeatureBrowser::setKind(Kind kind) {
    const int i = m_kind->findData(int(kind));
    if (i >= 0) m_kind->setCurrentIndex(i);
}

void FeatureBrowser::updateCount(qint64 total) {
    if (!m_store->isOpen()) {
        m_count->setText(tr("No feature store open"));
        return;
    }
    QString text = tr("%1 of %2 features").arg(total).arg(m_store->featureCount());
    if (!m_model->lastError().isEmpty()) text += QStringLiteral(" — ") + m_model->lastError();
    m_count->setText(text);
}

bool FeatureBrowser::selectFeature(qint64 id) {
    const int row = m_model->rowOf(id);
    if (row < 0) return false;
    const QModelIndex index = m_model->index(row, FeatureTableModel::kIdColumn);
    m_table->selectionModel()->setCurrentIndex(
        index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_table->scrollTo(index);
    return true;
}

qint64 FeatureBrowser::selectedFeature() const {
    const QModelIndex current = m_table->selectionModel()->currentIndex();
    return current.isValid() ? m_model->featureId(current.row()) : -1;
}

void FeatureBrowser::focusSearch() {
    m_search->setFocus(Qt::ShortcutFocusReason);
    m_search->selectAll();
}

}  // namespace mono::ui
