#include "ui/panels/generate/generate_panel.h"

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollBar>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QTextCharFormat>
#include <QTextCursor>
#include <QVBoxLayout>

#include <algorithm>
#include <string>
#include <vector>

#include "core/model/config.h"
#include "core/model/generate.h"
#include "core/model/hook_points.h"
#include "core/model/model.h"
#include "core/tokenizer/tokenizer.h"
#include "ui/jobs/job_runner.h"
#include "ui/jobs/text_stream.h"
#include "ui/panels/generate/open_model_dialog.h"
#include "ui/session/model_session.h"

namespace mono::ui {

namespace {

const QColor kPromptColor(0x6b, 0x72, 0x80);
const QColor kContinuationColor(0x11, 0x18, 0x27);

QString archLabel(model::Arch arch) {
    switch (arch) {
        case model::Arch::kGpt2:
            return QStringLiteral("GPT-2");
        case model::Arch::kLlama:
            return QStringLiteral("Llama");
        case model::Arch::kMistral:
            return QStringLiteral("Mistral");
        case model::Arch::kQwen2:
            return QStringLiteral("Qwen 2");
        case model::Arch::kQwen3:
            return QStringLiteral("Qwen 3");
        case model::Arch::kGemma2:
            return QStringLiteral("Gemma 2");
        case model::Arch::kGemma3:
            return QStringLiteral("Gemma 3");
        case model::Arch::kGptNeox:
            return QStringLiteral("GPT-NeoX");
    }
    return QStringLiteral("?");
}

QString activationLabel(const model::ModelConfig& c) {
    const bool gated = c.gatedMlp();
    QString name;
    switch (c.activation) {
        case model::Activation::kGeluTanh:
            name = QStringLiteral("GELU (tanh)");
            break;
        case model::Activation::kGeluErf:
            name = QStringLiteral("GELU (erf)");
            break;
        case model::Activation::kRelu:
            name = QStringLiteral("ReLU");
            break;
        case model::Activation::kSilu:
            name = QStringLiteral("SiLU");
            break;
    }
    return gated ? name + QStringLiteral(", gated (SwiGLU)") : name;
}

QString positionsLabel(const model::ModelConfig& c) {
    const QString theta = QString::number(double(c.ropeTheta), 'g', 6);
    switch (c.rope) {
        case model::RopeLayout::kNone:
            return QObject::tr("learned position embeddings");
        case model::RopeLayout::kRotateHalf:
            return QObject::tr("RoPE, rotate-half pairs, θ = %1").arg(theta);
        case model::RopeLayout::kInterleaved:
            return QObject::tr("RoPE, interleaved pairs, θ = %1").arg(theta);
    }
    return {};
}

// "260.1 K", "124.4 M", "1.2 B".
QString shortCount(int64_t n) {
    const double v = double(n);
    if (v >= 1e9) return QString::number(v / 1e9, 'f', 2) + QStringLiteral(" B");
    if (v >= 1e6) return QString::number(v / 1e6, 'f', 1) + QStringLiteral(" M");
    if (v >= 1e3) return QString::number(v / 1e3, 'f', 1) + QStringLiteral(" K");
    return QString::number(n);
}

QString tokenCount(int n) {
    return n == 1 ? QObject::tr("1 token") : QObject::tr("%1 tokens").arg(n);
}

QSpinBox* makeSpin(int min, int max, int value, const QString& tip, const QString& name) {
    auto* spin = new QSpinBox;
    spin->setRange(min, max);
    spin->setValue(value);
    spin->setToolTip(tip);
    spin->setObjectName(name);
    spin->setAlignment(Qt::AlignRight);
    spin->setMinimumWidth(90);
    return spin;
}

QDoubleSpinBox* makeDoubleSpin(double min, double max, double step, double value,
                               const QString& tip, const QString& name) {
    auto* spin = new QDoubleSpinBox;
    spin->setRange(min, max);
    spin->setSingleStep(step);
    spin->setDecimals(2);
    spin->setValue(value);
    spin->setToolTip(tip);
    spin->setObjectName(name);
    spin->setAlignment(Qt::AlignRight);
    spin->setMinimumWidth(90);
    return spin;
}

}  // namespace

GeneratePanel::GeneratePanel(ModelSession* session, QWidget* parent)
    : QWidget(parent),
      m_session(session),
      m_runner(new JobRunner(this)),
      m_reportError(messageBoxErrorReporter(this)) {
    setObjectName(QStringLiteral("generatePanel"));
    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->setChildrenCollapsible(false);
    splitter->addWidget(buildModelColumn());
    splitter->addWidget(buildGenerateColumn());
    splitter->setStretchFactor(0, 0);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({360, 900});
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(12, 12, 12, 12);
    layout->addWidget(splitter);

    connect(m_session, &ModelSession::loadStarted, this, &GeneratePanel::onLoadStarted);
    connect(m_session, &ModelSession::loadFailed, this, &GeneratePanel::onLoadFailed);
    connect(m_session, &ModelSession::busyChanged, this, [this] { updateActions(); });
    connect(m_session, &ModelSession::modelChanged, this, [this] {
        updateModelView();
        updateActions();
    });

    connect(m_runner, &JobRunner::busyChanged, this, [this] { updateActions(); });
    connect(m_runner, &JobRunner::cancelled, this, [this](quint64) {
        if (m_stream) m_stream->drain();
        finishGeneration(tr("Stopped after %1.").arg(tokenCount(m_generatedTokens)), true);
    });
    connect(m_runner, &JobRunner::failed, this,
            [this](quint64, const QString&, const QString& message) {
                if (m_stream) m_stream->drain();
                finishGeneration(tr("Generation failed: %1").arg(message), false);
                m_reportError(tr("Generation failed"), message);
            });

    auto* generateShortcut = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), this);
    connect(generateShortcut, &QShortcut::activated, this, &GeneratePanel::generate);
    auto* stopShortcut = new QShortcut(QKeySequence(Qt::Key_Escape), this);
    connect(stopShortcut, &QShortcut::activated, this, &GeneratePanel::stop);

    updateModelView();
    updateActions();
}

