// The sparse path of a training step: decoding and every gradient run over the
// nnz active (row, latent) pairs, grouped by latent so that threads never write
// the same row.

#include <algorithm>

#include "core/sae/active_entries.h"
#include "core/sae/train_step_phases.h"

namespace mono::sae {
namespace {

// out_b = Σ_{j in row b} value_j W_dec[index_j] (+ bias when given).
void sparseDecode(const std::vector<int64_t>& rowStart, const std::vector<int32_t>& index,
                  const std::vector<float>& value, const Matrix& wDec, const Vector* bias,
                  Matrix& out) {
    const int64_t B = static_cast<int64_t>(rowStart.size()) - 1;
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < B; ++b) {
        auto row = out.row(b);
        if (bias)
            row = *bias;
        else
            row.setZero();
        for (int64_t j = rowStart[b]; j < rowStart[b + 1]; ++j)
            row.noalias() += value[j] * wDec.row(index[j]);
    }
}

// gradH_j = g_b · W_dec[index_j] (+ extra_i) for every entry j of row b; with
// `perLatent` (matryoshka) g is the matrix of the entry's latent instead.
void entryGradients(const std::vector<int64_t>& rowStart, const std::vector<int32_t>& index,
                    const Matrix& g, const Matrix& wDec, const float* extra,
                    std::vector<float>& gradH, const Matrix* const* perLatent = nullptr) {
    const int64_t B = static_cast<int64_t>(rowStart.size()) - 1;
    gradH.resize(index.size());
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < B; ++b) {
        for (int64_t j = rowStart[b]; j < rowStart[b + 1]; ++j) {
            const Matrix& gi = perLatent ? *perLatent[index[j]] : g;
            float v = gi.row(b).dot(wDec.row(index[j]));
            if (extra) v += extra[index[j]];
            gradH[j] = v;
        }
    }
}

// Row of each CSR entry, for the latent-grouped pass.
void entryRows(const std::vector<int64_t>& rowStart, std::vector<int32_t>& rows) {
    const int64_t B = static_cast<int64_t>(rowStart.size()) - 1;
    rows.resize(rowStart[B]);
    for (int64_t b = 0; b < B; ++b)
        std::fill(rows.begin() + rowStart[b], rows.begin() + rowStart[b + 1],
                  static_cast<int32_t>(b));
}

// x̂ from the active entries, e = x̂ − x (into buf.gX), and the main losses.
void reconstruct(const StepContext& c, const L1Terms& l1, StepStats& st) {
    StepBuffers& buf = c.buf;
    const int64_t nnz = static_cast<int64_t>(buf.index.size());
    st.l0 = static_cast<double>(nnz) / c.B;
    for (int64_t j = 0; j < nnz; ++j) buf.fired[buf.index[j]] += 1;
    st.minActive = nnz ? *std::min_element(buf.value.begin(), buf.value.end()) : 0.0f;
    sparseDecode(buf.rowStart, buf.index, buf.value, c.p.wDec, &c.p.bDec, buf.xHat);
    buf.gX = buf.xHat - c.x;  // e [B, D]
    st.mse = buf.gX.cast<double>().squaredNorm() / c.B;
    if (c.standard) {
        double l1Sum = 0;
        for (int64_t j = 0; j < nnz; ++j)
            l1Sum += static_cast<double>(buf.value[j]) * l1.norms[buf.index[j]];
        st.l1Loss = c.s.l1 * l1Sum / c.B;
    }
}

// Aux-k on the residual x − x̂ = −e, from the dead latents: buf.gAux holds
// ê − (x − x̂). Returns whether there was any (else the aux CSR is empty).
bool reconstructAux(const StepContext& c, const std::vector<uint8_t>& dead, StepStats& st) {
    StepBuffers& buf = c.buf;
    std::vector<int32_t> deadList;
    if (!c.standard && c.s.kAux > 0 && !dead.empty())
        for (int64_t i = 0; i < c.F; ++i)
            if (dead[i]) deadList.push_back(static_cast<int32_t>(i));
    if (deadList.empty()) {
        buf.auxRowStart.assign(c.B + 1, 0);
        buf.auxIndex.clear();
        buf.auxValue.clear();
        return false;
    }
    selectAux(buf.h, deadList, c.s.kAux, buf);
    buf.gAux.resize(c.B, c.D);
    sparseDecode(buf.auxRowStart, buf.auxIndex, buf.auxValue, c.p.wDec, nullptr, buf.gAux);
    buf.gAux += buf.gX;  // ê − (x − x̂) = ê + e
    st.auxLoss = c.s.auxCoefficient * buf.gAux.cast<double>().squaredNorm() / c.B;
    return true;
}

// ∂L/∂x̂ into buf.gX, ∂L/∂ê into buf.gAux, and ∂L/∂h at every entry.
void entryGradientsOfStep(const StepContext& c, const L1Terms& l1, bool useAux) {
    StepBuffers& buf = c.buf;
    buf.gX *= 2.0f * c.invB;  // ∂L/∂x̂ [B, D]
    if (isMatryoshka(c)) matryoshkaGradients(c);
    entryGradients(buf.rowStart, buf.index, buf.gX, c.p.wDec, c.standard ? l1.grad.data() : nullptr,
                   buf.gradH, isMatryoshka(c) ? buf.gradOfLatent.data() : nullptr);
    if (useAux) {
        buf.gAux *= static_cast<float>(2.0 * c.s.auxCoefficient) * c.invB;  // ∂L/∂ê [B, D]
        entryGradients(buf.auxRowStart, buf.auxIndex, buf.gAux, c.p.wDec, nullptr, buf.auxGradH);
    }
}

