#include "ui/panels/steer/steering_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTextEdit>
#include <QVBoxLayout>

#include <algorithm>

#include "core/features/feature_store.h"
#include "core/sae/sae_io.h"
#include "ui/jobs/job_runner.h"
#include "ui/jobs/text_stream.h"
#include "ui/panels/steer/feature_chip.h"
#include "ui/panels/steer/sweep_view.h"
#include "ui/widgets/display_format.h"

namespace mono::ui {
namespace {

// What openSae's job hands back.
struct LoadedSae {
    std::shared_ptr<const sae::Sae> sae;
    std::string hook;
    std::vector<float> maxActivation;
    QHash<int, QString> labels;  // the store's labelled features
};

// The labels of every labelled feature in the store at `path` (a short list).
Result<QHash<int, QString>> loadLabels(const std::string& path) {
    MONO_ASSIGN_OR_RETURN(
        auto store, features::FeatureStore::open(path, features::FeatureStore::Mode::kReadOnly));
    features::PageRequest request;
    request.filter.hasLabel = true;
    request.limit = 1'000'000;
    MONO_ASSIGN_OR_RETURN(features::FeaturePage page, store.page(request));
    QHash<int, QString> labels;
    for (const auto& row : page.rows)
        labels.insert(static_cast<int>(row.id), QString::fromStdString(row.label));
    return labels;
}

// Clamping a TopK or JumpReLU feature below zero is outside anything it does
// naturally (its activations are never negative): sweep from 0 unless asked.
bool nonNegativeArchitecture(sae::Architecture a) {
    return a != sae::Architecture::kStandard;
}

QString htmlEscaped(const std::string& utf8) {
    return QString::fromStdString(utf8).toHtmlEscaped().replace(QStringLiteral("\n"),
                                                                QStringLiteral("<br>"));
}

}  // namespace

SteeringPanel::SteeringPanel(QWidget* parent) : QWidget(parent), m_runner(new JobRunner(this)) {
    m_reportError = messageBoxErrorReporter(this);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(buildControls());
    m_tabs = new QTabWidget;
    m_tabs->setObjectName(QStringLiteral("steerTabs"));
    m_tabs->addTab(buildCompareTab(), tr("Baseline vs steered"));
    m_tabs->addTab(buildSweepTab(), tr("Sweep"));
    layout->addWidget(m_tabs, 1);
    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("steerStatus"));
    layout->addWidget(m_status);

    connect(m_runner, &JobRunner::failed, this,
            [this](quint64, const QString& label, const QString& message) {
                setStatus(tr("%1 failed").arg(label));
                m_reportError(tr("%1 failed").arg(label), message);
            });
    connect(m_runner, &JobRunner::cancelled, this, [this](quint64) { setStatus(tr("Stopped")); });
    connect(m_runner, &JobRunner::progressChanged, this,
            [this](quint64, double, const QString& message, const QVariantMap&) {
                setStatus(message);
            });
    connect(m_runner, &JobRunner::busyChanged, this, [this] { updateActions(); });
    // A job that ended without a result (error, stop) still answers its signal.
    connect(m_runner, &JobRunner::finished, this, [this](quint64 id) {
        if (m_jobDelivered) return;
        if (id == m_saeJob) {
            if (!m_sae) m_saeLabel->setText(tr("No SAE loaded"));
            emit saeLoaded(false);
        } else if (id == m_steerJob) {
            emit steeringFinished(false);
        } else if (id == m_sweepJob) {
            emit sweepFinished(false);
        }
    });
    updateActions();
}

SteeringPanel::~SteeringPanel() = default;