GeneratePanel::~GeneratePanel() {
    // Stop and wait for a running generation before the widgets go away.
    delete m_runner;
    m_runner = nullptr;
}

QWidget* GeneratePanel::buildModelColumn() {
    auto* column = new QWidget;
    auto* layout = new QVBoxLayout(column);
    layout->setContentsMargins(0, 0, 8, 0);
    layout->setSpacing(10);

    auto* modelBox = new QGroupBox(tr("Model"));
    auto* modelLayout = new QVBoxLayout(modelBox);
    modelLayout->setSpacing(6);
    m_modelName = new QLabel;
    m_modelName->setObjectName(QStringLiteral("modelName"));
    m_modelPath = new QLabel;
    m_modelPath->setObjectName(QStringLiteral("modelPath"));
    m_modelPath->setWordWrap(true);
    m_modelPath->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_openButton = new QPushButton(tr("Open model…"));
    m_openButton->setObjectName(QStringLiteral("openModelButton"));
    m_openButton->setToolTip(
        tr("A Hugging Face folder, a .gguf file, or a llama2.c .bin checkpoint (Ctrl+O)"));
    connect(m_openButton, &QPushButton::clicked, this, &GeneratePanel::openModelInteractive);
    m_busyLabel = new QLabel;
    m_busyLabel->setObjectName(QStringLiteral("busyLabel"));
    m_busyLabel->setWordWrap(true);
    m_busy = new QProgressBar;
    m_busy->setObjectName(QStringLiteral("loadingIndicator"));
    m_busy->setRange(0, 0);  // indeterminate
    m_busy->setTextVisible(false);
    m_busy->setMaximumHeight(8);
    m_bf16Weights = new QCheckBox(tr("Keep weights in bf16"));
    m_bf16Weights->setObjectName(QStringLiteral("bf16WeightsCheck"));
    m_bf16Weights->setToolTip(
        tr("Hold the next model's linear and embedding weights in bfloat16 only: about half the "
           "memory of float32. SmoothQuant folding and logit effects need float32 weights."));
    connect(m_bf16Weights, &QCheckBox::toggled, this, [this](bool on) {
        m_session->setWeightStorage(on ? model::WeightStorage::kBf16 : model::WeightStorage::kF32);
    });
    auto* openRow = new QHBoxLayout;
    openRow->addWidget(m_openButton);
    openRow->addWidget(m_bf16Weights);
    openRow->addStretch(1);
    modelLayout->addWidget(m_modelName);
    modelLayout->addWidget(m_modelPath);
    modelLayout->addLayout(openRow);
    modelLayout->addWidget(m_busyLabel);
    modelLayout->addWidget(m_busy);
    m_busyLabel->hide();
    m_busy->hide();

    auto* configBox = new QGroupBox(tr("Configuration"));
    configBox->setObjectName(QStringLiteral("configBox"));
    auto* configLayout = new QVBoxLayout(configBox);
    m_configEmpty = new QLabel(tr("Open a model to see its configuration."));
    m_configEmpty->setObjectName(QStringLiteral("hint"));
    m_configEmpty->setWordWrap(true);
    m_configForm = new QFormLayout;
    m_configForm->setLabelAlignment(Qt::AlignRight);
    m_configForm->setHorizontalSpacing(14);
    m_configForm->setVerticalSpacing(5);
    m_configForm->setRowWrapPolicy(QFormLayout::DontWrapRows);
    m_configForm->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    configLayout->addWidget(m_configEmpty);
    configLayout->addLayout(m_configForm);

    layout->addWidget(modelBox);
    layout->addWidget(configBox);
    layout->addStretch(1);
    column->setMinimumWidth(320);
    return column;
}

