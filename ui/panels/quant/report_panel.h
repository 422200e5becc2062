#pragma once
// The End-to-end tab of the Quantization view: the scheme (O1/O2/O3), the
// weight granularity, α (family default, one value, or searched per layer)
// and the rotation are chosen here; "Run" asks the view to build the report
// (quant::buildQuantReport on a worker), and the result is shown as a table
// (perplexity, ΔPPL, mean and 99.9th-percentile KL, same top-1 %, RMS Δp for
// every configuration: FP32, naive, W8A8, SmoothQuant, rotation, both, at
// W8A8 / W4A8 / W4A4) and as bar charts of KL and same-top-1. Plots export as
// PNG/SVG, the table as CSV.

#include <QStringList>
#include <QWidget>

#include <memory>

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QTableWidget;

namespace mono::quant {
struct QuantReport;
struct QuantReportSpec;
}  // namespace mono::quant

namespace mono::ui {

class ReportPanel : public QWidget {
    Q_OBJECT
public:
    explicit ReportPanel(QWidget* parent = nullptr);

    // The report the controls describe.
    quant::QuantReportSpec spec() const;
    void setReport(std::shared_ptr<const quant::QuantReport> report);
    void setRunEnabled(bool enabled);

    QComboBox* schemeBox() const { return m_scheme; }
    QComboBox* weightsBox() const { return m_weights; }
    QComboBox* alphaMode() const { return m_alphaMode; }
    QCheckBox* rotationToggle() const { return m_rotate; }
    QPushButton* runButton() const { return m_run; }
    QTableWidget* table() const { return m_table; }
    QCustomPlot* klPlot() const { return m_klPlot; }
    QCustomPlot* top1Plot() const { return m_top1Plot; }

    // Writes the two charts (PNG and SVG) and the table (CSV) into `dir`; the
    // files written, empty on failure.
    QStringList exportTo(const QString& dir) const;

signals:
    void runRequested();

private:
    void drawBars();

    std::shared_ptr<const quant::QuantReport> m_report;
    QComboBox* m_scheme = nullptr;
    QComboBox* m_weights = nullptr;
    QComboBox* m_alphaMode = nullptr;
    QDoubleSpinBox* m_alpha = nullptr;
    QCheckBox* m_rotate = nullptr;
    QPushButton* m_run = nullptr;
    QLabel* m_note = nullptr;
    QTableWidget* m_table = nullptr;
    QCustomPlot* m_klPlot = nullptr;
    QCustomPlot* m_top1Plot = nullptr;
};

}  // namespace mono::ui
