#pragma once
// How well a 2-D layout keeps neighbourhoods: the scores that the feature map
// tests and benchmark report.
//
//   clusterPurity: for each query point, the fraction of its k nearest points
//     in the layout that share its cluster label, averaged over the queries.
//     A random layout of C equal clusters scores about 1/C.
//   knnRecall: for each query point, the fraction of its k nearest neighbours
//     in the original space (given) that are among its k nearest in the
//     layout, averaged. A random layout of n points scores about k/n.
// Brute force per query (O(n) each), so pass a sample of queries for large n.

#include <cstdint>
#include <vector>

namespace mono::features {

// The k nearest points to point q in the layout xy (x, y interleaved), q excluded.
std::vector<int64_t> layoutNeighbours(const std::vector<float>& xy, int64_t q, int k);

double clusterPurity(const std::vector<float>& xy, const std::vector<int>& labels,
                     const std::vector<int64_t>& queries, int k);

// highDim[i] holds queries[i]'s nearest neighbours in the original space, nearest first
// (at least k of them), for each q in queries.
double knnRecall(const std::vector<float>& xy, const std::vector<std::vector<int64_t>>& highDim,
                 const std::vector<int64_t>& queries, int k);

}  // namespace mono::features
