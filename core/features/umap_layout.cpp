#include "core/features/umap_layout.h"

#include <algorithm>
#include <cmath>

#include <Eigen/Dense>

namespace mono::features::umap {
namespace {

// umap-learn's gradient clip and the 0.001 that keeps repulsion finite at d = 0.
constexpr float kClip = 4.0f;
constexpr float kRepulsionEps = 0.001f;

float clip(float v) {
    return std::clamp(v, -kClip, kClip);
}

// SplitMix64: a counter-based generator, so (seed, epoch, point) names a stream.
struct SplitMix {
    uint64_t state;
    uint64_t next() {
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, n) by Lemire's multiply-shift (n < 2^32).
    int64_t below(int64_t n) {
        return static_cast<int64_t>(((next() >> 32) * static_cast<uint64_t>(n)) >> 32);
    }
};

// Per-edge sampling schedule, as in umap-learn: edge e is due every
// period[e] epochs (the heaviest edge every epoch) and brings negativeRate
// negative samples per due sample.
struct Schedule {
    std::vector<float> period, nextSample, negPeriod, nextNeg;
};

Schedule makeSchedule(const FuzzyGraph& g, int epochs, int negativeRate) {
    Schedule s;
    const float maxW =
        g.weights.empty() ? 1.0f : *std::max_element(g.weights.begin(), g.weights.end());
    const auto e = static_cast<size_t>(g.edges());
    s.period.resize(e);
    s.negPeriod.resize(e);
    for (size_t i = 0; i < e; ++i) {
        // Edges too light to be sampled once in the run are left out (period > epochs).
        const float w = g.weights[i];
        s.period[i] = w * static_cast<float>(epochs) < maxW ? -1.0f : maxW / w;
        s.negPeriod[i] = s.period[i] / static_cast<float>(negativeRate);
    }
    s.nextSample = s.period;
    s.nextNeg = s.negPeriod;
    return s;
}

struct Mover {
    const float* prev;  // positions at the start of the epoch
    int64_t n;
    float a, b, alpha;

