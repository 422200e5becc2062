#pragma once
// FeatureBrowser: the list of all features of the current store, with the
// global log-density histogram above it (click a bar to filter to that density
// range), a search box (words matched against example text, labels and notes,
// or the strongest token; "#123" goes to feature 123), a kind filter (alive,
// dead, dense, labelled) and a go-to-id box. An empty result says why. Sorting is by clicking a
// column header; arrow keys move through the list and the dashboard follows.

#include <QTimer>
#include <QWidget>

#include <optional>
#include <vector>

#include "core/features/feature_store.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QTableView;
class QToolButton;

namespace mono::ui {

class DensityHistogramView;
class FeatureStoreHandle;
class FeatureTableModel;

class FeatureBrowser : public QWidget {
    Q_OBJECT
public:
    enum class Kind { kAll, kAlive, kDead, kDense, kLabelled, kUnlabelled };

    // `store` must outlive the browser.
    explicit FeatureBrowser(FeatureStoreHandle* store, QWidget* parent = nullptr);

    FeatureTableModel* model() const { return m_model; }
    QTableView* table() const { return m_table; }
    QLineEdit* searchBox() const { return m_search; }
    DensityHistogramView* histogram() const { return m_histogram; }

    // Selects (and scrolls to) feature `id` when it is in the list; false otherwise.
    bool selectFeature(qint64 id);
    qint64 selectedFeature() const;
    void setKind(Kind kind);
    // Applies the search box now instead of after the typing pause.
    void applyFilterNow();
    // Puts the keyboard focus in the search box, all text selected.
    void focusSearch();
    // Clears the search, the kind, the density range and the selection (another workspace).
    void resetFilters();
    // Leaves no row selected (the dashboard shows a feature the list does not).
    void clearSelection();
    // Restricts the list to these features (a lasso on the feature map; an
    // empty list shows none); nullopt lifts the restriction.
    void setMapSelection(std::optional<std::vector<int64_t>> ids);
    bool hasMapSelection() const { return m_mapSelection.has_value(); }
    // Where the search looks: example text, labels and notes; or the strongest token.
    enum class SearchIn { kText, kTopToken };
    void setSearchIn(SearchIn where);
    // The words to highlight in examples ("" unless searching text).
    QString highlightText() const;
    QLineEdit* goToBox() const { return m_goTo; }
    // The message shown instead of an empty list ("" when the list has rows).
    QString emptyMessage() const;

signals:
    void featureSelected(qint64 id);
    // "Go to" a feature id (the go-to box, or "#123" in the search box).
    void goToRequested(qint64 id);
    // The search text applied to the list changed (for highlighting).
    void searchApplied(const QString& text);

private:
    void scheduleFilter();
    void applyFilter();
    void updateCount(qint64 total);
    void updateEmptyMessage(qint64 total);
    void updateFilteredHistogram(const features::FeatureFilter& filter);
    void reloadHistogram();
    void goTo(const QString& text);

    FeatureStoreHandle* m_store;
    FeatureTableModel* m_model;
    DensityHistogramView* m_histogram;
    QLineEdit* m_search;
    QComboBox* m_kind;
    QComboBox* m_searchIn;
    QLineEdit* m_goTo;
    QLabel* m_count;
    QLabel* m_empty;
    QTableView* m_table;
    QTimer m_filterTimer;
    std::optional<std::pair<double, double>> m_densityRange;
    std::optional<std::vector<int64_t>> m_mapSelection;
    // The SAE's width when the store holds only some of its features (built a
    // range at a time: analyze --features A:B); 0 when it holds all.
    qint64 m_saeWidth = 0;
};

}  // namespace mono::ui
