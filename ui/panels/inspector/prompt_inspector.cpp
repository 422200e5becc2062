#include "ui/panels/inspector/prompt_inspector.h"

#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include "core/features/feature_store.h"
#include "core/sae/sae.h"
#include "ui/jobs/job_runner.h"
#include "ui/session/feature_store_handle.h"
#include "ui/session/model_session.h"
#include "ui/session/token_effects_service.h"
#include "ui/session/workspace_session.h"
#include "ui/widgets/display_format.h"
#include "ui/widgets/token_strip.h"

namespace mono::ui {

namespace {
constexpr int kPerToken = 256;  // enough that a heatmap feature is almost never cut off
constexpr int kRanked = 100;

enum RankedColumn { kFeatureCol, kLabelCol, kMaxCol, kScoreCol, kTokensCol, kWhereCol, kColCount };

// Each feature's max activation, read page by page from the store at `path`.
Result<std::vector<float>> readStoreMax(const std::string& path, int64_t dSae) {
    MONO_ASSIGN_OR_RETURN(
        auto store, features::FeatureStore::open(path, features::FeatureStore::Mode::kReadOnly));
    std::vector<float> max(static_cast<size_t>(dSae), 0.f);
    features::PageRequest request;
    request.limit = 8192;
    for (;;) {
        MONO_ASSIGN_OR_RETURN(features::FeaturePage page, store.page(request));
        for (const auto& row : page.rows)
            if (row.id >= 0 && row.id < dSae) max[static_cast<size_t>(row.id)] = row.maxActivation;
        request.offset += request.limit;
        if (page.rows.empty() || request.offset >= page.total) break;
    }
    return max;
}
}  // namespace

PromptInspector::PromptInspector(WorkspaceSession* session, QWidget* parent)
    : QWidget(parent),
      m_session(session),
      m_runner(new JobRunner(this)),
      m_effects(new TokenEffectsService(session, this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(12, 10, 12, 10);
    layout->setSpacing(8);

    auto* promptBox = new QGroupBox(tr("Prompt"));
    auto* promptLayout = new QVBoxLayout(promptBox);
    m_prompt = new QPlainTextEdit;
    m_prompt->setObjectName(QStringLiteral("promptEdit"));
    m_prompt->setPlaceholderText(tr("Type text to see which features fire on it"));
    m_prompt->setFixedHeight(70);
    promptLayout->addWidget(m_prompt);
    auto* row = new QHBoxLayout;
    m_inspect = new QPushButton(tr("Inspect"));
    m_inspect->setObjectName(QStringLiteral("inspectButton"));
    m_inspect->setProperty("primary", true);
    m_inspect->setToolTip(tr("Run the prompt through the model and the SAE (Ctrl+Return)"));
    row->addWidget(m_inspect);
    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("hint"));
    row->addWidget(m_status, 1);
    promptLayout->addLayout(row);
    layout->addWidget(promptBox);

    auto* heatBox = new QGroupBox(tr("Tokens"));
    auto* heatLayout = new QVBoxLayout(heatBox);
    auto* featureRow = new QHBoxLayout;
    featureRow->addWidget(new QLabel(tr("Shade by feature")));
    m_feature = new QSpinBox;
    m_feature->setObjectName(QStringLiteral("heatmapFeature"));
    m_feature->setRange(0, 0);
    m_feature->setEnabled(false);
    featureRow->addWidget(m_feature);
    featureRow->addStretch(1);
    heatLayout->addLayout(featureRow);
    m_heatmap = new TokenStrip;
    m_heatmap->setObjectName(QStringLiteral("promptHeatmap"));
    m_heatmap->setToolTip(tr("Click a token to list the features that fire on it"));
    heatLayout->addWidget(m_heatmap);
    m_tokenDetails = new QLabel;
    m_tokenDetails->setWordWrap(true);
    m_tokenDetails->setTextFormat(Qt::RichText);
    m_tokenDetails->setObjectName(QStringLiteral("hint"));
    heatLayout->addWidget(m_tokenDetails);
    layout->addWidget(heatBox);

    auto* rankedBox = new QGroupBox(tr("Features that fire on the prompt"));
    auto* rankedLayout = new QVBoxLayout(rankedBox);
    m_ranked = new QTableWidget(0, kColCount);
    m_ranked->setObjectName(QStringLiteral("rankedFeatures"));
    m_ranked->setHorizontalHeaderLabels({tr("Feature"), tr("Label"), tr("Max act."),
                                         tr("Of its max"), tr("Tokens"), tr("Strongest on")});
    m_ranked->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_ranked->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_ranked->setSelectionMode(QAbstractItemView::SingleSelection);
    m_ranked->setAlternatingRowColors(true);
    m_ranked->verticalHeader()->hide();
    m_ranked->setTabKeyNavigation(false);  // Tab leaves the table; arrows move in it
    m_ranked->horizontalHeader()->setStretchLastSection(true);
    m_ranked->horizontalHeader()->resizeSection(kLabelCol, 200);
    m_ranked->setToolTip(tr("Double-click a feature (or press Enter) to open its dashboard"));
    rankedLayout->addWidget(m_ranked);
    layout->addWidget(rankedBox, 1);

    connect(m_inspect, &QPushButton::clicked, this, &PromptInspector::inspect);
    auto* shortcut = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), m_prompt);
    connect(shortcut, &QShortcut::activated, this, &PromptInspector::inspect);
    connect(m_feature, &QSpinBox::valueChanged, this, [this](int id) { setHeatmapFeature(id); });
    connect(m_heatmap, &TokenStrip::tokenClicked, this, &PromptInspector::showTokenDetails);
    connect(m_tokenDetails, &QLabel::linkActivated, this, [this](const QString& link) {
        setHeatmapFeature(link.section(QLatin1Char(':'), 1).toLongLong());
    });
    const auto open = [this](int row) {
        if (QTableWidgetItem* item = m_ranked->item(row, kFeatureCol))
            emit featureRequested(item->data(Qt::UserRole).toLongLong());
    };
    connect(m_ranked, &QTableWidget::cellActivated, this, [open](int row, int) { open(row); });
    connect(m_ranked, &QTableWidget::cellClicked, this, [this](int row, int) {
        if (QTableWidgetItem* item = m_ranked->item(row, kFeatureCol))
            setHeatmapFeature(item->data(Qt::UserRole).toLongLong());
    });
    connect(m_ranked, &QTableWidget::cellDoubleClicked, this, [open](int row, int) { open(row); });

    connect(m_runner, &JobRunner::failed, this,
            [this](quint64, const QString&, const QString& message) {
                m_status->setText(tr("Failed"));
                if (m_reportError) m_reportError(tr("Could not inspect the prompt"), message);
                emit inspectFailed(message);
                updateActions();
            });
    connect(m_runner, &JobRunner::busyChanged, this, [this] { updateActions(); });
    connect(m_session, &WorkspaceSession::saeLoaded, this, [this] { updateActions(); });
    connect(m_session, &WorkspaceSession::saeSelected, this, [this] { updateActions(); });
    connect(m_session->models(), &ModelSession::modelChanged, this, [this] { updateActions(); });
    connect(m_prompt, &QPlainTextEdit::textChanged, this, [this] { updateActions(); });
    connectTokenEffects();
    updateActions();
}

