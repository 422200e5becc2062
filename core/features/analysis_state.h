#pragma once
// The per-feature accumulators of the analysis pass and their checkpoint file
// (internal to core/features). Legend: F features, G = 2·bins coarse interval
// bins, H = kHistBins histogram bins, K = topK.
//
// Every accumulator depends only on the set of (feature, row, activation)
// triples seen, never on their order or on chunk boundaries, so a resumed or
// merged run ends in exactly the state a single run would reach.
//
// Scale: each feature keeps S, the smallest power of two ≥ its max so far.
// The histogram has H equal bins on (0, S]: bin k = (k·S/H, (k+1)·S/H]. When a
// larger value arrives S doubles (as often as needed) and pairs of bins merge,
// which is exact. The interval reservoirs use the same S with G coarse bins;
// each keeps the kRes = 2·perBin items of lowest samplePriority, and a merge
// of two coarse bins keeps the kRes lowest of their union, also exact.

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/result.h"

namespace mono::features::detail {

inline constexpr int kHistBins = 128;

struct TopItem {
    float act = 0;
    int64_t row = 0;
};
// Higher activation first; equal activations: lower row first.
inline bool better(const TopItem& a, const TopItem& b) {
    return a.act > b.act || (a.act == b.act && a.row < b.row);
}

struct Sampled {
    uint64_t prio = 0;
    int64_t row = 0;
    float act = 0;
    int32_t cbin = 0;
};
inline bool lowerPriority(const Sampled& a, const Sampled& b) {
    return a.prio < b.prio || (a.prio == b.prio && a.row < b.row);
}

struct FeatureAcc {
    int64_t count = 0;
    double sum = 0;
    float max = 0;
    double scale = 0;           // S; 0 before the first firing
    std::vector<int64_t> hist;  // [H] once the feature fired
    std::vector<TopItem> top;   // heap, worst kept item at the front
    TopItem
        topWorst;  // top.front() once the heap is full (kept here: one cache line less per firing)
    // Reservoir items, grouped by coarse bin (ascending), then resPending
    // candidates not yet merged into their bins (resCount and resWorst describe
    // the merged part only, so they let through a superset of what the bins take).
    std::vector<Sampled> res;
    std::vector<int32_t> resCount;   // [G] items kept per coarse bin
    std::vector<uint64_t> resWorst;  // [G] highest priority kept, when the bin is full
    int32_t resPending = 0;
};

struct CoRow {
    uint64_t prio = 0;
    int64_t row = 0;
    std::vector<int32_t> features;  // ascending
};

struct Accumulators {
    int topK = 20, coarseBins = 20, resPerBin = 10;
    int64_t coSampleRows = 0;
    // features[i] is feature firstFeature + i (analysing a range of the
    // SAE's features): the interval samples draw on the feature's own id, so a
    // range picks exactly the examples a whole analysis does. Not saved: the
    // state file's identity holds the range.
    int64_t firstFeature = 0;
    std::vector<FeatureAcc> features;  // [F]
    std::vector<CoRow> coSample;       // heap, highest priority at the front
    // TopK SAEs: per analysed row, the smallest code the row kept (0 when
    // fewer than k latents fired). A feature's value on the row is then its
    // pre-activation when that reaches the floor, which lets the example
    // contexts be re-encoded one feature at a time instead of whole rows
    // (4 bytes a token). Empty for the other architectures.
    std::vector<float> rowFloor;

    void init(int64_t numFeatures, int topK, int bins, int perBin, int64_t coSampleRows);
    // One firing of features[i] (v > 0) on global row `row`. Touches only features[i].
    void add(int64_t i, float v, int64_t row);
    // n firings of feature i, in this order; the same as n calls of add(), with
    // the per-scale constants computed once per run of values below the scale.
    void addRun(int64_t i, const float* values, const int64_t* rows, int64_t n);
    // Merges every feature's pending reservoir candidates into their bins: due
    // before the reservoirs are read or saved.
    void settle();
    // Offers a row to the co-firing sample; `active` is called only when it is taken.
    bool wantsCoRow(uint64_t prio, int64_t row) const;
    void addCoRow(uint64_t prio, int64_t row, std::vector<int32_t> active);
};

// Coarse bin of v under scale S with G bins: ceil(v·G/S) − 1, clamped to [0, G).
int coarseBinOf(double v, double scale, int g);

// Serialised state: a JSON header (identity and settings) and the accumulators.
std::string serializeState(const std::string& headerJson, int64_t rowsDone,
                           const Accumulators& acc);
// Checks magic and checksum; Corruption naming `path` on damage.
Status deserializeState(const std::string& bytes, const std::string& path, std::string* headerJson,
                        int64_t* rowsDone, Accumulators* acc);

}  // namespace mono::features::detail
