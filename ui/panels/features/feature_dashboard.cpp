#include "ui/panels/features/feature_dashboard.h"

#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QToolButton>
#include <QVBoxLayout>

#include <qcustomplot.h>
#include <algorithm>

#include "core/features/cofiring.h"
#include "ui/panels/features/dashboard_text.h"
#include "ui/session/feature_store_handle.h"
#include "ui/session/token_effects_service.h"
#include "ui/session/workspace_session.h"
#include "ui/widgets/display_format.h"
#include "ui/widgets/plot_style.h"
#include "ui/widgets/token_strip.h"

namespace mono::ui {

namespace {

QLabel* valueLabel() {
    auto* label = new QLabel;
    label->setObjectName(QStringLiteral("statValue"));
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return label;
}

QLabel* richLabel(const QString& objectName) {
    auto* label = new QLabel;
    label->setObjectName(objectName);
    label->setTextFormat(Qt::RichText);
    label->setWordWrap(true);
    label->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    return label;
}

void showExample(TokenStrip* strip, const features::Example& e, float scale,
                 const QStringList& highlight) {
    QStringList tokens;
    tokens.reserve(static_cast<qsizetype>(e.strings.size()));
    for (const std::string& s : e.strings) tokens.append(QString::fromStdString(s));
    const QVector<float> values(e.values.begin(), e.values.end());
    strip->setCaption(QString::number(e.activation, 'f', 2));
    strip->setHighlight(highlight);
    strip->setTokens(tokens, values, scale, e.tokenIndex);
    strip->show();
}

// The i-th widget of `pool`, created on first use. Widgets are reused from one
// feature to the next: creating and styling ~70 widgets per click is what
// would make a dashboard slow to open.
template <class W>
W* pooled(QList<W*>& pool, int i) {
    while (pool.size() <= i) pool.append(new W);
    return pool[i];
}

}  // namespace

FeatureDashboard::FeatureDashboard(FeatureStoreHandle* store, QWidget* parent)
    : QWidget(parent), m_store(store) {
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    // What a feature contains must not resize the list beside it: the splitter
    // alone decides the dashboard's size (a relayout of the list costs a full repaint).
    setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Ignored);
    m_scroll = new QScrollArea;
    m_scroll->setWidgetResizable(true);
    m_scroll->setFrameShape(QFrame::NoFrame);
    // Everything below wraps or shrinks to the pane: nothing is reached by scrolling sideways.
    m_scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    outer->addWidget(m_scroll);

    auto* content = new QWidget;
    content->setObjectName(QStringLiteral("dashboardContent"));
    auto* layout = new QVBoxLayout(content);
    layout->setContentsMargins(12, 8, 12, 12);
    layout->setSpacing(8);
    layout->addWidget(buildHeader());
    m_empty = new QLabel(tr("Select a feature in the list to see its dashboard."));
    m_empty->setObjectName(QStringLiteral("hint"));
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    layout->addWidget(m_empty);

    m_body = new QWidget;
    auto* body = new QVBoxLayout(m_body);
    body->setContentsMargins(0, 0, 0, 0);
    body->setSpacing(8);