QWidget* SteeringPanel::buildControls() {
    auto* box = new QWidget;
    auto* v = new QVBoxLayout(box);
    v->setContentsMargins(0, 0, 0, 0);

    m_saeLabel = new QLabel(tr("No SAE loaded"));
    m_saeLabel->setObjectName(QStringLiteral("saeLabel"));
    v->addWidget(m_saeLabel);

    // Feature chips, then a way to add one by id.
    auto* chips = new QGroupBox(tr("Steered features"));
    auto* chipsLayout = new QHBoxLayout(chips);
    auto* chipHolder = new QWidget;
    m_chipRow = new QHBoxLayout(chipHolder);
    m_chipRow->setContentsMargins(0, 0, 0, 0);
    m_noChips =
        new QLabel(tr("None yet: use “Steer with this feature” on a dashboard, or add an id."));
    m_chipRow->addWidget(m_noChips);
    m_chipRow->addStretch(1);
    auto* scroll = new QScrollArea;
    scroll->setWidget(chipHolder);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setMinimumHeight(44);
    scroll->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    chipsLayout->addWidget(scroll, 1);
    m_addId = new QSpinBox;
    m_addId->setObjectName(QStringLiteral("addFeatureId"));
    m_addId->setRange(0, 1 << 30);
    auto* add = new QPushButton(tr("Add"));
    add->setObjectName(QStringLiteral("addFeatureButton"));
    connect(add, &QPushButton::clicked, this, [this] { steerFeature(m_addId->value()); });
    chipsLayout->addWidget(m_addId);
    chipsLayout->addWidget(add);
    v->addWidget(chips);

    // Mode, positions and sampling.
    auto* options = new QGridLayout;
    options->setHorizontalSpacing(6);
    m_mode = new QComboBox;
    m_mode->setObjectName(QStringLiteral("modeCombo"));
    m_mode->addItem(tr("clamp"), int(steer::SteerMode::kClamp));
    m_mode->addItem(tr("conditional clamp"), int(steer::SteerMode::kConditionalClamp));
    m_mode->addItem(tr("add W_dec"), int(steer::SteerMode::kAdd));
    m_mode->setToolTip(
        tr("clamp: f := v everywhere; conditional: only where the feature fires; "
           "add: h += v·W_dec[i]"));
    m_positions = new QComboBox;
    m_positions->setObjectName(QStringLiteral("positionsCombo"));
    m_positions->addItem(tr("prompt and generated"), int(steer::SteerPositions::kAll));
    m_positions->addItem(tr("prompt only"), int(steer::SteerPositions::kPrompt));
    m_positions->addItem(tr("generated only"), int(steer::SteerPositions::kGenerated));
    m_skipSpecial = new QCheckBox(tr("skip BOS/special"));
    m_skipSpecial->setChecked(true);
    m_tokens = new QSpinBox;
    m_tokens->setRange(1, 4096);
    m_tokens->setValue(64);
    m_temperature = new QDoubleSpinBox;
    m_temperature->setRange(0, 5);
    m_temperature->setSingleStep(0.1);
    m_temperature->setValue(0.5);
    m_topP = new QDoubleSpinBox;
    m_topP->setRange(0.01, 1);
    m_topP->setSingleStep(0.05);
    m_topP->setValue(1.0);
    m_frequencyPenalty = new QDoubleSpinBox;
    m_frequencyPenalty->setRange(-5, 5);
    m_frequencyPenalty->setSingleStep(0.1);
    m_frequencyPenalty->setValue(1.0);
    m_seed = new QSpinBox;
    m_seed->setRange(0, 1 << 30);
    m_seed->setValue(1);
    // Two rows, so that nothing is truncated in a 1024-pixel window: what is
    // steered, then how the text is sampled.
    int column = 0, line = 0;
    const auto labelled = [&](const QString& text, QWidget* w) {
        options->addWidget(new QLabel(text), line, column++);
        options->addWidget(w, line, column++);
    };
    labelled(tr("Mode"), m_mode);
    labelled(tr("Positions"), m_positions);
    options->addWidget(m_skipSpecial, line, column++, 1, 2);
    column = 0;
    ++line;
    labelled(tr("Tokens"), m_tokens);
    labelled(tr("Temperature"), m_temperature);
    labelled(tr("top-p"), m_topP);
    labelled(tr("Frequency penalty"), m_frequencyPenalty);
    labelled(tr("Seed"), m_seed);
    options->setColumnStretch(column, 1);
    v->addLayout(options);

    auto* promptRow = new QHBoxLayout;
    m_prompt = new QPlainTextEdit;
    m_prompt->setObjectName(QStringLiteral("steerPrompt"));
    m_prompt->setPlaceholderText(tr("Prompt"));
    m_prompt->setMaximumHeight(70);
    m_steerButton = new QPushButton(tr("Steer"));
    m_steerButton->setObjectName(QStringLiteral("steerButton"));
    m_steerButton->setDefault(true);
    m_stopButton = new QPushButton(tr("Stop"));
    m_stopButton->setObjectName(QStringLiteral("stopButton"));
    connect(m_steerButton, &QPushButton::clicked, this, &SteeringPanel::steer);
    connect(m_stopButton, &QPushButton::clicked, this, &SteeringPanel::stop);
    promptRow->addWidget(m_prompt, 1);
    auto* buttons = new QVBoxLayout;
    buttons->addWidget(m_steerButton);
    buttons->addWidget(m_stopButton);
    promptRow->addLayout(buttons);
    v->addLayout(promptRow);
    return box;
}