QWidget* GeneratePanel::buildGenerateColumn() {
    auto* column = new QWidget;
    auto* layout = new QVBoxLayout(column);
    layout->setContentsMargins(8, 0, 0, 0);
    layout->setSpacing(10);

    auto* promptBox = new QGroupBox(tr("Prompt"));
    auto* promptLayout = new QVBoxLayout(promptBox);
    m_prompt = new QPlainTextEdit;
    m_prompt->setObjectName(QStringLiteral("promptEdit"));
    m_prompt->setPlaceholderText(
        tr("Type a prompt, or leave it empty to start from the beginning-of-text token. "
           "Ctrl+Return generates, Esc stops."));
    m_prompt->setTabChangesFocus(true);
    m_prompt->setFixedHeight(86);
    promptLayout->addWidget(m_prompt);

    auto* samplingBox = new QGroupBox(tr("Sampling"));
    auto* grid = new QGridLayout(samplingBox);
    grid->setHorizontalSpacing(10);
    grid->setVerticalSpacing(6);
    m_maxTokens = makeSpin(1, 4096, 200, tr("How many tokens to generate at most"),
                           QStringLiteral("maxTokensSpin"));
    m_temperature = makeDoubleSpin(0.0, 5.0, 0.1, 0.0, tr("0 picks the most likely token (greedy)"),
                                   QStringLiteral("temperatureSpin"));
    m_topK = makeSpin(0, 1000000, 0, tr("Sample among the k most likely tokens; 0 = all"),
                      QStringLiteral("topKSpin"));
    m_topP = makeDoubleSpin(0.01, 1.0, 0.05, 1.0,
                            tr("Nucleus sampling: the smallest set of tokens whose "
                               "probability reaches p; 1 = off"),
                            QStringLiteral("topPSpin"));
    m_seed = makeSpin(0, 2147483647, 0, tr("Random seed: the same seed gives the same text"),
                      QStringLiteral("seedSpin"));
    m_stopAtEos = new QCheckBox(tr("Stop at end of text"));
    m_stopAtEos->setObjectName(QStringLiteral("stopAtEosCheck"));
    m_stopAtEos->setChecked(true);
    const auto addField = [grid](int row, int col, const QString& label, QWidget* field) {
        auto* l = new QLabel(label);
        l->setBuddy(field);
        grid->addWidget(l, row, 2 * col, Qt::AlignRight);
        grid->addWidget(field, row, 2 * col + 1);
    };
    addField(0, 0, tr("Max new &tokens"), m_maxTokens);
    addField(0, 1, tr("T&emperature"), m_temperature);
    addField(0, 2, tr("Top-&k"), m_topK);
    addField(1, 0, tr("Top-&p"), m_topP);
    addField(1, 1, tr("See&d"), m_seed);
    grid->addWidget(m_stopAtEos, 1, 4, 1, 2);
    grid->setColumnStretch(6, 1);

    m_generateButton = new QPushButton(tr("&Generate"));
    m_generateButton->setObjectName(QStringLiteral("generateButton"));
    m_generateButton->setToolTip(tr("Generate a continuation of the prompt (Ctrl+Return)"));
    m_generateButton->setDefault(true);
    connect(m_generateButton, &QPushButton::clicked, this, &GeneratePanel::generate);
    m_stopButton = new QPushButton(tr("&Stop"));
    m_stopButton->setObjectName(QStringLiteral("stopButton"));
    m_stopButton->setToolTip(tr("Stop generating (Esc)"));
    connect(m_stopButton, &QPushButton::clicked, this, &GeneratePanel::stop);
    m_outcome = new QLabel;
    m_outcome->setObjectName(QStringLiteral("outcomeLabel"));
    m_outcome->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* buttons = new QHBoxLayout;
    buttons->setSpacing(8);
    buttons->addWidget(m_generateButton);
    buttons->addWidget(m_stopButton);
    buttons->addSpacing(8);
    buttons->addWidget(m_outcome, 1);

    auto* outputBox = new QGroupBox(tr("Output"));
    auto* outputLayout = new QVBoxLayout(outputBox);
    m_output = new QPlainTextEdit;
    m_output->setObjectName(QStringLiteral("outputView"));
    m_output->setReadOnly(true);
    m_output->setPlaceholderText(tr("The prompt (grey) and its continuation appear here."));
    QFont mono(QStringLiteral("DejaVu Sans Mono"));
    mono.setStyleHint(QFont::Monospace);
    m_output->setFont(mono);
    outputLayout->addWidget(m_output);

    layout->addWidget(promptBox);
    layout->addWidget(samplingBox);
    layout->addLayout(buttons);
    layout->addWidget(outputBox, 1);
    return column;
}

