#include "ui/main/workspace_sidebar.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QListWidget>
#include <QVBoxLayout>

#include "core/features/feature_store.h"
#include "core/sae/quality_record.h"
#include "core/sae/sae.h"
#include "ui/session/feature_store_handle.h"
#include "ui/session/model_session.h"
#include "ui/session/workspace_session.h"
#include "ui/widgets/display_format.h"

namespace mono::ui {

WorkspaceSidebar::WorkspaceSidebar(WorkspaceSession* session, QWidget* parent)
    : QWidget(parent), m_session(session) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(10, 8, 8, 8);
    layout->setSpacing(6);
    m_name = new QLabel;
    m_name->setObjectName(QStringLiteral("workspaceName"));
    m_name->setWordWrap(true);
    m_path = new QLabel;
    m_path->setObjectName(QStringLiteral("hint"));
    m_path->setWordWrap(true);
    m_path->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_details = new QLabel;
    m_details->setWordWrap(true);
    m_details->setTextFormat(Qt::RichText);
    auto* saeTitle = new QLabel(tr("Sparse autoencoders"));
    saeTitle->setObjectName(QStringLiteral("formLabel"));
    m_saes = new QListWidget;
    m_saes->setObjectName(QStringLiteral("saeList"));
    m_saes->setToolTip(tr("The SAE whose features the explorer shows"));
    m_storeInfo = new QLabel;
    m_storeInfo->setObjectName(QStringLiteral("hint"));
    m_storeInfo->setWordWrap(true);
    layout->addWidget(m_name);
    layout->addWidget(m_path);
    layout->addWidget(m_details);
    layout->addSpacing(6);
    layout->addWidget(saeTitle);
    layout->addWidget(m_saes, 1);
    layout->addWidget(m_storeInfo);

    connect(m_session, &WorkspaceSession::workspaceChanged, this, &WorkspaceSidebar::rebuild);
    // A job that trains or analyses an SAE changes the list.
    connect(m_session, &WorkspaceSession::saeListChanged, this, &WorkspaceSidebar::rebuild);
    // The model line names the model that is open, as the status bar does.
    connect(m_session->models(), &ModelSession::modelChanged, this,
            &WorkspaceSidebar::updateDetails);
    connect(m_session, &WorkspaceSession::saeSelected, this, [this](const QString& name) {
        const QSignalBlocker block(m_saes);
        const auto items = m_saes->findItems(name, Qt::MatchExactly);
        if (!items.isEmpty()) m_saes->setCurrentItem(items.front());
        updateStoreInfo();
    });
    connect(m_session, &WorkspaceSession::saeLoaded, this, &WorkspaceSidebar::updateStoreInfo);
    connect(m_session, &WorkspaceSession::qualityChanged, this, &WorkspaceSidebar::updateStoreInfo);
    connect(m_saes, &QListWidget::currentTextChanged, this, [this](const QString& name) {
        if (name.isEmpty() || name == m_session->currentSae()) return;
        const Status st = m_session->selectSae(name);
        if (!st.ok() && m_reportError)
            m_reportError(tr("Could not open the features of %1").arg(name),
                          QString::fromStdString(st.toString()));
    });
    rebuild();
}

void WorkspaceSidebar::rebuild() {
    const QSignalBlocker block(m_saes);
    m_saes->clear();
    if (!m_session->isOpen()) {
        m_name->setText(tr("No workspace"));
        m_path->setText(tr("File ▸ Open Workspace… (Ctrl+O) or New Workspace… (Ctrl+N)"));
        m_details->clear();
        m_storeInfo->clear();
        return;
    }
    m_name->setText(m_session->name());
    m_path->setText(m_session->dir());
    updateDetails();
    for (const QString& name : m_session->saeNames()) {
        auto* item = new QListWidgetItem(name, m_saes);
        const bool analysed = m_session->isAnalysed(name);
        item->setToolTip(analysed ? tr("Analysed: its features can be browsed")
                                  : tr("Not analysed yet: run Analyse in the Jobs view"));
        if (!analysed) item->setForeground(palette().color(QPalette::PlaceholderText));
        if (name == m_session->currentSae()) m_saes->setCurrentItem(item);
    }
    updateStoreInfo();
}

