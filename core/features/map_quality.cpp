#include "core/features/map_quality.h"

#include <algorithm>
#include <unordered_set>

namespace mono::features {

std::vector<int64_t> layoutNeighbours(const std::vector<float>& xy, int64_t q, int k) {
    const auto n = static_cast<int64_t>(xy.size() / 2);
    std::vector<std::pair<float, int64_t>> d;
    d.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        if (i == q) continue;
        const float dx = xy[2 * i] - xy[2 * q], dy = xy[2 * i + 1] - xy[2 * q + 1];
        d.emplace_back(dx * dx + dy * dy, i);
    }
    const auto m = std::min<size_t>(static_cast<size_t>(std::max(k, 0)), d.size());
    std::partial_sort(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(m), d.end());
    std::vector<int64_t> out;
    for (size_t j = 0; j < m; ++j) out.push_back(d[j].second);
    return out;
}

double clusterPurity(const std::vector<float>& xy, const std::vector<int>& labels,
                     const std::vector<int64_t>& queries, int k) {
    if (queries.empty() || k <= 0) return 0;
    std::vector<double> score(queries.size());
#pragma omp parallel for schedule(dynamic)
    for (size_t i = 0; i < queries.size(); ++i) {
        const int64_t q = queries[i];
        const auto nn = layoutNeighbours(xy, q, k);
        int same = 0;
        for (int64_t j : nn) same += labels[j] == labels[q];
        score[i] = nn.empty() ? 0 : double(same) / double(nn.size());
    }
    double sum = 0;
    for (double s : score) sum += s;
    return sum / double(queries.size());
}

double knnRecall(const std::vector<float>& xy, const std::vector<std::vector<int64_t>>& highDim,
                 const std::vector<int64_t>& queries, int k) {
    if (queries.empty() || k <= 0) return 0;
    std::vector<double> score(queries.size());
#pragma omp parallel for schedule(dynamic)
    for (size_t i = 0; i < queries.size(); ++i) {
        const auto nn = layoutNeighbours(xy, queries[i], k);
        const auto& truth = highDim[i];
        std::unordered_set<int64_t> want(truth.begin(),
                                         truth.begin() + std::min<size_t>(truth.size(), size_t(k)));
        int hit = 0;
        for (int64_t j : nn) hit += want.count(j) ? 1 : 0;
        score[i] = double(hit) / double(k);
    }
    double sum = 0;
    for (double s : score) sum += s;
    return sum / double(queries.size());
}

}  // namespace mono::features
