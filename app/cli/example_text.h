#pragma once
// Plain-text rendering of feature examples for the terminal.

#include <string>

#include "core/features/feature_store.h"

namespace mono::cli {

// Newlines as ↵, tabs and carriage returns as spaces, so an example stays on one line.
std::string visibleText(const std::string& s);

// The example's window with the example token in «» and every other firing
// token followed by its activation in [ ]. With radius ≥ 0 only that many
// tokens either side of the example token are shown.
std::string renderExample(const features::Example& example, int radius = -1);

}  // namespace mono::cli
