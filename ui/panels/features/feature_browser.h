#pragma once
// FeatureBrowser: the list of all features of the current store, with the
// global log-density histogram above it (click a bar to filter to that density
// range), a search box (words matched against example text, labels and notes)
// and a kind filter (alive, dead, dense, labelled). Sorting is by clicking a
// column header; arrow keys move through the list and the dashboard follows.

#include <QTimer>
#include <QWidget>

#include <optional>

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

signals:
    void featureSelected(qint64 id);

private:
    void scheduleFilter();
    void applyFilter();
    void updateCount(qint64 total);
    void reloadHistogram();

    FeatureStoreHandle* m_store;
    FeatureTableModel* m_model;
    DensityHistogramView* m_histogram;
    QLineEdit* m_search;
    QComboBox* m_kind;
    QLabel* m_count;
    QTableView* m_table;
    QTimer m_filterTimer;
    std::optional<std::pair<double, double>> m_densityRange;
};

}  // namespace mono::ui
