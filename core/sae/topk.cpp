#include "core/sae/topk.h"

#include <algorithm>
#include <numeric>

namespace mono::sae {

void topKIndices(const float* row, int64_t n, int64_t k, std::vector<int32_t>& out,
                 std::vector<int32_t>& scratch) {
    out.clear();
    if (k <= 0) return;
    // A min-heap of the k best so far: after the first few hundred entries almost
    // every value loses one comparison against the heap's minimum, so a row costs
    // about n comparisons. Order: larger value first, then the lower index.
    auto better = [row](int32_t a, int32_t b) {
        return row[a] > row[b] || (row[a] == row[b] && a < b);
    };
    scratch.clear();
    int64_t i = 0;
    for (; i < n && static_cast<int64_t>(scratch.size()) < k; ++i)
        if (row[i] > 0.0f) scratch.push_back(static_cast<int32_t>(i));
    std::make_heap(scratch.begin(), scratch.end(), better);  // front: the worst kept
    if (static_cast<int64_t>(scratch.size()) == k) {
        float worst = row[scratch.front()];
        for (; i < n; ++i) {
            // Later indices lose ties, so only a strictly larger value gets in.
            if (row[i] > worst) {
                std::pop_heap(scratch.begin(), scratch.end(), better);
                scratch.back() = static_cast<int32_t>(i);
                std::push_heap(scratch.begin(), scratch.end(), better);
                worst = row[scratch.front()];
            }
        }
    }
    out.assign(scratch.begin(), scratch.end());
    std::sort(out.begin(), out.end());
}

void keepTopKRows(float* h, int64_t rows, int64_t F, int64_t k) {
    std::vector<int32_t> keep, scratch;
    std::vector<float> kept;
    for (int64_t r = 0; r < rows; ++r) {
        float* row = h + r * F;
        topKIndices(row, F, k, keep, scratch);
        kept.resize(keep.size());
        for (size_t j = 0; j < keep.size(); ++j) kept[j] = row[keep[j]];
        std::fill(row, row + F, 0.0f);
        for (size_t j = 0; j < keep.size(); ++j) row[keep[j]] = kept[j];
    }
}

}  // namespace mono::sae
