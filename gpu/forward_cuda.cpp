// The CUDA forward pass (forward_cuda.h), phase for phase as CpuBackend.

#include "gpu/forward_cuda.h"

#include <algorithm>
#include <cmath>

#include "core/model/cpu_kernels.h"
#include "gpu/forward_kernels.h"

namespace mono::gpu {

using model::HookSite;
using model::kHookSitesPerLayer;

namespace {

Status uploadVector(DeviceArray<float>& d, const Eigen::VectorXf& v, cudaStream_t st) {
    if (v.size() == 0) return d.resize(0);
    return d.upload(v.data(), v.size(), st);
}

Status uploadMatrix(DeviceArray<float>& d, const model::RowMatrix& m, cudaStream_t st) {
    if (m.size() == 0) return d.resize(0);
    return d.upload(m.data(), m.size(), st);
}

double weightBytes(const model::ModelWeights& w) {
    double n = double(w.tokenEmbedding.size() + w.positionEmbedding.size() + w.unembedding.size());
    for (const model::LayerWeights& l : w.layers)
        n += double(l.qkv.w.size() + l.attnOut.w.size() + l.up.w.size() + l.down.w.size());
    return 4.0 * n;
}

}  // namespace

Result<std::unique_ptr<CudaForward>> CudaForward::create(int device) {
    std::unique_ptr<CudaForward> f(new CudaForward());
    MONO_RETURN_IF_ERROR(f->m_ctx.open(device));
    return f;
}

Status CudaForward::upload(const model::ModelConfig& cfg, const model::ModelWeights& w) {
    if (m_uploadedFrom == &w) return Status::success();
    // The device copy is built from the float32 matrices, which a bf16-resident
    // model does not hold.
    if (w.bf16Resident())
        return Status::unsupported(cfg.name +
                                   ": the CUDA forward needs float32 weights; load the "
                                   "model with --weights f32");
    m_layers.clear();
    m_checkedRows = 0;  // the free memory changes with the weights
    MONO_ASSIGN_OR_RETURN(const DeviceMemory mem, deviceMemory(m_ctx));
    const double need = weightBytes(w) + kDeviceReserveBytes;
    if (need > double(mem.freeBytes))
        return Status::resourceExhausted(
            cfg.name + " on " + m_ctx.name() + ": the weights need about " +
            std::to_string(int64_t(need / (1 << 20))) + " MiB, " +
            std::to_string(int64_t(mem.freeBytes >> 20)) + " MiB free");
    cudaStream_t st = m_ctx.stream();
    auto linear = [&](DeviceLinear& d, const model::Linear& l) {
        d.out = l.w.rows();
        d.in = l.w.cols();
        MONO_RETURN_IF_ERROR(uploadMatrix(d.w, l.w, st));
        return uploadVector(d.b, l.b, st);
    };
    auto norm = [&](DeviceNorm& d, const model::Norm& n) {
        MONO_RETURN_IF_ERROR(uploadVector(d.w, n.weight, st));
        return uploadVector(d.b, n.bias, st);
    };
    m_layers = std::vector<DeviceLayer>(w.layers.size());
    for (size_t L = 0; L < w.layers.size(); ++L) {
        const model::LayerWeights& l = w.layers[L];
        DeviceLayer& d = m_layers[L];
        const std::array<std::pair<DeviceNorm*, const model::Norm*>, 4> norms{
            {{&d.ln1, &l.ln1},
             {&d.postAttn, &l.postAttn},
             {&d.ln2, &l.ln2},
             {&d.postMlp, &l.postMlp}}};
        for (const auto& [dn, n] : norms) MONO_RETURN_IF_ERROR(norm(*dn, *n));
        const std::array<std::pair<DeviceLinear*, const model::Linear*>, 4> linears{
            {{&d.qkv, &l.qkv}, {&d.attnOut, &l.attnOut}, {&d.up, &l.up}, {&d.down, &l.down}}};
        for (const auto& [dl, ln] : linears) MONO_RETURN_IF_ERROR(linear(*dl, *ln));
        MONO_RETURN_IF_ERROR(uploadVector(d.qNorm, l.qNorm, st));
        MONO_RETURN_IF_ERROR(uploadVector(d.kNorm, l.kNorm, st));
    }
    MONO_RETURN_IF_ERROR(uploadMatrix(m_tokenEmbedding, w.tokenEmbedding, st));
    MONO_RETURN_IF_ERROR(uploadMatrix(m_positionEmbedding, w.positionEmbedding, st));
    MONO_RETURN_IF_ERROR(uploadMatrix(m_unembedding, w.unembedding, st));
    MONO_RETURN_IF_ERROR(norm(m_lnFinal, w.lnFinal));
    MONO_RETURN_IF_ERROR(m_ctx.synchronize());
    m_uploadedFrom = &w;
    return Status::success();
}

Status CudaForward::prepareRope(const model::ModelConfig& cfg) {
    const std::array<float, 5> key{float(cfg.maxSeqLen), float(cfg.ropeDims()), cfg.ropeTheta,
                                   cfg.ropeScale, cfg.ropeLocalTheta};
    if (key == m_ropeKey && m_cosGlobal.size() > 0) return Status::success();
    std::vector<float> c, s;
    model::cpu::ropeAngles(cfg.maxSeqLen, cfg.ropeDims(), cfg.ropeTheta, cfg.ropeScale, c, s);
    MONO_RETURN_IF_ERROR(m_cosGlobal.upload(c.data(), int64_t(c.size()), m_ctx.stream()));
    MONO_RETURN_IF_ERROR(m_sinGlobal.upload(s.data(), int64_t(s.size()), m_ctx.stream()));
    if (cfg.ropeLocalTheta > 0) {
        model::cpu::ropeAngles(cfg.maxSeqLen, cfg.ropeDims(), cfg.ropeLocalTheta, 1.0f, c, s);
        MONO_RETURN_IF_ERROR(m_cosLocal.upload(c.data(), int64_t(c.size()), m_ctx.stream()));
        MONO_RETURN_IF_ERROR(m_sinLocal.upload(s.data(), int64_t(s.size()), m_ctx.stream()));
    }
    MONO_RETURN_IF_ERROR(m_ctx.synchronize());
    m_ropeKey = key;
    return Status::success();
}

// Each row's token, position and its sequence's first row; positions from 0.
Status CudaForward::bindRows(const model::Batch& batch) {
    const int nSeq = batch.numSeqs();
    m_N = batch.numTokens();
    m_seqs.resize(size_t(nSeq));
    std::vector<int32_t> pos(static_cast<size_t>(m_N)), start(static_cast<size_t>(m_N));
    m_maxKeys = 0;
    for (int s = 0; s < nSeq; ++s) {
        m_seqs[size_t(s)] = model::SeqRows{s, batch.offsets[s], batch.seqLen(s), 0};
        m_maxKeys = std::max(m_maxKeys, batch.seqLen(s));
        for (int64_t t = 0; t < batch.seqLen(s); ++t) {
            pos[size_t(batch.offsets[s] + t)] = int32_t(t);
            start[size_t(batch.offsets[s] + t)] = int32_t(batch.offsets[s]);
        }
    }
    if (m_maxKeys > kMaxAttentionKeys)
        return Status::unsupported(
            "the CUDA forward pass attends over at most " + std::to_string(kMaxAttentionKeys) +
            " positions; this batch has a sequence of " + std::to_string(m_maxKeys));
    if (m_N == 0) return Status::success();
    cudaStream_t st = m_ctx.stream();
    MONO_RETURN_IF_ERROR(m_tokens.upload(batch.tokens.data(), m_N, st));
    MONO_RETURN_IF_ERROR(m_pos.upload(pos.data(), m_N, st));
    MONO_RETURN_IF_ERROR(m_rowStart.upload(start.data(), m_N, st));
    return m_ctx.synchronize();
}

void CudaForward::resolveHooks(const model::ModelConfig& cfg, const model::Hooks* hooks) {
    const size_t n = size_t(cfg.nLayers + 1) * kHookSitesPerLayer;
    m_table.assign(n, {});
    if (!hooks) return;
    for (const auto& [name, fns] : hooks->all()) {
        auto id = model::parseHookName(cfg, name);
        if (!id.ok()) continue;  // validated by Model::forward
        const size_t idx = id->isFinalNorm()
                               ? size_t(cfg.nLayers) * kHookSitesPerLayer
                               : size_t(id->layer) * kHookSitesPerLayer + size_t(id->site);
        for (const model::HookFn& fn : fns) m_table[idx].push_back({name, &fn});
    }
}

bool CudaForward::has(int layer, HookSite site) const {
    return !m_table[size_t(layer) * kHookSitesPerLayer + size_t(site)].empty();
}

Status CudaForward::call(int layer, HookSite site, float* data, int64_t rows, int64_t cols) {
    const auto& entries = m_table[size_t(layer) * kHookSitesPerLayer + size_t(site)];
    if (entries.empty() || rows == 0) return Status::success();
    model::HookContext ctx;
    ctx.id = model::HookId{layer, site};
    if (size_t(layer) * kHookSitesPerLayer == m_table.size() - kHookSitesPerLayer)
        ctx.id = model::HookId{-1, HookSite::kResidPost};
    ctx.seqs = &m_seqs;
    m_host.resize(size_t(rows * cols));
    cudaStream_t st = m_ctx.stream();
    MONO_CUDA(cudaMemcpyAsync(m_host.data(), data, sizeof(float) * size_t(rows * cols),
                              cudaMemcpyDeviceToHost, st));
    MONO_RETURN_IF_ERROR(m_ctx.synchronize());
    for (const Entry& e : entries) {
        ctx.name = e.name;
        (*e.fn)(ctx, model::ActivationBlock{m_host.data(), rows, cols});
    }
    MONO_CUDA(cudaMemcpyAsync(data, m_host.data(), sizeof(float) * size_t(rows * cols),
                              cudaMemcpyHostToDevice, st));
    return m_ctx.synchronize();  // m_host is reused by the next hook
}

int CudaForward::layersToRun(const model::ModelConfig& cfg,
                             const model::ForwardOptions& opt) const {
    if (opt.logits != model::LogitsWanted::kNone || !opt.stopAfterLastHook) return cfg.nLayers;
    int layers = 0;
    for (int L = 0; L <= cfg.nLayers; ++L)
        for (int s = 0; s < kHookSitesPerLayer; ++s)
            if (has(L, static_cast<HookSite>(s))) layers = std::min(L + 1, cfg.nLayers);
    if (has(cfg.nLayers, HookSite::kResidPre)) layers = cfg.nLayers;
    return layers;
}

Status CudaForward::norm(const model::ModelConfig& cfg, const DeviceNorm& n, const float* x,
                         float* out) {
    normRows(x, out, m_N, cfg.dModel, n.w.data(), cfg.layerNorm() ? n.b.data() : nullptr,
             cfg.layerNorm(), cfg.normEps, m_ctx.stream());
    MONO_CUDA_LAUNCHED();
    return Status::success();
}

// Y[:, rows] = X · W[rowBegin : rowBegin + rows]ᵀ + b[...].
Status CudaForward::linear(const float* X, int64_t ldx, const DeviceLinear& lin, int64_t rowBegin,
                           int64_t rows, float* Y, int64_t ldy) {
    if (m_N == 0) return Status::success();
    MONO_RETURN_IF_ERROR(m_ctx.gemm(false, true, m_N, rows, lin.in, 1.0f, X, ldx,
                                    lin.w.data() + rowBegin * lin.in, lin.in, 0.0f, Y, ldy));
    if (lin.b.size() > 0)
        biasAct(Y, ldy, m_N, rows, lin.b.data() + rowBegin, Act::kNone, m_ctx.stream());
    MONO_CUDA_LAUNCHED();
    return Status::success();
}

// Each hooked part gets its own copy of the input (CpuBackend::sharedInputLinear).
Status CudaForward::sharedInputLinear(int layer, const DeviceLinear& lin, const Part* parts,
                                      int nParts, float* Y, int64_t ldy) {
    const int64_t C = lin.in;
    bool hooked = false;
    for (int p = 0; p < nParts; ++p) hooked = hooked || has(layer, parts[p].site);
    if (!hooked) return linear(m_h.data(), C, lin, 0, lin.out, Y, ldy);
    for (int p = 0; p < nParts; ++p) {
        const float* src = m_h.data();
        if (has(layer, parts[p].site)) {
            MONO_RETURN_IF_ERROR(m_copy.resize(m_N * C));
            MONO_CUDA(cudaMemcpyAsync(m_copy.data(), m_h.data(), sizeof(float) * size_t(m_N * C),
                                      cudaMemcpyDeviceToDevice, m_ctx.stream()));
            MONO_RETURN_IF_ERROR(call(layer, parts[p].site, m_copy.data(), m_N, C));
            src = m_copy.data();
        }
        MONO_RETURN_IF_ERROR(
            linear(src, C, lin, parts[p].rowBegin, parts[p].rows, Y + parts[p].rowBegin, ldy));
    }
    return Status::success();
}

}  // namespace mono::gpu
