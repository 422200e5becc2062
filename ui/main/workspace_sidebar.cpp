#include "ui/main/workspace_sidebar.h"

#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QVBoxLayout>

#include "core/features/feature_store.h"
#include "core/sae/sae.h"
#include "ui/session/feature_store_handle.h"
#include "ui/session/workspace_session.h"

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
    connect(m_session, &WorkspaceSession::saeSelected, this, [this](const QString& name) {
        const QSignalBlocker block(m_saes);
        const auto items = m_saes->findItems(name, Qt::MatchExactly);
        if (!items.isEmpty()) m_saes->setCurrentItem(items.front());
        updateStoreInfo();
    });
    connect(m_session, &WorkspaceSession::saeLoaded, this, &WorkspaceSidebar::updateStoreInfo);
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
    const ws::Manifest& m = m_session->workspace()->manifest();
    m_name->setText(m_session->name());
    m_path->setText(m_session->dir());
    QStringList corpus;
    for (const std::string& c : m.corpus)
        corpus.append(QFileInfo(QString::fromStdString(c)).fileName());
    m_details->setText(
        tr("<b>Model</b> %1<br><b>Hooks</b> %2<br><b>Corpus</b> %3<br><b>Context</b> %4 tokens")
            .arg(QFileInfo(QString::fromStdString(m.modelPath)).fileName().toHtmlEscaped(),
                 m_session->hooks().join(QStringLiteral(", ")).toHtmlEscaped(),
                 corpus.join(QStringLiteral(", ")).toHtmlEscaped())
            .arg(m.contextSize));
    for (const QString& name : m_session->saeNames()) {
        auto* item = new QListWidgetItem(name, m_saes);
        const bool analysed = QFileInfo::exists(
            QString::fromStdString(m_session->workspace()->featureStorePath(name.toStdString())));
        item->setToolTip(analysed ? tr("Analysed: its features can be browsed")
                                  : tr("Not analysed yet: run Analyse in the Jobs view"));
        if (!analysed) item->setForeground(palette().color(QPalette::PlaceholderText));
        if (name == m_session->currentSae()) m_saes->setCurrentItem(item);
    }
    updateStoreInfo();
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
    m_storeInfo->setText(lines.join(QLatin1Char('\n')));
}

}  // namespace mono::ui
