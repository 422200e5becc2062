// Forward and hand-written backward pass of one SAE training step.
// Legend: B batch rows, D = d_in, F = d_sae, nnz active (row, latent) pairs.
//   x' = x − b_dec;  h = x' W_enc + b_enc;  f = act(h);  x̂ = f W_dec + b_dec
//   standard: L = mean_b ||x̂ − x||² + λ mean_b Σ_i f_i n_i,  n_i = ||W_dec[i]||
//   topk/batchtopk: L = mean_b ||x̂ − x||² + c mean_b ||ê − (x − x̂)||²,
//     ê = Σ_{dead top-k_aux} f_i W_dec[i] (x − x̂ is a constant for this term)
// The dense path (train_step_dense.cpp) is five GEMMs. When few latents are
// active (always for topk) only the encoder is a GEMM: decoding and every other
// gradient run over the nnz active pairs (train_step_sparse.cpp).

#include "core/sae/train_step.h"

#include <algorithm>

#include "core/kernels/bf16_gemm.h"
#include "core/kernels/sgemm.h"
#include "core/sae/active_entries.h"
#include "core/sae/train_step_phases.h"

namespace mono::sae {

void TrainParams::resizeLike(const TrainParams& o) {
    wEncT.resize(o.wEncT.rows(), o.wEncT.cols());
    wDec.resize(o.wDec.rows(), o.wDec.cols());
    bEnc.resize(o.bEnc.size());
    bDec.resize(o.bDec.size());
    logThreshold.resize(o.logThreshold.size());
}

void TrainParams::setZero() {
    wEncT.setZero();
    wDec.setZero();
    bEnc.setZero();
    bDec.setZero();
    logThreshold.setZero();
}

std::array<std::span<float>, 5> TrainParams::tensors() {
    return {std::span<float>(wEncT.data(), static_cast<size_t>(wEncT.size())),
            std::span<float>(wDec.data(), static_cast<size_t>(wDec.size())),
            std::span<float>(bEnc.data(), static_cast<size_t>(bEnc.size())),
            std::span<float>(bDec.data(), static_cast<size_t>(bDec.size())),
            std::span<float>(logThreshold.data(), static_cast<size_t>(logThreshold.size()))};
}

namespace {

double batchSumSqCentered(const Matrix& x) {
    const Eigen::RowVectorXd mean = x.cast<double>().colwise().mean();
    double s = 0;
    for (int64_t b = 0; b < x.rows(); ++b) s += (x.row(b).cast<double>() - mean).squaredNorm();
    return s;
}

// b_enc added to each row of h [F] (and for standard the ReLU applied in
// place); returns the row's active count (standard only).
float biasAndRectify(float* __restrict row, const float* __restrict bias, int64_t F, bool standard,
                     bool biasAdded) {
    if (standard) {
        // A float count (exact below 2^24): GCC 12 leaves an int count scalar.
        float count = 0;
#pragma omp simd reduction(+ : count)
        for (int64_t i = 0; i < F; ++i) {
            const float v = std::max(row[i] + bias[i], 0.0f);
            row[i] = v;
            count += v > 0.0f ? 1.0f : 0.0f;
        }
        return count;
    }
    if (!biasAdded) {
#pragma omp simd
        for (int64_t i = 0; i < F; ++i) row[i] += bias[i];
    }
    return 0;
}

// The forward pass to buf.xc = x' and buf.h (f for standard, h otherwise), row
// block by row block: each block of h is biased (and for standard, rectified
// and counted) while it is still in cache. Returns the active count (standard).
int64_t encode(const StepContext& c) {
    const TrainParams& p = c.p;
    StepBuffers& buf = c.buf;
    const int64_t B = c.B, D = c.D, F = c.F;
    if (c.s.bf16) kernels::packBf16Into(p.wEncT.data(), F, D, D, 1, buf.packEnc);
    buf.xc.resize(B, D);  // [B, D]
    buf.h.resize(B, F);   // [B, F]
    int64_t nnzDense = 0;
    const Vector noBias = c.s.bf16 ? Vector::Zero(F) : Vector();  // the bf16 GEMM added b_enc
    const float* encBias = c.s.bf16 ? noBias.data() : p.bEnc.data();
#pragma omp parallel for schedule(static) reduction(+ : nnzDense)
    for (int64_t blk = 0; blk < c.nBlocks; ++blk) {
        const int64_t r0 = blk * c.rowBlock, n = std::min(c.rowBlock, B - r0);
        auto xc = buf.xc.middleRows(r0, n);
        xc = c.x.middleRows(r0, n).rowwise() - p.bDec;
        auto h = buf.h.middleRows(r0, n);
        if (c.s.bf16)
            kernels::linearBf16(xc.data(), D, n, buf.packEnc, p.bEnc.data(), h.data(), F);
        else
            kernels::gemm(xc, kernels::Op::kN, p.wEncT, kernels::Op::kT, h);
        for (int64_t r = 0; r < n; ++r)
            nnzDense += static_cast<int64_t>(
                biasAndRectify(h.row(r).data(), encBias, F, c.standard, c.s.bf16));
    }
    return nnzDense;
}

L1Terms l1Terms(const StepContext& c) {
    L1Terms l1;
    if (!c.standard) return l1;
    l1.norms = c.p.wDec.rowwise().norm();
    l1.grad = l1.norms * static_cast<float>(c.s.l1 * c.invB);
    return l1;
}

// The active entries into buf's CSR; false when a standard step has too many
// for the sparse path (buf.h then holds f for the dense one).
bool selectActive(const StepContext& c, int64_t nnzDense) {
    if (c.standard) {
        const bool sparse =
            static_cast<double>(nnzDense) < c.s.sparseDensity * static_cast<double>(c.B * c.F);
        if (sparse) selectAbove(c.buf.h, 0.0f, c.buf);
        return sparse;
    }
    if (c.s.architecture == Architecture::kTopK) {
        selectTopK(c.buf.h, c.s.k, c.buf);
    } else if (c.s.architecture == Architecture::kJumpReLU) {
        c.buf.threshold = c.p.logThreshold.array().exp();
        selectAboveEach(c.buf.h, c.buf.threshold, c.buf);
    } else {
        const float t = batchTopKThreshold(c.buf.h, c.s.k * c.B, c.buf.scratch);
        selectAbove(c.buf.h, t, c.buf);
    }
    return true;
}

}  // namespace

StepStats lossAndGradient(const TrainParams& p, const Matrix& x, const StepSettings& s,
                          const std::vector<uint8_t>& dead, TrainParams* grad, StepBuffers& buf) {
    const int64_t B = x.rows(), rowBlock = s.bf16 ? kRowBlockBf16 : kRowBlock;
    const StepContext c{.p = p,
                        .x = x,
                        .s = s,
                        .grad = grad,
                        .buf = buf,
                        .B = B,
                        .D = x.cols(),
                        .F = p.wDec.rows(),
                        .invB = 1.0f / static_cast<float>(B),
                        .standard = s.architecture == Architecture::kStandard,
                        .rowBlock = rowBlock,
                        .nBlocks = (B + rowBlock - 1) / rowBlock};
    const int64_t nnzDense = encode(c);
    const L1Terms l1 = l1Terms(c);
    const bool sparse = selectActive(c, nnzDense);
    buf.xHat.resize(B, c.D);
    buf.gX.resize(B, c.D);
    buf.fired.assign(c.F, 0);
    const double sumSqCentered = batchSumSqCentered(x);
    return sparse ? sparseStep(c, l1, dead, sumSqCentered) : denseReluStep(c, l1, sumSqCentered);
}

}  // namespace mono::sae
