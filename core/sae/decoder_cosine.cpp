#include "core/sae/decoder_cosine.h"

#include <algorithm>
#include <limits>

#include "core/kernels/sgemm.h"

namespace mono::sae {

namespace {

Matrix unitRows(const Matrix& m) {
    Matrix unit = m;
    for (int64_t i = 0; i < unit.rows(); ++i) {
        const float norm = unit.row(i).norm();
        if (norm > 0) unit.row(i) /= norm;
    }
    return unit;
}

void topOfRow(const float* row, int64_t len, int n, std::vector<int32_t>& idx,
              std::vector<CosineMatch>* out) {
    idx.resize(static_cast<size_t>(len));
    for (int64_t i = 0; i < len; ++i) idx[i] = static_cast<int32_t>(i);
    const auto m = static_cast<std::ptrdiff_t>(std::min<int64_t>(n, len));
    std::partial_sort(idx.begin(), idx.begin() + m, idx.end(), [&](int32_t x, int32_t y) {
        return row[x] > row[y] || (row[x] == row[y] && x < y);
    });
    out->clear();
    for (std::ptrdiff_t k = 0; k < m; ++k) out->push_back({idx[k], row[idx[k]]});
}

// Rows [f0, f1) of unit `ua` against all of unit `ub`, block by block; a
// row's own index (f0 + r) is excluded when `self`.
std::vector<std::vector<CosineMatch>> blockedTop(const Matrix& ua, int64_t f0, int64_t f1,
                                                 const Matrix& ub, int n, bool self) {
    const int64_t Fb = ub.rows();
    std::vector<std::vector<CosineMatch>> out(static_cast<size_t>(f1 - f0));
    constexpr int64_t kBlock = 512;
    Matrix cos;  // [block, F_b]
    for (int64_t b0 = f0; b0 < f1; b0 += kBlock) {
        const int64_t rows = std::min(kBlock, f1 - b0);
        cos.resize(rows, Fb);
        kernels::gemm(ua.middleRows(b0, rows), kernels::Op::kN, ub, kernels::Op::kT, cos);
#pragma omp parallel
        {
            std::vector<int32_t> idx;
#pragma omp for schedule(dynamic)
            for (int64_t r = 0; r < rows; ++r) {
                float* row = cos.row(r).data();
                if (self) row[b0 + r] = -std::numeric_limits<float>::infinity();
                topOfRow(row, Fb, n, idx, &out[b0 - f0 + r]);
            }
        }
    }
    return out;
}

}  // namespace

std::vector<std::vector<CosineMatch>> topDecoderCosines(const Matrix& a, const Matrix& b, int top,
                                                        bool sameDictionary) {
    const int64_t Fa = a.rows(), Fb = b.rows();
    const int64_t candidates = sameDictionary ? Fb - 1 : Fb;
    if (top <= 0 || candidates <= 0 || a.cols() != b.cols())
        return std::vector<std::vector<CosineMatch>>(static_cast<size_t>(Fa));
    const Matrix ua = unitRows(a);
    Matrix ownB;
    if (!sameDictionary) ownB = unitRows(b);
    const Matrix& ub = sameDictionary ? ua : ownB;
    const int n = static_cast<int>(std::min<int64_t>(top, candidates));
    return blockedTop(ua, 0, Fa, ub, n, sameDictionary);
}

std::vector<std::vector<CosineMatch>> exactNeighbours(const Matrix& w, int64_t f0, int64_t f1,
                                                      int top) {
    const int64_t candidates = w.rows() - 1;
    if (top <= 0 || candidates <= 0 || f1 <= f0)
        return std::vector<std::vector<CosineMatch>>(
            static_cast<size_t>(std::max<int64_t>(0, f1 - f0)));
    const Matrix unit = unitRows(w);
    return blockedTop(unit, f0, f1, unit, static_cast<int>(std::min<int64_t>(top, candidates)),
                      true);
}

NeighbourMethod resolveNeighbourMethod(NeighbourMethod method, int64_t numFeatures) {
    if (method != NeighbourMethod::kAuto) return method;
    return numFeatures <= kExactNeighbourMaxFeatures ? NeighbourMethod::kExact
                                                     : NeighbourMethod::kApproximate;
}

std::vector<std::vector<CosineMatch>> decoderNeighbourSearch(const Matrix& w, int64_t f0,
                                                             int64_t f1, int top,
                                                             NeighbourMethod method) {
    if (resolveNeighbourMethod(method, w.rows()) == NeighbourMethod::kExact)
        return exactNeighbours(w, f0, f1, top);
    return approximateNeighbours(w, f0, f1, top);
}

double neighbourRecall(const std::vector<std::vector<CosineMatch>>& exact,
                       const std::vector<std::vector<CosineMatch>>& approx) {
    int64_t wanted = 0, found = 0;
    for (size_t i = 0; i < exact.size() && i < approx.size(); ++i) {
        for (const CosineMatch& e : exact[i]) {
            ++wanted;
            for (const CosineMatch& a : approx[i])
                if (a.id == e.id) {
                    ++found;
                    break;
                }
        }
    }
    return wanted > 0 ? double(found) / double(wanted) : 1.0;
}

}  // namespace mono::sae