void WorkspaceSidebar::updateDetails() {
    if (!m_session->isOpen()) return;
    const ws::Manifest& m = m_session->workspace()->manifest();
    QStringList corpus;
    for (const std::string& c : m.corpus)
        corpus.append(QFileInfo(QString::fromStdString(c)).fileName());
    const QString manifestModel = QString::fromStdString(m.modelPath);
    QString model = ModelSession::displayNameOf(manifestModel).toHtmlEscaped();
    const ModelSession* models = m_session->models();
    // Another model than the workspace's may be open (File ▸ Open Model): say which.
    if (models->hasModel() && QFileInfo(models->current().path).absoluteFilePath() !=
                                  QFileInfo(manifestModel).absoluteFilePath())
        model = tr("%1 <span style='color:#d97706'>(open; the workspace's is %2)</span>")
                    .arg(models->displayName().toHtmlEscaped(), model);
    m_details->setText(
        tr("<b>Model</b> %1<br><b>Hooks</b> %2<br><b>Corpus</b> %3<br><b>Context</b> %4 tokens")
            .arg(model, m_session->hooks().join(QStringLiteral(", ")).toHtmlEscaped(),
                 corpus.join(QStringLiteral(", ")).toHtmlEscaped())
            .arg(m.contextSize));
}

QString WorkspaceSidebar::storeInfoText() const {
    return m_storeInfo->text();
}

QString WorkspaceSidebar::detailsText() const {
    return m_details->text();
}

void WorkspaceSidebar::updateStoreInfo() {
    QStringList lines;
    if (const auto sae = m_session->sae())
        lines.append(tr("%1: %2, d_in %3, %4 features")
                         .arg(m_session->currentSae(), QString::fromLatin1(sae::architectureName(
                                                           sae->config().architecture)))
                         .arg(sae->dIn())
                         .arg(sae->dSae()));
    if (const features::FeatureStore* store = m_session->store()->store())
        if (auto run = store->runInfo(); run.ok())
            lines.append(tr("Analysed over %1 tokens").arg(run->tokensAnalysed));
    // The held-out evaluation, when one was run (Jobs ▸ Evaluate or eval-sae --json).
    if (m_session->isOpen() && !m_session->currentSae().isEmpty()) {
        QFile file(QString::fromStdString(
            m_session->workspace()->saeEvalPath(m_session->currentSae().toStdString())));
        if (file.open(QIODevice::ReadOnly)) {
            const QJsonObject e = QJsonDocument::fromJson(file.readAll()).object();
            if (e.contains(QStringLiteral("explained_variance")))
                lines.append(
                    tr("Evaluated: EV %1 · L0 %2 · CE loss recovered %3 % · Δ loss %4")
                        .arg(formatFixed(e.value(QStringLiteral("explained_variance")).toDouble(),
                                         3),
                             formatFixed(e.value(QStringLiteral("l0")).toDouble(), 1),
                             formatFixed(
                                 100 * e.value(QStringLiteral("ce_loss_recovered")).toDouble(), 1),
                             formatFixed(e.value(QStringLiteral("delta_loss")).toDouble(), 3)));
        }
    }
    if (const QString quality = qualityText(); !quality.isEmpty()) lines.append(quality);
    m_storeInfo->setText(lines.join(QLatin1Char('\n')));
}

QString WorkspaceSidebar::qualityText() const {
    const auto record = m_session->quality();
    if (!record) return {};
    // SAEBench's metrics (eval-sae --metrics), each only when it was computed.
    QStringList parts;
    auto add = [&](const char* key, const QString& label, int decimals, double scale = 1) {
        if (const double* v = record->find(key))
            parts.append(label.arg(formatFixed(*v * scale, decimals)));
    };
    add("l2_ratio", tr("shrinkage: l2 ratio %1"), 3);
    add("relative_reconstruction_bias", tr("γ %1"), 3);
    add("fraction_alive", tr("alive %1 %"), 1, 100);
    add("kl_fidelity", tr("KL fidelity %1"), 3);
    add("max_decoder_cosine_mean", tr("max decoder cos %1 (mean)"), 3);
    add("near_duplicate_fraction", tr("%1 % near-duplicates"), 1, 100);
    add("absorption_fraction", tr("absorption %1"), 3);
    add("full_absorption", tr("full absorption %1"), 3);
    if (parts.isEmpty()) return {};
    return tr("Quality (SAEBench): %1").arg(parts.join(QStringLiteral(" · ")));
}

}  // namespace mono::ui
