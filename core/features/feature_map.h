#pragma once
// The feature map: a 2-D layout of an SAE's decoder directions, so that
// features whose decoder rows point the same way sit together (UMAP on the
// cosine distance 1 − cos between decoder rows).
//
//   FeatureMapSpec spec;                      // 15 neighbours, min_dist 0.1, seed 42
//   auto map = computeFeatureMap(sae.wDec(), spec, progress, stop);
//   // map->xy: x0, y0, x1, y1, ...   map->seconds*: where the time went
//
// Steps: the exact k nearest decoder rows (sae::topDecoderCosines, the search
// behind the feature store's decoder neighbours), UMAP's fuzzy simplicial set
// (umap_graph.h), a PCA initial layout (the two leading principal axes of the
// unit rows; a spectral start costs an eigen-solve on a 100 k-node graph for a
// layout the optimisation then moves anyway), then UMAP's optimisation
// (umap_layout.h). Deterministic for a seed.

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/matrix.h"
#include "core/base/progress.h"
#include "core/base/result.h"

namespace mono::features {

struct FeatureMapSpec {
    int neighbours = 15;  // umap-learn's n_neighbors: the point itself and 14 others
    double minDist = 0.1;
    double spread = 1.0;
    int epochs = 0;  // 0: 500 up to 10 000 features, else 200 (as umap-learn)
    int negativeRate = 5;
    uint64_t seed = 42;
    // {"method":"umap", "neighbours":15, ...}: stored beside the layout.
    std::string toJson() const;
};

struct FeatureMap {
    std::vector<float> xy;  // 2 per feature: x, y
    double secondsKnn = 0, secondsGraph = 0, secondsInit = 0, secondsOptimise = 0;
    int64_t edges = 0;  // of the symmetrised graph
    int64_t size() const { return static_cast<int64_t>(xy.size() / 2); }
};

// Lays out the rows of `decoder` [F, D]. InvalidArgument for fewer than 3
// rows or bad settings; Cancelled when `stop` is requested. Progress: the
// neighbour search to 0.5, the graph and start to 0.55, the optimisation to 1.
Result<FeatureMap> computeFeatureMap(const Matrix& decoder, const FeatureMapSpec& spec,
                                     const Progress& progress, const StopToken& stop);

// The PCA start: the unit rows projected on their two leading principal
// axes, each axis scaled to [0, 10] (umap-learn's starting range).
std::vector<float> pcaLayout(const Matrix& rows);

}  // namespace mono::features