QWidget* SteeringPanel::buildCompareTab() {
    auto* tab = new QWidget;
    auto* v = new QVBoxLayout(tab);
    auto* split = new QSplitter(Qt::Horizontal);
    const auto column = [&](const QString& title, QTextEdit*& view, const char* name) {
        auto* box = new QGroupBox(title);
        auto* l = new QVBoxLayout(box);
        view = new QTextEdit;
        view->setObjectName(QString::fromLatin1(name));
        view->setReadOnly(true);
        l->addWidget(view);
        split->addWidget(box);
    };
    column(tr("Baseline"), m_baselineView, "baselineView");
    column(tr("Steered"), m_steeredView, "steeredView");
    v->addWidget(split, 1);
    m_shadeNote = new QLabel;
    m_shadeNote->setObjectName(QStringLiteral("hint"));
    m_shadeNote->setWordWrap(true);
    m_shadeNote->hide();
    v->addWidget(m_shadeNote);
    m_measures = new QLabel;
    m_measures->setObjectName(QStringLiteral("measuresLabel"));
    m_measures->setWordWrap(true);
    m_measures->setTextInteractionFlags(Qt::TextSelectableByMouse);
    v->addWidget(m_measures);
    return tab;
}

QWidget* SteeringPanel::buildSweepTab() {
    auto* tab = new QWidget;
    auto* v = new QVBoxLayout(tab);
    auto* row = new QHBoxLayout;
    m_sweepFrom = new QDoubleSpinBox;
    m_sweepFrom->setObjectName(QStringLiteral("sweepFrom"));
    m_sweepTo = new QDoubleSpinBox;
    m_sweepTo->setObjectName(QStringLiteral("sweepTo"));
    for (QDoubleSpinBox* s : {m_sweepFrom, m_sweepTo}) {
        s->setRange(-1000, 1000);
        s->setDecimals(2);
    }
    m_sweepFrom->setValue(0);
    m_sweepTo->setValue(10);
    m_sweepSteps = new QSpinBox;
    m_sweepSteps->setObjectName(QStringLiteral("sweepSteps"));
    m_sweepSteps->setRange(1, 101);
    m_sweepSteps->setValue(11);
    m_sweepButton = new QPushButton(tr("Sweep the first feature"));
    m_sweepButton->setObjectName(QStringLiteral("sweepButton"));
    connect(m_sweepButton, &QPushButton::clicked, this, &SteeringPanel::sweep);
    row->addWidget(new QLabel(tr("From")));
    row->addWidget(m_sweepFrom);
    row->addWidget(new QLabel(tr("to")));
    row->addWidget(m_sweepTo);
    row->addWidget(new QLabel(tr("steps")));
    row->addWidget(m_sweepSteps);
    row->addWidget(m_sweepButton);
    row->addStretch(1);
    v->addLayout(row);
    m_sweepView = new SweepView;
    v->addWidget(m_sweepView, 1);
    return tab;
}