    // Annotations: the label saves on Enter / focus out, the notes shortly after typing stops.
    auto* notesBox = new QGroupBox(tr("Label and notes"));
    auto* notesForm = new QFormLayout(notesBox);
    m_label = new QLineEdit;
    m_label->setObjectName(QStringLiteral("featureLabelEdit"));
    m_label->setPlaceholderText(tr("What does this feature respond to?"));
    m_label->setClearButtonEnabled(true);
    m_notes = new QPlainTextEdit;
    m_notes->setObjectName(QStringLiteral("featureNotesEdit"));
    m_notes->setPlaceholderText(tr("Notes (saved with the feature store)"));
    m_notes->setFixedHeight(56);
    m_saved = new QLabel;
    m_saved->setObjectName(QStringLiteral("hint"));
    notesForm->addRow(tr("Label"), m_label);
    notesForm->addRow(tr("Notes"), m_notes);
    notesForm->addRow(QString(), m_saved);
    body->addWidget(notesBox);
    connect(m_label, &QLineEdit::editingFinished, this, [this] { saveAnnotations(); });
    m_notesTimer.setSingleShot(true);
    m_notesTimer.setInterval(800);
    connect(&m_notesTimer, &QTimer::timeout, this, [this] { saveAnnotations(); });
    connect(m_notes, &QPlainTextEdit::textChanged, this, [this] {
        if (m_id >= 0 && m_notes->toPlainText().toStdString() != m_record.notes) {
            m_saved->setText(tr("Editing…"));
            m_notesTimer.start();
        }
    });

    body->addWidget(buildStats());

    auto* topBox = new QGroupBox(tr("Top activating examples"));
    m_topLayout = new QVBoxLayout(topBox);
    m_topLayout->setSpacing(1);
    m_noExamples = new QLabel(tr("This feature never fired on the analysed tokens."));
    m_noExamples->setObjectName(QStringLiteral("hint"));
    m_noExamples->hide();
    m_topLayout->addWidget(m_noExamples);
    m_topExamples = topBox;
    body->addWidget(topBox);

    auto* effects = new QBoxLayout(QBoxLayout::LeftToRight);
    m_effectsRow = effects;
    auto* logitBox = new QGroupBox(tr("Logit effects"));
    m_effects = logitBox;
    auto* logitGrid = new QGridLayout(logitBox);
    auto* promotes = new QLabel(tr("Promotes"));
    auto* suppresses = new QLabel(tr("Suppresses"));
    promotes->setObjectName(QStringLiteral("formLabel"));
    suppresses->setObjectName(QStringLiteral("formLabel"));
    m_positive = richLabel(QStringLiteral("positiveLogits"));
    m_negative = richLabel(QStringLiteral("negativeLogits"));
    logitGrid->addWidget(promotes, 0, 0);
    logitGrid->addWidget(suppresses, 0, 1);
    logitGrid->addWidget(m_positive, 1, 0);
    logitGrid->addWidget(m_negative, 1, 1);
    logitGrid->setRowStretch(2, 1);  // keep the lists under their headings when the box grows
    effects->addWidget(logitBox, 1);
    QWidget* relatedBox = buildRelated();
    effects->addWidget(relatedBox, 1);
    body->addLayout(effects);

    auto* intervalBox = new QGroupBox(tr("Examples across activation ranges"));
    m_intervalLayout = new QVBoxLayout(intervalBox);
    m_intervalLayout->setSpacing(1);
    m_intervalExamples = intervalBox;
    body->addWidget(intervalBox);
    body->addStretch(1);
    layout->addWidget(m_body);
    layout->addStretch(1);
    m_scroll->setWidget(content);

    connect(m_store, &FeatureStoreHandle::storeChanged, this, [this] { clear(); });
    clear();
}

QWidget* FeatureDashboard::buildRelated() {
    auto* relatedBox = new QGroupBox(tr("Related features"));
    auto* relatedLayout = new QVBoxLayout(relatedBox);
    m_neighbours = richLabel(QStringLiteral("neighbourLinks"));
    m_coFiring = richLabel(QStringLiteral("coFiringLinks"));
    auto* nearestTitle = new QLabel(tr("Nearest (decoder cosine)"));
    auto* coFiringTitle = new QLabel(tr("Co-firing (Jaccard · share of its firings)"));
    coFiringTitle->setToolTip(
        tr("Ranked by Jaccard similarity of the firing sets, so that dense features do not "
           "top every list; the share is the fraction of this feature's firings where the "
           "other fires too"));
    coFiringTitle->setWordWrap(true);
    for (QLabel* title : {nearestTitle, coFiringTitle})
        title->setObjectName(QStringLiteral("formLabel"));
    relatedLayout->addWidget(nearestTitle);
    relatedLayout->addWidget(m_neighbours);
    relatedLayout->addWidget(coFiringTitle);
    relatedLayout->addWidget(m_coFiring);
    relatedLayout->addStretch(1);
    for (QLabel* l : {m_neighbours, m_coFiring}) {
        l->setToolTip(tr("Click a feature to open its dashboard"));
        connect(l, &QLabel::linkActivated, this, [this](const QString& link) {
            bool ok = false;
            const qint64 id = link.section(QLatin1Char(':'), 1).toLongLong(&ok);
            if (ok) emit featureRequested(id);
        });
    }
    return relatedBox;
}

