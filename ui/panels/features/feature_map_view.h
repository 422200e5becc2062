#pragma once
// The Map tab of the Features view: the store's feature map as a zoomable
// scatter (FeatureMapPlot), coloured by density, max activation or label.
// A lasso filters the feature list to the features inside (Clear selection
// undoes it); clicking a point selects its feature, double-clicking opens its
// dashboard; the feature shown in the dashboard is marked. When the store has
// no map yet (or one of another SAE), "Compute map" lays it out as a job.
// The map is read when the tab is first shown after the store changed.

#include <QVector>
#include <QWidget>

#include <vector>

#include "core/features/feature_store.h"

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QToolButton;

namespace mono::ui {

class FeatureMapPlot;
class FeatureStoreHandle;
class JobRunner;

class FeatureMapView : public QWidget {
    Q_OBJECT
public:
    explicit FeatureMapView(FeatureStoreHandle* store, QWidget* parent = nullptr);

    FeatureMapPlot* plot() const { return m_plot; }
    QComboBox* colourBox() const { return m_colour; }
    QToolButton* lassoButton() const { return m_lasso; }
    QPushButton* computeButton() const { return m_compute; }
    QPushButton* clearButton() const { return m_clear; }
    JobRunner* runner() const { return m_runner; }
    // Whether a map of the open store's features is shown.
    bool hasMap() const;
    // What the view says instead of (or about) the map; "" when all is well.
    QString message() const;

    // Reads the map and the features' colours from the store now.
    void reload();
    // Starts laying out the store's features (the store's SAE must be readable).
    void computeMap();
    void setCurrentFeature(qint64 id);
    // Drops the lasso selection and says so (the list shows every feature again).
    void clearSelection();

signals:
    void featureClicked(qint64 id);
    void featureActivated(qint64 id);
    // The features inside a lasso (possibly none).
    void selectionChanged(const QVector<qint64>& ids);
    void selectionCleared();

protected:
    void showEvent(QShowEvent* event) override;

private:
    QWidget* buildToolbar();
    void recolour();
    void setMessage(const QString& text);
    void onAnnotationChanged(qint64 id);

    FeatureStoreHandle* m_store;
    JobRunner* m_runner;
    FeatureMapPlot* m_plot;
    QComboBox* m_colour;
    QToolButton* m_lasso;
    QPushButton* m_clear;
    QPushButton* m_compute;
    QProgressBar* m_progress;
    QLabel* m_message;
    QLabel* m_caption;
    std::vector<features::FeatureSummary> m_summaries;  // by id
    bool m_stale = true;                                // the store changed since the last reload()
    qint64 m_current = -1;
};

}  // namespace mono::ui