void SteeringPanel::setModel(std::shared_ptr<model::Model> model,
                             std::shared_ptr<const tok::Tokenizer> tokenizer) {
    m_model = std::move(model);
    m_tokenizer = std::move(tokenizer);
    updateActions();
}

void SteeringPanel::openSae(const QString& saeDir, const QString& storePath, const QString& hook) {
    const std::string dir = saeDir.toStdString(), store = storePath.toStdString(),
                      hookName = hook.toStdString();
    m_saeLabel->setText(tr("Loading %1…").arg(saeDir));
    m_jobDelivered = false;
    m_saeJob = m_runner->start(
        tr("Loading the SAE"),
        [dir, store, hookName](const JobContext&) -> Result<LoadedSae> {
            sae::LoadOptions options;
            options.hook = hookName;
            MONO_ASSIGN_OR_RETURN(sae::Sae loaded, sae::loadSae(dir, options));
            LoadedSae out;
            out.hook = hookName.empty() ? loaded.config().metadata.hookName : hookName;
            if (out.hook.empty())
                return Status::invalidArgument(dir + ": the SAE does not record its hook");
            if (!store.empty()) {
                MONO_ASSIGN_OR_RETURN(out.maxActivation, steer::loadMaxActivations(store));
                MONO_ASSIGN_OR_RETURN(out.labels, loadLabels(store));
            }
            out.sae = std::make_shared<const sae::Sae>(std::move(loaded));
            return out;
        },
        [this, saeDir](LoadedSae loaded) {
            m_sae = std::move(loaded.sae);
            m_hook = loaded.hook;
            m_maxActivation = std::move(loaded.maxActivation);
            for (auto it = loaded.labels.constBegin(); it != loaded.labels.constEnd(); ++it)
                if (!m_labels.contains(it.key())) m_labels.insert(it.key(), it.value());
            for (FeatureChip* chip : m_chips) chip->setLabel(m_labels.value(chip->featureId()));
            const bool nonNegative = nonNegativeArchitecture(m_sae->config().architecture);
            m_sweepFrom->setValue(nonNegative ? 0.0 : -10.0);
            m_sweepTo->setValue(10.0);
            m_saeLabel->setText(tr("SAE %1 at %2, %3 features%4")
                                    .arg(saeDir, QString::fromStdString(m_hook))
                                    .arg(m_sae->dSae())
                                    .arg(relativeValues() ? tr(", values in × max activation")
                                                          : tr(", absolute values")));
            for (FeatureChip* chip : m_chips) chip->setRelative(relativeValues());
            updateActions();
            m_jobDelivered = true;
            emit saeLoaded(true);
        });
}

bool SteeringPanel::isBusy() const {
    return m_runner->isBusy();
}

QString SteeringPanel::prompt() const {
    return m_prompt->toPlainText();
}

void SteeringPanel::setPrompt(const QString& text) {
    m_prompt->setPlainText(text);
}

QList<int> SteeringPanel::steeredFeatures() const {
    QList<int> ids;
    for (const FeatureChip* chip : m_chips) ids.append(chip->featureId());
    return ids;
}

void SteeringPanel::steerFeature(int id, double value) {
    for (FeatureChip* chip : m_chips) {
        if (chip->featureId() == id) {
            chip->setValue(value);
            m_tabs->setCurrentIndex(0);
            return;
        }
    }
    auto* chip = new FeatureChip(id, value, relativeValues());
    chip->setLabel(m_labels.value(id));
    connect(chip, &FeatureChip::removeRequested, this, &SteeringPanel::removeFeature);
    m_chips.append(chip);
    m_chipRow->insertWidget(m_chipRow->count() - 1, chip);  // before the stretch
    m_noChips->hide();
    m_tabs->setCurrentIndex(0);
    updateActions();
}

void SteeringPanel::setFeatureLabel(int id, const QString& label) {
    m_labels.insert(id, label);
    for (FeatureChip* chip : m_chips)
        if (chip->featureId() == id) chip->setLabel(label);
}

void SteeringPanel::removeFeature(int id) {
    for (int i = 0; i < m_chips.size(); ++i) {
        if (m_chips[i]->featureId() != id) continue;
        m_chips[i]->deleteLater();
        m_chips.removeAt(i);
        break;
    }
    m_noChips->setVisible(m_chips.isEmpty());
    updateActions();
}

