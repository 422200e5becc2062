#pragma once
// Views that live in their own ui/panels folders and are added to the main
// window here, with the signals that feed them.

namespace mono::ui {
class MainWindow;
}

// The Steering view: follows the window's model and selected SAE, and takes
// "Steer with this feature" from the dashboards.
void addSteeringView(mono::ui::MainWindow& window);

// The Quantization view: calibrates the window's model on the workspace's corpus.
void addQuantView(mono::ui::MainWindow& window);