QWidget* FeatureDashboard::buildHeader() {
    // The title has a line of its own, so that the buttons never cut it off
    // in a narrow pane; the buttons sit below it.
    auto* header = new QWidget;
    auto* lines = new QVBoxLayout(header);
    lines->setContentsMargins(0, 0, 0, 0);
    lines->setSpacing(2);
    m_title = new QLabel;
    m_title->setObjectName(QStringLiteral("featureTitle"));
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_title->setWordWrap(true);
    lines->addWidget(m_title);
    auto* row = new QHBoxLayout;
    row->setContentsMargins(0, 0, 0, 0);
    lines->addLayout(row);
    const auto navButton = [&](const char* name, const QString& text, const QString& tip) {
        auto* b = new QToolButton;
        b->setObjectName(QString::fromLatin1(name));
        b->setText(text);
        b->setToolTip(tip);
        b->setAutoRaise(true);
        row->addWidget(b);
        return b;
    };
    m_back = navButton("backButton", QStringLiteral("◀"),
                       tr("Back to the feature shown before (Alt+Left)"));
    m_forward = navButton("forwardButton", QStringLiteral("▶"), tr("Forward (Alt+Right)"));
    connect(m_back, &QToolButton::clicked, this, &FeatureDashboard::backRequested);
    connect(m_forward, &QToolButton::clicked, this, &FeatureDashboard::forwardRequested);
    setNavigation(false, false);
    row->addStretch(1);
    m_export = new QToolButton;
    m_export->setObjectName(QStringLiteral("exportButton"));
    m_export->setText(tr("Export"));
    m_export->setToolTip(tr("Export or copy this feature"));
    m_export->setPopupMode(QToolButton::InstantPopup);
    m_export->setMenu(new QMenu(m_export));
    row->addWidget(m_export);
    m_steer = new QPushButton(tr("Steer with this feature"));
    m_steer->setObjectName(QStringLiteral("steerButton"));
    m_steer->setToolTip(tr("Open the steering panel with this feature clamped"));
    connect(m_steer, &QPushButton::clicked, this, [this] {
        if (m_id >= 0) emit steerRequested(static_cast<int>(m_id));
    });
    row->addWidget(m_steer);
    return header;
}

void FeatureDashboard::setHighlight(const QString& text) {
    m_highlight = text.split(QLatin1Char(' '), Qt::SkipEmptyParts);
    for (TokenStrip* strip : m_topStrips) strip->setHighlight(m_highlight);
    for (TokenStrip* strip : m_intervalStrips) strip->setHighlight(m_highlight);
}

void FeatureDashboard::setNavigation(bool canGoBack, bool canGoForward) {
    m_back->setEnabled(canGoBack);
    m_forward->setEnabled(canGoForward);
}

QMenu* FeatureDashboard::exportMenu() const {
    return m_export->menu();
}

void FeatureDashboard::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    // Side by side when there is room, stacked in a narrow pane.
    const bool narrow = width() < kStackBelowWidth;
    m_effectsRow->setDirection(narrow ? QBoxLayout::TopToBottom : QBoxLayout::LeftToRight);
    m_statsRow->setDirection(narrow ? QBoxLayout::TopToBottom : QBoxLayout::LeftToRight);
}

