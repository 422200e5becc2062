#pragma once
// How the feature map colours its points: by log10 density or log10 max
// activation (eight bins of the viridis scale between the live features'
// extremes, dead features grey), or labelled / not. A handful of colour bins
// keeps the scatter at one batched graph per colour.

#include <QColor>
#include <QString>
#include <QVector>

#include <vector>

#include "core/features/feature_store.h"

namespace mono::ui {

enum class MapColour { kDensity, kMaxActivation, kLabel };

struct MapColouring {
    std::vector<int> bins;  // per feature id: index into colours
    QVector<QColor> colours;
    QString caption;  // what the colours mean
};

// The viridis scale at t in [0, 1] (purple → teal → yellow: ordered, and
// readable in grey and by most colour-blind readers).
QColor viridis(double t);

// `summaries[i]` is feature i.
MapColouring colourFeatures(const std::vector<features::FeatureSummary>& summaries, MapColour by);

}  // namespace mono::ui
