#include "app/gui/extra_views.h"

#include <memory>

#include "core/workspace/workspace.h"
#include "ui/jobs/job_runner.h"
#include "ui/main/main_window.h"
#include "ui/panels/features/feature_dashboard.h"
#include "ui/panels/features/features_view.h"
#include "ui/panels/quant/quant_view.h"
#include "ui/panels/steer/steering_panel.h"
#include "ui/session/model_session.h"
#include "ui/session/workspace_session.h"

using namespace mono::ui;

void addSteeringView(MainWindow& window) {
    auto* panel = new SteeringPanel;
    // For screenshots: steer the feature the dashboard shows, from a short prompt.
    auto prepare = [panel, &window](std::function<void()> ready) {
        const qint64 id = window.featuresView()->dashboard()->currentFeature();
        if (!panel->hasSae() || id < 0) return ready();
        panel->setPrompt(QStringLiteral("Once upon a time"));
        panel->steerFeature(static_cast<int>(id));
        auto connection = std::make_shared<QMetaObject::Connection>();
        *connection = QObject::connect(panel, &SteeringPanel::steeringFinished, panel,
                                       [connection, ready](bool) {
                                           QObject::disconnect(*connection);
                                           ready();
                                       });
        panel->steer();
    };
    window.addView(QStringLiteral("steer"), QObject::tr("Steering"), panel, prepare);
    ModelSession* models = window.session();
    WorkspaceSession* workspace = window.workspace();
    QObject::connect(models, &ModelSession::modelChanged, panel, [panel, models] {
        panel->setModel(models->current().model, models->current().tokenizer);
    });
    QObject::connect(workspace, &WorkspaceSession::saeSelected, panel,
                     [panel, workspace](const QString& name) {
                         const mono::ws::Workspace* ws = workspace->workspace();
                         if (!ws) return;
                         const std::string sae = name.toStdString();
                         panel->openSae(QString::fromStdString(ws->saeDir(sae)),
                                        QString::fromStdString(ws->featureStorePath(sae)),
                                        workspace->currentHook());
                     });
    QObject::connect(&window, &MainWindow::steerRequested, panel,
                     [panel](int id) { panel->steerFeature(id); });
}

void addQuantView(MainWindow& window) {
    auto* view = new QuantView;
    // For screenshots: a quick calibration on the workspace's corpus.
    auto prepare = [view](std::function<void()> ready) {
        auto done = std::make_shared<QList<QMetaObject::Connection>>();
        auto finish = [done, ready] {
            for (const auto& c : *done) QObject::disconnect(c);
            ready();
        };
        done->append(QObject::connect(view, &QuantView::calibrated, view, finish));
        done->append(QObject::connect(view->runner(), &JobRunner::failed, view, finish));
        view->calibrate();
        if (!view->runner()->isBusy()) finish();
    };
    window.addView(QStringLiteral("quant"), QObject::tr("Quantization"), view, prepare);
    ModelSession* models = window.session();
    WorkspaceSession* workspace = window.workspace();
    QObject::connect(models, &ModelSession::modelChanged, view, [view, models] {
        view->setModel(models->current().model, models->current().tokenizer);
    });
    QObject::connect(workspace, &WorkspaceSession::workspaceChanged, view, [view, workspace] {
        QStringList corpus;
        if (const mono::ws::Workspace* ws = workspace->workspace())
            for (const std::string& file : ws->manifest().corpus)
                corpus << QString::fromStdString(file);
        view->setCorpus(corpus);
    });
}
