#pragma once
// WorkspaceSidebar: the workspace at a glance, docked at the window's left —
// its name and folder, model, corpus and hook points, and the list of SAEs;
// choosing an SAE makes it the one the Features and Inspector views show.

#include <QWidget>

#include "ui/widgets/error_reporter.h"

class QLabel;
class QListWidget;

namespace mono::ui {

class WorkspaceSession;

class WorkspaceSidebar : public QWidget {
    Q_OBJECT
public:
    // `session` must outlive the sidebar.
    explicit WorkspaceSidebar(WorkspaceSession* session, QWidget* parent = nullptr);

    void setErrorReporter(ErrorReporter reporter) { m_reportError = std::move(reporter); }
    QListWidget* saeList() const { return m_saes; }
    // The model, hooks, corpus and context lines (rich text).
    QString detailsText() const;
    // The SAE's shape, analysis and evaluation lines.
    QString storeInfoText() const;
    // The SAE's quality metrics line (empty without a metrics.json).
    QString qualityText() const;

private:
    void rebuild();
    void updateDetails();
    void updateStoreInfo();

    WorkspaceSession* m_session;
    ErrorReporter m_reportError;
    QLabel* m_name;
    QLabel* m_path;
    QLabel* m_details;
    QListWidget* m_saes;
    QLabel* m_storeInfo;
};

}  // namespace mono::ui
