// Approximate decoder neighbours from an HNSW graph (hnswlib, header-only):
// the unit decoder rows are inserted in parallel, then each queried row asks
// for top + 1 matches (it finds itself) with a search list of kEfSearch.
// Parameters and the recall they reach: docs/FEATURE_STORE.md.

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <memory>

#include "core/sae/decoder_cosine.h"

namespace mono::sae {

namespace {

constexpr size_t kLinks = 16;            // M: graph links per node and layer
constexpr size_t kEfConstruction = 100;  // candidate list while inserting
constexpr size_t kEfSearch = 64;         // candidate list while querying (at least top + 1)
constexpr size_t kSeed = 1234;           // level draws: the same graph on every run

}  // namespace

std::vector<std::vector<CosineMatch>> approximateNeighbours(const Matrix& w, int64_t f0, int64_t f1,
                                                            int top) {
    const int64_t F = w.rows(), D = w.cols();
    std::vector<std::vector<CosineMatch>> out(static_cast<size_t>(std::max<int64_t>(0, f1 - f0)));
    if (top <= 0 || F <= 1 || f1 <= f0) return out;
    // hnswlib keeps its own copy of every point: the unit rows are made one
    // at a time in a per-thread buffer, never all at once.
    auto unitRow = [&](int64_t i, std::vector<float>& buf) {
        const float norm = w.row(i).norm();
        buf.resize(static_cast<size_t>(D));
        for (int64_t k = 0; k < D; ++k)
            buf[static_cast<size_t>(k)] = norm > 0 ? w(i, k) / norm : 0.f;
        return buf.data();
    };
    hnswlib::InnerProductSpace space(static_cast<size_t>(D));
    auto index = std::make_unique<hnswlib::HierarchicalNSW<float>>(&space, static_cast<size_t>(F),
                                                                   kLinks, kEfConstruction, kSeed);
    {
        // The first point alone: hnswlib's entry point must exist before parallel inserts.
        std::vector<float> buf;
        index->addPoint(unitRow(0, buf), 0);
    }
#pragma omp parallel
    {
        std::vector<float> buf;
#pragma omp for schedule(dynamic, 256)
        for (int64_t i = 1; i < F; ++i)
            index->addPoint(unitRow(i, buf), static_cast<hnswlib::labeltype>(i));
    }
    const int n = static_cast<int>(std::min<int64_t>(top, F - 1));
    index->setEf(std::max<size_t>(kEfSearch, static_cast<size_t>(n) + 1));
#pragma omp parallel
    {
        std::vector<float> buf;
#pragma omp for schedule(dynamic, 64)
        for (int64_t i = f0; i < f1; ++i) {
            auto found = index->searchKnn(unitRow(i, buf), static_cast<size_t>(n) + 1);
            std::vector<CosineMatch>& list = out[static_cast<size_t>(i - f0)];
            while (!found.empty()) {  // farthest first; distance = 1 − cosine
                const auto [dist, label] = found.top();
                found.pop();
                if (static_cast<int64_t>(label) != i)
                    list.push_back({static_cast<int32_t>(label), 1.f - dist});
            }
            std::sort(list.begin(), list.end(), [](const CosineMatch& a, const CosineMatch& b) {
                return a.cosine > b.cosine || (a.cosine == b.cosine && a.id < b.id);
            });
            if (static_cast<int>(list.size()) > n) list.resize(static_cast<size_t>(n));
        }
    }
    return out;
}

}  // namespace mono::sae
