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

}  // namespace

std::vector<std::vector<CosineMatch>> topDecoderCosines(
    const Matrix& a, const Matrix& b, int top, bool sameDictionary,
    const std::function<bool(int64_t rowsDone)>& afterBlock) {
    const int64_t Fa = a.rows(), Fb = b.rows();
    std::vector<std::vector<CosineMatch>> out(static_cast<size_t>(Fa));
    const int64_t candidates = sameDictionary ? Fb - 1 : Fb;
    if (top <= 0 || candidates <= 0 || a.cols() != b.cols()) return out;
    const Matrix ua = unitRows(a);
    Matrix ownB;
    if (!sameDictionary) ownB = unitRows(b);
    const Matrix& ub = sameDictionary ? ua : ownB;
    const int n = static_cast<int>(std::min<int64_t>(top, candidates));
    constexpr int64_t kBlock = 512;
    Matrix cos;  // [block, F_b]
    for (int64_t f0 = 0; f0 < Fa; f0 += kBlock) {
        const int64_t rows = std::min(kBlock, Fa - f0);
        cos.resize(rows, Fb);
        kernels::gemm(ua.middleRows(f0, rows), kernels::Op::kN, ub, kernels::Op::kT, cos);
#pragma omp parallel for schedule(dynamic)
        for (int64_t r = 0; r < rows; ++r) {
            float* row = cos.row(r).data();
            if (sameDictionary) row[f0 + r] = -std::numeric_limits<float>::infinity();
            topOfRow(row, Fb, n, &out[f0 + r]);
        }
        if (afterBlock && !afterBlock(f0 + rows)) break;
    }
    return out;
}

}  // namespace mono::sae
