#pragma once
// The attention-sink heat map of the outlier tab: layer × head, coloured by
// the mean attention weight each head puts on the first token of its window
// (core: quant::attentionSinks). Shown beside the massive-activation plot,
// whose first-token outliers are what lets a head park its attention there.

#include <qcustomplot.h>

namespace mono::quant {
struct AttentionSinks;
}

namespace mono::ui {

class AttentionSinkPlot : public QCustomPlot {
    Q_OBJECT
public:
    explicit AttentionSinkPlot(QWidget* parent = nullptr);

    // Draws `sinks` (null or empty: an empty map titled with `note`).
    void setSinks(const quant::AttentionSinks* sinks, const QString& note = {});

    QCPColorMap* map() const { return m_map; }
    // "layer L, head H: 0.87 of the attention on the first token"; "" outside the map.
    QString hoverText(const QPointF& pixel) const;

private:
    QCPColorMap* m_map = nullptr;
    QCPTextElement* m_title = nullptr;
    int m_layers = 0, m_heads = 0;
};

}  // namespace mono::ui
