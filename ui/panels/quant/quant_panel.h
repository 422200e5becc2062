#pragma once
// The Quantization panel: pick a smoothing group (a norm and the linears after
// it), move α, and see the per-channel maxima of activations and weights
// before and after SmoothQuant's smoothing (log scale, with the scales s), and
// a table of every group's W8A8 output error with and without smoothing at α.
//
// Core computes everything (quant::SmoothingExplorer); the panel only draws.
// The maxima are recomputed on the GUI thread (microseconds); the error table
// runs on a worker, and only the result for the latest α is shown.

#include <QWidget>

#include <memory>
#include <vector>

class QComboBox;
class QCustomPlot;
class QLabel;
class QSlider;
class QTableWidget;

namespace mono::quant {
class SmoothingExplorer;
}

namespace mono::ui {

class QuantPanel : public QWidget {
    Q_OBJECT
public:
    explicit QuantPanel(QWidget* parent = nullptr);
    ~QuantPanel() override;

    // Shows what `explorer` computes (null: empty panel). Keeps a reference.
    void setExplorer(std::shared_ptr<const quant::SmoothingExplorer> explorer);

    double alpha() const;         // 0..1, in steps of 0.01
    void setAlpha(double alpha);  // moves the slider
    int group() const;            // index into explorer->groups()
    void setGroup(int group);

    QSlider* alphaSlider() const { return m_slider; }
    QTableWidget* errorTable() const { return m_table; }
    QCustomPlot* plot() const { return m_plot; }
    // The smoothed activation maxima drawn now (one per channel).
    const std::vector<float>& shownSmoothedActMax() const { return m_shownSmoothed; }
    // Milliseconds the last redraw of the plot took.
    double lastRedrawMs() const { return m_lastRedrawMs; }

signals:
    // The error table shows the errors at alpha().
    void errorsUpdated();

private:
    void redraw();
    void requestErrors();

    std::shared_ptr<const quant::SmoothingExplorer> m_explorer;
    QComboBox* m_groupBox = nullptr;
    QSlider* m_slider = nullptr;
    QLabel* m_alphaLabel = nullptr;
    QLabel* m_status = nullptr;
    QCustomPlot* m_plot = nullptr;
    QTableWidget* m_table = nullptr;
    std::vector<float> m_shownSmoothed;
    double m_lastRedrawMs = 0.0;
    quint64 m_generation = 0;  // bumps with every error request; stale results are dropped
};

}  // namespace mono::ui
