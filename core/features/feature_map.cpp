#include "core/features/feature_map.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <Eigen/Eigenvalues>
#include <nlohmann/json.hpp>

#include "core/features/umap_graph.h"
#include "core/features/umap_layout.h"
#include "core/sae/decoder_cosine.h"

namespace mono::features {
namespace {

double secondsSince(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Status checkSpec(const Matrix& decoder, const FeatureMapSpec& s) {
    if (decoder.rows() < 3)
        return Status::invalidArgument("feature map: needs at least 3 features, the decoder has " +
                                       std::to_string(decoder.rows()));
    if (decoder.rows() > INT32_MAX)
        return Status::invalidArgument("feature map: more than 2^31 features");
    if (s.neighbours < 2 || s.neighbours > 200)
        return Status::invalidArgument("feature map: neighbours must be in [2, 200], got " +
                                       std::to_string(s.neighbours));
    if (!(s.spread > 0) || !(s.minDist >= 0) || s.minDist > s.spread)
        return Status::invalidArgument("feature map: need 0 ≤ min_dist ≤ spread and spread > 0");
    if (s.epochs < 0 || s.negativeRate < 1)
        return Status::invalidArgument("feature map: epochs must be ≥ 0 and negative rate ≥ 1");
    return Status::success();
}

// The k nearest decoder rows by cosine distance 1 − cos: exact up to
// sae::kExactNeighbourMaxFeatures rows, above from the HNSW index the analysis
// uses too (as umap-learn uses an approximate search, NN-descent), because the
// exact search grows with the square of the width.
Result<umap::KnnGraph> decoderKnn(const Matrix& decoder, int k, const Progress& progress,
                                  const StopToken& stop) {
    const int64_t n = decoder.rows();
    std::vector<std::vector<sae::CosineMatch>> matches;
    if (sae::resolveNeighbourMethod(sae::NeighbourMethod::kAuto, n) ==
        sae::NeighbourMethod::kExact) {
        matches = sae::topDecoderCosines(decoder, decoder, k, true, [&](int64_t done) {
            progress.report(0.5 * double(done) / double(n), "finding decoder neighbours");
            return !stop.stopRequested();
        });
    } else {
        progress.report(0.0, "finding decoder neighbours (approximate index)");
        matches = sae::approximateNeighbours(decoder, 0, n, k);
    }
    if (stop.stopRequested()) return Status::cancelled("feature map cancelled");
    umap::KnnGraph g;
    g.n = n;
    g.k = k;
    g.ids.assign(static_cast<size_t>(n * k), -1);
    g.dists.assign(static_cast<size_t>(n * k), 0.0f);
    for (int64_t i = 0; i < n; ++i)
        for (size_t j = 0; j < matches[i].size(); ++j) {
            g.ids[i * k + j] = matches[i][j].id;
            g.dists[i * k + j] = std::max(0.0f, 1.0f - matches[i][j].cosine);
        }
    return g;
}

// A tiny deterministic jitter, so that identical rows (dead features with
// zero decoders, duplicates) do not start on one point.
void jitter(std::vector<float>* xy, uint64_t seed) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (float& v : *xy) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        v += 1e-4f * (static_cast<float>(s >> 40) / float(1 << 24) - 0.5f);
    }
}

}  // namespace

std::string FeatureMapSpec::toJson() const {
    return nlohmann::json{{"method", "umap"},
                          {"metric", "cosine"},
                          {"neighbours", neighbours},
                          {"min_dist", minDist},
                          {"spread", spread},
                          {"epochs", epochs},
                          {"negative_rate", negativeRate},
                          {"seed", seed},
                          {"init", "pca"}}
        .dump();
}

std::vector<float> pcaLayout(const Matrix& rows) {
    const int64_t n = rows.rows(), d = rows.cols();
    Eigen::VectorXd mean = Eigen::VectorXd::Zero(d);
    Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(d, d);
    constexpr int64_t kBlock = 4096;
    for (int64_t r0 = 0; r0 < n; r0 += kBlock) {
        Matrix block = rows.middleRows(r0, std::min(kBlock, n - r0));
        for (int64_t i = 0; i < block.rows(); ++i) {
            const float norm = block.row(i).norm();
            if (norm > 0) block.row(i) /= norm;
        }
        mean += block.colwise().sum().transpose().cast<double>();
        cov += (block.transpose() * block).cast<double>();
    }
    mean /= double(n);
    cov = cov / double(n) - mean * mean.transpose();
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(cov);
    // Eigenvalues ascend: the last two columns are the leading axes.
    const Eigen::MatrixXd axes = eig.eigenvectors().rightCols(std::min<int64_t>(2, d));
    std::vector<float> xy(static_cast<size_t>(2 * n), 0.0f);
    for (int64_t i = 0; i < n; ++i) {
        Eigen::VectorXd u = rows.row(i).transpose().cast<double>();
        const double norm = u.norm();
        if (norm > 0) u /= norm;
        for (int64_t c = 0; c < axes.cols(); ++c)
            xy[2 * i + c] = static_cast<float>((u - mean).dot(axes.col(axes.cols() - 1 - c)));
    }
    for (int c = 0; c < 2; ++c) {
        float lo = INFINITY, hi = -INFINITY;
        for (int64_t i = 0; i < n; ++i)
            lo = std::min(lo, xy[2 * i + c]), hi = std::max(hi, xy[2 * i + c]);
        const float scale = hi > lo ? 10.0f / (hi - lo) : 0.0f;
        for (int64_t i = 0; i < n; ++i) xy[2 * i + c] = (xy[2 * i + c] - lo) * scale;
    }
    return xy;
}

Result<FeatureMap> computeFeatureMap(const Matrix& decoder, const FeatureMapSpec& spec,
                                     const Progress& progress, const StopToken& stop) {
    MONO_RETURN_IF_ERROR(checkSpec(decoder, spec));
    const int64_t n = decoder.rows();
    const int k = static_cast<int>(std::min<int64_t>(spec.neighbours - 1, n - 1));
    FeatureMap map;
    auto t0 = std::chrono::steady_clock::now();
    MONO_ASSIGN_OR_RETURN(umap::KnnGraph knn, decoderKnn(decoder, k, progress, stop));
    map.secondsKnn = secondsSince(t0);

    t0 = std::chrono::steady_clock::now();
    progress.report(0.5, "building the neighbour graph");
    const umap::FuzzyGraph graph = umap::fuzzySimplicialSet(knn);
    map.edges = graph.edges();
    map.secondsGraph = secondsSince(t0);

    t0 = std::chrono::steady_clock::now();
    progress.report(0.53, "initial layout (PCA)");
    map.xy = pcaLayout(decoder);
    jitter(&map.xy, spec.seed);
    map.secondsInit = secondsSince(t0);

    t0 = std::chrono::steady_clock::now();
    umap::LayoutSpec ls;
    ls.epochs = spec.epochs;
    ls.negativeRate = spec.negativeRate;
    ls.curve = umap::fitCurve(spec.minDist, spec.spread);
    ls.seed = spec.seed;
    const Progress sub(
        [&](const ProgressUpdate& u) { progress.report(0.55 + 0.45 * u.fraction, u.message); });
    MONO_RETURN_IF_ERROR(umap::optimizeLayout(graph, ls, &map.xy, sub, stop));
    map.secondsOptimise = secondsSince(t0);
    progress.report(1.0, "feature map done");
    return map;
}

}  // namespace mono::features
