// The CUDA forward pass' blocks (forward_cuda.h): embed → per block [norm →
// qkv → (q/k norm) → RoPE → attention → out proj (→ post-norm) → residual →
// norm → MLP (→ post-norm) → residual] → final norm → logits, as CpuBackend.

#include <algorithm>
#include <cmath>

#include "gpu/forward_cuda.h"
#include "gpu/forward_kernels.h"

namespace mono::gpu {

using model::HookSite;

Status CudaForward::forward(const model::ModelConfig& cfg, const model::ModelWeights& w,
                            const model::Batch& batch, const model::ForwardOptions& opt,
                            model::Logits* out) {
    if (opt.cache)
        return Status::unsupported(
            "the CUDA forward pass has no KV cache yet: generation and steering run on the CPU");
    if (opt.linearFn)
        return Status::unsupported(
            "the CUDA forward pass runs float32 linears only: quantized linears run on the CPU");
    MONO_CUDA(cudaSetDevice(m_ctx.device()));
    MONO_RETURN_IF_ERROR(upload(cfg, w));
    MONO_RETURN_IF_ERROR(bindRows(batch));
    resolveHooks(cfg, opt.hooks);
    if (cfg.rope != model::RopeLayout::kNone) MONO_RETURN_IF_ERROR(prepareRope(cfg));
    const int64_t N = m_N, C = cfg.dModel, F = cfg.dMlp;
    const int64_t ldqkv = int64_t(cfg.nHeads + 2 * cfg.nKvHeads) * cfg.headDim;
    const int64_t n = std::max<int64_t>(N, 1);
    MONO_RETURN_IF_ERROR(checkBatchFits(cfg, n, opt.logits));
    for (DeviceArray<float>* a : {&m_x, &m_h, &m_tmp}) MONO_RETURN_IF_ERROR(a->resize(n * C));
    MONO_RETURN_IF_ERROR(m_qkv.resize(n * ldqkv));
    MONO_RETURN_IF_ERROR(m_att.resize(n * cfg.nHeads * cfg.headDim));
    MONO_RETURN_IF_ERROR(m_up.resize(n * (cfg.gatedMlp() ? 2 * F : F)));
    MONO_RETURN_IF_ERROR(m_act.resize(n * F));
    if (cfg.parallelResidual) MONO_RETURN_IF_ERROR(m_attnRes.resize(n * C));
    const bool gpt2 = cfg.arch == model::Arch::kGpt2;
    embedRows(m_tokens.data(), m_pos.data(), m_tokenEmbedding.data(),
              gpt2 ? m_positionEmbedding.data() : nullptr, gpt2 ? 0.0f : cfg.embedScale, N, C,
              m_x.data(), m_ctx.stream());
    MONO_CUDA_LAUNCHED();
    const int layers = layersToRun(cfg, opt);
    for (int L = 0; L < layers; ++L) {
        MONO_RETURN_IF_ERROR(call(L, HookSite::kResidPre, m_x.data(), N, C));
        MONO_RETURN_IF_ERROR(attentionBlock(cfg, L));
        MONO_RETURN_IF_ERROR(mlpBlock(cfg, L));
    }
    if (layers < cfg.nLayers) return m_ctx.synchronize();
    return logits(cfg, batch, opt, out);
}

// The activations of a batch of n rows: x, h, the hooked copy and the
// output [n, C] each, qkv, the heads' outputs, the MLP's [n, 2F] and [n, F],
// the parallel residual, and the logits of every row. Checked against the
// free memory only when the batch is larger than any before.
Status CudaForward::checkBatchFits(const model::ModelConfig& cfg, int64_t n,
                                   model::LogitsWanted logits) {
    if (n <= m_checkedRows) return Status::success();
    const double C = cfg.dModel, F = cfg.dMlp, hd = cfg.headDim;
    const double perRow = 5.0 * C + (cfg.nHeads + 2.0 * cfg.nKvHeads) * hd + cfg.nHeads * hd +
                          3.0 * F + (logits == model::LogitsWanted::kAll ? cfg.vocabSize : 0.0);
    const double need = 4.0 * perRow * double(n);
    MONO_ASSIGN_OR_RETURN(const DeviceMemory mem, deviceMemory(m_ctx));
    if (need + kDeviceReserveBytes > double(mem.freeBytes))
        return Status::resourceExhausted(
            "a forward of " + std::to_string(n) + " tokens on " + m_ctx.name() + " needs about " +
            std::to_string(int64_t(need / (1 << 20))) + " MiB of activations, " +
            std::to_string(int64_t(mem.freeBytes >> 20)) +
            " MiB free: lower the batch (capture --batch)");
    m_checkedRows = n;
    return Status::success();
}

Status CudaForward::attentionBlock(const model::ModelConfig& cfg, int L) {
    const DeviceLayer& lw = m_layers[size_t(L)];
    const int64_t N = m_N, C = cfg.dModel, hd = cfg.headDim, H = cfg.nHeads, Hkv = cfg.nKvHeads;
    const int64_t ldqkv = (H + 2 * Hkv) * hd, width = H * hd;
    cudaStream_t st = m_ctx.stream();
    MONO_RETURN_IF_ERROR(norm(cfg, lw.ln1, m_x.data(), m_h.data()));
    if (cfg.fusedQkv()) {
        const Part parts[] = {{HookSite::kAttnIn, 0, ldqkv}};
        MONO_RETURN_IF_ERROR(sharedInputLinear(L, lw.qkv, parts, 1, m_qkv.data(), ldqkv));
    } else {
        const Part parts[] = {{HookSite::kAttnIn, 0, H * hd},
                              {HookSite::kKIn, H * hd, Hkv * hd},
                              {HookSite::kVIn, (H + Hkv) * hd, Hkv * hd}};
        MONO_RETURN_IF_ERROR(sharedInputLinear(L, lw.qkv, parts, 3, m_qkv.data(), ldqkv));
    }
    if (cfg.qkNorm) {
        headRmsNorm(m_qkv.data(), N, ldqkv, int(H), int(hd), lw.qNorm.data(), cfg.normEps, st);
        headRmsNorm(m_qkv.data() + H * hd, N, ldqkv, int(Hkv), int(hd), lw.kNorm.data(),
                    cfg.normEps, st);
    }
    if (cfg.rope != model::RopeLayout::kNone) {
        const bool local = cfg.ropeLocalTheta > 0 && cfg.isSliding(L);
        rope(m_qkv.data(), N, ldqkv, int(H + Hkv), int(hd), cfg.ropeDims() / 2,
             cfg.rope == model::RopeLayout::kInterleaved,
             local ? m_cosLocal.data() : m_cosGlobal.data(),
             local ? m_sinLocal.data() : m_sinGlobal.data(), m_pos.data(), st);
    }
    const float scale = cfg.attnScale > 0 ? cfg.attnScale : 1.0f / std::sqrt(float(hd));
    causalAttention(m_qkv.data(), m_rowStart.data(), m_pos.data(), N, int(H), int(Hkv), int(hd),
                    scale, cfg.attnSoftcap, cfg.isSliding(L) ? cfg.slidingWindow : 0, m_maxKeys,
                    m_att.data(), st);
    MONO_CUDA_LAUNCHED();
    MONO_RETURN_IF_ERROR(call(L, HookSite::kAttnOutProjIn, m_att.data(), N, width));
    float* out = cfg.parallelResidual ? m_attnRes.data() : m_tmp.data();
    MONO_RETURN_IF_ERROR(linear(m_att.data(), width, lw.attnOut, 0, C, out, C));
    if (cfg.sandwichNorms) MONO_RETURN_IF_ERROR(norm(cfg, lw.postAttn, out, out));
    MONO_RETURN_IF_ERROR(call(L, HookSite::kAttnOut, out, N, C));
    if (cfg.parallelResidual) return Status::success();
    addInto(m_x.data(), out, N * C, st);
    MONO_CUDA_LAUNCHED();
    return call(L, HookSite::kResidMid, m_x.data(), N, C);
}

Status CudaForward::mlpBlock(const model::ModelConfig& cfg, int L) {
    const DeviceLayer& lw = m_layers[size_t(L)];
    const int64_t N = m_N, C = cfg.dModel, F = cfg.dMlp;
    cudaStream_t st = m_ctx.stream();
    MONO_RETURN_IF_ERROR(norm(cfg, lw.ln2, m_x.data(), m_h.data()));
    const model::Activation a = cfg.activation;
    const Act act = a == model::Activation::kGeluTanh  ? Act::kGeluTanh
                    : a == model::Activation::kGeluErf ? Act::kGeluErf
                    : a == model::Activation::kRelu    ? Act::kRelu
                                                       : Act::kNone;
    float* hidden = m_up.data();  // the activation the down projection reads
    if (!cfg.gatedMlp()) {
        const Part parts[] = {{HookSite::kMlpIn, 0, F}};
        MONO_RETURN_IF_ERROR(sharedInputLinear(L, lw.up, parts, 1, m_up.data(), F));
        biasAct(m_up.data(), F, N, F, nullptr, act, st);
    } else {
        const Part parts[] = {{HookSite::kMlpIn, 0, F}, {HookSite::kUpIn, F, F}};
        MONO_RETURN_IF_ERROR(sharedInputLinear(L, lw.up, parts, 2, m_up.data(), 2 * F));
        // As CpuBackend::gatedActivation: GELU (tanh or erf) gates, SiLU otherwise.
        const bool silu = act != Act::kGeluTanh && act != Act::kGeluErf;
        gatedMul(m_up.data(), m_act.data(), N, F, act, silu, st);
        hidden = m_act.data();
    }
    MONO_CUDA_LAUNCHED();
    MONO_RETURN_IF_ERROR(call(L, HookSite::kMlpPost, hidden, N, F));
    MONO_RETURN_IF_ERROR(call(L, HookSite::kMlpOutProjIn, hidden, N, F));
    MONO_RETURN_IF_ERROR(linear(hidden, F, lw.down, 0, C, m_tmp.data(), C));
    if (cfg.sandwichNorms) MONO_RETURN_IF_ERROR(norm(cfg, lw.postMlp, m_tmp.data(), m_tmp.data()));
    MONO_RETURN_IF_ERROR(call(L, HookSite::kMlpOut, m_tmp.data(), N, C));
    if (cfg.parallelResidual) addInto(m_tmp.data(), m_attnRes.data(), N * C, st);
    addInto(m_x.data(), m_tmp.data(), N * C, st);
    MONO_CUDA_LAUNCHED();
    return call(L, HookSite::kResidPost, m_x.data(), N, C);
}

// Final norm (when logits or its hook want it) and the unembedding of every
// row, or of each sequence's last row (zeros for an empty sequence).
Status CudaForward::logits(const model::ModelConfig& cfg, const model::Batch& batch,
                           const model::ForwardOptions& opt, model::Logits* out) {
    const int64_t N = m_N, C = cfg.dModel, V = cfg.vocabSize;
    const int nSeq = batch.numSeqs();
    cudaStream_t st = m_ctx.stream();
    if (opt.logits == model::LogitsWanted::kNone && !has(cfg.nLayers, HookSite::kResidPre))
        return m_ctx.synchronize();
    MONO_RETURN_IF_ERROR(norm(cfg, m_lnFinal, m_x.data(), m_h.data()));
    MONO_RETURN_IF_ERROR(call(cfg.nLayers, HookSite::kResidPre, m_h.data(), N, C));
    if (opt.logits == model::LogitsWanted::kNone) return m_ctx.synchronize();
    const float* U = m_unembedding.size() > 0 ? m_unembedding.data() : m_tokenEmbedding.data();
    const float* src = m_h.data();
    int64_t rows = N;
    if (opt.logits == model::LogitsWanted::kLast) {
        std::vector<int32_t> last(static_cast<size_t>(nSeq));
        for (int s = 0; s < nSeq; ++s)
            last[size_t(s)] = batch.seqLen(s) > 0 ? int32_t(batch.offsets[s + 1] - 1) : -1;
        rows = nSeq;
        if (rows > 0) {
            MONO_RETURN_IF_ERROR(m_lastRows.upload(last.data(), rows, st));
            MONO_RETURN_IF_ERROR(m_last.resize(rows * C));
            gatherRows(m_h.data(), m_lastRows.data(), rows, C, m_last.data(), st);
            MONO_CUDA_LAUNCHED();
            src = m_last.data();
        }
    }
    out->rows = rows;
    out->vocab = V;
    out->data.resize(size_t(rows * V));
    if (rows == 0) return m_ctx.synchronize();
    MONO_RETURN_IF_ERROR(m_logits.resize(rows * V));
    MONO_RETURN_IF_ERROR(
        m_ctx.gemm(false, true, rows, V, C, 1.0f, src, C, U, C, 0.0f, m_logits.data(), V));
    if (cfg.finalSoftcap > 0) softcap(m_logits.data(), rows * V, cfg.finalSoftcap, st);
    MONO_CUDA_LAUNCHED();
    MONO_RETURN_IF_ERROR(m_logits.download(out->data.data(), rows * V, st));
    return m_ctx.synchronize();
}

}  // namespace mono::gpu
