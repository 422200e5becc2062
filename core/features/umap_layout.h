#pragma once
// UMAP's layout optimisation (McInnes et al. 2018, §3.2 and umap-learn's
// optimize_layout_euclidean): stochastic gradient descent on the fuzzy cross
// entropy between the graph and a 2-D embedding whose similarity curve is
// 1 / (1 + a·d^(2b)). Each edge is sampled in proportion to its weight; each
// sample pulls its two ends together and pushes the head away from a few
// random points (negative sampling); the learning rate falls linearly to 0.
//
// Deterministic for a seed, whatever the thread count: an epoch reads the
// positions of the previous epoch, each point is moved by the thread that
// owns it only, and its random numbers come from (seed, epoch, point).

#include <cstdint>
#include <vector>

#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/features/umap_graph.h"

namespace mono::features::umap {

// The curve 1 / (1 + a·d^(2b)) fitted (least squares over d in (0, 3·spread])
// to UMAP's target: 1 up to minDist, then exp(−(d − minDist) / spread).
struct CurveParams {
    double a = 0, b = 0;
};
CurveParams fitCurve(double minDist, double spread);

struct LayoutSpec {
    int epochs = 0;  // 0: umap-learn's default, 500 up to 10 000 points, else 200
    int negativeRate = 5;
    double learningRate = 1.0;
    CurveParams curve;
    uint64_t seed = 42;
};

// umap-learn's default epoch count for n points.
int defaultEpochs(int64_t n);

// Optimises xy (n × 2, interleaved x, y; the initial layout on entry) in
// place. Progress goes from 0 to 1; Cancelled when `stop` is requested.
Status optimizeLayout(const FuzzyGraph& graph, const LayoutSpec& spec, std::vector<float>* xy,
                      const Progress& progress, const StopToken& stop);

}  // namespace mono::features::umap