void PromptInspector::connectTokenEffects() {
    // Hovering the prompt asks for the shown feature's effects; they arrive on
    // the GUI thread and are kept only if prompt and feature are still shown.
    connect(m_heatmap, &TokenStrip::hovered, this, [this] {
        if (!m_heatmap->hasEffects() && m_heatmapFeature >= 0)
            m_effects->request(promptTokens(), m_heatmapFeature);
    });
    connect(m_effects, &TokenEffectsService::computed, this,
            [this](const std::vector<int32_t>& tokens, qint64 feature, const QVector<float>& d) {
                if (feature == m_heatmapFeature && tokens == promptTokens())
                    m_heatmap->setEffects(d);
            });
}

std::vector<int32_t> PromptInspector::promptTokens() const {
    std::vector<int32_t> ids;
    ids.reserve(m_result.tokens.size());
    for (const features::PromptToken& t : m_result.tokens) ids.push_back(t.token);
    return ids;
}

PromptInspector::~PromptInspector() = default;

void PromptInspector::setPrompt(const QString& text) {
    m_prompt->setPlainText(text);
}
QString PromptInspector::prompt() const {
    return m_prompt->toPlainText();
}
QString PromptInspector::statusText() const {
    return m_status->text();
}
bool PromptInspector::isBusy() const {
    return m_runner->isBusy();
}

