#pragma once
// The Features view: the browser on the left and the selected feature's
// dashboard on the right, kept in step (selection, links between features).

#include <QWidget>

class QSplitter;

namespace mono::ui {

class FeatureBrowser;
class FeatureDashboard;
class FeatureStoreHandle;

class FeaturesView : public QWidget {
    Q_OBJECT
public:
    explicit FeaturesView(FeatureStoreHandle* store, QWidget* parent = nullptr);

    FeatureBrowser* browser() const { return m_browser; }
    FeatureDashboard* dashboard() const { return m_dashboard; }
    QSplitter* splitter() const { return m_splitter; }

    // Shows feature `id` in the dashboard and selects it in the list when listed.
    void openFeature(qint64 id);

private:
    FeatureBrowser* m_browser;
    FeatureDashboard* m_dashboard;
    QSplitter* m_splitter;
};

}  // namespace mono::ui
