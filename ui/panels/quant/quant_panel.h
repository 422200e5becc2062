#pragma once
// The Quantization panel: pick a smoothing group (a norm and the linears after
// it), move α, and see the per-channel maxima of activations and weights
// before and after SmoothQuant's smoothing (log scale, with the scales s), and
// a table of every group's W8A8 output error with and without smoothing at α.
// The scheme is chosen here too: activations O1 / O2 / O3 / O1-g128, weights
// per channel / per tensor / per group of 128, and α one for all groups, one
// per group (the slider moves the shown group's), or automatic per group (the
// α with the smallest error on the captured inputs).
//
// Core computes everything (quant::SmoothingExplorer); the panel only draws.
// The maxima are recomputed on the GUI thread (microseconds); the error table
// runs on a worker, and only the result for the latest α is shown.

#include <QWidget>

#include <memory>
#include <vector>

#include "core/quant/w8a8.h"

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

    double alpha() const;         // the shown group's α: 0..1, in steps of 0.01
    void setAlpha(double alpha);  // moves the slider
    int group() const;            // index into explorer->groups()
    void setGroup(int group);

    enum class AlphaMode { kShared, kPerGroup, kAutomatic };
    AlphaMode alphaMode() const;
    void setAlphaMode(AlphaMode mode);
    // The scheme of the error table (from the two scheme boxes).
    quant::W8A8Scheme scheme() const;
    // One α per group, as the error table uses them.
    const std::vector<float>& alphas() const { return m_alphas; }

    QSlider* alphaSlider() const { return m_slider; }
    QComboBox* schemeBox() const { return m_actBox; }
    QComboBox* weightsBox() const { return m_weightBox; }
    QComboBox* alphaModeBox() const { return m_alphaModeBox; }
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
    QLayout* buildControls();
    void redraw();
    void requestErrors();
    void showAlphaOfGroup();

    std::shared_ptr<const quant::SmoothingExplorer> m_explorer;
    QComboBox* m_groupBox = nullptr;
    QComboBox* m_actBox = nullptr;
    QComboBox* m_weightBox = nullptr;
    QComboBox* m_alphaModeBox = nullptr;
    std::vector<float> m_alphas;  // [group]
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
