#pragma once
// NewWorkspaceWizard: creates a workspace in four short pages — folder and
// model (Hugging Face folder, GGUF or llama2.c), corpus files, hook point, and
// the SAE to train — and hands back a plan: the manifest to write and the
// capture, training and analysis jobs to run. Each page checks what it can
// (files exist, the folder is empty or new) before Next is allowed.

#include <QWizard>

#include "core/workspace/workspace.h"
#include "ui/jobs/workspace_jobs.h"

class QComboBox;
class QLineEdit;
class QListWidget;
class QSpinBox;

namespace mono::ui {

struct NewWorkspacePlan {
    QString dir;
    ws::Manifest manifest;
    CaptureJobSpec capture;  // workspaceDir is filled in by whoever creates it
    TrainJobSpec train;
    AnalyseJobSpec analyse;
};

class NewWorkspaceWizard : public QWizard {
    Q_OBJECT
public:
    explicit NewWorkspaceWizard(QWidget* parent = nullptr);

    // Valid after the wizard was accepted.
    NewWorkspacePlan plan() const;

    // For tests: fill the pages without dialogs.
    void setFolder(const QString& dir);
    void setModel(const QString& path, const QString& tokenizer = {});
    void setCorpus(const QStringList& files);
    void setHook(const QString& hook);

private:
    QWizardPage* folderPage();
    QWizardPage* corpusPage();
    QWizardPage* hookPage();
    QWizardPage* saePage();

    QLineEdit* m_dir = nullptr;
    QLineEdit* m_model = nullptr;
    QLineEdit* m_tokenizer = nullptr;
    QListWidget* m_corpus = nullptr;
    QSpinBox* m_context = nullptr;
    QComboBox* m_hook = nullptr;
    QComboBox* m_arch = nullptr;
    QSpinBox* m_features = nullptr;
    QSpinBox* m_k = nullptr;
    QSpinBox* m_captureTokens = nullptr;
    QSpinBox* m_trainTokens = nullptr;
};

}  // namespace mono::ui
