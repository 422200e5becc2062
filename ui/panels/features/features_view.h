#pragma once
// The Features view: the browser on the left and, on the right, the selected
// feature's dashboard and the feature map in two tabs, kept in step (selection, links between
// features, go-to-id), with a back / forward history of the features shown (Alt+Left, Alt+Right)
// and the dashboard's export menu.

#include <QWidget>

#include "ui/panels/features/feature_history.h"

class QAction;
class QSplitter;
class QTabWidget;

namespace mono::ui {

class FeatureBrowser;
class FeatureDashboard;
class FeatureExporter;
class FeatureMapView;
class FeatureStoreHandle;

class FeaturesView : public QWidget {
    Q_OBJECT
public:
    explicit FeaturesView(FeatureStoreHandle* store, QWidget* parent = nullptr);

    FeatureBrowser* browser() const { return m_browser; }
    FeatureDashboard* dashboard() const { return m_dashboard; }
    QSplitter* splitter() const { return m_splitter; }
    // The right-hand tabs: the dashboard, then the map.
    QTabWidget* tabs() const { return m_tabs; }
    FeatureMapView* mapView() const { return m_map; }
    // Brings the map tab to the front.
    void showMap();
    FeatureExporter* exporter() const { return m_exporter; }
    const FeatureHistory& history() const { return m_history; }

    // Shows feature `id` in the dashboard and selects it in the list; when the
    // list's filter hides it, no row stays selected.
    void openFeature(qint64 id);
    // Back / forward through the features shown; false when there is nowhere to go.
    bool goBack();
    bool goForward();
    // Forgets the search, filters and history (another workspace was opened).
    void resetForWorkspace();
    // What a pasted command line needs to reopen the current feature
    // (`monoscope WORKSPACE --sae NAME --feature ID`); set by the main window.
    void setLinkContext(const QString& workspaceDir, const QString& saeName);
    // That command line for the current feature ("" when none is shown).
    QString featureLink() const;

private:
    void buildExportMenu();
    void connectMap();
    void onShown(qint64 id);
    // Opens a feature reached by back / forward without recording a new visit.
    bool revisit(qint64 id);
    void updateNavigation();

    FeatureStoreHandle* m_store;
    FeatureBrowser* m_browser;
    FeatureDashboard* m_dashboard;
    FeatureMapView* m_map;
    QTabWidget* m_tabs;
    QSplitter* m_splitter;
    FeatureExporter* m_exporter;
    FeatureHistory m_history;
    bool m_navigating = false;  // a back / forward move is not a new visit
    QString m_workspaceDir, m_saeName;
};

}  // namespace mono::ui
