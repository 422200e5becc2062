#pragma once
// The application's look: the Fusion style with a light palette and the style
// sheet from resources/style/light.qss.

class QApplication;

namespace mono::ui {

void applyLightStyle(QApplication& app);

}  // namespace mono::ui