    void attract(float* yi, const float* yj) const {
        const float dx = yi[0] - yj[0], dy = yi[1] - yj[1];
        const float d2 = dx * dx + dy * dy;
        if (d2 <= 0) return;
        const float pb = std::pow(d2, b);
        const float coef = -2.0f * a * b * (pb / d2) / (a * pb + 1.0f);
        yi[0] += clip(coef * dx) * alpha;
        yi[1] += clip(coef * dy) * alpha;
    }
    void repel(float* yi, const float* yk) const {
        const float dx = yi[0] - yk[0], dy = yi[1] - yk[1];
        const float d2 = dx * dx + dy * dy;
        // Two points on one spot push nothing (umap-learn's current rule).
        if (d2 <= 0) return;
        const float coef = 2.0f * b / ((kRepulsionEps + d2) * (a * std::pow(d2, b) + 1.0f));
        yi[0] += clip(coef * dx) * alpha;
        yi[1] += clip(coef * dy) * alpha;
    }
};

// One epoch for point i: its due edges and their negative samples.
void movePoint(const FuzzyGraph& g, Schedule& s, const Mover& m, int64_t i, int epoch,
               uint64_t seed, float* out) {
    float yi[2] = {m.prev[2 * i], m.prev[2 * i + 1]};
    SplitMix rng{seed ^ (static_cast<uint64_t>(epoch) << 40) ^
                 static_cast<uint64_t>(i) * 0xD1B54A32D192ED03ull};
    const auto ep = static_cast<float>(epoch);
    for (int64_t e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
        if (s.period[e] <= 0 || s.nextSample[e] > ep) continue;
        const float* yj = m.prev + 2 * static_cast<int64_t>(g.targets[e]);
        // umap-learn moves both ends of a sampled edge, and samples each pair
        // in both directions: a point is pulled twice per period. Here the
        // reverse direction moves the other end, so pull twice.
        m.attract(yi, yj);
        m.attract(yi, yj);
        s.nextSample[e] += s.period[e];
        const int negatives = static_cast<int>((ep - s.nextNeg[e]) / s.negPeriod[e]);
        for (int p = 0; p < negatives; ++p) {
            const int64_t k = rng.below(m.n);
            if (k == i) continue;
            m.repel(yi, m.prev + 2 * k);
        }
        s.nextNeg[e] += static_cast<float>(negatives) * s.negPeriod[e];
    }
    out[2 * i] = yi[0];
    out[2 * i + 1] = yi[1];
}

}  // namespace

CurveParams fitCurve(double minDist, double spread) {
    // Levenberg–Marquardt on two parameters, from umap-learn's usual answer.
    constexpr int kPoints = 300;
    std::vector<double> xs, ys;
    for (int i = 1; i < kPoints; ++i) {
        const double x = 3.0 * spread * i / (kPoints - 1);
        xs.push_back(x);
        ys.push_back(x < minDist ? 1.0 : std::exp(-(x - minDist) / spread));
    }
    auto cost = [&](double a, double b) {
        double c = 0;
        for (size_t i = 0; i < xs.size(); ++i) {
            const double r = 1.0 / (1.0 + a * std::pow(xs[i], 2 * b)) - ys[i];
            c += r * r;
        }
        return c;
    };
    double a = 1.6, b = 0.9, lambda = 1e-3, c = cost(a, b);
    for (int it = 0; it < 200; ++it) {
        Eigen::Matrix2d jtj = Eigen::Matrix2d::Zero();
        Eigen::Vector2d jtr = Eigen::Vector2d::Zero();
        for (size_t i = 0; i < xs.size(); ++i) {
            const double u = std::pow(xs[i], 2 * b), den = 1.0 + a * u;
            const double r = 1.0 / den - ys[i];
            const Eigen::Vector2d j(-u / (den * den), -a * u * 2.0 * std::log(xs[i]) / (den * den));
            jtj += j * j.transpose();
            jtr += j * r;
        }
        Eigen::Matrix2d damped = jtj;
        damped.diagonal() *= 1.0 + lambda;
        const Eigen::Vector2d step = damped.ldlt().solve(-jtr);
        const double nc = cost(a + step[0], b + step[1]);
        if (nc < c) {
            a += step[0];
            b += step[1];
            const bool done = c - nc < 1e-14 * std::max(1.0, c);
            c = nc;
            lambda *= 0.3;
            if (done) break;
        } else {
            lambda *= 10;
        }
    }
    return {a, b};
}

int defaultEpochs(int64_t n) {
    return n <= 10000 ? 500 : 200;
}

Status optimizeLayout(const FuzzyGraph& g, const LayoutSpec& spec, std::vector<float>* xy,
                      const Progress& progress, const StopToken& stop) {
    const int64_t n = g.n;
    if (static_cast<int64_t>(xy->size()) != 2 * n)
        return Status::invalidArgument("layout: initial positions for " +
                                       std::to_string(xy->size() / 2) + " points, graph has " +
                                       std::to_string(n));
    if (spec.negativeRate < 1) return Status::invalidArgument("layout: negative rate must be ≥ 1");
    const int epochs = spec.epochs > 0 ? spec.epochs : defaultEpochs(n);
    Schedule s = makeSchedule(g, epochs, spec.negativeRate);
    std::vector<float> prev(xy->size());
    for (int epoch = 0; epoch < epochs; ++epoch) {
        if (stop.stopRequested()) return Status::cancelled("feature map cancelled");
        prev = *xy;
        const Mover m{prev.data(), n, static_cast<float>(spec.curve.a),
                      static_cast<float>(spec.curve.b),
                      static_cast<float>(spec.learningRate * (1.0 - double(epoch) / epochs))};
        float* out = xy->data();
#pragma omp parallel for schedule(dynamic, 256)
        for (int64_t i = 0; i < n; ++i) movePoint(g, s, m, i, epoch, spec.seed, out);
        if (epoch % 5 == 0 || epoch + 1 == epochs)
            progress.report(
                double(epoch + 1) / epochs,
                "laying out: epoch " + std::to_string(epoch + 1) + " of " + std::to_string(epochs));
    }
    return Status::success();
}

}  // namespace mono::features::umap