QWidget* FeatureDashboard::buildStats() {
    auto* box = new QWidget;
    auto* row = new QBoxLayout(QBoxLayout::LeftToRight, box);
    m_statsRow = row;
    row->setContentsMargins(0, 0, 0, 0);
    auto* statsBox = new QGroupBox(tr("Activation"));
    auto* form = new QFormLayout(statsBox);
    m_density = valueLabel();
    m_fires = valueLabel();
    m_max = valueLabel();
    m_mean = valueLabel();
    form->addRow(tr("Density"), m_density);
    form->addRow(tr("Fires on"), m_fires);
    form->addRow(tr("Max activation"), m_max);
    form->addRow(tr("Mean when firing"), m_mean);
    m_quality = valueLabel();
    m_quality->setObjectName(QStringLiteral("featureQuality"));
    m_quality->setWordWrap(true);
    m_quality->setToolTip(tr("SAEBench metrics from the SAE's metrics.json (eval-sae --metrics)"));
    form->addRow(tr("Quality"), m_quality);
    row->addWidget(statsBox, 0);

    auto* histBox = new QGroupBox(tr("Activation histogram (firing tokens)"));
    auto* histLayout = new QVBoxLayout(histBox);
    m_histogram = new QCustomPlot;
    m_histogram->setObjectName(QStringLiteral("activationHistogram"));
    m_histogram->setMinimumHeight(140);
    m_histogram->setMinimumWidth(160);
    stylePlot(m_histogram);
    m_histogramBars = new QCPBars(m_histogram->xAxis, m_histogram->yAxis);
    m_histogramBars->setPen(Qt::NoPen);
    m_histogramBars->setBrush(plotColor(0));
    m_histogram->xAxis->setLabel(tr("activation"));
    m_histogram->yAxis->setLabel(tr("tokens"));
    histLayout->addWidget(m_histogram);
    row->addWidget(histBox, 1);
    return box;
}

void FeatureDashboard::clear() {
    m_notesTimer.stop();
    m_id = -1;
    m_record = {};
    m_title->setText(tr("No feature selected"));
    m_steer->setEnabled(false);
    m_export->setEnabled(false);
    m_body->hide();
    m_empty->show();
}

bool FeatureDashboard::showFeature(qint64 id) {
    if (m_id >= 0 && id != m_id) saveAnnotations();
    const features::FeatureStore* store = m_store->store();
    if (!store) {
        clear();
        return false;
    }
    auto record = store->feature(id);
    if (!record.ok()) {
        clear();
        m_empty->setText(QString::fromStdString(record.status().toString()));
        return false;
    }
    m_notesTimer.stop();
    m_id = id;
    m_record = std::move(record).value();
    populate();
    emit featureShown(id);
    return true;
}

void FeatureDashboard::populate() {
    const features::FeatureSummary& s = m_record.summary;
    m_title->setText(s.label.empty()
                         ? tr("Feature %1").arg(s.id)
                         : tr("Feature %1 · %2").arg(s.id).arg(QString::fromStdString(s.label)));
    m_steer->setEnabled(true);
    m_empty->hide();
    m_body->show();
    {
        const QSignalBlocker b1(m_label), b2(m_notes);
        m_label->setText(QString::fromStdString(s.label));
        m_notes->setPlainText(QString::fromStdString(m_record.notes));
    }
    m_saved->clear();
    m_density->setText(formatDensity(s.density));
    m_fires->setText(tr("%1 tokens").arg(s.fireCount));
    m_max->setText(formatActivation(s.maxActivation));
    m_mean->setText(formatActivation(s.meanActivation));
    fillHistogram();
    fillQuality();
    fillExamples();
    m_positive->setText(logitEffectsHtml(m_record.positiveLogits, true));
    m_negative->setText(logitEffectsHtml(m_record.negativeLogits, false));
    fillRelated();
    m_export->setEnabled(true);
    m_scroll->verticalScrollBar()->setValue(0);
}