bool PromptInspector::canInspect() const {
    return m_session->models()->hasModel() && m_session->sae() &&
           !m_session->currentHook().isEmpty();
}

void PromptInspector::updateActions() {
    m_inspect->setEnabled(canInspect() && !m_prompt->toPlainText().trimmed().isEmpty());
    if (m_runner->isBusy()) {
        m_status->setText(tr("Running the model…"));
    } else if (!m_session->models()->hasModel()) {
        m_status->setText(m_session->models()->isLoading()
                              ? tr("Loading the model…")
                              : tr("Open a workspace or a model first"));
    } else if (!m_session->sae()) {
        m_status->setText(m_session->isSaeLoading() ? tr("Loading the SAE…")
                                                    : tr("Choose an SAE in the workspace sidebar"));
    } else if (m_result.tokens.empty()) {
        m_status->setText(
            tr("SAE %1 at %2").arg(m_session->currentSae(), m_session->currentHook()));
    }
}

void PromptInspector::inspect() {
    if (!canInspect()) return;
    const std::string text = m_prompt->toPlainText().toStdString();
    if (text.empty()) return;
    const LoadedModel loaded = m_session->models()->current();
    const std::shared_ptr<const sae::Sae> sae = m_session->sae();
    const std::string hook = m_session->currentHook().toStdString();
    const QString storePath = m_session->store()->path();
    std::shared_ptr<const std::vector<float>> storeMax =
        storePath == m_storeMaxPath ? m_storeMax : nullptr;
    const bool needMax = !storePath.isEmpty() && !storeMax;

    // Labels of the labelled features (a short list), for the ranked table.
    m_labels.clear();
    if (const features::FeatureStore* store = m_session->store()->store()) {
        features::PageRequest request;
        request.filter.hasLabel = true;
        request.limit = 100000;
        if (auto page = store->page(request); page.ok())
            for (const auto& row : page->rows)
                m_labels.insert(row.id, QString::fromStdString(row.label));
    }

    struct Output {
        features::PromptResult result;
        std::shared_ptr<const std::vector<float>> storeMax;
    };
    m_runner->start(
        tr("Inspecting the prompt"),
        [loaded, sae, hook, text, storePath, storeMax,
         needMax](const JobContext&) -> Result<Output> {
            auto max = storeMax;
            if (needMax) {
                MONO_ASSIGN_OR_RETURN(auto read,
                                      readStoreMax(storePath.toStdString(), sae->dSae()));
                max = std::make_shared<const std::vector<float>>(std::move(read));
            }
            MONO_ASSIGN_OR_RETURN(
                features::PromptResult result,
                features::searchByInference(*loaded.model, *loaded.tokenizer, *sae, hook, text,
                                            kPerToken, kRanked, max ? *max : std::vector<float>{}));
            return Output{std::move(result), max};
        },
        [this, storePath](Output out) {
            m_storeMaxPath = storePath;
            m_storeMax = out.storeMax;
            m_result = std::move(out.result);
            showResult();
            emit inspected();
        });
    updateActions();
}

