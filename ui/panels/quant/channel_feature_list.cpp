#include "ui/panels/quant/channel_feature_list.h"

#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

#include "core/features/feature_store.h"
#include "core/quant/channel_features.h"
#include "core/sae/sae.h"
#include "ui/session/feature_store_handle.h"

namespace mono::ui {

namespace {
constexpr int kFeatures = 10;
}

ChannelFeatureList::ChannelFeatureList(QWidget* parent) : QWidget(parent) {
    m_title = new QLabel;
    m_title->setWordWrap(true);
    m_table = new QTableWidget(0, 5);
    m_table->setObjectName(QStringLiteral("channelFeatures"));
    m_table->setHorizontalHeaderLabels(
        {tr("feature"), tr("label"), tr("W_dec"), tr("share"), tr("top example")});
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->setVisible(false);
    m_table->horizontalHeaderItem(3)->setToolTip(
        tr("The part of the feature's decoder norm that lands on this channel"));
    m_table->setToolTip(tr("Double-click (or Enter) opens the feature's dashboard"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_title);
    layout->addWidget(m_table, 1);
    connect(m_table, &QTableWidget::itemActivated, this, [this](QTableWidgetItem* item) {
        if (const qint64 id = featureAt(item->row()); id >= 0) emit featureRequested(id);
    });
    fill();
}

void ChannelFeatureList::setSource(std::shared_ptr<const sae::Sae> sae,
                                   const FeatureStoreHandle* store, const QString& name) {
    m_sae = std::move(sae);
    m_store = store;
    m_name = name;
    fill();
}

void ChannelFeatureList::setChannel(int channel, int width) {
    m_channel = channel;
    m_width = width;
    fill();
}

QString ChannelFeatureList::message() const {
    return m_title->text();
}

qint64 ChannelFeatureList::featureAt(int row) const {
    const QTableWidgetItem* item = m_table->item(row, 0);
    return item ? item->data(Qt::UserRole).toLongLong() : -1;
}

void ChannelFeatureList::fill() {
    m_table->setRowCount(0);
    if (!m_sae) {
        m_title->setText(tr("Open a workspace SAE to see the features that write a channel."));
        return;
    }
    if (m_channel < 0) {
        m_title->setText(
            tr("Select a channel to see the features of %1 that write it.").arg(m_name));
        return;
    }
    const sae::Sae& s = *m_sae;
    auto top = quant::featuresWritingChannel(s.wDec().data(), s.dSae(), s.dIn(), m_width, m_channel,
                                             kFeatures);
    if (!top.ok()) {
        m_title->setText(QString::fromStdString(top.status().message()));
        return;
    }
    const features::FeatureStore* store = m_store ? m_store->store() : nullptr;
    m_title->setText(tr("Features of %1 (%2) writing channel %3, largest |W_dec| first%4")
                         .arg(m_name, QString::fromStdString(s.config().metadata.hookName))
                         .arg(m_channel)
                         .arg(store ? QString() : tr(" — no feature store: analyse the SAE")));
    m_table->setRowCount(int(top->size()));
    for (int r = 0; r < int(top->size()); ++r) {
        const quant::ChannelFeature& f = (*top)[size_t(r)];
        QString label, snippet;
        if (store)
            if (auto rec = store->feature(f.feature); rec.ok()) {
                label = QString::fromStdString(rec->summary.label);
                snippet = QString::fromStdString(rec->summary.topSnippet);
            }
        const QString cells[] = {
            QString::number(f.feature), label, QString::number(double(f.weight), 'g', 3),
            QString::number(100.0 * double(f.share), 'f', 1) + QLatin1Char('%'), snippet};
        for (int c = 0; c < 5; ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            item->setData(Qt::UserRole, qint64(f.feature));
            m_table->setItem(r, c, item);
        }
    }
    m_table->resizeColumnsToContents();
}

}  // namespace mono::ui
