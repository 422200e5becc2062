#pragma once
// FeatureTableModel: every feature of a store as a table (id, label, density,
// max activation, top tokens), virtualised over core's paged query API. Only
// the row count is known up front; rows are fetched a page at a time when a
// view first asks for them and kept in a small cache, so a store of 100k
// features costs no more to show than one of a thousand. Sorting and
// filtering are done by the store (indexed SQL), never by a proxy model.
// GUI thread only, like the FeatureStoreHandle it reads.

#include <QAbstractTableModel>
#include <QHash>

#include <vector>

#include "core/features/feature_store.h"
#include "ui/widgets/display_format.h"

namespace mono::ui {

class FeatureStoreHandle;

class FeatureTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { kIdColumn, kLabelColumn, kDensityColumn, kMaxColumn, kTopColumn, kColumnCount };
    static constexpr int kFeatureIdRole = Qt::UserRole + 1;
    static constexpr int kPageSize = 200;
    static constexpr int kMaxCachedPages = 32;

    // `store` must outlive the model; the model follows its storeChanged and
    // annotationChanged signals.
    explicit FeatureTableModel(FeatureStoreHandle* store, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    // Top tokens cannot be sorted on; sorting on it is ignored.
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

    void setFilter(const features::FeatureFilter& filter);
    const features::FeatureFilter& filter() const { return m_filter; }
    features::SortKey sortKey() const { return m_sort; }
    bool descending() const { return m_descending; }

    // The feature shown in `row`, or -1 when out of range.
    qint64 featureId(int row) const;
    // The row of feature `id` under the current sort and filter, or -1 (scans
    // cached pages first, then asks the store page by page).
    int rowOf(qint64 id) const;
    // The last query error ("" when the last query worked).
    QString lastError() const { return m_lastError; }

signals:
    // The rows were re-queried (filter, sort or store changed); `total` rows match.
    void reloaded(qint64 total);

private:
    void reload();
    const features::FeatureSummary* summaryAt(int row) const;
    const std::vector<features::FeatureSummary>* pageAt(int page) const;
    features::PageRequest request(int64_t offset, int64_t limit) const;

    FeatureStoreHandle* m_store;
    features::FeatureFilter m_filter;
    features::SortKey m_sort = features::SortKey::kId;
    bool m_descending = false;
    int m_rows = 0;
    mutable QHash<int, std::vector<features::FeatureSummary>> m_pages;
    mutable QList<int> m_pageOrder;  // least recently fetched first
    mutable QString m_lastError;
};

}  // namespace mono::ui
