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

// The n largest entries of a row, largest first, ties to the lower index: one
// pass keeping a sorted list of the best so far. An entry enters only when it
// beats the current n-th (an equal one has a higher index and loses the tie),
// so after the first few hundred entries almost none does, and a row costs
// one comparison per entry instead of a partial sort of all its indices.
void topOfRow(const float* row, int64_t len, int n, std::vector<CosineMatch>* out) {
    out->clear();
    if (n <= 0) return;
    out->reserve(static_cast<size_t>(n) + 1);
    for (int64_t i = 0; i < len; ++i) {
        const float v = row[i];
        if (static_cast<int>(out->size()) == n && !(v > out->back().cosine)) continue;
        auto pos = out->end();
        while (pos != out->begin() && v > (pos - 1)->cosine) --pos;
        out->insert(pos, {static_cast<int32_t>(i), v});
        if (static_cast<int>(out->size()) > n) out->pop_back();
    }
}

// Rows [f0, f1) of unit `ua` against all of unit `ub`, block by block; a
// row's own index (f0 + r) is excluded when `self`. `afterBlock` as in
// topDecoderCosines (rows done counted from f0).
std::vector<std::vector<CosineMatch>> blockedTop(
    const Matrix& ua, int64_t f0, int64_t f1, const Matrix& ub, int n, bool self,
    const std::function<bool(int64_t rowsDone)>& afterBlock = {}) {
    const int64_t Fb = ub.rows();
    std::vector<std::vector<CosineMatch>> out(static_cast<size_t>(f1 - f0));
    constexpr int64_t kBlock = 512;
    Matrix cos;  // [block, F_b]
    for (int64_t b0 = f0; b0 < f1; b0 += kBlock) {
        const int64_t rows = std::min(kBlock, f1 - b0);
        cos.resize(rows, Fb);
        kernels::gemm(ua.middleRows(b0, rows), kernels::Op::kN, ub, kernels::Op::kT, cos);
#pragma omp parallel for schedule(dynamic)
        for (int64_t r = 0; r < rows; ++r) {
            float* row = cos.row(r).data();
            if (self) row[b0 + r] = -std::numeric_limits<float>::infinity();
            topOfRow(row, Fb, n, &out[b0 - f0 + r]);
        }
        if (afterBlock && !afterBlock(b0 + rows - f0)) break;
    }
    return out;
}

}  // namespace

std::vector<std::vector<CosineMatch>> topDecoderCosines(
    const Matrix& a, const Matrix& b, int top, bool sameDictionary,
    const std::function<bool(int64_t rowsDone)>& afterBlock) {
    const int64_t Fa = a.rows(), Fb = b.rows();
    const int64_t candidates = sameDictionary ? Fb - 1 : Fb;
    if (top <= 0 || candidates <= 0 || a.cols() != b.cols())
        return std::vector<std::vector<CosineMatch>>(static_cast<size_t>(Fa));
    const Matrix ua = unitRows(a);
    Matrix ownB;
    if (!sameDictionary) ownB = unitRows(b);
    const Matrix& ub = sameDictionary ? ua : ownB;
    const int n = static_cast<int>(std::min<int64_t>(top, candidates));
    return blockedTop(ua, 0, Fa, ub, n, sameDictionary, afterBlock);
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
