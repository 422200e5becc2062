#pragma once
// FeatureChip: one steered feature in the steering panel — its id, a slider for
// the value (a multiple of the feature's max activation when the store gave
// one, else an absolute value) and a button that removes it.

#include <QFrame>

class QLabel;
class QSlider;

namespace mono::ui {

class FeatureChip : public QFrame {
    Q_OBJECT
public:
    // Slider steps per unit of value: values are multiples of 0.25 in [−kRange, kRange].
    static constexpr int kStepsPerUnit = 4;
    static constexpr int kRange = 20;

    FeatureChip(int featureId, double value, bool relative, QWidget* parent = nullptr);

    int featureId() const { return m_id; }
    double value() const;
    void setValue(double value);
    // Relative: the value is a multiple of the max activation ("4x").
    bool relative() const { return m_relative; }
    void setRelative(bool relative);
    // The feature's label, shown after its id ("" shows the id alone).
    void setLabel(const QString& label);
    QString caption() const;

signals:
    void valueChanged(double value);
    void removeRequested(int featureId);

private:
    void updateText();
    int m_id;
    bool m_relative;
    QLabel* m_name = nullptr;
    QSlider* m_slider = nullptr;
    QLabel* m_valueLabel = nullptr;
};

}  // namespace mono::ui
