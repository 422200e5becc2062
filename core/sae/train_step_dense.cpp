// The dense ReLU path of a training step: per row block x̂, e, ∂L/∂x̂, ∂L/∂h
// (masked by f > 0, never stored for the whole batch) and the block's share of
// the weight gradients, accumulated per thread. Partial sums are added in
// thread order, so a run is reproducible.

#include <algorithm>

#include <omp.h>

#include "core/kernels/bf16_gemm.h"
#include "core/kernels/sgemm.h"
#include "core/sae/relu_backward_bf16.h"
#include "core/sae/train_step_phases.h"

namespace mono::sae {
namespace {

// One thread's sums over the row blocks it handled.
struct DenseSums {
    Eigen::VectorXf fSum;        // [F] Σ_b f_bi
    Eigen::VectorXf gHSum;       // [F] Σ_b ∂L/∂h_bi
    std::vector<int64_t> fired;  // [F] rows in which each latent is active
    Eigen::RowVectorXf gXSum;    // [D] Σ_b ∂L/∂x̂_b
    double sse = 0;              // Σ_b ||x̂_b − x_b||²
};

// One thread's working memory.
struct DenseThread {
    DenseSums& sums;
    // Firing counts of the current block, as floats so the loops below
    // vectorise (exact: at most rowBlock per entry), added into sums.fired.
    Eigen::VectorXf blockFired;  // [F]
    Matrix& gH;                  // [rowBlock, F] ∂L/∂h of the current block
    Matrix* gDec = nullptr;      // [F, D] f32 weight gradients: grad's (thread 0)
    Matrix* gEnc = nullptr;      //        or the thread's partials
};

// What the block pass needs beyond the context.
struct DensePass {
    const StepContext& c;
    const L1Terms& l1;
    float gScale;   // 2/B: ∂L/∂x̂ = gScale · e
    bool bf16Grad;  // bf16 weight gradients: two whole-batch GEMMs after the pass
    int64_t ldT;    // row stride of the transposed bf16 f and ∂L/∂h (B rounded up to even)
};

// bf16 precision: this step's decoder packed for the kernel, and room for the
// batch's f and ∂L/∂h transposed.
void packDenseBf16(const DensePass& d) {
    const StepContext& c = d.c;
    kernels::packBf16Into(c.p.wDec.data(), c.D, c.F, 1, c.D, c.buf.packDecT);
    if (!c.grad) return;
    kernels::packBf16Into(c.p.wDec.data(), c.F, c.D, c.D, 1, c.buf.packDec);
    c.buf.fT.resize(static_cast<size_t>(c.F * d.ldT));
    c.buf.gradHT.resize(static_cast<size_t>(c.F * d.ldT));
}

DenseThread startThread(const DensePass& d, int t, DenseSums& sums) {
    const StepContext& c = d.c;
    sums.fSum.setZero(c.F);
    sums.gHSum.setZero(c.F);
    sums.fired.assign(c.F, 0);
    sums.gXSum.setZero(c.D);
    sums.sse = 0;
    Matrix& gH = c.buf.blockGradH[t];
    gH.resize(c.rowBlock, c.F);
    DenseThread thread{sums, Eigen::VectorXf(c.F), gH, nullptr, nullptr};
    if (c.grad && !d.bf16Grad) {
        thread.gDec = t == 0 ? &c.grad->wDec : &c.buf.partDec[t];
        thread.gEnc = t == 0 ? &c.grad->wEncT : &c.buf.partEnc[t];
        thread.gDec->setZero(c.F, c.D);
        thread.gEnc->setZero(c.F, c.D);
    }
    return thread;
}

// x̂ and e = x̂ − x (into buf.gX) of rows [r0, r0 + n); returns ||e||².
double decodeBlock(const StepContext& c, int64_t r0, int64_t n) {
    const auto fB = c.buf.h.middleRows(r0, n);  // [n, F]
    auto xHat = c.buf.xHat.middleRows(r0, n);
    auto gX = c.buf.gX.middleRows(r0, n);  // [n, D]
    if (c.s.bf16) {
        kernels::linearBf16(fB.data(), c.F, n, c.buf.packDecT, c.p.bDec.data(), xHat.data(), c.D);
    } else {
        kernels::gemm(fB, kernels::Op::kN, c.p.wDec, kernels::Op::kN, xHat);
        xHat.rowwise() += c.p.bDec;
    }
    gX = xHat - c.x.middleRows(r0, n);
    return static_cast<double>(gX.cast<double>().squaredNorm());
}

void addBlockFired(DenseThread& t) {
    for (int64_t i = 0; i < t.blockFired.size(); ++i)
        t.sums.fired[i] += static_cast<int64_t>(t.blockFired[i]);
}

// Loss only: f's column sums and firing counts over the block.
void countBlock(const StepContext& c, int64_t r0, int64_t n, DenseThread& t) {
    const int64_t F = c.F;
    const auto fB = c.buf.h.middleRows(r0, n);
    float* __restrict fSumP = t.sums.fSum.data();
    float* __restrict firedP = t.blockFired.data();
    for (int64_t r = 0; r < n; ++r) {
        const float* __restrict fr = fB.row(r).data();
#pragma omp simd
        for (int64_t i = 0; i < F; ++i) {
            fSumP[i] += fr[i];
            firedP[i] += fr[i] > 0.0f ? 1.0f : 0.0f;
        }
    }
    addBlockFired(t);
}

// The f32 ReLU backward of n rows (row stride F) in place on g (∂L/∂f in,
// ∂L/∂h out), with f's column statistics from the same read.
void reluBackwardBlock(const float* f, float* g, int64_t n, int64_t F, const float* l1Grad,
                       DenseThread& t) {
    const float* __restrict extra = l1Grad;
    float* __restrict gHSumP = t.sums.gHSum.data();
    float* __restrict fSumP = t.sums.fSum.data();
    float* __restrict firedP = t.blockFired.data();
    for (int64_t r = 0; r < n; ++r) {
        const float* __restrict fr = f + r * F;
        float* __restrict gr = g + r * F;
#pragma omp simd
        for (int64_t i = 0; i < F; ++i) {
            const float v = fr[i];
            const float gi = v > 0.0f ? gr[i] + extra[i] : 0.0f;
            gr[i] = gi;
            gHSumP[i] += gi;
            fSumP[i] += v;
            firedP[i] += v > 0.0f ? 1.0f : 0.0f;
        }
    }
}

// ∂L/∂x̂ and ∂L/∂h of the block, and its share of the weight gradients.
void backwardBlock(const DensePass& d, int64_t r0, int64_t n, DenseThread& t) {
    const StepContext& c = d.c;
    const auto fB = c.buf.h.middleRows(r0, n);  // [n, F]
    auto gX = c.buf.gX.middleRows(r0, n);       // e in, ∂L/∂x̂ out [n, D]
    gX *= d.gScale;
    t.sums.gXSum += gX.colwise().sum();
    auto gHB = t.gH.topRows(n);  // [n, F]
    if (c.s.bf16)
        kernels::linearBf16(gX.data(), c.D, n, c.buf.packDec, nullptr, gHB.data(), c.F);
    else
        kernels::gemm(gX, kernels::Op::kN, c.p.wDec, kernels::Op::kT, gHB);
    if (d.bf16Grad) {
        reluBackwardBf16(fB.data(), gHB.data(), n, c.F, d.l1.grad.data(), t.sums.gHSum.data(),
                         t.sums.fSum.data(), t.blockFired.data(), c.buf.fT.data() + r0,
                         c.buf.gradHT.data() + r0, d.ldT);
        addBlockFired(t);
        return;
    }
    reluBackwardBlock(fB.data(), gHB.data(), n, c.F, d.l1.grad.data(), t);
    addBlockFired(t);
    kernels::gemm(fB, kernels::Op::kT, gX, kernels::Op::kN, *t.gDec, 1.0f, 1.0f);
    kernels::gemm(gHB, kernels::Op::kT, c.buf.xc.middleRows(r0, n), kernels::Op::kN, *t.gEnc, 1.0f,
                  1.0f);
}

// The fused pass over all row blocks; returns how many threads took part.
int runBlocks(const DensePass& d, std::vector<DenseSums>& sums) {
    const StepContext& c = d.c;
    int usedThreads = 1;
#pragma omp parallel
    {
        const int t = omp_get_thread_num();
#pragma omp single
        usedThreads = omp_get_num_threads();
        DenseThread thread = startThread(d, t, sums[t]);
#pragma omp for schedule(static)
        for (int64_t blk = 0; blk < c.nBlocks; ++blk) {
            const int64_t r0 = blk * c.rowBlock, n = std::min(c.rowBlock, c.B - r0);
            thread.sums.sse += decodeBlock(c, r0, n);
            thread.blockFired.setZero();
            if (c.grad)
                backwardBlock(d, r0, n, thread);
            else
                countBlock(c, r0, n, thread);
        }
    }
    return usedThreads;
}

// The threads' sums in thread order; their f32 weight-gradient partials are
// added into grad (thread 0's).
DenseSums addThreads(const DensePass& d, const std::vector<DenseSums>& sums, int usedThreads) {
    const StepContext& c = d.c;
    DenseSums total;
    total.fSum = Eigen::VectorXf::Zero(c.F);
    total.gHSum = Eigen::VectorXf::Zero(c.F);
    total.gXSum = Eigen::RowVectorXf::Zero(c.D);
    for (int t = 0; t < usedThreads; ++t) {
        total.fSum += sums[t].fSum;
        total.gHSum += sums[t].gHSum;
        total.gXSum += sums[t].gXSum;
        total.sse += sums[t].sse;
        for (int64_t i = 0; i < c.F; ++i) c.buf.fired[i] += sums[t].fired[i];
        if (c.grad && !d.bf16Grad && t > 0) {
            c.grad->wDec += c.buf.partDec[t];
            c.grad->wEncT += c.buf.partEnc[t];
        }
    }
    return total;
}

StepStats denseStats(const StepContext& c, const L1Terms& l1, const DenseSums& total,
                     double sumSqCentered) {
    StepStats st;
    st.sparsePath = false;
    st.mse = total.sse / c.B;
    st.l1Loss =
        c.s.l1 * static_cast<double>(total.fSum.cast<double>().dot(l1.norms.cast<double>())) / c.B;
    int64_t nnz = 0;
    for (int64_t i = 0; i < c.F; ++i) nnz += c.buf.fired[i];
    st.l0 = static_cast<double>(nnz) / c.B;
    st.minActive = 0;
    st.loss = st.mse + st.l1Loss;
    st.explainedVariance = explainedVariance(st.mse, c.B, sumSqCentered);
    return st;
}

// What the block pass leaves to the whole batch: the bf16 weight-gradient
// GEMMs, the L1 term's decoder gradient, and the bias gradients.
void finishGradients(const DensePass& d, const DenseSums& total) {
    const StepContext& c = d.c;
    TrainParams& grad = *c.grad;
    if (d.bf16Grad) {
        // ∂L/∂W_dec = fᵀ ∂L/∂x̂ and ∂L/∂W_encᵀ = (∂L/∂h)ᵀ x' [F, D], summed over the batch.
        grad.wDec.resize(c.F, c.D);
        grad.wEncT.resize(c.F, c.D);
        kernels::packBf16Into(c.buf.gX.data(), c.D, c.B, 1, c.D, c.buf.packGradXT);
        kernels::packBf16Into(c.buf.xc.data(), c.D, c.B, 1, c.D, c.buf.packXcT);
        kernels::linearBf16Rounded(c.buf.fT.data(), d.ldT, c.F, c.buf.packGradXT, nullptr,
                                   grad.wDec.data(), c.D);
        kernels::linearBf16Rounded(c.buf.gradHT.data(), d.ldT, c.F, c.buf.packXcT, nullptr,
                                   grad.wEncT.data(), c.D);
    }
    const Eigen::VectorXf& norms = d.l1.norms;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < c.F; ++i)
        if (norms[i] > 0)
            grad.wDec.row(i) +=
                (static_cast<float>(c.s.l1 * c.invB) * total.fSum[i] / norms[i]) * c.p.wDec.row(i);
    grad.bEnc = total.gHSum.transpose();
    grad.bDec = total.gXSum;
    grad.bDec.noalias() -= grad.bEnc * c.p.wEncT;
}

}  // namespace

StepStats denseReluStep(const StepContext& c, const L1Terms& l1, double sumSqCentered) {
    const DensePass d{c, l1, 2.0f * c.invB, c.s.bf16 && c.grad != nullptr, (c.B + 1) / 2 * 2};
    const int maxThreads = omp_get_max_threads();
    c.buf.blockGradH.resize(maxThreads);
    if (c.grad) {
        c.buf.partDec.resize(maxThreads);
        c.buf.partEnc.resize(maxThreads);
    }
    if (c.s.bf16) packDenseBf16(d);
    std::vector<DenseSums> sums(maxThreads);
    const int usedThreads = runBlocks(d, sums);
    const DenseSums total = addThreads(d, sums, usedThreads);
    const StepStats st = denseStats(c, l1, total, sumSqCentered);
    if (c.grad) finishGradients(d, total);
    return st;
}

}  // namespace mono::sae
