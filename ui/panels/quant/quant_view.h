#pragma once
// The Quantization view: calibrates the current model on the workspace's
// corpus (a job on a worker thread, with progress and cancel), then shows the
// result in two tabs: the smoothing explorer (QuantPanel) and the outliers
// (OutlierPanel: heatmap, outlier table, massive activations, rotation). A
// third tab (ReportPanel) runs the end-to-end error report on held-out windows.

#include <QStringList>
#include <QWidget>

#include <memory>

#include "ui/widgets/error_reporter.h"

class QLabel;
class QPushButton;
class QSpinBox;
class QTabWidget;

namespace mono::model {
class Model;
}
namespace mono::tok {
class Tokenizer;
}

namespace mono::ui {

class JobRunner;
class OutlierPanel;
class QuantPanel;
class ReportPanel;

class QuantView : public QWidget {
    Q_OBJECT
public:
    explicit QuantView(QWidget* parent = nullptr);

    void setErrorReporter(ErrorReporter reporter) { m_reportError = std::move(reporter); }
    // The model to calibrate and the corpus files to take windows from; a new
    // model clears the panel.
    void setModel(std::shared_ptr<model::Model> model,
                  std::shared_ptr<const tok::Tokenizer> tokenizer);
    void setCorpus(const QStringList& files);

    QuantPanel* panel() const { return m_panel; }
    OutlierPanel* outlierPanel() const { return m_outliers; }
    ReportPanel* reportPanel() const { return m_report; }
    QTabWidget* tabs() const { return m_tabs; }
    JobRunner* runner() const { return m_runner; }

public slots:
    // Calibrates on the spin box's number of windows; the panel fills when done.
    void calibrate();
    // Builds the end-to-end report with the report tab's settings: calibration
    // on the spin box's windows, evaluation on the next kReportEvalWindows.
    void runReport();

signals:
    void calibrated();

private:
    void updateActions();

    std::shared_ptr<model::Model> m_model;
    std::shared_ptr<const tok::Tokenizer> m_tokenizer;
    QStringList m_corpus;
    JobRunner* m_runner = nullptr;
    QuantPanel* m_panel = nullptr;
    OutlierPanel* m_outliers = nullptr;
    ReportPanel* m_report = nullptr;
    QTabWidget* m_tabs = nullptr;
    QSpinBox* m_windows = nullptr;
    QPushButton* m_calibrate = nullptr;
    QPushButton* m_cancel = nullptr;
    QLabel* m_status = nullptr;
    ErrorReporter m_reportError;
};

}  // namespace mono::ui
