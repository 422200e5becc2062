#pragma once
// WorkspaceSession: the workspace the window is centred on — its manifest, its
// SAEs, the SAE chosen for exploring (loaded on a worker thread) and that SAE's
// feature store. Opening a workspace also opens its model in the ModelSession.
// Bad input never changes the current state: open() and selectSae() return the
// error (or report it through failed()) and leave what was open in place.
// GUI thread only.

#include <QObject>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

#include "core/base/result.h"
#include "core/workspace/workspace.h"

namespace mono::sae {
class Sae;
}
namespace mono::model {
class Model;
}
namespace mono::sae {
struct QualityRecord;
}

namespace mono::ui {

class FeatureStoreHandle;
class JobRunner;
class ModelSession;

class WorkspaceSession : public QObject {
    Q_OBJECT
public:
    // `models` must outlive the session.
    explicit WorkspaceSession(ModelSession* models, QObject* parent = nullptr);
    ~WorkspaceSession() override;

    // Opens the workspace in `dir` (synchronously: it reads the manifest),
    // selects `preferredSae` when the workspace has it (the one used last),
    // else its first SAE that has a feature store, and opens its model.
    // On error nothing changes and the Status says why ("not a Monoscope workspace").
    Status open(const QString& dir, const QString& preferredSae = {});
    void close();
    // Re-reads the SAE list (after a training job added one); keeps the
    // selection. Emits saeListChanged when the list or an SAE's analysis changed.
    void refresh();
    // Whether SAE `name` has a feature store (has been analysed).
    bool isAnalysed(const QString& name) const;
    // OK when `model` can run the loaded SAE: its hook has the SAE's width.
    // InvalidArgument naming both widths otherwise; OK when no SAE is loaded.
    Status checkModel(const model::Model& model) const;

    bool isOpen() const { return m_workspace.has_value(); }
    QString dir() const;
    QString name() const;  // the folder's name
    const ws::Workspace* workspace() const { return m_workspace ? &*m_workspace : nullptr; }
    QStringList saeNames() const { return m_saeNames; }
    QStringList hooks() const;

    // Selects SAE `name`: opens its feature store (when analysed) at once and
    // loads the SAE on a worker, checking that its width matches its hook.
    // Errors are returned for the store and reported by failed() for the SAE.
    Status selectSae(const QString& name);
    QString currentSae() const { return m_sae; }
    QString currentHook() const { return m_hook; }
    // The loaded SAE, null until it has loaded (or when it failed).
    std::shared_ptr<const sae::Sae> sae() const { return m_loadedSae; }
    bool isSaeLoading() const;
    FeatureStoreHandle* store() const { return m_store; }
    ModelSession* models() const { return m_models; }
    // The current SAE's quality metrics (metrics.json beside it, written by
    // eval-sae --metrics), null when there are none. Re-read on saeMetricsChanged.
    std::shared_ptr<const sae::QualityRecord> quality() const { return m_quality; }

signals:
    void workspaceChanged();
    void saeSelected(const QString& name);  // the store is open; the SAE may still load
    void saeLoaded();
    void saeListChanged();
    // An SAE's evaluation was written (its eval.json).
    void saeMetricsChanged();
    // quality() changed (another SAE, or its metrics.json was rewritten).
    void qualityChanged();
    void failed(const QString& title, const QString& message);

private:
    ModelSession* m_models;
    FeatureStoreHandle* m_store;
    JobRunner* m_runner;
    std::optional<ws::Workspace> m_workspace;
    QStringList m_saeNames;
    QStringList m_analysed;  // the SAEs with a feature store, at the last refresh
    QString m_sae;
    QString m_hook;
    std::shared_ptr<const sae::Sae> m_loadedSae;
    std::shared_ptr<const sae::QualityRecord> m_quality;
    void reloadQuality();
};

}  // namespace mono::ui
