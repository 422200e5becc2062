#pragma once
// The main window's views, all built here and wired to the sessions they
// follow, so that adding a view touches this file and the window's tab list.

namespace mono::ui {

class FeaturesView;
class GeneratePanel;
class JobsPanel;
class ModelSession;
class PromptInspector;
class QuantView;
class SteeringPanel;
class WorkspaceSession;

struct MainViews {
    FeaturesView* features = nullptr;
    PromptInspector* inspector = nullptr;
    JobsPanel* jobs = nullptr;
    GeneratePanel* generate = nullptr;
    SteeringPanel* steering = nullptr;
    QuantView* quant = nullptr;
};

// Builds every view without a parent (the window's tabs take them) and connects
// them to `models` and `workspace`, which must outlive them. The dashboard's
// "Steer with this feature" reaches the steering panel; switching to it is the
// window's business.
MainViews buildMainViews(ModelSession* models, WorkspaceSession* workspace);

}  // namespace mono::ui
