#include "ui/panels/features/features_view.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QMenu>
#include <QRegularExpression>
#include <QSplitter>
#include <QTabWidget>

#include "ui/models/feature_table_model.h"
#include "ui/panels/features/feature_browser.h"
#include "ui/panels/features/feature_dashboard.h"
#include "ui/panels/features/feature_exporter.h"
#include "ui/panels/features/feature_map_view.h"
#include "ui/session/feature_store_handle.h"

namespace mono::ui {

namespace {

// A shell word: quoted unless it is plainly safe.
QString shellWord(const QString& word) {
    static const QRegularExpression safe(QStringLiteral("^[A-Za-z0-9_./+-]+$"));
    if (safe.match(word).hasMatch()) return word;
    QString quoted = word;
    quoted.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
    return QLatin1Char('\'') + quoted + QLatin1Char('\'');
}

}  // namespace

FeaturesView::FeaturesView(FeatureStoreHandle* store, QWidget* parent)
    : QWidget(parent), m_store(store), m_exporter(new FeatureExporter(this)) {
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_splitter = new QSplitter(Qt::Horizontal);
    m_browser = new FeatureBrowser(store);
    m_dashboard = new FeatureDashboard(store);
    m_map = new FeatureMapView(store);
    m_tabs = new QTabWidget;
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(m_dashboard, tr("Dashboard"));
    m_tabs->addTab(m_map, tr("Map"));
    m_splitter->addWidget(m_browser);
    m_splitter->addWidget(m_tabs);
    m_splitter->setStretchFactor(0, 2);
    m_splitter->setStretchFactor(1, 3);
    m_splitter->setChildrenCollapsible(false);
    layout->addWidget(m_splitter);
    connect(m_browser, &FeatureBrowser::featureSelected, m_dashboard,
            [this](qint64 id) { m_dashboard->showFeature(id); });
    connect(m_browser, &FeatureBrowser::goToRequested, this, &FeaturesView::openFeature);
    connect(m_dashboard, &FeatureDashboard::featureRequested, this, &FeaturesView::openFeature);
    connect(m_dashboard, &FeatureDashboard::featureShown, this, &FeaturesView::onShown);
    connect(m_dashboard, &FeatureDashboard::backRequested, this, &FeaturesView::goBack);
    connect(m_dashboard, &FeatureDashboard::forwardRequested, this, &FeaturesView::goForward);
    connect(m_browser, &FeatureBrowser::searchApplied, m_dashboard,
            &FeatureDashboard::setHighlight);
    connect(m_store, &FeatureStoreHandle::storeChanged, this, [this] {
        m_history.clear();
        updateNavigation();
        if (m_browser->hasMapSelection()) m_browser->setMapSelection(std::nullopt);
    });
    connectMap();

    auto* back = new QAction(tr("Back"), this);
    back->setShortcut(QKeySequence(Qt::ALT | Qt::Key_Left));
    back->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(back, &QAction::triggered, this, &FeaturesView::goBack);
    auto* forward = new QAction(tr("Forward"), this);
    forward->setShortcut(QKeySequence(Qt::ALT | Qt::Key_Right));
    forward->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(forward, &QAction::triggered, this, &FeaturesView::goForward);
    addAction(back);
    addAction(forward);
    buildExportMenu();
}

void FeaturesView::openFeature(qint64 id) {
    // Selecting it in the list shows it through featureSelected. A feature the
    // filter hides is still shown, with no other row left highlighted.
    if (!m_browser->selectFeature(id)) m_browser->clearSelection();
    if (m_dashboard->currentFeature() != id) m_dashboard->showFeature(id);
}

void FeaturesView::connectMap() {
    connect(m_map, &FeatureMapView::featureClicked, this, &FeaturesView::openFeature);
    connect(m_map, &FeatureMapView::featureActivated, this, [this](qint64 id) {
        openFeature(id);
        m_tabs->setCurrentWidget(m_dashboard);
    });
    connect(m_map, &FeatureMapView::selectionChanged, this, [this](const QVector<qint64>& ids) {
        m_browser->setMapSelection(std::vector<int64_t>(ids.begin(), ids.end()));
    });
    connect(m_map, &FeatureMapView::selectionCleared, this,
            [this] { m_browser->setMapSelection(std::nullopt); });
}

void FeaturesView::showMap() {
    m_tabs->setCurrentWidget(m_map);
}

void FeaturesView::onShown(qint64 id) {
    m_map->setCurrentFeature(id);
    if (!m_navigating) m_history.visit(id);
    updateNavigation();
}

bool FeaturesView::goBack() {
    return revisit(m_history.back());
}

bool FeaturesView::goForward() {
    return revisit(m_history.forward());
}

bool FeaturesView::revisit(qint64 id) {
    if (id < 0) return false;
    m_navigating = true;
    openFeature(id);
    m_navigating = false;
    updateNavigation();
    return true;
}

void FeaturesView::updateNavigation() {
    m_dashboard->setNavigation(m_history.canGoBack(), m_history.canGoForward());
}

void FeaturesView::resetForWorkspace() {
    m_map->clearSelection();
    m_browser->resetFilters();
    m_history.clear();
    updateNavigation();
}

void FeaturesView::setLinkContext(const QString& workspaceDir, const QString& saeName) {
    m_workspaceDir = workspaceDir;
    m_saeName = saeName;
}

void FeaturesView::buildExportMenu() {
    QMenu* menu = m_dashboard->exportMenu();
    const auto exportTo = [this](FeatureExporter::Format format, const QString& title,
                                 const QString& name, const QString& filter) {
        const qint64 id = m_dashboard->currentFeature();
        if (!m_store->isOpen()) return;
        const QString path = QFileDialog::getSaveFileName(this, title, name, filter);
        if (!path.isEmpty())
            m_exporter->start(format, m_store->path(), path, id, m_browser->model()->filter());
    };
    menu->addAction(tr("This feature as Neuronpedia JSON…"), this, [this, exportTo] {
        exportTo(FeatureExporter::Format::kFeatureJson, tr("Export the feature"),
                 QStringLiteral("feature-%1.json").arg(m_dashboard->currentFeature()),
                 tr("JSON (*.json)"));
    });
    menu->addAction(tr("All features as Neuronpedia JSON…"), this, [exportTo] {
        exportTo(FeatureExporter::Format::kStoreJson, tr("Export every feature"),
                 QStringLiteral("features.json"), tr("JSON (*.json)"));
    });
    menu->addAction(tr("The features in the list as Neuronpedia JSON…"), this, [exportTo] {
        exportTo(FeatureExporter::Format::kListJson, tr("Export the features in the list"),
                 QStringLiteral("selected-features.json"), tr("JSON (*.json)"));
    });
    menu->addAction(tr("The features in the list as CSV…"), this, [exportTo] {
        exportTo(FeatureExporter::Format::kListCsv, tr("Export the features in the list"),
                 QStringLiteral("selected-features.csv"), tr("CSV (*.csv)"));
    });
    menu->addAction(tr("Feature table as CSV…"), this, [exportTo] {
        exportTo(FeatureExporter::Format::kCsv, tr("Export the feature table"),
                 QStringLiteral("features.csv"), tr("CSV (*.csv)"));
    });
    menu->addSeparator();
    QAction* link = menu->addAction(tr("Copy a link to this feature"), this,
                                    [this] { QApplication::clipboard()->setText(featureLink()); });
    link->setToolTip(tr("A command line that opens Monoscope on this feature"));
    menu->addAction(tr("Copy the top example"), this, [this] {
        const QStringList texts = m_dashboard->topExampleTexts();
        if (!texts.isEmpty()) QApplication::clipboard()->setText(texts.front());
    });
}

QString FeaturesView::featureLink() const {
    const qint64 id = m_dashboard->currentFeature();
    if (id < 0) return {};
    QStringList words{QStringLiteral("monoscope")};
    if (!m_workspaceDir.isEmpty()) words << shellWord(m_workspaceDir);
    if (!m_saeName.isEmpty()) words << QStringLiteral("--sae") << shellWord(m_saeName);
    words << QStringLiteral("--feature") << QString::number(id);
    return words.join(QLatin1Char(' '));
}

}  // namespace mono::ui
