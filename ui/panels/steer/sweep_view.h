#pragma once
// SweepView: a clamp-value sweep as a table (value, applied activation, top
// tokens' probability, KL, delta loss, steered text) and a plot of delta loss
// and KL against the value.

#include <QWidget>

#include "core/steer/steer_run.h"

class QCustomPlot;
class QTableWidget;

namespace mono::ui {

class SweepView : public QWidget {
    Q_OBJECT
public:
    explicit SweepView(QWidget* parent = nullptr);

    void setReport(const steer::SweepReport& report, bool relative);
    void clear();
    int rows() const;
    QTableWidget* table() const { return m_table; }
    QCustomPlot* plot() const { return m_plot; }

private:
    QTableWidget* m_table = nullptr;
    QCustomPlot* m_plot = nullptr;
};

}  // namespace mono::ui
