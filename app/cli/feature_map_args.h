#pragma once
// The feature map's options, shared by `feature-map` and `analyze --map`.

#include "app/cli/cli_args.h"
#include "core/features/feature_map.h"

namespace mono::cli {

// --neighbours, --min-dist, --epochs, --seed; errors go to args.error().
features::FeatureMapSpec featureMapSpecFromArgs(CliArgs& args);
// "N features, E edges: neighbours X s, graph X s, start X s, layout X s".
void printFeatureMapTimes(const features::FeatureMap& map);

}  // namespace mono::cli
