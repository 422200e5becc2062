#pragma once
// The Outliers tab of the Quantization view: a token × channel |X| heatmap of
// one linear input (log colour scale; hover names the token, channel and
// value), its per-channel maxima (in channel order or sorted), the outlier
// table (sorted by ratio to the median channel; selecting a row moves both
// plots to that channel), the per-layer massive-activation picture of the
// residual stream, and a toggle that shows the same input after a Hadamard
// rotation of the residual stream; beside it the attention-sink map (layer ×
// head attention on the first token), and under the table the SAE features
// that write the selected channel (ChannelFeatureList, when a workspace SAE is
// loaded). Everything is computed by core
// (quant::buildOutlierData); the panel only draws and exports.

#include <QStringList>
#include <QWidget>

#include <memory>
#include <vector>

class QCheckBox;
class QComboBox;
class QCPColorMap;
class QCPItemStraightLine;
class QCustomPlot;
class QLabel;
class QTableWidget;

namespace mono::sae {
class Sae;
}
namespace mono::quant {
struct OutlierData;
struct InputStats;
}  // namespace mono::quant

namespace mono::ui {

class AttentionSinkPlot;
class ChannelFeatureList;
class FeatureStoreHandle;

class OutlierPanel : public QWidget {
    Q_OBJECT
public:
    explicit OutlierPanel(QWidget* parent = nullptr);

    // Shows `data` (null: empty panel).
    void setData(std::shared_ptr<const quant::OutlierData> data);

    // The SAE whose features are listed for the selected channel (null: none)
    // and the store of its labels and examples; `name` titles the list.
    void setFeatureSource(std::shared_ptr<const sae::Sae> sae, const FeatureStoreHandle* store,
                          const QString& name);

    // The input shown: index into the attention / MLP inputs, in forward order.
    void setInput(int index);
    int input() const;
    // Selects a channel: both plots mark it.
    void setChannel(int channel);
    int channel() const { return m_channel; }
    bool rotated() const;
    bool sorted() const;

    QCustomPlot* heatmapPlot() const { return m_heatPlot; }
    QCPColorMap* heatmap() const { return m_heatmap; }
    QCustomPlot* maximaPlot() const { return m_maxPlot; }
    QCustomPlot* massivePlot() const { return m_massivePlot; }
    AttentionSinkPlot* sinkPlot() const { return m_sinkPlot; }
    ChannelFeatureList* featureList() const { return m_features; }
    QTableWidget* outlierTable() const { return m_table; }
    QCheckBox* rotationToggle() const { return m_rotate; }
    QCheckBox* sortedToggle() const { return m_sort; }
    // The per-channel maxima drawn now, in channel order.
    const std::vector<float>& shownMaxima() const { return m_shownMax; }
    // The x position (column of the heatmap) where the selected channel is drawn.
    int channelColumn() const;
    // The tooltip of the heatmap at a pixel; "" outside the map.
    QString heatmapHoverText(const QPointF& pixel) const;

    // Writes heatmap, maxima, massive-activation and attention-sink plots (PNG
    // and SVG) and the outlier, massive-activation and attention-sink tables
    // (CSV) into `dir`; the files written, empty on failure.
    QStringList exportTo(const QString& dir) const;

signals:
    // A feature of the channel list was activated: open its dashboard.
    void featureRequested(qint64 id);

private:
    void redraw();
    void fillTable();
    void drawMassive();
    void exportDialog();
    const quant::InputStats* shownInput() const;

    std::shared_ptr<const quant::OutlierData> m_data;
    QComboBox* m_inputBox = nullptr;
    QCheckBox* m_rotate = nullptr;
    QCheckBox* m_sort = nullptr;
    QLabel* m_summary = nullptr;
    QCustomPlot* m_heatPlot = nullptr;
    QCPColorMap* m_heatmap = nullptr;
    QCPItemStraightLine* m_heatMark = nullptr;
    QCustomPlot* m_maxPlot = nullptr;
    QCPItemStraightLine* m_maxMark = nullptr;
    QCustomPlot* m_massivePlot = nullptr;
    AttentionSinkPlot* m_sinkPlot = nullptr;
    ChannelFeatureList* m_features = nullptr;
    QTableWidget* m_table = nullptr;
    std::vector<float> m_shownMax;
    std::vector<int> m_order;  // column → channel
    int m_channel = -1;
};

}  // namespace mono::ui
