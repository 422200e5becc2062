#pragma once
// SteeringPanel: steering experiments by clamping SAE features. Feature chips
// with value sliders (added by steerFeature(), which a feature dashboard's
// "Steer with this feature" calls), the mode (clamp / conditional clamp / add)
// and positions, the sampler settings, a prompt; the baseline and the steered
// continuation stream in side by side and are then shaded per token by the
// first steered feature's activation; the measures (delta loss, KL, top-token
// probability) below. The Sweep tab runs one feature over a range of values
// and shows a table and a plot of delta loss against the value.
//
// Everything numeric happens in core/steer on the panel's JobRunner (one job
// at a time; a new run supersedes the old). The widget only copies settings in
// and shows results. Wiring by the main window:
//   panel->setModel(model, tokenizer);
//   panel->openSae(saeDir, storePath);          // store: max activations for "× max"
//   connect(dashboard, &FeatureDashboard::steerRequested, panel,
//           [panel](int id) { panel->steerFeature(id); });

#include <QHash>
#include <QWidget>

#include <memory>
#include <optional>
#include <vector>

#include "core/steer/steer_run.h"
#include "ui/widgets/error_reporter.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QHBoxLayout;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QTextEdit;

namespace mono::model {
class Model;
}
namespace mono::tok {
class Tokenizer;
}
namespace mono::sae {
class Sae;
}

namespace mono::ui {

class FeatureChip;
class JobRunner;
class SweepView;

class SteeringPanel : public QWidget {
    Q_OBJECT
public:
    static constexpr double kDefaultMultiple = 4.0;

    explicit SteeringPanel(QWidget* parent = nullptr);
    ~SteeringPanel() override;

    void setErrorReporter(ErrorReporter reporter) { m_reportError = std::move(reporter); }

    // The model to steer (shared with running jobs).
    void setModel(std::shared_ptr<model::Model> model,
                  std::shared_ptr<const tok::Tokenizer> tokenizer);
    // Loads the SAE (SAELens / Gemma Scope / sparsify) on the worker; with a
    // feature store, values are multiples of each feature's max activation.
    // `hook` empty: the one the SAE records. Emits saeLoaded(ok).
    void openSae(const QString& saeDir, const QString& storePath = {}, const QString& hook = {});
    bool hasSae() const { return m_sae != nullptr; }
    bool isBusy() const;

    QString prompt() const;
    void setPrompt(const QString& text);
    steer::SteerRunSpec spec() const;  // what steer() would run now
    QList<int> steeredFeatures() const;

    QString baselineText() const { return m_baseline; }
    QString steeredText() const { return m_steered; }
    const std::optional<steer::SteerReport>& lastReport() const { return m_report; }
    SweepView* sweepView() const { return m_sweepView; }

public slots:
    // Adds feature `id` as a chip (or sets its value when it is there) and shows
    // the panel's comparison tab. `value` is a multiple of the max activation
    // when a store is loaded, else absolute.
    void steerFeature(int id, double value = kDefaultMultiple);
    void removeFeature(int id);
    // The label a feature's chip shows (the dashboard passes it on).
    void setFeatureLabel(int id, const QString& label);
    // Generates baseline and steered text and measures them.
    void steer();
    // Sweeps the first chip's feature over the Sweep tab's range.
    void sweep();
    void stop();

signals:
    void saeLoaded(bool ok);
    void steeringFinished(bool ok);
    void sweepFinished(bool ok);

private:
    QWidget* buildControls();
    QWidget* buildCompareTab();
    QWidget* buildSweepTab();
    void updateActions();
    void showReport(const steer::SteerReport& report);
    void setStatus(const QString& text);
    QString shadedHtml(const steer::Continuation& c) const;
    bool relativeValues() const { return !m_maxActivation.empty(); }

    JobRunner* m_runner;
    // The latest job of each kind, and whether the current job delivered its result.
    quint64 m_saeJob = 0, m_steerJob = 0, m_sweepJob = 0;
    bool m_jobDelivered = false;
    ErrorReporter m_reportError;
    std::shared_ptr<model::Model> m_model;
    std::shared_ptr<const tok::Tokenizer> m_tokenizer;
    std::shared_ptr<const sae::Sae> m_sae;
    std::string m_hook;
    std::vector<float> m_maxActivation;  // per feature; empty without a store
    std::optional<steer::SteerReport> m_report;
    QString m_baseline, m_steered;
    QList<FeatureChip*> m_chips;
    QHash<int, QString> m_labels;  // feature id → label, for the chips

    QLabel* m_saeLabel = nullptr;
    QHBoxLayout* m_chipRow = nullptr;
    QLabel* m_noChips = nullptr;
    QSpinBox* m_addId = nullptr;
    QComboBox* m_mode = nullptr;
    QComboBox* m_positions = nullptr;
    QCheckBox* m_skipSpecial = nullptr;
    QSpinBox* m_tokens = nullptr;
    QDoubleSpinBox* m_temperature = nullptr;
    QDoubleSpinBox* m_topP = nullptr;
    QDoubleSpinBox* m_frequencyPenalty = nullptr;
    QSpinBox* m_seed = nullptr;
    QPlainTextEdit* m_prompt = nullptr;
    QPushButton* m_steerButton = nullptr;
    QPushButton* m_stopButton = nullptr;
    QTabWidget* m_tabs = nullptr;
    QTextEdit* m_baselineView = nullptr;
    QTextEdit* m_steeredView = nullptr;
    QLabel* m_measures = nullptr;
    QLabel* m_shadeNote = nullptr;
    QDoubleSpinBox* m_sweepFrom = nullptr;
    QDoubleSpinBox* m_sweepTo = nullptr;
    QSpinBox* m_sweepSteps = nullptr;
    QPushButton* m_sweepButton = nullptr;
    SweepView* m_sweepView = nullptr;
    QLabel* m_status = nullptr;
};

}  // namespace mono::ui
