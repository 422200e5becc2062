#include "core/sae/topk.h"

#include <algorithm>
#include <numeric>

namespace mono::sae {

void topKIndices(const float* row, int64_t n, int64_t k, std::vector<int32_t>& out,
                 std::vector<int32_t>& scratch) {
    out.clear();
    // Only positive entries can be selected; collect them first, which is what
    // makes the selection cheap once the SAE is sparse.
    scratch.clear();
    for (int64_t i = 0; i < n; ++i)
        if (row[i] > 0.0f) scratch.push_back(static_cast<int32_t>(i));
    if (static_cast<int64_t>(scratch.size()) > k) {
        auto greater = [row](int32_t a, int32_t b) {
            return row[a] > row[b] || (row[a] == row[b] && a < b);
        };
        std::nth_element(scratch.begin(), scratch.begin() + k, scratch.end(), greater);
        scratch.resize(k);
    }
    out.assign(scratch.begin(), scratch.end());
    std::sort(out.begin(), out.end());
}

void keepTopKPerRow(Matrix& h, int64_t k) {
    const int64_t B = h.rows(), F = h.cols();
#pragma omp parallel
    {
        std::vector<int32_t> keep, scratch;
        std::vector<float> kept;
#pragma omp for schedule(static)
        for (int64_t r = 0; r < B; ++r) {
            float* row = h.data() + r * F;
            topKIndices(row, F, k, keep, scratch);
            kept.resize(keep.size());
            for (size_t j = 0; j < keep.size(); ++j) kept[j] = row[keep[j]];
            std::fill(row, row + F, 0.0f);
            for (size_t j = 0; j < keep.size(); ++j) row[keep[j]] = kept[j];
        }
    }
}

}  // namespace mono::sae
