#pragma once
// The main window's views, all built here, wired to the sessions they follow
// and put in tab order, so that adding a view touches this file only.

#include <QList>
#include <QString>

class QWidget;

namespace mono::ui {

class CompareView;
class FeaturesView;
class GeneratePanel;
class JobsPanel;
class ModelSession;
class PromptInspector;
class QuantView;
class SteeringPanel;
class WorkspaceSession;

// One tab of the main window.
struct ViewTab {
    QString name;  // short, for QSettings and MainWindow::showView: "features"
    QString title;
    QWidget* widget = nullptr;
};

struct MainViews {
    FeaturesView* features = nullptr;
    PromptInspector* inspector = nullptr;
    JobsPanel* jobs = nullptr;
    GeneratePanel* generate = nullptr;
    SteeringPanel* steering = nullptr;
    QuantView* quant = nullptr;
    CompareView* compare = nullptr;

    // In tab order, which Ctrl+1 … Ctrl+9 follow.
    QList<ViewTab> tabs() const;
};

// Builds every view without a parent (the window's tabs take them) and connects
// them to `models` and `workspace`, which must outlive them. The dashboard's
// "Steer with this feature" reaches the steering panel; switching to it is the
// window's business.
MainViews buildMainViews(ModelSession* models, WorkspaceSession* workspace);

}  // namespace mono::ui