void FeatureDashboard::fillHistogram() {
    const features::Histogram& h = m_record.histogram;
    QVector<double> keys, values;
    double top = 1;
    for (size_t i = 0; i < h.counts.size(); ++i) {
        keys.append((static_cast<double>(i) + 0.5) * h.binWidth);
        values.append(static_cast<double>(h.counts[i]));
        top = std::max(top, values.last());
    }
    m_histogramBars->setData(keys, values, true);
    m_histogramBars->setWidth(h.binWidth * 0.9);
    m_histogram->xAxis->setRange(0,
                                 std::max(1e-6, h.binWidth * static_cast<double>(h.counts.size())));
    m_histogram->yAxis->setRange(0, top * 1.08);
    m_histogram->replot(QCustomPlot::rpQueuedReplot);
}

void FeatureDashboard::fillExamples() {
    const float scale = m_record.summary.maxActivation;
    int n = 0;
    for (const features::Example& e : m_record.topExamples) {
        TokenStrip* strip = pooled(m_topStrips, n++);
        if (m_topLayout->indexOf(strip) < 0) m_topLayout->addWidget(strip);
        showExample(strip, e, scale, m_highlight);
        watchEffects(strip, e);
    }
    for (int i = n; i < m_topStrips.size(); ++i) m_topStrips[i]->hide();
    m_noExamples->setVisible(m_record.topExamples.empty());

    // Interval samples, the highest bin first, each under its activation range.
    std::vector<const features::Example*> sorted;
    for (const features::Example& e : m_record.intervalExamples) sorted.push_back(&e);
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto* a, const auto* b) { return a->bin > b->bin; });
    while (m_intervalLayout->count() > 0) delete m_intervalLayout->takeAt(0);
    int strips = 0, headings = 0, bin = -2;
    const double w = m_record.intervalBinWidth;
    for (const features::Example* e : sorted) {
        if (e->bin != bin) {
            bin = e->bin;
            QLabel* heading = pooled(m_binLabels, headings++);
            heading->setObjectName(QStringLiteral("formLabel"));
            heading->setText(
                tr("Activation %1 – %2").arg(bin * w, 0, 'f', 2).arg((bin + 1) * w, 0, 'f', 2));
            m_intervalLayout->addWidget(heading);
            heading->show();
        }
        TokenStrip* strip = pooled(m_intervalStrips, strips++);
        m_intervalLayout->addWidget(strip);
        showExample(strip, *e, scale, m_highlight);
        watchEffects(strip, *e);
    }
    for (int i = strips; i < m_intervalStrips.size(); ++i) m_intervalStrips[i]->hide();
    for (int i = headings; i < m_binLabels.size(); ++i) m_binLabels[i]->hide();
    m_intervalExamples->setVisible(!sorted.empty());
}

void FeatureDashboard::setWorkspaceSession(WorkspaceSession* session) {
    m_session = session;
    m_effectsService = new TokenEffectsService(session, this);
    connect(m_effectsService, &TokenEffectsService::computed, this, &FeatureDashboard::showEffects);
    connect(session, &WorkspaceSession::qualityChanged, this, &FeatureDashboard::fillQuality);
    fillQuality();
}

QString FeatureDashboard::qualityText() const {
    return m_quality ? m_quality->text() : QString();
}

void FeatureDashboard::fillQuality() {
    if (!m_quality) return;
    const auto record = m_session ? m_session->quality() : nullptr;
    const QString text = featureQualityText(record.get(), m_id);
    m_quality->setText(text.isEmpty() ? tr("— (run eval-sae --metrics)") : text);
}

QList<TokenStrip*> FeatureDashboard::exampleStrips() const {
    QList<TokenStrip*> out;
    for (TokenStrip* s : m_topStrips)
        if (!s->isHidden()) out.append(s);
    for (TokenStrip* s : m_intervalStrips)
        if (!s->isHidden()) out.append(s);
    return out;
}

