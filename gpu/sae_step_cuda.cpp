// The CUDA SAE step (sae_step_cuda.h). The math is train_step.cpp's, term for
// term; the comments name the CPU function each phase mirrors.

#include "gpu/sae_step_cuda.h"

#include <algorithm>
#include <numeric>

#include "core/sae/device_memory.h"
#include "gpu/sae_kernels.h"

namespace mono::gpu {
namespace {

std::array<const float*, 4> hostTensors(const sae::TrainParams& p) {
    return {p.wEncT.data(), p.wDec.data(), p.bEnc.data(), p.bDec.data()};
}

}  // namespace

Status CudaSaeStep::Entries::allocate(int64_t B, int64_t capacity) {
    cap = capacity;
    MONO_RETURN_IF_ERROR(index.resize(std::max<int64_t>(1, B * cap)));
    MONO_RETURN_IF_ERROR(value.resize(std::max<int64_t>(1, B * cap)));
    MONO_RETURN_IF_ERROR(gradH.resize(std::max<int64_t>(1, B * cap)));
    return count.resize(B);
}

Result<std::unique_ptr<CudaSaeStep>> CudaSaeStep::create(int device, const sae::StepShape& shape) {
    const sae::Architecture a = shape.settings.architecture;
    if (a != sae::Architecture::kStandard && a != sae::Architecture::kTopK)
        return Status::unsupported(std::string("SAE training on CUDA runs relu and topk; ") +
                                   sae::architectureName(a) + " trains on the CPU (--device cpu)");
    if (shape.settings.prefixes.size() > 1)
        return Status::unsupported("Matryoshka SAEs train on the CPU (--device cpu)");
    if (shape.settings.bf16)
        return Status::unsupported("SAE training on CUDA runs in float32: drop --precision bf16");
    std::unique_ptr<CudaSaeStep> step(new CudaSaeStep(shape));
    MONO_RETURN_IF_ERROR(step->m_ctx.open(device));
    MONO_ASSIGN_OR_RETURN(const DeviceMemory mem, deviceMemory(step->m_ctx));
    MONO_RETURN_IF_ERROR(
        sae::checkStepFits(shape, double(mem.freeBytes), kDeviceReserveBytes, step->m_ctx.name()));
    MONO_RETURN_IF_ERROR(step->allocate());
    return step;
}

Status CudaSaeStep::allocate() {
    const int64_t B = m_shape.batch, D = m_shape.dIn, F = m_shape.dSae;
    const std::array<int64_t, 4> sizes{F * D, F * D, F, D};
    for (Tensors* t : {&m_params, &m_grad, &m_adamM, &m_adamV})
        for (size_t i = 0; i < sizes.size(); ++i) MONO_RETURN_IF_ERROR((*t)[i].resize(sizes[i]));
    for (DeviceArray<float>* a : {&m_x, &m_xc, &m_xHat, &m_gX, &m_gAux})
        MONO_RETURN_IF_ERROR(a->resize(B * D));
    MONO_RETURN_IF_ERROR(m_h.resize(B * F));
    const bool relu = m_shape.settings.architecture == sae::Architecture::kStandard;
    if (relu) {
        MONO_RETURN_IF_ERROR(m_gradH.resize(B * F));
    } else {
        MONO_RETURN_IF_ERROR(m_main.allocate(B, std::min(m_shape.settings.k, F)));
        MONO_RETURN_IF_ERROR(m_aux.allocate(B, std::min(m_shape.settings.kAux, F)));
    }
    MONO_RETURN_IF_ERROR(m_dead.resize(F));
    MONO_RETURN_IF_ERROR(m_fired.resize(F));
    MONO_RETURN_IF_ERROR(m_flag.resize(1));
    for (DeviceArray<float>* a : {&m_norms, &m_l1Grad, &m_fSum}) MONO_RETURN_IF_ERROR(a->resize(F));
    const std::vector<float> ones(static_cast<size_t>(B), 1.0f);
    MONO_RETURN_IF_ERROR(m_ones.upload(ones.data(), B, m_ctx.stream()));
    MONO_RETURN_IF_ERROR(m_sums.resize(3));
    MONO_RETURN_IF_ERROR(m_colMean.resize(D));
    for (DeviceArray<float>& t : m_grad) MONO_RETURN_IF_ERROR(t.zero(m_ctx.stream()));
    return m_ctx.synchronize();
}

Status CudaSaeStep::copyIn(Tensors& t, const sae::TrainParams& p) {
    const auto host = hostTensors(p);
    if (p.wEncT.rows() != m_shape.dSae || p.wEncT.cols() != m_shape.dIn ||
        p.wDec.rows() != m_shape.dSae || p.wDec.cols() != m_shape.dIn ||
        p.bEnc.size() != m_shape.dSae || p.bDec.size() != m_shape.dIn)
        return Status::invalidArgument("SAE step on " + m_ctx.name() +
                                       ": the parameters' shapes differ from the engine's");
    for (size_t i = 0; i < t.size(); ++i)
        MONO_RETURN_IF_ERROR(t[i].upload(host[i], t[i].size(), m_ctx.stream()));
    return Status::success();
}

Status CudaSaeStep::copyOut(const Tensors& t, sae::TrainParams& p) const {
    p.wEncT.resize(m_shape.dSae, m_shape.dIn);
    p.wDec.resize(m_shape.dSae, m_shape.dIn);
    p.bEnc.resize(m_shape.dSae);
    p.bDec.resize(m_shape.dIn);
    p.logThreshold.resize(0);
    const std::array<float*, 4> host{p.wEncT.data(), p.wDec.data(), p.bEnc.data(), p.bDec.data()};
    for (size_t i = 0; i < t.size(); ++i)
        MONO_RETURN_IF_ERROR(t[i].download(host[i], t[i].size(), m_ctx.stream()));
    return Status::success();
}

Status CudaSaeStep::upload(const sae::TrainParams& params, const sae::TrainParams& m,
                           const sae::TrainParams& v) {
    MONO_RETURN_IF_ERROR(copyIn(m_params, params));
    MONO_RETURN_IF_ERROR(copyIn(m_adamM, m));
    MONO_RETURN_IF_ERROR(copyIn(m_adamV, v));
    return m_ctx.synchronize();
}

Status CudaSaeStep::download(sae::TrainParams& params, sae::TrainParams& m,
                             sae::TrainParams& v) const {
    MONO_RETURN_IF_ERROR(copyOut(m_params, params));
    MONO_RETURN_IF_ERROR(copyOut(m_adamM, m));
    MONO_RETURN_IF_ERROR(copyOut(m_adamV, v));
    return m_ctx.synchronize();
}

Status CudaSaeStep::gradient(sae::TrainParams& grad) const {
    if (!m_haveGradient)
        return Status::invalidArgument("SAE step on " + m_ctx.name() +
                                       ": no gradient computed yet");
    MONO_RETURN_IF_ERROR(copyOut(m_grad, grad));
    return m_ctx.synchronize();
}

Status CudaSaeStep::checkSettings(const Matrix& x, const sae::StepSettings& s) const {
    if (x.rows() != m_shape.batch || x.cols() != m_shape.dIn)
        return Status::invalidArgument(
            "SAE step on " + m_ctx.name() + ": batch of " + std::to_string(x.rows()) + " x " +
            std::to_string(x.cols()) + ", the engine was made for " +
            std::to_string(m_shape.batch) + " x " + std::to_string(m_shape.dIn));
    if (s.architecture != m_shape.settings.architecture || s.bf16 || s.prefixes.size() > 1 ||
        s.k > m_shape.settings.k || s.kAux > m_shape.settings.kAux)
        return Status::invalidArgument("SAE step on " + m_ctx.name() +
                                       ": the step's settings differ from the engine's");
    return Status::success();
}

Result<sae::StepStats> CudaSaeStep::lossAndGradient(const Matrix& x, const sae::StepSettings& s,
                                                    const std::vector<uint8_t>& dead,
                                                    std::vector<int64_t>& fired) {
    MONO_RETURN_IF_ERROR(checkSettings(x, s));
    const int64_t B = m_shape.batch, D = m_shape.dIn, F = m_shape.dSae;
    cudaStream_t st = m_ctx.stream();
    MONO_RETURN_IF_ERROR(m_x.upload(x.data(), B * D, st));
    MONO_RETURN_IF_ERROR(m_sums.zero(st));
    MONO_RETURN_IF_ERROR(m_fired.zero(st));
    // encode(): x' = x − b_dec; h = x' W_enc (b_enc added by the paths).
    subtractRow(m_x.data(), m_params[kBDec].data(), m_xc.data(), B, D, st);
    MONO_RETURN_IF_ERROR(m_ctx.gemm(false, true, B, F, D, 1.0f, m_xc.data(), D,
                                    m_params[kEnc].data(), D, 0.0f, m_h.data(), F));
    sumSqCentered(m_x.data(), B, D, m_colMean.data(), m_sums.data() + 2, st);
    MONO_CUDA_LAUNCHED();
    sae::StepStats stats;
    bool useAux = false;
    if (s.architecture == sae::Architecture::kStandard) {
        MONO_RETURN_IF_ERROR(reluStep(s, &stats.l1Loss));
        m_haveGradient = true;
        MONO_RETURN_IF_ERROR(reluGradient(s));
    } else {
        MONO_RETURN_IF_ERROR(topKStep(s, dead, &useAux));
        m_haveGradient = true;
        MONO_RETURN_IF_ERROR(topKGradient(s, useAux));
    }
    std::vector<int32_t> firedHost(static_cast<size_t>(F));
    double sums[3];
    MONO_RETURN_IF_ERROR(m_fired.download(firedHost.data(), F, st));
    MONO_CUDA(cudaMemcpyAsync(sums, m_sums.data(), sizeof sums, cudaMemcpyDeviceToHost, st));
    MONO_RETURN_IF_ERROR(m_ctx.synchronize());
    fired.assign(firedHost.begin(), firedHost.end());
    const int64_t nnz = std::accumulate(fired.begin(), fired.end(), int64_t(0));
    stats.sparsePath = s.architecture != sae::Architecture::kStandard;
    stats.l0 = double(nnz) / double(B);
    stats.mse = sums[0] / double(B);
    if (useAux) stats.auxLoss = s.auxCoefficient * sums[1] / double(B);
    stats.loss = stats.mse + stats.l1Loss + stats.auxLoss;
    stats.explainedVariance = sums[2] > 0 ? 1.0 - stats.mse * double(B) / sums[2] : 0.0;
    return stats;
}

// selectTopK, reconstruct and reconstructAux of the CPU's sparse path.
Status CudaSaeStep::topKStep(const sae::StepSettings& s, const std::vector<uint8_t>& dead,
                             bool* useAux) {
    const int64_t B = m_shape.batch, D = m_shape.dIn, F = m_shape.dSae;
    cudaStream_t st = m_ctx.stream();
    biasActivate(m_h.data(), m_params[kBEnc].data(), nullptr, B, F, Activation::kNone, st);
    selectTopK(m_h.data(), B, F, s.k, nullptr, nullptr, m_main.cap, m_main.index.data(),
               m_main.value.data(), m_main.count.data(), st);
    countEntries(m_main.index.data(), m_main.count.data(), m_main.cap, B, m_fired.data(), st);
    broadcastRow(m_params[kBDec].data(), m_xHat.data(), B, D, st);
    decodeEntries(m_main.index.data(), m_main.value.data(), m_main.count.data(), m_main.cap, B,
                  m_params[kDec].data(), D, true, m_xHat.data(), st);
    // e = x̂ − x into m_gX; Σ e² into m_sums[0].
    combineAndSquare(m_xHat.data(), m_x.data(), false, m_gX.data(), B * D, m_sums.data(), st);
    MONO_CUDA_LAUNCHED();
    const int64_t nDead =
        dead.empty() ? 0 : std::count_if(dead.begin(), dead.end(), [](uint8_t d) { return d; });
    *useAux = s.kAux > 0 && nDead > 0;
    if (!*useAux) return Status::success();
    if (static_cast<int64_t>(dead.size()) != F)
        return Status::invalidArgument("SAE step: the dead-latent flags have " +
                                       std::to_string(dead.size()) + " entries, expected " +
                                       std::to_string(F));
    MONO_RETURN_IF_ERROR(m_dead.upload(dead.data(), F, st));
    const int64_t kAux = std::min(s.kAux, nDead);
    selectTopK(m_h.data(), B, F, kAux, m_dead.data(), nullptr, m_aux.cap, m_aux.index.data(),
               m_aux.value.data(), m_aux.count.data(), st);
    decodeEntries(m_aux.index.data(), m_aux.value.data(), m_aux.count.data(), m_aux.cap, B,
                  m_params[kDec].data(), D, false, m_gAux.data(), st);
    // ê − (x − x̂) = ê + e.
    combineAndSquare(m_gAux.data(), m_gX.data(), true, m_gAux.data(), B * D, m_sums.data() + 1, st);
    MONO_CUDA_LAUNCHED();
    return Status::success();
}

// entryGradientsOfStep and weightGradients of the CPU's sparse path.
Status CudaSaeStep::topKGradient(const sae::StepSettings& s, bool useAux) {
    const int64_t B = m_shape.batch, D = m_shape.dIn;
    cudaStream_t st = m_ctx.stream();
    const float invB = 1.0f / float(B);
    scale(m_gX.data(), B * D, 2.0f * invB, st);  // ∂L/∂x̂
    entryDots(m_main.index.data(), m_main.count.data(), m_main.cap, B, m_gX.data(),
              m_params[kDec].data(), D, nullptr, m_main.gradH.data(), st);
    for (DeviceArray<float>& t : m_grad) MONO_RETURN_IF_ERROR(t.zero(st));
    scatterEntryGradients(m_main.index.data(), m_main.value.data(), m_main.gradH.data(),
                          m_main.count.data(), m_main.cap, B, m_gX.data(), m_xc.data(), D,
                          m_grad[kDec].data(), m_grad[kEnc].data(), m_grad[kBEnc].data(), st);
    if (useAux) {
        scale(m_gAux.data(), B * D, float(2.0 * s.auxCoefficient) * invB, st);  // ∂L/∂ê
        entryDots(m_aux.index.data(), m_aux.count.data(), m_aux.cap, B, m_gAux.data(),
                  m_params[kDec].data(), D, nullptr, m_aux.gradH.data(), st);
        scatterEntryGradients(m_aux.index.data(), m_aux.value.data(), m_aux.gradH.data(),
                              m_aux.count.data(), m_aux.cap, B, m_gAux.data(), m_xc.data(), D,
                              m_grad[kDec].data(), m_grad[kEnc].data(), m_grad[kBEnc].data(), st);
    }
    MONO_CUDA_LAUNCHED();
    return biasDecoderGradient();
}

// The forward half of denseReluStep: f = ReLU(h + b_enc), x̂ = f W_dec + b_dec.
Status CudaSaeStep::reluStep(const sae::StepSettings& s, double* l1Loss) {
    const int64_t B = m_shape.batch, D = m_shape.dIn, F = m_shape.dSae;
    cudaStream_t st = m_ctx.stream();
    biasActivate(m_h.data(), m_params[kBEnc].data(), nullptr, B, F, Activation::kRelu, st);
    countPositiveColumns(m_h.data(), B, F, m_fired.data(), st);
    // l1Terms(): n_i = ||W_dec[i]|| and λ/B n_i.
    rowNorms(m_params[kDec].data(), F, D, m_norms.data(), m_l1Grad.data(), float(s.l1 / double(B)),
             st);
    MONO_RETURN_IF_ERROR(m_ctx.gemvT(m_h.data(), B, F, m_ones.data(), 1.0f, 0.0f, m_fSum.data()));
    broadcastRow(m_params[kBDec].data(), m_xHat.data(), B, D, st);
    MONO_RETURN_IF_ERROR(m_ctx.gemm(false, false, B, D, F, 1.0f, m_h.data(), F,
                                    m_params[kDec].data(), D, 1.0f, m_xHat.data(), D));
    combineAndSquare(m_xHat.data(), m_x.data(), false, m_gX.data(), B * D, m_sums.data(), st);
    MONO_CUDA_LAUNCHED();
    // The L1 term λ/B Σ_i (Σ_b f_bi) n_i, summed in double as denseStats() does.
    std::vector<float> fSum(static_cast<size_t>(F)), norms(static_cast<size_t>(F));
    MONO_RETURN_IF_ERROR(m_fSum.download(fSum.data(), F, st));
    MONO_RETURN_IF_ERROR(m_norms.download(norms.data(), F, st));
    MONO_RETURN_IF_ERROR(m_ctx.synchronize());
    double dot = 0;
    for (int64_t i = 0; i < F; ++i) dot += double(fSum[size_t(i)]) * double(norms[size_t(i)]);
    *l1Loss = s.l1 * dot / double(B);
    return Status::success();
}

// The backward half of denseReluStep, as four GEMMs and two GEMVs.
Status CudaSaeStep::reluGradient(const sae::StepSettings& s) {
    const int64_t B = m_shape.batch, D = m_shape.dIn, F = m_shape.dSae;
    cudaStream_t st = m_ctx.stream();
    scale(m_gX.data(), B * D, 2.0f / float(B), st);  // ∂L/∂x̂
    // ∂L/∂h = (∂L/∂x̂ W_decᵀ + λ/B n) where f > 0.
    MONO_RETURN_IF_ERROR(m_ctx.gemm(false, true, B, F, D, 1.0f, m_gX.data(), D,
                                    m_params[kDec].data(), D, 0.0f, m_gradH.data(), F));
    reluBackward(m_gradH.data(), m_h.data(), m_l1Grad.data(), B, F, st);
    // ∂W_dec = fᵀ ∂L/∂x̂ (+ the L1 term through n_i); ∂W_encᵀ = (∂L/∂h)ᵀ x'.
    MONO_RETURN_IF_ERROR(m_ctx.gemm(true, false, F, D, B, 1.0f, m_h.data(), F, m_gX.data(), D, 0.0f,
                                    m_grad[kDec].data(), D));
    addL1DecoderGradient(m_grad[kDec].data(), m_params[kDec].data(), m_fSum.data(), m_norms.data(),
                         float(s.l1 / double(B)), F, D, st);
    MONO_RETURN_IF_ERROR(m_ctx.gemm(true, false, F, D, B, 1.0f, m_gradH.data(), F, m_xc.data(), D,
                                    0.0f, m_grad[kEnc].data(), D));
    MONO_RETURN_IF_ERROR(
        m_ctx.gemvT(m_gradH.data(), B, F, m_ones.data(), 1.0f, 0.0f, m_grad[kBEnc].data()));
    MONO_CUDA_LAUNCHED();
    return biasDecoderGradient();
}

Status CudaSaeStep::biasDecoderGradient() {
    const int64_t B = m_shape.batch, D = m_shape.dIn, F = m_shape.dSae;
    MONO_RETURN_IF_ERROR(
        m_ctx.gemvT(m_gX.data(), B, D, m_ones.data(), 1.0f, 0.0f, m_grad[kBDec].data()));
    // − W_encᵀᵀ ∂b_enc: W_encᵀ is [F, D], so this is gemvT over its F rows.
    return m_ctx.gemvT(m_params[kEnc].data(), F, D, m_grad[kBEnc].data(), -1.0f, 1.0f,
                       m_grad[kBDec].data());
}

// SaeRun::updateWeights: projection, Adam, renormalisation.
Status CudaSaeStep::update(const train::AdamStep& step, bool unitDecoder) {
    if (!m_haveGradient)
        return Status::invalidArgument("SAE step on " + m_ctx.name() + ": no gradient to apply");
    if (step.biasCorrection != train::BiasCorrection::kInStepSize)
        return Status::unsupported("SAE step on " + m_ctx.name() +
                                   ": Adam runs in the kInStepSize form only (the SAE trainer's)");
    const int64_t D = m_shape.dIn, F = m_shape.dSae;
    cudaStream_t st = m_ctx.stream();
    if (unitDecoder) projectRows(m_params[kDec].data(), m_grad[kDec].data(), F, D, st);
    for (size_t i = 0; i < m_params.size(); ++i)
        adamUpdate(m_params[i].data(), m_grad[i].data(), m_adamM[i].data(), m_adamV[i].data(),
                   m_params[i].size(), step.beta1, step.beta2, step.eps, step.stepSize, st);
    if (unitDecoder) normalizeRows(m_params[kDec].data(), F, D, st);
    MONO_CUDA_LAUNCHED();
    return Status::success();
}

Result<bool> CudaSaeStep::biasesFinite() const {
    cudaStream_t st = m_ctx.stream();
    int32_t bad = 0;
    MONO_CUDA(cudaMemsetAsync(m_flag.data(), 0, sizeof(int32_t), st));
    flagNonFinite(m_params[kBEnc].data(), m_shape.dSae, m_flag.data(), st);
    flagNonFinite(m_params[kBDec].data(), m_shape.dIn, m_flag.data(), st);
    MONO_CUDA_LAUNCHED();
    MONO_CUDA(cudaMemcpyAsync(&bad, m_flag.data(), sizeof bad, cudaMemcpyDeviceToHost, st));
    MONO_RETURN_IF_ERROR(m_ctx.synchronize());
    return bad == 0;
}

}  // namespace mono::gpu