steer::SteerRunSpec SteeringPanel::spec() const {
    steer::SteerRunSpec s;
    s.steer.hook = m_hook;
    s.steer.mode = steer::SteerMode(m_mode->currentData().toInt());
    s.steer.positions = steer::SteerPositions(m_positions->currentData().toInt());
    s.steer.skipSpecial = m_skipSpecial->isChecked();
    for (const FeatureChip* chip : m_chips) {
        steer::FeatureEdit e;
        e.feature = chip->featureId();
        e.value = chip->value();
        e.relative = relativeValues();
        if (e.relative && e.feature < int64_t(m_maxActivation.size()))
            e.maxActivation = m_maxActivation[size_t(e.feature)];
        s.steer.edits.push_back(e);
    }
    s.prompt = prompt().toStdString();
    s.generate.maxNewTokens = m_tokens->value();
    s.generate.sampling.temperature = float(m_temperature->value());
    s.generate.sampling.topP = float(m_topP->value());
    s.generate.sampling.frequencyPenalty = float(m_frequencyPenalty->value());
    s.generate.sampling.seed = quint64(m_seed->value());
    return s;
}

void SteeringPanel::steer() {
    if (!m_model || !m_sae || m_chips.isEmpty() || isBusy()) return;
    const steer::SteerRunSpec s = spec();
    // A relative value of a feature the store has never seen fire is an error
    // the core reports (validateEdits); nothing to check here.
    m_report.reset();
    m_baseline.clear();
    m_steered.clear();
    const QString promptHtml =
        QStringLiteral("<span style='color:gray'>%1</span>").arg(htmlEscaped(s.prompt));
    m_baselineView->setHtml(promptHtml);
    m_steeredView->setHtml(promptHtml);
    m_measures->clear();
    m_tabs->setCurrentIndex(0);
    const auto appendTo = [this](QTextEdit* view, QString* text) {
        return TextStream::create([view, text](const QString& piece, int) {
            *text += piece;
            QTextCursor c(view->document());
            c.movePosition(QTextCursor::End);
            c.insertText(piece, QTextCharFormat());
        });
    };
    auto baseline = appendTo(m_baselineView, &m_baseline);
    auto steered = appendTo(m_steeredView, &m_steered);
    setStatus(tr("Generating…"));
    m_jobDelivered = false;
    m_steerJob = m_runner->start(
        tr("Steering"),
        [model = m_model, tokenizer = m_tokenizer, sae = m_sae, s, baseline,
         steered](const JobContext& job) -> Result<steer::SteerReport> {
            const steer::SteerTokenCallback onToken = [&](steer::Stream stream, model::TokenId,
                                                          const std::string& text) {
                (stream == steer::Stream::kBaseline ? baseline : steered)->push(job, text);
                return !job.stopRequested();
            };
            return steer::runSteering(*model, *tokenizer, sae, s, onToken, job.progress(),
                                      job.stop());
        },
        [this, baseline, steered](steer::SteerReport report) {
            baseline->drain();
            steered->drain();
            showReport(report);
            m_report = std::move(report);
            setStatus(tr("Done"));
            m_jobDelivered = true;
            emit steeringFinished(true);
        });
}

void SteeringPanel::sweep() {
    if (!m_model || !m_sae || m_chips.isEmpty() || isBusy()) return;
    const steer::SteerRunSpec s = spec();
    steer::SweepSpec sw;
    sw.feature = s.steer.edits.front().feature;
    sw.relative = s.steer.edits.front().relative;
    sw.maxActivation = s.steer.edits.front().maxActivation;
    sw.from = m_sweepFrom->value();
    sw.to = m_sweepTo->value();
    sw.steps = m_sweepSteps->value();
    m_sweepView->clear();
    m_tabs->setCurrentIndex(1);
    m_jobDelivered = false;
    m_sweepJob = m_runner->start(
        tr("Sweep of feature %1").arg(sw.feature),
        [model = m_model, tokenizer = m_tokenizer, sae = m_sae, s,
         sw](const JobContext& job) -> Result<steer::SweepReport> {
            return steer::runSweep(*model, *tokenizer, sae, s, sw, job.progress(), job.stop());
        },
        [this, relative = sw.relative](steer::SweepReport report) {
            m_sweepView->setReport(report, relative);
            setStatus(tr("Sweep done"));
            m_jobDelivered = true;
            emit sweepFinished(true);
        });
}

