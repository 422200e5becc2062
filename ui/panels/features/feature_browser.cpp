#include "ui/panels/features/feature_browser.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QIntValidator>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QTableView>
#include <QVBoxLayout>

#include <limits>

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
    m_search->setPlaceholderText(tr("Search examples, labels, notes (Ctrl+F)"));
    m_search->setToolTip(
        tr("Words of the example text, labels and notes; “#123” goes to feature "
           "123"));
    m_search->setClearButtonEnabled(true);
    m_search->setMinimumWidth(120);
    bar->addWidget(m_search, 1);
    m_searchIn = new QComboBox;
    m_searchIn->setObjectName(QStringLiteral("searchIn"));
    m_searchIn->addItem(tr("in text"), int(SearchIn::kText));
    m_searchIn->addItem(tr("top token"), int(SearchIn::kTopToken));
    m_searchIn->setToolTip(
        tr("in text: example text, labels and notes; top token: the token a feature fires on "
           "most strongly"));
    bar->addWidget(m_searchIn);
    m_kind = new QComboBox;
    m_kind->setObjectName(QStringLiteral("featureKind"));
    m_kind->addItem(tr("All features"), int(Kind::kAll));
    m_kind->addItem(tr("Alive"), int(Kind::kAlive));
    m_kind->addItem(tr("Dead"), int(Kind::kDead));
    m_kind->addItem(tr("Dense (> 10 %)"), int(Kind::kDense));
    m_kind->addItem(tr("Labelled"), int(Kind::kLabelled));
    m_kind->addItem(tr("Unlabelled"), int(Kind::kUnlabelled));
    bar->addWidget(m_kind);
    m_goTo = new QLineEdit;
    m_goTo->setObjectName(QStringLiteral("goToFeature"));
    m_goTo->setPlaceholderText(tr("Go to #"));
    m_goTo->setToolTip(tr("Type a feature id and press Enter"));
    m_goTo->setValidator(new QIntValidator(0, std::numeric_limits<int>::max(), m_goTo));
    m_goTo->setMaximumWidth(80);
    bar->addWidget(m_goTo);
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
    // Narrow enough that every column shows in a 1024-pixel window; the label
    // and top tokens elide (their tooltips hold the whole text).
    header->setMinimumSectionSize(40);
    header->resizeSection(FeatureTableModel::kIdColumn, 64);
    header->resizeSection(FeatureTableModel::kLabelColumn, 100);
    header->resizeSection(FeatureTableModel::kDensityColumn, 78);
    header->resizeSection(FeatureTableModel::kMaxColumn, 80);
    m_table->setTabKeyNavigation(false);  // Tab leaves the list; arrows move in it
    layout->addWidget(m_table, 1);
    m_empty = new QLabel;
    m_empty->setObjectName(QStringLiteral("emptyListMessage"));
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_empty->hide();
    layout->addWidget(m_empty, 1);
    m_count = new QLabel;
    m_count->setObjectName(QStringLiteral("hint"));
    layout->addWidget(m_count);

    m_filterTimer.setSingleShot(true);
    m_filterTimer.setInterval(200);  // a typing pause, so a long store is not re-queried per key
    connect(&m_filterTimer, &QTimer::timeout, this, &FeatureBrowser::applyFilter);
    connect(m_search, &QLineEdit::textChanged, this, &FeatureBrowser::scheduleFilter);
    connect(m_goTo, &QLineEdit::returnPressed, this, [this] { goTo(m_goTo->text()); });
    connect(m_searchIn, &QComboBox::currentIndexChanged, this, &FeatureBrowser::applyFilterNow);
    connect(m_search, &QLineEdit::returnPressed, this, [this] {
        if (m_search->text().trimmed().startsWith(QLatin1Char('#'))) {
            goTo(m_search->text().trimmed().mid(1));
            return;
        }
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
    m_saeWidth = 0;
    const features::FeatureStore* store = m_store->store();
    if (!store) {
        m_histogram->clear();
        return;
    }
    // Features not analysed yet have no rows: the count line says how many there are.
    if (auto run = store->runInfo(); run.ok() && run->dSae > m_store->featureCount())
        m_saeWidth = run->dSae;
    updateCount(m_model->rowCount());
    auto histogram = store->densityHistogram();
    if (histogram.ok())
        m_histogram->setHistogram(*histogram);
    else
        m_histogram->clear();
}

void FeatureBrowser::updateFilteredHistogram(const features::FeatureFilter& filter) {
    // The density range itself is shown by the selected bar; the other parts of
    // the filter are drawn over the whole histogram.
    features::FeatureFilter rest = filter;
    rest.minDensity.reset();
    rest.maxDensity.reset();
    const bool filtered = !rest.text.empty() || !rest.activatingToken.empty() || rest.deadOnly ||
                          rest.aliveOnly || rest.denseOnly || rest.hasLabel || !rest.ids.empty();
    const features::FeatureStore* store = m_store->store();
    if (!filtered || !store) {
        m_histogram->setFiltered(std::nullopt);
        return;
    }
    auto histogram = store->densityHistogram(rest);
    m_histogram->setFiltered(histogram.ok() ? std::optional(*histogram) : std::nullopt);
}

void FeatureBrowser::scheduleFilter() {
    m_filterTimer.start();
}

void FeatureBrowser::applyFilterNow() {
    m_filterTimer.stop();
    applyFilter();
}

void FeatureBrowser::goTo(const QString& text) {
    bool ok = false;
    const qint64 id = text.trimmed().toLongLong(&ok);
    if (!ok || id < 0) return;
    emit goToRequested(id);
}

QString FeatureBrowser::highlightText() const {
    if (SearchIn(m_searchIn->currentData().toInt()) != SearchIn::kText) return {};
    const QString text = m_search->text().trimmed();
    return text.startsWith(QLatin1Char('#')) ? QString() : text;
}

void FeatureBrowser::setSearchIn(SearchIn where) {
    m_searchIn->setCurrentIndex(m_searchIn->findData(int(where)));
}

void FeatureBrowser::resetFilters() {
    const QSignalBlocker b1(m_search), b2(m_kind), b3(m_searchIn), b4(m_histogram);
    m_filterTimer.stop();
    m_search->clear();
    m_goTo->clear();
    m_kind->setCurrentIndex(0);
    m_searchIn->setCurrentIndex(0);
    m_densityRange.reset();
    m_mapSelection.reset();
    m_histogram->clearSelection();
    applyFilter();
    clearSelection();
}

void FeatureBrowser::clearSelection() {
    m_table->selectionModel()->clear();
}

void FeatureBrowser::setMapSelection(std::optional<std::vector<int64_t>> ids) {
    m_mapSelection = std::move(ids);
    applyFilterNow();
}

QString FeatureBrowser::emptyMessage() const {
    return m_empty->isVisible() ? m_empty->text() : QString();
}

void FeatureBrowser::applyFilter() {
    features::FeatureFilter filter;
    const QString text = m_search->text().trimmed();
    // "#123" is a go-to, not words to match.
    if (!text.startsWith(QLatin1Char('#'))) {
        if (SearchIn(m_searchIn->currentData().toInt()) == SearchIn::kTopToken)
            filter.activatingToken = text.toStdString();
        else
            filter.text = text.toStdString();
    }
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
    if (m_mapSelection) {
        // No feature has id −1: an empty lasso leaves the list empty.
        filter.ids = m_mapSelection->empty() ? std::vector<int64_t>{-1} : *m_mapSelection;
    }
    const qint64 keep = selectedFeature();
    m_model->setFilter(filter);
    updateFilteredHistogram(filter);
    if (keep >= 0) selectFeature(keep);
    emit searchApplied(highlightText());
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
    if (m_saeWidth > 0)
        text += tr(" (the SAE has %1; the others are not analysed yet: analyze --features)")
                    .arg(m_saeWidth);
    if (!m_model->lastError().isEmpty()) text += QStringLiteral(" — ") + m_model->lastError();
    m_count->setText(text);
    updateEmptyMessage(total);
}

void FeatureBrowser::updateEmptyMessage(qint64 total) {
    QString message;
    if (total == 0 && m_store->featureCount() > 0) {
        const QString search = m_search->text().trimmed();
        if (!search.isEmpty() && !search.startsWith(QLatin1Char('#')))
            message = SearchIn(m_searchIn->currentData().toInt()) == SearchIn::kTopToken
                          ? tr("No feature fires most strongly on “%1”.").arg(search)
                          : tr("No feature’s examples, label or notes match “%1”.").arg(search);
        else if (Kind(m_kind->currentData().toInt()) == Kind::kLabelled)
            message =
                tr("No labelled features yet. Label a feature in its dashboard (Ctrl+E); "
                   "labels are saved as you type.");
        else if (Kind(m_kind->currentData().toInt()) == Kind::kDead)
            message = tr("No dead features: every feature fired on the analysed tokens.");
        else if (Kind(m_kind->currentData().toInt()) == Kind::kDense)
            message = tr("No dense features: none fires on more than 10 % of tokens.");
        else if (m_mapSelection && m_mapSelection->empty())
            message = tr("No feature inside the lasso on the map.");
        else
            message = tr("No feature matches this filter.");
        if (m_mapSelection) message += tr(" Clear the map selection to see every feature.");
        if (m_densityRange) message += tr(" Click the histogram bar again to clear its range.");
    }
    m_empty->setText(message);
    m_empty->setVisible(!message.isEmpty());
    m_table->setVisible(message.isEmpty());
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
