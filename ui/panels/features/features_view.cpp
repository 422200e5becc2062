#include "ui/panels/features/features_view.h"

#include <QHBoxLayout>
#include <QSplitter>

#include "ui/panels/features/feature_browser.h"
#include "ui/panels/features/feature_dashboard.h"

namespace mono::ui {

FeaturesView::FeaturesView(FeatureStoreHandle* store, QWidget* parent) : QWidget(parent) {
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_splitter = new QSplitter(Qt::Horizontal);
    m_browser = new FeatureBrowser(store);
    m_dashboard = new FeatureDashboard(store);
    m_splitter->addWidget(m_browser);
    m_splitter->addWidget(m_dashboard);
    m_splitter->setStretchFactor(0, 2);
    m_splitter->setStretchFactor(1, 3);
    m_splitter->setChildrenCollapsible(false);
    layout->addWidget(m_splitter);
    connect(m_browser, &FeatureBrowser::featureSelected, m_dashboard,
            [this](qint64 id) { m_dashboard->showFeature(id); });
    connect(m_dashboard, &FeatureDashboard::featureRequested, this, &FeaturesView::openFeature);
}

void FeaturesView::openFeature(qint64 id) {
    // Selecting it in the list shows it through featureSelected; a feature the
    // filter hides is still shown.
    if (!m_browser->selectFeature(id) || m_dashboard->currentFeature() != id)
        m_dashboard->showFeature(id);
}

}  // namespace mono::ui
