#pragma once
// The decoder directions of one dictionary closest to those of another (or of
// itself): the geometry behind decoder neighbours in a feature store and the
// matching of two SAEs. Computed in blocks of rows with a running top-n, so an
// F_a × F_b cosine matrix never exists (a block holds 512 × F_b floats).
//
// The exact product costs F_a·F_b·D multiply-adds: for a dictionary's own
// neighbours that is as much as encoding F tokens with it, so at a million
// latents it costs as much as analysing a million tokens. Above
// kExactNeighbourMaxFeatures latents, decoderNeighbourSearch() therefore uses
// an approximate index (HNSW, hnswlib) instead: docs/FEATURE_STORE.md has the
// measured costs behind the threshold and the recall against the exact answer.

#include <cstdint>
#include <functional>
#include <vector>

#include "core/base/matrix.h"

namespace mono::sae {

struct CosineMatch {
    int32_t id = 0;  // row of the other dictionary
    float cosine = 0;
};

// For each row of `a` [F_a, D], the `top` rows of `b` [F_b, D] of largest
// cosine, largest first (ties: lower id). When `sameDictionary` (a and b are
// one matrix) a row is not its own match. Zero rows have cosine 0 with all.
// `afterBlock`, when set, is called with the rows of `a` done so far after
// each block (a long search reports progress through it); when it returns
// false the search stops and the rows not reached stay empty.
std::vector<std::vector<CosineMatch>> topDecoderCosines(
    const Matrix& a, const Matrix& b, int top, bool sameDictionary,
    const std::function<bool(int64_t rowsDone)>& afterBlock = {});

// For each row i in [f0, f1) of `w` [F, D], the `top` other rows of w of
// largest cosine, largest first (ties: lower id), exactly; out[i − f0].
std::vector<std::vector<CosineMatch>> exactNeighbours(const Matrix& w, int64_t f0, int64_t f1,
                                                      int top);

// The same from an HNSW index over all F rows (inner product of unit rows):
// each list is sorted like the exact one and holds `top` matches found by the
// index; the true nearest may be missed (recall < 1). Zero rows match nothing
// (their lists hold the zero-cosine rows the index returns).
std::vector<std::vector<CosineMatch>> approximateNeighbours(const Matrix& w, int64_t f0, int64_t f1,
                                                            int top);

// Widths above which the approximate index is used. The exact product is
// F²·d multiply-adds, as much as encoding F tokens: at 32,768 latents that is
// encoding 32k tokens, a few percent of a 1 M-token analysis, and above it the
// share grows with F (at 1 M latents, the whole analysis again). Measured
// (BENCHMARKS.md, "Analysis at width"): at 40,000 × 128 the index took 66 s
// against 112 s for the exact search, recall@10 0.97.
inline constexpr int64_t kExactNeighbourMaxFeatures = 32768;

enum class NeighbourMethod { kAuto, kExact, kApproximate };

// kAuto: exact when w has at most kExactNeighbourMaxFeatures rows, else approximate.
NeighbourMethod resolveNeighbourMethod(NeighbourMethod method, int64_t numFeatures);

// Decoder neighbours of rows [f0, f1) by `method` (resolved as above).
std::vector<std::vector<CosineMatch>> decoderNeighbourSearch(const Matrix& w, int64_t f0,
                                                             int64_t f1, int top,
                                                             NeighbourMethod method);

// Recall@top of `approx` against `exact` (lists of the same rows): the share
// of the exact matches that the approximate lists contain.
double neighbourRecall(const std::vector<std::vector<CosineMatch>>& exact,
                       const std::vector<std::vector<CosineMatch>>& approx);

}  // namespace mono::sae
