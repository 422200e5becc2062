#include <omp.h>

#include <algorithm>

#include "core/features/analysis.h"
#include "core/features/analysis_state.h"

namespace mono::features {

using detail::CoRow;
using detail::FeatureAcc;
using detail::Sampled;
using detail::TopItem;

namespace {

// One feature's accumulators with every reservoir full, pending candidates
// included (at most as many again as the merged ones).
double accumulatorBytes(const AnalysisSpec& spec) {
    const double coarse = 2.0 * spec.bins;
    const double kept = 2.0 * spec.perBin * coarse;
    return double(sizeof(FeatureAcc)) + detail::kHistBins * sizeof(int64_t) +
           spec.topK * double(sizeof(TopItem)) + coarse * (sizeof(int32_t) + sizeof(uint64_t)) +
           2.0 * kept * double(sizeof(Sampled));
}

// One feature's results before its contexts are read: the chosen examples,
// logit effects, neighbours and co-firing partners.
double resultBytes(const AnalysisSpec& spec) {
    const double examples = spec.topK + double(spec.bins) * spec.perBin;
    return 4 * 24.0 + examples * double(sizeof(Example)) +
           2.0 * spec.logitEffects * double(sizeof(LogitEffect)) +
           double(spec.neighbours + spec.coFiring) * double(sizeof(RelatedFeature));
}

}  // namespace

double analysisMemoryBytes(int64_t numFeatures, int64_t dIn, int64_t vocab,
                           const AnalysisSpec& spec) {
    const double F = double(numFeatures);
    const double inRange = double(std::clamp<int64_t>(
        featureRangeEnd(spec, numFeatures) - spec.featureBegin, 0, numFeatures));
    const double threads = omp_get_max_threads();
    constexpr double kActivePerRow = 64;  // latents kept per sampled row (TopK k, or ReLU L0)
    const double coSample = double(spec.coFiringSampleRows) *
                            (double(sizeof(CoRow)) + kActivePerRow * 2 * sizeof(int32_t));
    const double coCounting = F * (24.0 + 8.0 * threads);
    // Unit rows and one cosine block; above the exact width, hnswlib's copy of
    // the unit rows with its graph (2·M = 32 links a node on layer 0, a label;
    // the upper layers hold about 1/M of that) instead.
    const bool exact = sae::resolveNeighbourMethod(spec.neighbourMethod, numFeatures) ==
                       sae::NeighbourMethod::kExact;
    const double neighbours =
        exact ? F * double(dIn) * 4 + 512.0 * F * 4 : F * (double(dIn) * 4 + 32 * 4 + 4 + 8) * 1.1;
    const double logits = 256.0 * double(vocab + dIn) * 4;  // one block of logit rows
    // One group of example windows (analysis.cpp reads them 256 MiB at a time).
    const double window = double(spec.contextLeft + spec.contextRight + 1);
    const double examples = spec.topK + double(spec.bins) * spec.perBin;
    const double contexts = std::min(inRange * examples * window * 16, 256.0 * (1 << 20));
    // The encoder's blocks: rows of inputs and of up to 8192 latents per thread.
    const double chunk = double(spec.chunkRows) * (double(dIn) + std::min(F, 8192.0)) * 4 * threads;
    return inRange * (accumulatorBytes(spec) + resultBytes(spec)) + coSample + coCounting +
           neighbours + logits + contexts + chunk;
}

}  // namespace mono::features
