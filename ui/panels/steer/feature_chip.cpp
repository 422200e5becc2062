#include "ui/panels/steer/feature_chip.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QToolButton>

#include <cmath>

#include "ui/widgets/display_format.h"

namespace mono::ui {

FeatureChip::FeatureChip(int featureId, double value, bool relative, QWidget* parent)
    : QFrame(parent), m_id(featureId), m_relative(relative) {
    setObjectName(QStringLiteral("featureChip%1").arg(featureId));
    setFrameShape(QFrame::StyledPanel);
    auto* row = new QHBoxLayout(this);
    row->setContentsMargins(6, 2, 2, 2);
    m_name = new QLabel(tr("#%1").arg(featureId));
    m_name->setObjectName(QStringLiteral("chipCaption"));
    m_slider = new QSlider(Qt::Horizontal);
    m_slider->setObjectName(QStringLiteral("valueSlider"));
    m_slider->setRange(-kRange * kStepsPerUnit, kRange * kStepsPerUnit);
    m_slider->setMinimumWidth(140);
    m_valueLabel = new QLabel;
    m_valueLabel->setMinimumWidth(56);
    auto* remove = new QToolButton;
    remove->setObjectName(QStringLiteral("removeButton"));
    remove->setText(QStringLiteral("×"));
    remove->setToolTip(tr("Stop steering this feature"));
    row->addWidget(m_name);
    row->addWidget(m_slider, 1);
    row->addWidget(m_valueLabel);
    row->addWidget(remove);
    setValue(value);
    connect(m_slider, &QSlider::valueChanged, this, [this] {
        updateText();
        emit valueChanged(this->value());
    });
    connect(remove, &QToolButton::clicked, this, [this] { emit removeRequested(m_id); });
}

void FeatureChip::setLabel(const QString& label) {
    constexpr int kMaxChars = 24;
    const QString shown =
        label.size() > kMaxChars ? label.left(kMaxChars - 1) + QStringLiteral("…") : label;
    m_name->setText(shown.isEmpty() ? tr("#%1").arg(m_id) : tr("#%1 %2").arg(m_id).arg(shown));
    m_name->setToolTip(label);
}

QString FeatureChip::caption() const {
    return m_name->text();
}

double FeatureChip::value() const {
    return double(m_slider->value()) / kStepsPerUnit;
}

void FeatureChip::setValue(double value) {
    m_slider->setValue(int(std::lround(value * kStepsPerUnit)));
    updateText();
}

void FeatureChip::setRelative(bool relative) {
    m_relative = relative;
    updateText();
}

void FeatureChip::updateText() {
    const QString v = formatFixed(value(), 2);
    m_valueLabel->setText(m_relative ? v + QStringLiteral("× max") : v);
    m_slider->setToolTip(m_relative ? tr("Value as a multiple of the feature's max activation")
                                    : tr("Absolute value of the feature's activation"));
}

}  // namespace mono::ui
