#pragma once
// The Quantization view: calibrates the current model on the workspace's
// corpus (a job on a worker thread, with progress and cancel), then shows the
// result in a QuantPanel.

#include <QStringList>
#include <QWidget>

#include <memory>

#include "ui/widgets/error_reporter.h"

class QLabel;
class QPushButton;
class QSpinBox;

namespace mono::model {
class Model;
}
namespace mono::tok {
class Tokenizer;
}

namespace mono::ui {

class JobRunner;
class QuantPanel;

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
    JobRunner* runner() const { return m_runner; }

public slots:
    // Calibrates on the spin box's number of windows; the panel fills when done.
    void calibrate();

signals:
    void calibrated();

private:
    void updateActions();

    std::shared_ptr<model::Model> m_model;
    std::shared_ptr<const tok::Tokenizer> m_tokenizer;
    QStringList m_corpus;
    JobRunner* m_runner = nullptr;
    QuantPanel* m_panel = nullptr;
    QSpinBox* m_windows = nullptr;
    QPushButton* m_calibrate = nullptr;
    QPushButton* m_cancel = nullptr;
    QLabel* m_status = nullptr;
    ErrorReporter m_reportError;
};

}  // namespace mono::ui