void FeatureDashboard::watchEffects(TokenStrip* strip, const features::Example& example) {
    if (!m_effectsService) return;
    if (!m_stripTokens.contains(strip))
        connect(strip, &TokenStrip::hovered, this, [this, strip] {
            if (!strip->hasEffects()) m_effectsService->request(m_stripTokens.value(strip), m_id);
        });
    m_stripTokens.insert(strip, example.tokens);
    const QVector<float> known = m_effectsService->cached(example.tokens, m_id);
    if (!known.isEmpty()) strip->setEffects(known);
}

void FeatureDashboard::showEffects(const std::vector<int32_t>& tokens, qint64 feature,
                                   const QVector<float>& deltas) {
    if (feature != m_id) return;  // the user moved on to another feature
    for (auto it = m_stripTokens.cbegin(); it != m_stripTokens.cend(); ++it)
        if (!it.key()->isHidden() && it.value() == tokens) it.key()->setEffects(deltas);
}

void FeatureDashboard::fillRelated() {
    // One query for the labels, top tokens and densities of every linked feature.
    QHash<qint64, FeatureCaption> captions;
    features::PageRequest request;
    for (const auto& r : m_record.neighbours) request.filter.ids.push_back(r.id);
    for (const auto& r : m_record.coFiring) request.filter.ids.push_back(r.id);
    request.limit = static_cast<int64_t>(request.filter.ids.size());
    const features::FeatureStore* store = m_store->store();
    if (store && !request.filter.ids.empty())
        if (auto page = store->page(request); page.ok())
            for (const features::FeatureSummary& f : page->rows)
                captions.insert(
                    f.id, {QString::fromStdString(f.label), topTokenOf(f.topSnippet), f.density});
    const auto coFiring =
        features::rankCoFiring(m_record.coFiring, m_record.summary.density,
                               [&captions](int64_t id) { return captions.value(id).density; });
    m_neighbours->setText(neighbourLinksHtml(m_record.neighbours, captions));
    m_coFiring->setText(coFiringLinksHtml(coFiring, captions));
}

void FeatureDashboard::revealEffects() {
    QWidget* content = m_scroll->widget();
    content->layout()->activate();
    const QPoint at = m_effects->mapTo(content, QPoint(0, 0));
    m_scroll->verticalScrollBar()->setValue(std::max(0, at.y() - 8));
}

QStringList FeatureDashboard::topExampleTexts() const {
    QStringList texts;
    for (size_t i = 0; i < m_record.topExamples.size() && i < size_t(m_topStrips.size()); ++i)
        texts.append(m_topStrips[static_cast<qsizetype>(i)]->plainText());
    return texts;
}

bool FeatureDashboard::saveAnnotations() {
    m_notesTimer.stop();
    if (m_id < 0) return true;
    const std::string label = m_label->text().trimmed().toStdString();
    const std::string notes = m_notes->toPlainText().toStdString();
    bool ok = true;
    if (label != m_record.summary.label) {
        const Status st = m_store->setLabel(m_id, m_label->text());
        if (st.ok()) {
            m_record.summary.label = label;
        } else {
            ok = false;
            if (m_reportError)
                m_reportError(tr("Could not save the label"),
                              QString::fromStdString(st.toString()));
        }
    }
    if (ok && notes != m_record.notes) {
        const Status st = m_store->setNotes(m_id, m_notes->toPlainText());
        if (st.ok()) {
            m_record.notes = notes;
        } else {
            ok = false;
            if (m_reportError)
                m_reportError(tr("Could not save the notes"),
                              QString::fromStdString(st.toString()));
        }
    }
    m_saved->setText(ok ? tr("Saved") : tr("Not saved"));
    return ok;
}

}  // namespace mono::ui
