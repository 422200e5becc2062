#include "core/compare/sae_matching.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

namespace mono::compare {

Result<SaeMatching> matchDecoders(const sae::Sae& a, const sae::Sae& b, int top) {
    if (a.dIn() != b.dIn())
        return Status::invalidArgument("the SAEs read vectors of different widths (" +
                                       std::to_string(a.dIn()) + " and " + std::to_string(b.dIn()) +
                                       "): their decoder directions cannot be compared");
    SaeMatching m;
    m.featuresA = a.dSae();
    m.featuresB = b.dSae();
    m.aToB = sae::topDecoderCosines(a.wDec(), b.wDec(), top, false);
    m.bToA = sae::topDecoderCosines(b.wDec(), a.wDec(), top, false);
    return m;
}

MatchCounts countMatches(const SaeMatching& m, float threshold) {
    MatchCounts c;
    for (const auto& best : m.aToB) c.matchedA += !best.empty() && best[0].cosine >= threshold;
    for (const auto& best : m.bToA) c.matchedB += !best.empty() && best[0].cosine >= threshold;
    for (size_t i = 0; i < m.aToB.size(); ++i) {
        if (m.aToB[i].empty() || m.aToB[i][0].cosine < threshold) continue;
        const auto& back = m.bToA[m.aToB[i][0].id];
        c.mutualPairs += !back.empty() && back[0].id == static_cast<int32_t>(i);
    }
    return c;
}

std::vector<SplitFamily> splitFamilies(const SaeMatching& m, bool parentsInA, float threshold) {
    const auto& childToParent = parentsInA ? m.bToA : m.aToB;
    std::map<int64_t, std::vector<sae::CosineMatch>> byParent;
    for (size_t j = 0; j < childToParent.size(); ++j) {
        const auto& best = childToParent[j];
        if (!best.empty() && best[0].cosine >= threshold)
            byParent[best[0].id].push_back({static_cast<int32_t>(j), best[0].cosine});
    }
    std::vector<SplitFamily> families;
    for (auto& [parent, children] : byParent) {
        if (children.size() < 2) continue;
        std::sort(children.begin(), children.end(), [](const auto& x, const auto& y) {
            return x.cosine > y.cosine || (x.cosine == y.cosine && x.id < y.id);
        });
        families.push_back({parent, std::move(children)});
    }
    return families;
}

namespace {

// Running sums of one feature's activations over the rows seen.
struct Moments {
    double sum = 0, sumSq = 0;
    void add(double v) {
        sum += v;
        sumSq += v * v;
    }
};

// The value of feature j in row r of sparse codes (indices ascending), 0 when silent.
float valueIn(const sae::SparseCodes& c, int64_t r, int32_t j) {
    const auto begin = c.indices.begin() + c.rowStart[r];
    const auto end = c.indices.begin() + c.rowStart[r + 1];
    const auto it = std::lower_bound(begin, end, j);
    return it != end && *it == j ? c.values[static_cast<size_t>(it - c.indices.begin())] : 0.f;
}

float pearson(double n, const Moments& a, const Moments& b, double sumAB) {
    const double va = n * a.sumSq - a.sum * a.sum, vb = n * b.sumSq - b.sum * b.sum;
    if (va <= 0 || vb <= 0) return 0.f;
    return static_cast<float>((n * sumAB - a.sum * b.sum) / std::sqrt(va * vb));
}

}  // namespace

Result<std::vector<std::vector<float>>> activationCorrelations(const sae::Sae& a, const sae::Sae& b,
                                                               const SaeMatching& m,
                                                               const Matrix& x) {
    if (x.cols() != a.dIn() || x.cols() != b.dIn())
        return Status::invalidArgument("activation rows have width " + std::to_string(x.cols()) +
                                       "; the SAEs read " + std::to_string(a.dIn()) + " and " +
                                       std::to_string(b.dIn()));
    std::vector<Moments> ma(static_cast<size_t>(a.dSae())), mb(static_cast<size_t>(b.dSae()));
    std::vector<std::vector<double>> sumAB(m.aToB.size());
    for (size_t i = 0; i < m.aToB.size(); ++i) sumAB[i].assign(m.aToB[i].size(), 0.0);
    constexpr int64_t kChunk = 1024;
    for (int64_t r0 = 0; r0 < x.rows(); r0 += kChunk) {
        const Matrix chunk = x.middleRows(r0, std::min(kChunk, x.rows() - r0));
        MONO_ASSIGN_OR_RETURN(const sae::SparseCodes ca, a.encodeSparse(chunk));
        MONO_ASSIGN_OR_RETURN(const sae::SparseCodes cb, b.encodeSparse(chunk));
        for (int64_t r = 0; r < chunk.rows(); ++r) {
            for (int64_t k = cb.rowStart[r]; k < cb.rowStart[r + 1]; ++k)
                mb[cb.indices[k]].add(cb.values[k]);
            for (int64_t k = ca.rowStart[r]; k < ca.rowStart[r + 1]; ++k) {
                const int32_t i = ca.indices[k];
                ma[i].add(ca.values[k]);
                for (size_t c = 0; c < m.aToB[i].size(); ++c)
                    sumAB[i][c] += double(ca.values[k]) * valueIn(cb, r, m.aToB[i][c].id);
            }
        }
    }
    std::vector<std::vector<float>> corr(m.aToB.size());
    const double n = static_cast<double>(x.rows());
    for (size_t i = 0; i < m.aToB.size(); ++i)
        for (size_t c = 0; c < m.aToB[i].size(); ++c)
            corr[i].push_back(pearson(n, ma[i], mb[m.aToB[i][c].id], sumAB[i][c]));
    return corr;
}

}  // namespace mono::compare
