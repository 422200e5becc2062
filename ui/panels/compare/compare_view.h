#pragma once
// CompareView: two SAEs of the workspace side by side, matched by decoder
// cosine (ui/jobs/compare_job.h): a summary, every feature of A with its best
// match in B, and the split families (a feature of the narrower SAE and the
// features of the wider one that it split into). Double-clicking a feature
// asks to open it (featureRequested), in the SAE it belongs to.

#include <QWidget>

#include "ui/jobs/compare_job.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QTableView;
class QTreeWidget;

namespace mono::ui {

class JobRunner;
class WorkspaceSession;

class CompareView : public QWidget {
    Q_OBJECT
public:
    explicit CompareView(WorkspaceSession* workspace, QWidget* parent = nullptr);

    // Compares the SAEs chosen in the two boxes on the view's runner.
    void compare();
    // Shows a finished comparison (also what compare() ends in).
    void showResult(const CompareJobResult& result);

    // Which rows of the match table are shown.
    enum class Filter { kAll, kMatched, kUnmatched, kMutual };
    void setFilter(Filter filter);

    QComboBox* saeA() const { return m_saeA; }
    QComboBox* saeB() const { return m_saeB; }
    QTableView* matchTable() const { return m_table; }
    QTreeWidget* familyTree() const { return m_families; }
    QLabel* summary() const { return m_summary; }
    JobRunner* runner() const { return m_runner; }

signals:
    void featureRequested(const QString& sae, qint64 id);
    void failed(const QString& title, const QString& message);

private:
    void fillSaeLists();
    void fillFamilies();
    QString describe(bool inA, int64_t id) const;

    WorkspaceSession* m_workspace;
    JobRunner* m_runner;
    QComboBox* m_saeA;
    QComboBox* m_saeB;
    QDoubleSpinBox* m_threshold;
    QComboBox* m_filter;
    QPushButton* m_run;
    QLabel* m_summary;
    QTableView* m_table;
    class MatchTableModel* m_model;
    QTreeWidget* m_families;
    CompareJobResult m_result;
    bool m_hasResult = false;
};

}  // namespace mono::ui