void SteeringPanel::stop() {
    m_runner->cancel();
}

void SteeringPanel::updateActions() {
    const bool ready = m_model && m_sae && !m_chips.isEmpty();
    const bool busy = m_runner->isBusy();
    m_steerButton->setEnabled(ready && !busy);
    m_sweepButton->setEnabled(ready && !busy);
    m_stopButton->setEnabled(busy);
}

void SteeringPanel::setStatus(const QString& text) {
    m_status->setText(text);
}

// The continuation's tokens shaded by the first steered feature's natural
// activation: full colour at the feature's max activation (from the store,
// else the largest value in this text).
QString SteeringPanel::shadedHtml(const steer::Continuation& c) const {
    float scale = 0;
    for (const auto& a : c.activations)
        if (!a.empty()) scale = std::max(scale, a[0]);
    if (!m_chips.isEmpty()) {
        const int id = m_chips.front()->featureId();
        if (id < int(m_maxActivation.size()) && m_maxActivation[size_t(id)] > 0)
            scale = m_maxActivation[size_t(id)];
    }
    QString html;
    for (size_t t = 0; t < c.pieces.size(); ++t) {
        const float a =
            t < c.activations.size() && !c.activations[t].empty() ? c.activations[t][0] : 0.0f;
        const QString piece = htmlEscaped(c.pieces[t]);
        if (a > 0 && scale > 0) {
            const int alpha = int(std::clamp(a / scale, 0.0f, 1.0f) * 200) + 30;
            html += QStringLiteral(
                        "<span style='background-color:rgba(255,140,0,%1)' "
                        "title='%2'>%3</span>")
                        .arg(alpha)
                        .arg(a, 0, 'f', 3)
                        .arg(piece);
        } else {
            html += piece;
        }
    }
    return html;
}

void SteeringPanel::showReport(const steer::SteerReport& report) {
    // Both texts come whole from the report (the streams hold back partial characters).
    m_baseline = QString::fromStdString(report.baseline.text);
    m_steered = QString::fromStdString(report.steered.text);
    const QString promptHtml = QStringLiteral("<span style='color:gray'>%1</span>")
                                   .arg(htmlEscaped(m_prompt->toPlainText().toStdString()));
    m_baselineView->setHtml(promptHtml + shadedHtml(report.baseline));
    m_steeredView->setHtml(promptHtml + shadedHtml(report.steered));

    const steer::FluencyReport& f = report.fluency;
    QString text = tr("Fluency on the prompt + baseline (%1 tokens): Δ loss %2 nats "
                      "(CE %3 → %4), KL %5 nats.")
                       .arg(f.predicted)
                       .arg(formatFixed(f.deltaLoss, 3), formatFixed(f.ceBaseline, 3),
                            formatFixed(f.ceSteered, 3), formatFixed(f.meanKl, 3));
    for (const steer::FeatureShift& s : report.shifts)
        text += tr("  Feature %1: p(top-%2 logit tokens) after the prompt %3 → %4.")
                    .arg(s.feature)
                    .arg(s.tokens.size())
                    .arg(formatFixed(s.sumBaseline, 4), formatFixed(s.sumSteered, 4));
    m_measures->setText(text);
    if (!report.features.empty())
        m_shadeNote->setText(
            tr("Shading: feature %1's natural activation — what the SAE reads on each "
               "token before the clamp — on the generated tokens (the prompt is grey); full "
               "colour at its max activation in the feature store.")
                .arg(report.features.front()));
    m_shadeNote->setVisible(!report.features.empty());
}

}  // namespace mono::ui
