// Forward and hand-written backward pass of one SAE training step.
// Legend: B batch rows, D = d_in, F = d_sae, nnz active (row, latent) pairs.
//   x' = x − b_dec;  h = x' W_enc + b_enc;  f = act(h);  x̂ = f W_dec + b_dec
//   standard: L = mean_b ||x̂ − x||² + λ mean_b Σ_i f_i n_i,  n_i = ||W_dec[i]||
//   topk/batchtopk: L = mean_b ||x̂ − x||² + c mean_b ||ê − (x − x̂)||²,
//     ê = Σ_{dead top-k_aux} f_i W_dec[i] (x − x̂ is a constant for this term)
// The dense path is five GEMMs. When few latents are active (always for topk)
// only the encoder is a GEMM: decoding and every other gradient run over the
// nnz active pairs, grouped by latent so threads never write the same row.

#include "core/sae/train_step.h"

#include <algorithm>
#include <cmath>

#include <omp.h>

#include "core/sae/relu_backward_bf16.h"
#include "core/sae/topk.h"

namespace mono::sae {

void TrainParams::resizeLike(const TrainParams& o) {
    wEncT.resize(o.wEncT.rows(), o.wEncT.cols());
    wDec.resize(o.wDec.rows(), o.wDec.cols());
    bEnc.resize(o.bEnc.size());
    bDec.resize(o.bDec.size());
}

void TrainParams::setZero() {
    wEncT.setZero();
    wDec.setZero();
    bEnc.setZero();
    bDec.setZero();
}

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

// CSR of the entries of h [B, F] with h > threshold and h > 0.
void selectAbove(const Matrix& h, float threshold, StepBuffers& buf) {
    const int64_t B = h.rows(), F = h.cols();
    buf.rowCount.assign(B, 0);
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < B; ++b) {
        const float* __restrict row = h.data() + b * F;
        float n = 0;  // a float count vectorises (an int one stays scalar in GCC 12)
#pragma omp simd reduction(+ : n)
        for (int64_t i = 0; i < F; ++i) n += (row[i] > threshold && row[i] > 0.0f) ? 1.0f : 0.0f;
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
            if (row[i] > threshold && row[i] > 0.0f) {
                buf.index[j] = static_cast<int32_t>(i);
                buf.value[j++] = row[i];
            }
        }
    }
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

// The (k·B)-th largest positive pre-activation of the batch, 0 if fewer are positive.
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

// Aux-k: per row the kAux largest positive pre-activations among dead latents.
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

