#pragma once
// The decoder directions of one dictionary closest to those of another (or of
// itself): the geometry behind decoder neighbours in a feature store and the
// matching of two SAEs. Computed in blocks of rows with a running top-n, so an
// F_a × F_b cosine matrix never exists (a block holds 512 × F_b floats).

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

}  // namespace mono::sae
