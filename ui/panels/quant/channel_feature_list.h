#pragma once
// Outliers meet features: for the channel selected in the outlier tab, the
// SAE features whose decoder directions write most to it (ranked by core's
// quant::featuresWritingChannel), with their label and top example from the
// feature store. Activating a row asks to open that feature's dashboard.

#include <QWidget>

#include <memory>

class QLabel;
class QTableWidget;

namespace mono::sae {
class Sae;
}

namespace mono::ui {

class FeatureStoreHandle;

class ChannelFeatureList : public QWidget {
    Q_OBJECT
public:
    explicit ChannelFeatureList(QWidget* parent = nullptr);

    // The SAE whose decoder is ranked (null: none loaded) and the store its
    // labels and examples come from (may be null or closed); `name` titles the list.
    void setSource(std::shared_ptr<const sae::Sae> sae, const FeatureStoreHandle* store,
                   const QString& name);
    // Lists the features for `channel` of a stream `width` channels wide; -1 clears.
    void setChannel(int channel, int width);

    QTableWidget* table() const { return m_table; }
    QString message() const;
    // The feature id of row `row`, -1 when none.
    qint64 featureAt(int row) const;

signals:
    void featureRequested(qint64 id);

private:
    void fill();

    std::shared_ptr<const sae::Sae> m_sae;
    const FeatureStoreHandle* m_store = nullptr;
    QString m_name;
    int m_channel = -1, m_width = 0;
    QLabel* m_title = nullptr;
    QTableWidget* m_table = nullptr;
};

}  // namespace mono::ui