void GeneratePanel::updateModelView() {
    while (m_configForm->rowCount() > 0) m_configForm->removeRow(0);
    if (!m_session->hasModel()) {
        m_modelName->setText(tr("No model loaded"));
        m_modelPath->setText(tr("Open a Hugging Face folder, a .gguf file or a llama2.c .bin."));
        m_configEmpty->show();
        return;
    }
    m_configEmpty->hide();
    const LoadedModel& loaded = m_session->current();
    const model::ModelConfig& c = loaded.model->config();
    m_modelName->setText(m_session->displayName());
    m_modelPath->setText(loaded.path);
    m_modelPath->setToolTip(loaded.path);

    const QLocale locale;
    const auto row = [this](const QString& label, const QString& value,
                            const QString& tip = QString()) {
        auto* field = new QLabel(value);
        field->setTextInteractionFlags(Qt::TextSelectableByMouse);
        field->setToolTip(tip);
        field->setWordWrap(true);
        auto* name = new QLabel(label);
        name->setObjectName(QStringLiteral("formLabel"));
        m_configForm->addRow(name, field);
    };
    const auto num = [&locale](int64_t v) { return locale.toString(qlonglong(v)); };
    row(tr("Architecture"), archLabel(c.arch));
    row(tr("Layers"), num(c.nLayers));
    row(tr("d_model"), num(c.dModel));
    row(tr("Heads"),
        tr("%1 query, %2 key/value (head dim %3)")
            .arg(num(c.nHeads), num(c.nKvHeads), num(c.headDim)),
        c.nKvHeads < c.nHeads ? tr("Grouped-query attention") : QString());
    row(tr("d_mlp"), num(c.dMlp));
    row(tr("Vocabulary"), num(c.vocabSize));
    row(tr("Context"), tr("%1 tokens").arg(num(c.maxSeqLen)));
    row(tr("Positions"), positionsLabel(c));
    row(tr("Normalization"),
        tr("%1, ε = %2")
            .arg(c.layerNorm() ? QStringLiteral("LayerNorm") : QStringLiteral("RMSNorm"))
            .arg(double(c.normEps), 0, 'g', 3));
    row(tr("Activation"), activationLabel(c));
    row(tr("Embeddings"),
        c.tiedEmbeddings ? tr("tied (unembedding = embedding)") : tr("separate unembedding"));
    const int64_t params = c.parameterCount();
    row(tr("Parameters"), tr("%1 (%2)").arg(shortCount(params), num(params)));
    const bool bf16 = loaded.model->weightStorage() == model::WeightStorage::kBf16;
    row(tr("Weights in memory"),
        tr("%1, %2").arg(bf16 ? tr("bfloat16") : tr("float32"),
                         locale.formattedDataSize(loaded.model->weightBytes())),
        bf16 ? tr("Linear and embedding weights held as bfloat16 only") : QString());
    row(tr("Hook points"), num(int64_t(model::listHookNames(c).size())),
        tr("Named activations (TransformerLens names and linear inputs)"));
    row(tr("BOS / EOS"), tr("%1 / %2").arg(c.bosId).arg(c.eosId));
    if (loaded.tokenizer) {
        const QString tokName = QFileInfo(loaded.tokenizerPath) == QFileInfo(loaded.path)
                                    ? tr("built in")
                                    : ModelSession::displayNameOf(loaded.tokenizerPath);
        row(tr("Tokenizer"), tr("%1, %2 tokens").arg(tokName, num(loaded.tokenizer->vocabSize())),
            QString::fromStdString(loaded.tokenizer->describe()));
    }
    m_maxTokens->setMaximum(std::max(1, c.maxSeqLen));
}