// buf.featStart/featEntry: the entries of each latent; ids < nnz are main
// entries, the rest aux entries (offset by nnz).
void groupEntriesByLatent(StepBuffers& buf, int64_t F) {
    const int64_t nnz = static_cast<int64_t>(buf.index.size());
    const int64_t nAux = static_cast<int64_t>(buf.auxIndex.size());
    buf.featStart.assign(F + 1, 0);
    for (int64_t j = 0; j < nnz; ++j) ++buf.featStart[buf.index[j] + 1];
    for (int64_t j = 0; j < nAux; ++j) ++buf.featStart[buf.auxIndex[j] + 1];
    for (int64_t i = 0; i < F; ++i) buf.featStart[i + 1] += buf.featStart[i];
    buf.featEntry.resize(nnz + nAux);
    std::vector<int64_t> cursor(buf.featStart.begin(), buf.featStart.end() - 1);
    for (int64_t j = 0; j < nnz; ++j) buf.featEntry[cursor[buf.index[j]]++] = j;
    for (int64_t j = 0; j < nAux; ++j) buf.featEntry[cursor[buf.auxIndex[j]]++] = nnz + j;
}

// Every weight and bias gradient, latent by latent over its entries.
void weightGradients(const StepContext& c, const L1Terms& l1) {
    const StepBuffers& buf = c.buf;
    TrainParams& grad = *c.grad;
    const int64_t nnz = static_cast<int64_t>(buf.index.size());
    std::vector<int32_t> mainRow, auxRow;
    entryRows(buf.rowStart, mainRow);
    entryRows(buf.auxRowStart, auxRow);
    const float l1Scale = static_cast<float>(c.s.l1 * c.invB);
    const bool matryoshka = isMatryoshka(c);
#pragma omp parallel for schedule(dynamic, 64)
    for (int64_t i = 0; i < c.F; ++i) {
        const Matrix& gX = matryoshka ? *buf.gradOfLatent[i] : buf.gX;  // ∂L/∂x̂ for latent i
        auto gDec = grad.wDec.row(i);
        auto gEnc = grad.wEncT.row(i);
        gDec.setZero();
        gEnc.setZero();
        float gB = 0, fSum = 0;
        for (int64_t e = buf.featStart[i]; e < buf.featStart[i + 1]; ++e) {
            const int64_t id = buf.featEntry[e];
            if (id < nnz) {
                const int32_t b = mainRow[id];
                gDec.noalias() += buf.value[id] * gX.row(b);
                gEnc.noalias() += buf.gradH[id] * buf.xc.row(b);
                gB += buf.gradH[id];
                fSum += buf.value[id];
            } else {
                const int64_t a = id - nnz;
                const int32_t b = auxRow[a];
                gDec.noalias() += buf.auxValue[a] * buf.gAux.row(b);
                gEnc.noalias() += buf.auxGradH[a] * buf.xc.row(b);
                gB += buf.auxGradH[a];
            }
        }
        if (c.standard && fSum > 0 && l1.norms[i] > 0)
            gDec.noalias() += (l1Scale * fSum / l1.norms[i]) * c.p.wDec.row(i);
        grad.bEnc[i] = gB;
    }
    // Every prefix's x̂ holds b_dec: G^0 sums their gradients.
    grad.bDec = (matryoshka ? buf.prefixGrad[0] : buf.gX).colwise().sum();
    grad.bDec.noalias() -= grad.bEnc * c.p.wEncT;
}

}  // namespace

StepStats sparseStep(const StepContext& c, const L1Terms& l1, const std::vector<uint8_t>& dead,
                     double sumSqCentered) {
    StepStats st;
    st.sparsePath = true;
    reconstruct(c, l1, st);
    const bool useAux = reconstructAux(c, dead, st);
    const bool jumpRelu = c.s.architecture == Architecture::kJumpReLU;
    const Eigen::VectorXf norms = jumpRelu ? jumpReluDecoderNorms(c) : Eigen::VectorXf();
    if (jumpRelu) st.l0Loss = jumpReluSparsityLoss(c, norms);
    if (isMatryoshka(c)) st.prefixMse = matryoshkaPrefixErrors(c);
    st.loss = st.mse + st.prefixMse + st.l1Loss + st.auxLoss + st.l0Loss;
    st.explainedVariance = explainedVariance(st.mse, c.B, sumSqCentered);
    if (!c.grad) return st;
    entryGradientsOfStep(c, l1, useAux);
    if (jumpRelu) jumpReluSparsityEntryGradients(c, norms);
    groupEntriesByLatent(c.buf, c.F);
    weightGradients(c, l1);
    if (jumpRelu) {
        jumpReluSparsityDecoderGradient(c, norms);
        jumpReluThresholdGradient(c, norms);
    }
    return st;
}

}  // namespace mono::sae
