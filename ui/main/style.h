#pragma once
// The application's look: the Fusion style with a light or a dark palette and
// the style sheet from resources/style/light.qss. The dark sheet is derived
// from the light one by a colour map, so the two never drift apart.

#include <QString>

class QApplication;

namespace mono::ui {

enum class Theme { kLight, kDark };

void applyTheme(QApplication& app, Theme theme);
void applyLightStyle(QApplication& app);  // applyTheme(app, Theme::kLight)

// "light" / "dark" (QSettings values); unknown names read as light.
QString themeName(Theme theme);
Theme themeFromName(const QString& name);

}  // namespace mono::ui
