#pragma once
// TrainingMonitor: live curves of an SAE training run — loss, MSE, L0, dead
// features and explained variance — against tokens seen, one small plot each.
// Points are appended as progress arrives; replots are queued, so a burst of
// updates costs one repaint.

#include <QVariantMap>
#include <QWidget>

#include <array>

class QCustomPlot;
class QLabel;

namespace mono::ui {

class TrainingMonitor : public QWidget {
    Q_OBJECT
public:
    // The curves, in the order of plot().
    enum Curve { kLoss, kMse, kL0, kDeadPct, kExplainedVariance, kCurveCount };

    explicit TrainingMonitor(QWidget* parent = nullptr);

    // Starts a new run: clears the curves. `batchSize` converts steps to tokens.
    void startRun(const QString& title, qint64 batchSize);
    // Adds the point of a progress report (metrics as the trainer names them:
    // loss, mse, l0, dead_pct, explained_variance, step). Reports without a new
    // step are ignored.
    void addReport(const QVariantMap& metrics);

    int pointCount() const { return m_points; }
    QCustomPlot* plot(Curve curve) const { return m_plots[static_cast<size_t>(curve)]; }
    static QString metricKey(Curve curve);

    // Re-applies the palette to the plots (after a theme change).
    void restyle();

private:
    std::array<QCustomPlot*, kCurveCount> m_plots{};
    QLabel* m_title;
    QLabel* m_summary;
    qint64 m_batchSize = 1;
    double m_lastStep = -1;
    int m_points = 0;
};

}  // namespace mono::ui
