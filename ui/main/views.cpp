#include "ui/main/views.h"

#include <QStringList>

#include "core/workspace/workspace.h"
#include "ui/panels/compare/compare_view.h"
#include "ui/panels/features/feature_dashboard.h"
#include "ui/panels/features/features_view.h"
#include "ui/panels/generate/generate_panel.h"
#include "ui/panels/inspector/prompt_inspector.h"
#include "ui/panels/jobs/jobs_panel.h"
#include "ui/panels/quant/outlier_panel.h"
#include "ui/panels/quant/quant_view.h"
#include "ui/panels/steer/steering_panel.h"
#include "ui/session/feature_store_handle.h"
#include "ui/session/model_session.h"
#include "ui/session/workspace_session.h"

namespace mono::ui {

namespace {

// The steering and quantization views know nothing of the sessions (they take
// a model, an SAE folder, corpus files): these keep them in step.
void followSessions(SteeringPanel* panel, ModelSession* models, WorkspaceSession* workspace) {
    QObject::connect(models, &ModelSession::modelChanged, panel, [panel, models] {
        panel->setModel(models->current().model, models->current().tokenizer);
    });
    QObject::connect(
        workspace, &WorkspaceSession::saeSelected, panel, [panel, workspace](const QString& name) {
            const ws::Workspace* ws = workspace->workspace();
            if (!ws) return;
            // An SAE not analysed yet has no store of max activations:
            // the panel then steers with absolute values.
            const FeatureStoreHandle* store = workspace->store();
            panel->openSae(QString::fromStdString(ws->saeDir(name.toStdString())),
                           store->isOpen() ? store->path() : QString(), workspace->currentHook());
        });
}

void followSessions(QuantView* view, ModelSession* models, WorkspaceSession* workspace) {
    QObject::connect(models, &ModelSession::modelChanged, view, [view, models] {
        view->setModel(models->current().model, models->current().tokenizer);
    });
    QObject::connect(workspace, &WorkspaceSession::workspaceChanged, view, [view, workspace] {
        QStringList corpus;
        if (const ws::Workspace* ws = workspace->workspace())
            for (const std::string& file : ws->manifest().corpus)
                corpus << QString::fromStdString(file);
        view->setCorpus(corpus);
    });
    // The features that write an outlier channel: those of the loaded SAE.
    auto source = [view, workspace] {
        view->outlierPanel()->setFeatureSource(workspace->sae(), workspace->store(),
                                               workspace->currentSae());
    };
    QObject::connect(workspace, &WorkspaceSession::saeLoaded, view, source);
    QObject::connect(workspace, &WorkspaceSession::saeSelected, view, source);
    QObject::connect(workspace, &WorkspaceSession::workspaceChanged, view, source);
}

}  // namespace

MainViews buildMainViews(ModelSession* models, WorkspaceSession* workspace) {
    MainViews views;
    views.features = new FeaturesView(workspace->store());
    views.inspector = new PromptInspector(workspace);
    views.jobs = new JobsPanel(workspace);
    views.generate = new GeneratePanel(models);
    views.steering = new SteeringPanel;
    followSessions(views.steering, models, workspace);
    views.quant = new QuantView;
    followSessions(views.quant, models, workspace);
    views.compare = new CompareView(workspace);
    FeaturesView* features = views.features;
    // A search or filter of one workspace means nothing in another.
    QObject::connect(workspace, &WorkspaceSession::workspaceChanged, features,
                     [features] { features->resetForWorkspace(); });
    SteeringPanel* steering = views.steering;
    FeatureDashboard* dashboard = views.features->dashboard();
    QObject::connect(dashboard, &FeatureDashboard::steerRequested, steering,
                     [steering, dashboard](int id) {
                         steering->setFeatureLabel(
                             id, QString::fromStdString(dashboard->record().summary.label));
                         steering->steerFeature(id);
                     });
    return views;
}

QList<ViewTab> MainViews::tabs() const {
    return {
        {QStringLiteral("features"), QObject::tr("Features"), features},
        {QStringLiteral("inspector"), QObject::tr("Prompt Inspector"), inspector},
        {QStringLiteral("jobs"), QObject::tr("Jobs"), jobs},
        {QStringLiteral("generate"), QObject::tr("Generate"), generate},
        {QStringLiteral("steer"), QObject::tr("Steering"), steering},
        {QStringLiteral("quant"), QObject::tr("Quantization"), quant},
        {QStringLiteral("compare"), QObject::tr("Compare SAEs"), compare},
    };
}

}  // namespace mono::ui
