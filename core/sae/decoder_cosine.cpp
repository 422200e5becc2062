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

}  // namespace

std::vector<std::vector<CosineMatch>> topDecoderCosines(const Matrix& a, const Matrix& b, int top,
                                                        bool sameDictionary) {
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
#pragma omp parallel
        {
            std::vector<int32_t> idx;
#pragma omp for schedule(dynamic)
            for (int64_t r = 0; r < rows; ++r) {
                float* row = cos.row(r).data();
                if (sameDictionary) row[f0 + r] = -std::numeric_limits<float>::infinity();
                topOfRow(row, Fb, n, idx, &out[f0 + r]);
            }
        }
    }
    return out;
}

}  // namespace mono::sae