void GeneratePanel::updateActions() {
    const bool generating = isGenerating();
    const bool loading = m_session->isLoading();
    m_generateButton->setEnabled(m_session->hasModel() && !generating && !loading);
    m_stopButton->setEnabled(generating);
    if (!loading) {
        m_busy->hide();
        m_busyLabel->hide();
    }
}

void GeneratePanel::onLoadStarted(const QString& path) {
    stop();  // a new model is coming: the running continuation is moot
    m_busyLabel->setText(tr("Loading %1…").arg(ModelSession::displayNameOf(path)));
    m_busyLabel->show();
    m_busy->show();
    updateActions();
}

void GeneratePanel::onLoadFailed(const QString& path, const QString& message) {
    updateActions();
    m_busy->hide();
    m_busyLabel->hide();
    m_reportError(tr("Could not open %1").arg(ModelSession::displayNameOf(path)), message);
}

void GeneratePanel::openModel(const QString& path, const QString& tokenizerPath) {
    m_session->open(path, tokenizerPath);
}

void GeneratePanel::openModelInteractive() {
    const QString start =
        m_session->hasModel() ? QFileInfo(m_session->current().path).absolutePath() : QString();
    if (const auto source = askForModelFile(this, start))
        openModel(source->path, source->tokenizerPath);
}

GenerateSettings GeneratePanel::settings() const {
    GenerateSettings s;
    s.maxNewTokens = m_maxTokens->value();
    s.temperature = m_temperature->value();
    s.topK = m_topK->value();
    s.topP = m_topP->value();
    s.seed = quint64(m_seed->value());
    s.stopAtEos = m_stopAtEos->isChecked();
    return s;
}

void GeneratePanel::setSettings(const GenerateSettings& s) {
    m_maxTokens->setValue(s.maxNewTokens);
    m_temperature->setValue(s.temperature);
    m_topK->setValue(s.topK);
    m_topP->setValue(s.topP);
    m_seed->setValue(int(std::min<quint64>(s.seed, quint64(m_seed->maximum()))));
    m_stopAtEos->setChecked(s.stopAtEos);
}

QString GeneratePanel::prompt() const {
    return m_prompt->toPlainText();
}
void GeneratePanel::setPrompt(const QString& text) {
    m_prompt->setPlainText(text);
}
bool GeneratePanel::isGenerating() const {
    return m_runner && m_runner->isBusy();
}
QString GeneratePanel::outputText() const {
    return m_output->toPlainText();
}

