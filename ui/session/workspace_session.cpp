#include "ui/session/workspace_session.h"

#include <QDir>
#include <QFileInfo>

#include <filesystem>

#include "core/model/hook_points.h"
#include "core/model/model.h"
#include "core/sae/quality_record.h"
#include "core/sae/sae.h"
#include "core/sae/sae_io.h"
#include "ui/jobs/job_runner.h"
#include "ui/jobs/workspace_jobs.h"
#include "ui/session/feature_store_handle.h"
#include "ui/session/model_session.h"

namespace mono::ui {

WorkspaceSession::WorkspaceSession(ModelSession* models, QObject* parent)
    : QObject(parent),
      m_models(models),
      m_store(new FeatureStoreHandle(this)),
      m_runner(new JobRunner(this)) {
    connect(m_runner, &JobRunner::failed, this,
            [this](quint64, const QString&, const QString& message) {
                emit failed(tr("Could not load the SAE %1").arg(m_sae), message);
            });
    connect(this, &WorkspaceSession::saeMetricsChanged, this, &WorkspaceSession::reloadQuality);
}

void WorkspaceSession::reloadQuality() {
    m_quality.reset();
    if (m_workspace && !m_sae.isEmpty()) {
        // A malformed file is as good as none here: eval-sae rewrites it whole.
        auto record = sae::loadQualityRecord(
            sae::qualityRecordPath(m_workspace->saeDir(m_sae.toStdString())));
        if (record.ok()) m_quality = std::make_shared<const sae::QualityRecord>(std::move(*record));
    }
    emit qualityChanged();
}

WorkspaceSession::~WorkspaceSession() = default;

QString WorkspaceSession::dir() const {
    return m_workspace ? QString::fromStdString(m_workspace->dir()) : QString();
}

QString WorkspaceSession::name() const {
    return m_workspace ? QFileInfo(QDir::cleanPath(dir())).fileName() : QString();
}

QStringList WorkspaceSession::hooks() const {
    QStringList out;
    if (m_workspace)
        for (const std::string& h : m_workspace->manifest().hooks)
            out.append(QString::fromStdString(h));
    return out;
}

bool WorkspaceSession::isSaeLoading() const {
    return m_runner->isBusy();
}

Status WorkspaceSession::open(const QString& dir, const QString& preferredSae) {
    auto opened = ws::Workspace::open(QDir::cleanPath(dir).toStdString());
    if (!opened.ok()) return opened.status();
    m_runner->abandon();
    m_workspace = std::move(opened).value();
    m_sae.clear();
    m_hook.clear();
    m_loadedSae.reset();
    m_store->close();
    refresh();
    emit workspaceChanged();

    // The SAE used last, else one that has been analysed: that is what the explorer shows.
    QString pick = m_saeNames.contains(preferredSae) ? preferredSae : QString();
    for (const QString& name : m_saeNames)
        if (pick.isEmpty() && isAnalysed(name)) pick = name;
    if (pick.isEmpty() && !m_saeNames.isEmpty()) pick = m_saeNames.front();
    if (!pick.isEmpty()) {
        const Status st = selectSae(pick);
        if (!st.ok())
            emit failed(tr("Could not open the features of %1").arg(pick),
                        QString::fromStdString(st.toString()));
    }

    const ws::Manifest& m = m_workspace->manifest();
    const QString modelPath = QString::fromStdString(m.modelPath);
    if (!modelPath.isEmpty() &&
        (!m_models->hasModel() || QFileInfo(m_models->current().path).absoluteFilePath() !=
                                      QFileInfo(modelPath).absoluteFilePath()))
        m_models->open(modelPath, QString::fromStdString(m.tokenizerPath));
    return Status::success();
}

void WorkspaceSession::close() {
    m_runner->abandon();
    m_workspace.reset();
    m_saeNames.clear();
    m_analysed.clear();
    m_sae.clear();
    m_hook.clear();
    m_loadedSae.reset();
    m_quality.reset();
    m_store->close();
    emit workspaceChanged();
}

void WorkspaceSession::refresh() {
    QStringList names, analysed;
    if (m_workspace)
        for (const std::string& name : m_workspace->saeNames()) {
            names.append(QString::fromStdString(name));
            if (isAnalysed(names.last())) analysed.append(names.last());
        }
    if (names == m_saeNames && analysed == m_analysed) return;
    m_saeNames = names;
    m_analysed = analysed;
    emit saeListChanged();
}

bool WorkspaceSession::isAnalysed(const QString& name) const {
    return m_workspace && QFileInfo::exists(QString::fromStdString(
                              m_workspace->featureStorePath(name.toStdString())));
}

Status WorkspaceSession::checkModel(const model::Model& model) const {
    if (!m_loadedSae || m_hook.isEmpty()) return Status::success();
    const std::string hook = m_hook.toStdString();
    auto id = model::parseHookName(model.config(), hook);
    if (!id.ok())
        return Status::invalidArgument("the open SAE " + m_sae.toStdString() + " reads hook " +
                                       hook + ", which this model does not have (" +
                                       id.status().message() + ")");
    const int width = model::hookWidth(model.config(), *id);
    if (width != m_loadedSae->dIn())
        return Status::invalidArgument(
            "this model's " + hook + " has width " + std::to_string(width) + " but the open SAE " +
            m_sae.toStdString() + " reads d_in " + std::to_string(m_loadedSae->dIn()) +
            ". Open a workspace made for this model (File ▸ Open Workspace) instead");
    return Status::success();
}

Status WorkspaceSession::selectSae(const QString& name) {
    if (!m_workspace) return Status::invalidArgument("no workspace is open");
    const std::string saeDir = m_workspace->saeDir(name.toStdString());
    const QString storePath =
        QString::fromStdString(m_workspace->featureStorePath(name.toStdString()));
    if (QFileInfo::exists(storePath)) {
        const Status st = m_store->open(storePath);
        if (!st.ok()) return st;
    } else {
        m_store->close();
    }
    m_sae = name;
    m_hook.clear();
    m_loadedSae.reset();
    reloadQuality();
    emit saeSelected(name);

    const std::string workspaceDir = m_workspace->dir();
    const std::string fallbackHook = m_workspace->manifest().hooks.empty()
                                         ? std::string()
                                         : m_workspace->manifest().hooks.front();
    struct Loaded {
        std::shared_ptr<const sae::Sae> sae;
        std::string hook;
    };
    m_runner->start(
        tr("Loading SAE"),
        [saeDir, workspaceDir, fallbackHook](const Progress&, StopToken) -> Result<Loaded> {
            MONO_ASSIGN_OR_RETURN(sae::Sae loaded, sae::loadSae(saeDir));
            std::string hook = loaded.config().metadata.hookName;
            if (hook.empty()) hook = fallbackHook;
            if (!hook.empty()) {
                const Status width = checkSaeWidth(workspaceDir, hook, loaded.dIn());
                if (!width.ok()) return width;
            }
            return Loaded{std::make_shared<const sae::Sae>(std::move(loaded)), hook};
        },
        [this](Loaded loaded) {
            m_loadedSae = std::move(loaded.sae);
            m_hook = QString::fromStdString(loaded.hook);
            emit saeLoaded();
        });
    return Status::success();
}

}  // namespace mono::ui