void PromptInspector::showResult() {
    m_ranked->setRowCount(static_cast<int>(m_result.ranked.size()));
    int row = 0;
    for (const features::RankedFeature& f : m_result.ranked) {
        auto* id = new QTableWidgetItem(QStringLiteral("#%1").arg(f.id));
        id->setData(Qt::UserRole, QVariant::fromValue<qlonglong>(f.id));
        m_ranked->setItem(row, kFeatureCol, id);
        m_ranked->setItem(row, kLabelCol, new QTableWidgetItem(m_labels.value(f.id)));
        auto* max = new QTableWidgetItem(QString::number(f.maxValue, 'f', 3));
        max->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        m_ranked->setItem(row, kMaxCol, max);
        auto* score = new QTableWidgetItem(m_storeMax ? QString::number(f.score * 100, 'f', 0) +
                                                            QStringLiteral(" %")
                                                      : QStringLiteral("—"));
        score->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        m_ranked->setItem(row, kScoreCol, score);
        auto* tokens = new QTableWidgetItem(QString::number(f.tokensFiring));
        tokens->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        m_ranked->setItem(row, kTokensCol, tokens);
        const size_t at = static_cast<size_t>(f.tokenIndex);
        const QString where = at < m_result.tokens.size()
                                  ? QString::fromStdString(m_result.tokens[at].text)
                                  : QString();
        m_ranked->setItem(
            row, kWhereCol,
            new QTableWidgetItem(QStringLiteral("“%1”").arg(visibleToken(where, 24))));
        ++row;
    }
    m_feature->setEnabled(m_session->sae() != nullptr);
    if (m_session->sae()) m_feature->setMaximum(static_cast<int>(m_session->sae()->dSae() - 1));
    m_heatmapFeature = -1;
    setHeatmapFeature(m_result.ranked.empty() ? 0 : m_result.ranked.front().id);
    m_tokenDetails->setText(tr("Click a token to list the features that fire on it."));
    // The list is cut at kRanked: the count is of every feature that fired.
    QString status =
        tr("%1 tokens, %2 features fire").arg(m_result.tokens.size()).arg(m_result.featuresFiring);
    if (m_result.featuresFiring > static_cast<int64_t>(m_result.ranked.size()))
        status += tr(" (the %1 strongest listed)").arg(m_result.ranked.size());
    m_status->setText(status);
}

void PromptInspector::setHeatmapFeature(qint64 id) {
    if (id == m_heatmapFeature) return;
    m_heatmapFeature = id;
    {
        const QSignalBlocker block(m_feature);
        m_feature->setValue(static_cast<int>(id));
    }
    QStringList tokens;
    QVector<float> values;
    for (const features::PromptToken& t : m_result.tokens) {
        tokens.append(QString::fromStdString(t.text));
        float v = 0;
        for (const features::FeatureActivation& a : t.top)
            if (a.id == id) v = a.value;
        values.append(v);
    }
    float scale = 0;
    if (m_storeMax && id >= 0 && static_cast<size_t>(id) < m_storeMax->size())
        scale = (*m_storeMax)[static_cast<size_t>(id)];
    m_heatmap->setTokens(tokens, values, scale);
    if (const QVector<float> known = m_effects->cached(promptTokens(), id); !known.isEmpty())
        m_heatmap->setEffects(known);
    const QString label = m_labels.value(id);
    m_heatmap->setCaption(label.isEmpty() ? QStringLiteral("#%1").arg(id)
                                          : QStringLiteral("#%1 %2").arg(id).arg(label));
}

void PromptInspector::showTokenDetails(int tokenIndex) {
    if (tokenIndex < 0 || static_cast<size_t>(tokenIndex) >= m_result.tokens.size()) return;
    const features::PromptToken& t = m_result.tokens[static_cast<size_t>(tokenIndex)];
    QStringList links;
    for (size_t i = 0; i < t.top.size() && i < 12; ++i)
        links.append(QStringLiteral("<a href='feature:%1'>#%1</a> %2")
                         .arg(t.top[i].id)
                         .arg(t.top[i].value, 0, 'f', 2));
    m_tokenDetails->setText(
        tr("On “%1”: %2")
            .arg(visibleToken(QString::fromStdString(t.text)).toHtmlEscaped(),
                 links.isEmpty() ? tr("no feature fires") : links.join(QStringLiteral(", "))));
}

}  // namespace mono::ui
