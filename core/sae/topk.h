#pragma once
// Top-k selection shared by the inference path and the trainer (internal).

#include <cstdint>
#include <vector>

#include "core/base/matrix.h"

namespace mono::sae {

// Per row of the `rows` rows of width F at h (row-major), on this thread: ReLU,
// then zero all but the k largest values (ties go to the lower index).
void keepTopKRows(float* h, int64_t rows, int64_t F, int64_t k);

// Indices of the k largest entries of row[0..n) (ReLU applied: entries ≤ 0 are
// never selected), ascending by index, written into `out`.
void topKIndices(const float* row, int64_t n, int64_t k, std::vector<int32_t>& out,
                 std::vector<int32_t>& scratch);

}  // namespace mono::sae
