#include "app/cli/feature_map_args.h"

#include <cstdio>

namespace mono::cli {

features::FeatureMapSpec featureMapSpecFromArgs(CliArgs& args) {
    features::FeatureMapSpec spec;
    spec.neighbours = static_cast<int>(args.intOption("neighbours", spec.neighbours, 2, 200));
    spec.minDist = args.doubleOption("min-dist", spec.minDist, 0.0, 1.0);
    spec.epochs = static_cast<int>(args.intOption("epochs", 0, 1, 100000));
    spec.seed = args.seedOption("seed", spec.seed);
    return spec;
}

void printFeatureMapTimes(const features::FeatureMap& map) {
    std::printf(
        "feature map: %lld features, %lld graph edges; neighbours %.1f s, graph %.1f s, "
        "start %.1f s, layout %.1f s\n",
        (long long)map.size(), (long long)map.edges, map.secondsKnn, map.secondsGraph,
        map.secondsInit, map.secondsOptimise);
}

}  // namespace mono::cli