void GeneratePanel::generate() {
    if (!m_session->hasModel() || m_session->isLoading() || isGenerating()) return;

    // Everything the job needs is copied here; the worker never reads a widget.
    const LoadedModel& loaded = m_session->current();
    const GenerateSettings s = settings();
    model::GenerateOptions options;
    options.sampling.temperature = float(s.temperature);
    options.sampling.topK = s.topK;
    options.sampling.topP = float(s.topP);
    options.sampling.seed = s.seed;
    options.maxNewTokens = s.maxNewTokens;
    options.stopAtEos = s.stopAtEos;
    const QString promptText = prompt();
    const std::string promptUtf8 = promptText.toStdString();
    std::shared_ptr<model::Model> model = loaded.model;
    std::shared_ptr<const tok::Tokenizer> tokenizer = loaded.tokenizer;

    m_output->clear();
    QTextCharFormat promptFormat;
    promptFormat.setForeground(kPromptColor);
    QTextCursor cursor(m_output->document());
    cursor.insertText(promptText, promptFormat);
    m_continuation.clear();
    m_generatedTokens = 0;
    m_maxTokensOfRun = s.maxNewTokens;
    m_stream = TextStream::create(
        [this](const QString& text, int tokens) { appendContinuation(text, tokens); });
    setOutcome(tr("Generating…"));
    m_clock.start();

    m_runner->start(
        tr("Generating"),
        [model, tokenizer, promptUtf8, options,
         stream = m_stream](const JobContext& job) mutable -> Result<model::GenerateResult> {
            std::vector<tok::TokenId> ids = tokenizer->encode(promptUtf8, /*addBos=*/true);
            if (ids.empty()) {
                // GPT-2 has no BOS; it starts documents after <|endoftext|>.
                const tok::TokenId start =
                    tokenizer->bos() >= 0 ? tokenizer->bos() : tokenizer->eos();
                if (start < 0)
                    return Status::invalidArgument(
                        "the prompt is empty and the tokenizer has no beginning-of-text "
                        "token to start from: type a prompt");
                ids.push_back(start);
            }
            const int context = model->config().maxSeqLen;
            const int room = context - int(ids.size());
            if (room <= 0)
                return Status::outOfRange("the prompt has " + std::to_string(ids.size()) +
                                          " tokens; the model's context holds " +
                                          std::to_string(context));
            options.maxNewTokens = std::min(options.maxNewTokens, room);
            const model::TokenCallback onToken = [&](model::TokenId, const std::string& text) {
                stream->push(job, text);
                return !job.stopRequested();
            };
            return model::generate(*model, *tokenizer, ids, options, onToken, job.stop());
        },
        [this](model::GenerateResult result) {
            m_stream->drain();
            // The stream holds back a trailing partial character; the result has it all.
            const QString full = QString::fromStdString(result.text);
            if (full.size() > m_continuation.size() && full.startsWith(m_continuation))
                appendContinuation(full.mid(m_continuation.size()), 0);
            const double seconds = std::max(1e-3, m_clock.elapsed() / 1000.0);
            const int n = int(result.tokens.size());
            QString summary = tr("%1 in %2 s, %3 tokens/s")
                                  .arg(tokenCount(n))
                                  .arg(seconds, 0, 'f', 2)
                                  .arg(n / seconds, 0, 'f', 0);
            if (result.stoppedAtEos) summary += tr(", reached the end of the text");
            finishGeneration(summary, true);
        });
    emit generationStarted();
}

void GeneratePanel::stop() {
    if (m_runner) m_runner->cancel();
}

void GeneratePanel::appendContinuation(const QString& text, int tokens) {
    m_generatedTokens += tokens;
    if (!text.isEmpty()) {
        QScrollBar* bar = m_output->verticalScrollBar();
        const bool follow = bar->value() >= bar->maximum() - 4;
        m_continuation += text;
        QTextCharFormat format;
        format.setForeground(kContinuationColor);
        QTextCursor cursor(m_output->document());
        cursor.movePosition(QTextCursor::End);
        cursor.insertText(text, format);
        if (follow) bar->setValue(bar->maximum());
    }
    if (isGenerating())
        setOutcome(tr("Generating… %1 / %2 tokens").arg(m_generatedTokens).arg(m_maxTokensOfRun));
}

void GeneratePanel::finishGeneration(const QString& summary, bool ok) {
    setOutcome(summary);
    updateActions();
    emit generationFinished(ok);
}

void GeneratePanel::setOutcome(const QString& text) {
    m_outcome->setText(text);
}

}  // namespace mono::ui
