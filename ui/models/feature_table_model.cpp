#include "ui/models/feature_table_model.h"

#include <QFont>

#include <cmath>

#include "ui/session/feature_store_handle.h"

namespace mono::ui {

using features::SortKey;

FeatureTableModel::FeatureTableModel(FeatureStoreHandle* store, QObject* parent)
    : QAbstractTableModel(parent), m_store(store) {
    connect(m_store, &FeatureStoreHandle::storeChanged, this, &FeatureTableModel::reload);
    connect(m_store, &FeatureStoreHandle::annotationChanged, this, [this](qint64) {
        // A label may move rows (label sort, has-label filter): re-query the pages.
        m_pages.clear();
        m_pageOrder.clear();
        if (m_rows > 0) emit dataChanged(index(0, 0), index(m_rows - 1, kColumnCount - 1));
    });
    reload();
}

features::PageRequest FeatureTableModel::request(int64_t offset, int64_t limit) const {
    features::PageRequest r;
    r.filter = m_filter;
    r.sort = m_sort;
    r.descending = m_descending;
    r.offset = offset;
    r.limit = limit;
    return r;
}

void FeatureTableModel::reload() {
    beginResetModel();
    m_pages.clear();
    m_pageOrder.clear();
    m_rows = 0;
    m_lastError.clear();
    if (const features::FeatureStore* store = m_store->store()) {
        auto first = store->page(request(0, kPageSize));
        if (first.ok()) {
            m_rows = static_cast<int>(first->total);
            m_pages.insert(0, std::move(first->rows));
            m_pageOrder.append(0);
        } else {
            m_lastError = QString::fromStdString(first.status().toString());
        }
    }
    endResetModel();
    emit reloaded(m_rows);
}

const std::vector<features::FeatureSummary>* FeatureTableModel::pageAt(int page) const {
    if (auto it = m_pages.constFind(page); it != m_pages.constEnd()) return &it.value();
    const features::FeatureStore* store = m_store->store();
    if (!store) return nullptr;
    auto fetched = store->page(request(int64_t(page) * kPageSize, kPageSize));
    if (!fetched.ok()) {
        m_lastError = QString::fromStdString(fetched.status().toString());
        return nullptr;
    }
    if (m_pageOrder.size() >= kMaxCachedPages) m_pages.remove(m_pageOrder.takeFirst());
    m_pageOrder.append(page);
    return &m_pages.insert(page, std::move(fetched->rows)).value();
}

const features::FeatureSummary* FeatureTableModel::summaryAt(int row) const {
    if (row < 0 || row >= m_rows) return nullptr;
    const auto* page = pageAt(row / kPageSize);
    const size_t at = static_cast<size_t>(row % kPageSize);
    if (!page || at >= page->size()) return nullptr;
    return &(*page)[at];
}

int FeatureTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : m_rows;
}

int FeatureTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : kColumnCount;
}

QVariant FeatureTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_rows) return {};
    const features::FeatureSummary* s = summaryAt(index.row());
    if (!s) return {};
    switch (role) {
        case Qt::DisplayRole:
            switch (index.column()) {
                case kIdColumn:
                    return QVariant::fromValue<qlonglong>(s->id);
                case kLabelColumn:
                    return QString::fromStdString(s->label);
                case kDensityColumn:
                    return formatDensity(s->density);
                case kMaxColumn:
                    return formatActivation(s->maxActivation);
                case kTopColumn:
                    return QString::fromStdString(s->topSnippet).simplified();
            }
            break;
        case Qt::ToolTipRole:
            if (index.column() == kTopColumn || index.column() == kLabelColumn)
                return QString::fromStdString(index.column() == kTopColumn ? s->topSnippet
                                                                           : s->label);
            if (index.column() == kDensityColumn)
                return tr("Fires on %1 tokens (%2 of the analysed tokens)")
                    .arg(s->fireCount)
                    .arg(formatDensity(s->density));
            break;
        case Qt::TextAlignmentRole:
            if (index.column() == kIdColumn || index.column() == kDensityColumn ||
                index.column() == kMaxColumn)
                return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
            return QVariant::fromValue(Qt::AlignLeft | Qt::AlignVCenter);
        case Qt::ForegroundRole:
            if (s->fireCount == 0) return QVariant::fromValue(QColor(0x9c, 0xa3, 0xaf));
            break;
        case kFeatureIdRole:
            return QVariant::fromValue<qlonglong>(s->id);
    }
    return {};
}

QVariant FeatureTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal) return {};
    if (role == Qt::DisplayRole) {
        switch (section) {
            case kIdColumn:
                return tr("Feature");
            case kLabelColumn:
                return tr("Label");
            case kDensityColumn:
                return tr("Density");
            case kMaxColumn:
                return tr("Max act.");
            case kTopColumn:
                return tr("Top tokens");
        }
    }
    if (role == Qt::ToolTipRole && section == kTopColumn)
        return tr("The top example around its strongest token («»); not sortable");
    return {};
}

void FeatureTableModel::sort(int column, Qt::SortOrder order) {
    SortKey key;
    switch (column) {
        case kIdColumn:
            key = SortKey::kId;
            break;
        case kLabelColumn:
            key = SortKey::kLabel;
            break;
        case kDensityColumn:
            key = SortKey::kDensity;
            break;
        case kMaxColumn:
            key = SortKey::kMaxActivation;
            break;
        default:
            return;
    }
    const bool descending = order == Qt::DescendingOrder;
    if (key == m_sort && descending == m_descending) return;
    m_sort = key;
    m_descending = descending;
    reload();
}

void FeatureTableModel::setFilter(const features::FeatureFilter& filter) {
    m_filter = filter;
    reload();
}

qint64 FeatureTableModel::featureId(int row) const {
    const features::FeatureSummary* s = summaryAt(row);
    return s ? s->id : -1;
}

int FeatureTableModel::rowOf(qint64 id) const {
    for (auto it = m_pages.constBegin(); it != m_pages.constEnd(); ++it)
        for (size_t i = 0; i < it.value().size(); ++i)
            if (it.value()[i].id == id) return it.key() * kPageSize + static_cast<int>(i);
    // Unsorted, unfiltered: the row is the id.
    if (m_sort == SortKey::kId && !m_descending && !m_filter.minDensity && !m_filter.maxDensity &&
        !m_filter.minActivation && !m_filter.maxActivation && !m_filter.deadOnly &&
        !m_filter.aliveOnly && !m_filter.denseOnly && !m_filter.hasLabel && m_filter.text.empty() &&
        m_filter.activatingToken.empty() && m_filter.ids.empty())
        return id >= 0 && id < m_rows && featureId(static_cast<int>(id)) == id
                   ? static_cast<int>(id)
                   : -1;
    const int pages = (m_rows + kPageSize - 1) / kPageSize;
    for (int p = 0; p < pages; ++p) {
        const auto* page = pageAt(p);
        if (!page) return -1;
        for (size_t i = 0; i < page->size(); ++i)
            if ((*page)[i].id == id) return p * kPageSize + static_cast<int>(i);
    }
    return -1;
}

}  // namespace mono::ui
