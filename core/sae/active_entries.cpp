// Selection of the active entries of a training step (see active_entries.h).

#include "core/sae/active_entries.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/sae/topk.h"

namespace mono::sae {
namespace {

// Packs per-row selections padIndex/padValue [B, cap] with rowCount into CSR.
void compactRows(int64_t B, int64_t cap, const std::vector<int32_t>& rowCount,
                 const std::vector<int32_t>& padIndex, const std::vector<float>& padValue,
                 std::vector<int64_t>& rowStart, std::vector<int32_t>& index,
                 std::vector<float>& value) {
    rowStart.assign(B + 1, 0);
    for (int64_t b = 0; b < B; ++b) rowStart[b + 1] = rowStart[b] + rowCount[b];
    index.resize(rowStart[B]);
    value.resize(rowStart[B]);
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < B; ++b) {
        std::copy_n(padIndex.begin() + b * cap, rowCount[b], index.begin() + rowStart[b]);
        std::copy_n(padValue.begin() + b * cap, rowCount[b], value.begin() + rowStart[b]);
    }
}

}  // namespace

namespace {

// The entries for which keep(i, h_bi) holds, into buf's CSR.
template <class Keep>
void selectWhere(const Matrix& h, Keep keep, StepBuffers& buf) {
    const int64_t B = h.rows(), F = h.cols();
    buf.rowCount.assign(B, 0);
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < B; ++b) {
        const float* __restrict row = h.data() + b * F;
        float n = 0;  // a float count vectorises (an int one stays scalar in GCC 12)
#pragma omp simd reduction(+ : n)
        for (int64_t i = 0; i < F; ++i) n += keep(i, row[i]) ? 1.0f : 0.0f;
        buf.rowCount[b] = static_cast<int32_t>(n);
    }
    buf.rowStart.assign(B + 1, 0);
    for (int64_t b = 0; b < B; ++b) buf.rowStart[b + 1] = buf.rowStart[b] + buf.rowCount[b];
    buf.index.resize(buf.rowStart[B]);
    buf.value.resize(buf.rowStart[B]);
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < B; ++b) {
        const float* row = h.data() + b * F;
        int64_t j = buf.rowStart[b];
        for (int64_t i = 0; i < F; ++i) {
            if (keep(i, row[i])) {
                buf.index[j] = static_cast<int32_t>(i);
                buf.value[j++] = row[i];
            }
        }
    }
}

}  // namespace

void selectAbove(const Matrix& h, float threshold, StepBuffers& buf) {
    selectWhere(
        h, [threshold](int64_t, float v) { return v > threshold && v > 0.0f; }, buf);
}

void selectAboveEach(const Matrix& h, const Vector& threshold, StepBuffers& buf) {
    const float* t = threshold.data();
    selectWhere(
        h, [t](int64_t i, float v) { return v > t[i]; }, buf);
}

void selectTopK(const Matrix& h, int64_t k, StepBuffers& buf) {
    const int64_t B = h.rows(), F = h.cols();
    buf.rowCount.assign(B, 0);
    buf.padIndex.resize(B * k);
    buf.padValue.resize(B * k);
#pragma omp parallel
    {
        std::vector<int32_t> keep, scratch;
#pragma omp for schedule(static)
        for (int64_t b = 0; b < B; ++b) {
            const float* row = h.data() + b * F;
            topKIndices(row, F, k, keep, scratch);
            buf.rowCount[b] = static_cast<int32_t>(keep.size());
            for (size_t j = 0; j < keep.size(); ++j) {
                buf.padIndex[b * k + j] = keep[j];
                buf.padValue[b * k + j] = row[keep[j]];
            }
        }
    }
    compactRows(B, k, buf.rowCount, buf.padIndex, buf.padValue, buf.rowStart, buf.index, buf.value);
}

float batchTopKThreshold(const Matrix& h, int64_t keep, std::vector<float>& scratch) {
    scratch.clear();
    const int64_t n = h.size();
    const float* v = h.data();
    for (int64_t i = 0; i < n; ++i)
        if (v[i] > 0.0f) scratch.push_back(v[i]);
    if (static_cast<int64_t>(scratch.size()) <= keep) return 0.0f;
    std::nth_element(scratch.begin(), scratch.begin() + (keep - 1), scratch.end(),
                     std::greater<float>());
    // Keeping h ≥ t (not h > t) keeps exactly `keep` unless values tie.
    return std::nextafter(scratch[keep - 1], 0.0f);
}

void selectAux(const Matrix& h, const std::vector<int32_t>& deadList, int64_t kAux,
               StepBuffers& buf) {
    const int64_t B = h.rows(), F = h.cols();
    const int64_t nDead = static_cast<int64_t>(deadList.size());
    kAux = std::min(kAux, nDead);
    buf.rowCount.assign(B, 0);
    buf.padIndex.resize(B * kAux);
    buf.padValue.resize(B * kAux);
#pragma omp parallel
    {
        std::vector<float> deadValues(nDead);
        std::vector<int32_t> keep, scratch;
#pragma omp for schedule(static)
        for (int64_t b = 0; b < B; ++b) {
            const float* row = h.data() + b * F;
            for (int64_t j = 0; j < nDead; ++j) deadValues[j] = row[deadList[j]];
            topKIndices(deadValues.data(), nDead, kAux, keep, scratch);
            buf.rowCount[b] = static_cast<int32_t>(keep.size());
            for (size_t j = 0; j < keep.size(); ++j) {
                buf.padIndex[b * kAux + j] = deadList[keep[j]];
                buf.padValue[b * kAux + j] = deadValues[keep[j]];
            }
        }
    }
    compactRows(B, kAux, buf.rowCount, buf.padIndex, buf.padValue, buf.auxRowStart, buf.auxIndex,
                buf.auxValue);
}

}  // namespace mono::sae