// gradH_j = g_b · W_dec[index_j] (+ extra_i) for every entry j of row b.
void entryGradients(const std::vector<int64_t>& rowStart, const std::vector<int32_t>& index,
                    const Matrix& g, const Matrix& wDec, const float* extra,
                    std::vector<float>& gradH) {
    const int64_t B = static_cast<int64_t>(rowStart.size()) - 1;
    gradH.resize(index.size());
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < B; ++b) {
        for (int64_t j = rowStart[b]; j < rowStart[b + 1]; ++j) {
            float v = g.row(b).dot(wDec.row(index[j]));
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

double batchSumSqCentered(const Matrix& x) {
    const Eigen::RowVectorXd mean = x.cast<double>().colwise().mean();
    double s = 0;
    for (int64_t b = 0; b < x.rows(); ++b) s += (x.row(b).cast<double>() - mean).squaredNorm();
    return s;
}

}  // namespace

StepStats lossAndGradient(const TrainParams& p, const Matrix& x, const StepSettings& s,
                          const std::vector<uint8_t>& dead, TrainParams* grad, StepBuffers& buf) {
    const int64_t B = x.rows(), D = x.cols(), F = p.wDec.rows();
    const float invB = 1.0f / static_cast<float>(B);
    const bool standard = s.architecture == Architecture::kStandard;
    const int64_t rowBlock = s.bf16 ? kRowBlockBf16 : kRowBlock;
    if (s.bf16) kernels::packBf16Into(p.wEncT.data(), F, D, D, 1, buf.packEnc);
    const int64_t nBlocks = (B + rowBlock - 1) / rowBlock;
    StepStats st;

    // Forward to f, row block by row block: each block of h is biased (and for
    // standard, rectified and counted) while it is still in cache.
    buf.xc.resize(B, D);  // [B, D]
    buf.h.resize(B, F);   // [B, F]
    int64_t nnzDense = 0;
    const Vector noBias = s.bf16 ? Vector::Zero(F) : Vector();  // the bf16 GEMM added b_enc
    const float* encBias = s.bf16 ? noBias.data() : p.bEnc.data();
#pragma omp parallel for schedule(static) reduction(+ : nnzDense)
    for (int64_t blk = 0; blk < nBlocks; ++blk) {
        const int64_t r0 = blk * rowBlock, n = std::min(rowBlock, B - r0);
        auto xc = buf.xc.middleRows(r0, n);
        xc = x.middleRows(r0, n).rowwise() - p.bDec;
        auto h = buf.h.middleRows(r0, n);
        // bf16 adds the bias in the GEMM.
        if (s.bf16)
            kernels::linearBf16(xc.data(), D, n, buf.packEnc, p.bEnc.data(), h.data(), F);
        else
            h.noalias() = xc * p.wEncT.transpose();
        const float* __restrict bias = encBias;
        for (int64_t r = 0; r < n; ++r) {
            float* __restrict row = h.row(r).data();
            if (standard) {
                // A float count (exact below 2^24): GCC 12 leaves an int count scalar.
                float count = 0;
#pragma omp simd reduction(+ : count)
                for (int64_t i = 0; i < F; ++i) {
                    const float v = std::max(row[i] + bias[i], 0.0f);
                    row[i] = v;
                    count += v > 0.0f ? 1.0f : 0.0f;
                }
                nnzDense += static_cast<int64_t>(count);
            } else if (!s.bf16) {
#pragma omp simd
                for (int64_t i = 0; i < F; ++i) row[i] += bias[i];
            }
        }
    }

    Eigen::VectorXf norms;   // [F] ||W_dec[i]||, standard only
    Eigen::VectorXf l1Grad;  // [F] λ/B n_i: ∂(L1 term)/∂f_i
    if (standard) {
        norms = p.wDec.rowwise().norm();
        l1Grad = norms * static_cast<float>(s.l1 * invB);
    }

    bool sparse = true;
    if (standard) {
        sparse = static_cast<double>(nnzDense) < s.sparseDensity * static_cast<double>(B * F);
        if (sparse) selectAbove(buf.h, 0.0f, buf);
    } else if (s.architecture == Architecture::kTopK) {
        selectTopK(buf.h, s.k, buf);
    } else {
        const float t = batchTopKThreshold(buf.h, s.k * B, buf.scratch);
        selectAbove(buf.h, t, buf);
    }
    st.sparsePath = sparse;

    buf.xHat.resize(B, D);
    buf.gX.resize(B, D);
    buf.fired.assign(F, 0);
    const double sumSqCentered = batchSumSqCentered(x);

    if (!sparse) {
        // Dense ReLU step, fused by row block: per block x̂, e, ∂L/∂x̂, ∂L/∂h
        // (masked by f > 0, never stored for the whole batch) and the block's
        // share of the weight gradients, accumulated per thread. Partial sums
        // are added in thread order, so a run is reproducible.
        const Matrix& f = buf.h;  // [B, F]
        const int maxThreads = omp_get_max_threads();
        buf.blockGradH.resize(maxThreads);
        if (grad) {
            buf.partDec.resize(maxThreads);
            buf.partEnc.resize(maxThreads);
        }
        const float gScale = 2.0f * invB;
        // bf16: the weight gradients are two whole-batch GEMMs after the block
        // pass, over f and ∂L/∂h stored transposed in bf16 (F rows of the batch).
        const bool bf16Grad = s.bf16 && grad;
        const int64_t ldT = (B + 1) / 2 * 2;
        if (s.bf16) {
            kernels::packBf16Into(p.wDec.data(), D, F, 1, D, buf.packDecT);
            if (grad) {
                kernels::packBf16Into(p.wDec.data(), F, D, D, 1, buf.packDec);
                buf.fT.resize(static_cast<size_t>(F * ldT));
                buf.gradHT.resize(static_cast<size_t>(F * ldT));
            }
        }
        std::vector<Eigen::VectorXf> fSumPart(maxThreads), gHSumPart(maxThreads);  // [F]
        std::vector<std::vector<int64_t>> firedPart(maxThreads);                   // [F]
        std::vector<Eigen::RowVectorXf> gXSumPart(maxThreads);                     // [D]
        std::vector<double> msePart(maxThreads, 0.0);
        int usedThreads = 1;
#pragma omp parallel
        {
            const int t = omp_get_thread_num();
#pragma omp single
            usedThreads = omp_get_num_threads();
            Eigen::VectorXf& fSum = fSumPart[t];
            Eigen::VectorXf& gHSum = gHSumPart[t];
            std::vector<int64_t>& fired = firedPart[t];
            // Firing counts of the current block, as floats so the loops below
            // vectorise (exact: at most rowBlock per entry), added into `fired`.
            Eigen::VectorXf blockFired(F);
            fSum.setZero(F);
            gHSum.setZero(F);
            fired.assign(F, 0);
            gXSumPart[t].setZero(D);
            Matrix& gH = buf.blockGradH[t];  // [rowBlock, F]
            gH.resize(rowBlock, F);
            Matrix* gDec = nullptr;
            Matrix* gEnc = nullptr;
            if (grad && !bf16Grad) {
                gDec = t == 0 ? &grad->wDec : &buf.partDec[t];
                gEnc = t == 0 ? &grad->wEncT : &buf.partEnc[t];
                gDec->setZero(F, D);
                gEnc->setZero(F, D);
            }
            double mse = 0;
#pragma omp for schedule(static)
            for (int64_t blk = 0; blk < nBlocks; ++blk) {
                const int64_t r0 = blk * rowBlock, n = std::min(rowBlock, B - r0);
                const auto fB = f.middleRows(r0, n);  // [n, F]
                auto xHat = buf.xHat.middleRows(r0, n);
                auto gX = buf.gX.middleRows(r0, n);  // e, then ∂L/∂x̂ [n, D]
                if (s.bf16) {
                    kernels::linearBf16(fB.data(), F, n, buf.packDecT, p.bDec.data(),
                                           xHat.data(), D);
                } else {
                    xHat.noalias() = fB * p.wDec;
                    xHat.rowwise() += p.bDec;
                }
                gX = xHat - x.middleRows(r0, n);
                mse += static_cast<double>(gX.cast<double>().squaredNorm());
                float* __restrict fSumP = fSum.data();
                float* __restrict firedP = blockFired.data();
                blockFired.setZero();
                if (!grad) {
                    for (int64_t r = 0; r < n; ++r) {
                        const float* __restrict fr = fB.row(r).data();
#pragma omp simd
                        for (int64_t i = 0; i < F; ++i) {
                            fSumP[i] += fr[i];
                            firedP[i] += fr[i] > 0.0f ? 1.0f : 0.0f;
                        }
                    }
                    for (int64_t i = 0; i < F; ++i) fired[i] += static_cast<int64_t>(firedP[i]);
                    continue;
                }
                gX *= gScale;
                gXSumPart[t] += gX.colwise().sum();
                auto gHB = gH.topRows(n);  // [n, F]
                if (s.bf16)
                    kernels::linearBf16(gX.data(), D, n, buf.packDec, nullptr, gHB.data(), F);
                else
                    gHB.noalias() = gX * p.wDec.transpose();
                if (bf16Grad) {
                    reluBackwardBf16(fB.data(), gHB.data(), n, F, l1Grad.data(), gHSum.data(),
                                     fSumP, firedP, buf.fT.data() + r0, buf.gradHT.data() + r0,
                                     ldT);
                    for (int64_t i = 0; i < F; ++i) fired[i] += static_cast<int64_t>(firedP[i]);
                    continue;
                }
                // The ReLU backward, with f's column statistics from the same read.
                const float* __restrict extra = l1Grad.data();
                float* __restrict gHSumP = gHSum.data();
                for (int64_t r = 0; r < n; ++r) {
                    const float* __restrict fr = fB.row(r).data();
                    float* __restrict g = gHB.row(r).data();
#pragma omp simd
                    for (int64_t i = 0; i < F; ++i) {
                        const float v = fr[i];
                        const float gi = v > 0.0f ? g[i] + extra[i] : 0.0f;
                        g[i] = gi;
                        gHSumP[i] += gi;
                        fSumP[i] += v;
                        firedP[i] += v > 0.0f ? 1.0f : 0.0f;
                    }
                }
                for (int64_t i = 0; i < F; ++i) fired[i] += static_cast<int64_t>(firedP[i]);
                gDec->noalias() += fB.transpose() * gX;
                gEnc->noalias() += gHB.transpose() * buf.xc.middleRows(r0, n);
            }
            msePart[t] = mse;
        }
        Eigen::VectorXf fSum = Eigen::VectorXf::Zero(F);   // [F] Σ_b f_bi
        Eigen::VectorXf gHSum = Eigen::VectorXf::Zero(F);  // [F] Σ_b ∂L/∂h_bi
        Eigen::RowVectorXf gXSum = Eigen::RowVectorXf::Zero(D);
        double sse = 0;
        for (int t = 0; t < usedThreads; ++t) {
            fSum += fSumPart[t];
            gHSum += gHSumPart[t];
            gXSum += gXSumPart[t];
            sse += msePart[t];
            for (int64_t i = 0; i < F; ++i) buf.fired[i] += firedPart[t][i];
            if (grad && !bf16Grad && t > 0) {
                grad->wDec += buf.partDec[t];
                grad->wEncT += buf.partEnc[t];
            }
        }
        st.mse = sse / B;
        st.l1Loss = s.l1 * static_cast<double>(fSum.cast<double>().dot(norms.cast<double>())) / B;
        int64_t nnz = 0;
        for (int64_t i = 0; i < F; ++i) nnz += buf.fired[i];
        st.l0 = static_cast<double>(nnz) / B;
        st.minActive = 0;
        st.loss = st.mse + st.l1Loss;
        st.explainedVariance = sumSqCentered > 0 ? 1.0 - st.mse * B / sumSqCentered : 0.0;
        if (!grad) return st;

        if (bf16Grad) {
            // ∂L/∂W_dec = fᵀ ∂L/∂x̂ and ∂L/∂W_encᵀ = (∂L/∂h)ᵀ x' [F, D], summed over the batch.
            grad->wDec.resize(F, D);
            grad->wEncT.resize(F, D);
            kernels::packBf16Into(buf.gX.data(), D, B, 1, D, buf.packGradXT);
            kernels::packBf16Into(buf.xc.data(), D, B, 1, D, buf.packXcT);
            kernels::linearBf16Rounded(buf.fT.data(), ldT, F, buf.packGradXT, nullptr,
                                          grad->wDec.data(), D);
            kernels::linearBf16Rounded(buf.gradHT.data(), ldT, F, buf.packXcT, nullptr,
                                          grad->wEncT.data(), D);
        }
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < F; ++i)
            if (norms[i] > 0)
                grad->wDec.row(i) +=
                    (static_cast<float>(s.l1 * invB) * fSum[i] / norms[i]) * p.wDec.row(i);
        grad->bEnc = gHSum.transpose();
        grad->bDec = gXSum;
        grad->bDec.noalias() -= grad->bEnc * p.wEncT;
        return st;
    }

    // Sparse path.
    const int64_t nnz = static_cast<int64_t>(buf.index.size());
    st.l0 = static_cast<double>(nnz) / B;
    for (int64_t j = 0; j < nnz; ++j) buf.fired[buf.index[j]] += 1;
    st.minActive = nnz ? *std::min_element(buf.value.begin(), buf.value.end()) : 0.0f;
    sparseDecode(buf.rowStart, buf.index, buf.value, p.wDec, &p.bDec, buf.xHat);
    buf.gX = buf.xHat - x;  // e [B, D]
    st.mse = buf.gX.cast<double>().squaredNorm() / B;
    if (standard) {
        double l1Sum = 0;
        for (int64_t j = 0; j < nnz; ++j)
            l1Sum += static_cast<double>(buf.value[j]) * norms[buf.index[j]];
        st.l1Loss = s.l1 * l1Sum / B;
    }

    // Aux-k on the residual x − x̂ = −e, from the dead latents.
    std::vector<int32_t> deadList;
    if (!standard && s.kAux > 0 && !dead.empty())
        for (int64_t i = 0; i < F; ++i)
            if (dead[i]) deadList.push_back(static_cast<int32_t>(i));
    const bool useAux = !deadList.empty();
    if (useAux) {
        selectAux(buf.h, deadList, s.kAux, buf);
        buf.gAux.resize(B, D);
        sparseDecode(buf.auxRowStart, buf.auxIndex, buf.auxValue, p.wDec, nullptr, buf.gAux);
        buf.gAux += buf.gX;  // ê − (x − x̂) = ê + e
        st.auxLoss = s.auxCoefficient * buf.gAux.cast<double>().squaredNorm() / B;
    } else {
        buf.auxRowStart.assign(B + 1, 0);
        buf.auxIndex.clear();
        buf.auxValue.clear();
    }
    st.loss = st.mse + st.l1Loss + st.auxLoss;
    st.explainedVariance = sumSqCentered > 0 ? 1.0 - st.mse * B / sumSqCentered : 0.0;
    if (!grad) return st;

    buf.gX *= 2.0f * invB;  // ∂L/∂x̂ [B, D]
    entryGradients(buf.rowStart, buf.index, buf.gX, p.wDec, standard ? l1Grad.data() : nullptr,
                   buf.gradH);
    if (useAux) {
        buf.gAux *= static_cast<float>(2.0 * s.auxCoefficient) * invB;  // ∂L/∂ê [B, D]
        entryGradients(buf.auxRowStart, buf.auxIndex, buf.gAux, p.wDec, nullptr, buf.auxGradH);
    }

    // Group entries by latent: ids < nnz are main entries, the rest aux entries.
    const int64_t nAux = static_cast<int64_t>(buf.auxIndex.size());
    buf.featStart.assign(F + 1, 0);
    for (int64_t j = 0; j < nnz; ++j) ++buf.featStart[buf.index[j] + 1];
    for (int64_t j = 0; j < nAux; ++j) ++buf.featStart[buf.auxIndex[j] + 1];
    for (int64_t i = 0; i < F; ++i) buf.featStart[i + 1] += buf.featStart[i];
    buf.featEntry.resize(nnz + nAux);
    {
        std::vector<int64_t> cursor(buf.featStart.begin(), buf.featStart.end() - 1);
        for (int64_t j = 0; j < nnz; ++j) buf.featEntry[cursor[buf.index[j]]++] = j;
        for (int64_t j = 0; j < nAux; ++j) buf.featEntry[cursor[buf.auxIndex[j]]++] = nnz + j;
    }
    std::vector<int32_t> mainRow, auxRow;
    entryRows(buf.rowStart, mainRow);
    entryRows(buf.auxRowStart, auxRow);

    const float l1Scale = static_cast<float>(s.l1 * invB);
#pragma omp parallel for schedule(dynamic, 64)
    for (int64_t i = 0; i < F; ++i) {
        auto gDec = grad->wDec.row(i);
        auto gEnc = grad->wEncT.row(i);
        gDec.setZero();
        gEnc.setZero();
        float gB = 0, fSum = 0;
        for (int64_t e = buf.featStart[i]; e < buf.featStart[i + 1]; ++e) {
            const int64_t id = buf.featEntry[e];
            if (id < nnz) {
                const int32_t b = mainRow[id];
                gDec.noalias() += buf.value[id] * buf.gX.row(b);
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
        if (standard && fSum > 0 && norms[i] > 0)
            gDec.noalias() += (l1Scale * fSum / norms[i]) * p.wDec.row(i);
        grad->bEnc[i] = gB;
    }
    grad->bDec = buf.gX.colwise().sum();
    grad->bDec.noalias() -= grad->bEnc * p.wEncT;
    return st;
}

}  // namespace mono::sae
