#pragma once
// Internal to gpu/: the CUDA forward backend (backends.h makes it), the twin
// of core/model/cpu_backend.cpp for a prefill without a KV cache: every family
// of config.h, hooks (each hooked activation goes to the host and back, so a
// hook may read or edit it), LogitsWanted kNone / kLast / kAll and the early
// stop after the last hook. GEMMs are cuBLAS float32 (TF32 off); the rest is
// forward_kernels.cu. A KV cache (generation, steering) or a LinearFn
// (quantized linears) is refused: those run on the CPU.

#include <array>
#include <memory>
#include <string_view>
#include <vector>

#include "core/model/model.h"
#include "core/model/weights.h"
#include "gpu/cuda_support.h"

namespace mono::gpu {

class CudaForward final : public model::ForwardBackend {
public:
    static Result<std::unique_ptr<CudaForward>> create(int device);

    const char* name() const override { return "cuda"; }
    Status forward(const model::ModelConfig& cfg, const model::ModelWeights& w,
                   const model::Batch& batch, const model::ForwardOptions& opt,
                   model::Logits* out) override;
    void weightsChanged() override { m_uploadedFrom = nullptr; }

private:
    struct DeviceLinear {
        DeviceArray<float> w, b;  // [out, in], [out] or empty
        int64_t out = 0, in = 0;
    };
    struct DeviceNorm {
        DeviceArray<float> w, b;
    };
    struct DeviceLayer {
        DeviceNorm ln1, postAttn, ln2, postMlp;
        DeviceLinear qkv, attnOut, up, down;
        DeviceArray<float> qNorm, kNorm;
    };
    // One part of a linear whose input other linears share (CpuBackend's Part).
    struct Part {
        model::HookSite site;
        int64_t rowBegin, rows;
    };
    struct Entry {
        std::string_view name;
        const model::HookFn* fn;
    };

    CudaForward() = default;
    Status upload(const model::ModelConfig& cfg, const model::ModelWeights& w);
    Status prepareRope(const model::ModelConfig& cfg);
    Status bindRows(const model::Batch& batch);
    void resolveHooks(const model::ModelConfig& cfg, const model::Hooks* hooks);
    bool has(int layer, model::HookSite site) const;
    // Runs the hooks of (layer, site) on `rows` x `cols` of device memory.
    Status call(int layer, model::HookSite site, float* data, int64_t rows, int64_t cols);
    int layersToRun(const model::ModelConfig& cfg, const model::ForwardOptions& opt) const;
    Status norm(const model::ModelConfig& cfg, const DeviceNorm& n, const float* x, float* out);
    Status linear(const float* X, int64_t ldx, const DeviceLinear& lin, int64_t rowBegin,
                  int64_t rows, float* Y, int64_t ldy);
    Status sharedInputLinear(int layer, const DeviceLinear& lin, const Part* parts, int nParts,
                             float* Y, int64_t ldy);
    Status checkBatchFits(const model::ModelConfig& cfg, int64_t rows, model::LogitsWanted logits);
    Status attentionBlock(const model::ModelConfig& cfg, int layer);
    Status mlpBlock(const model::ModelConfig& cfg, int layer);
    Status logits(const model::ModelConfig& cfg, const model::Batch& batch,
                  const model::ForwardOptions& opt, model::Logits* out);

    CudaContext m_ctx;
    const model::ModelWeights* m_uploadedFrom = nullptr;  // whose weights are on the device
    std::vector<DeviceLayer> m_layers;
    DeviceArray<float> m_tokenEmbedding, m_positionEmbedding, m_unembedding;
    DeviceNorm m_lnFinal;
    // RoPE tables [maxSeqLen, half]: global layers, and sliding ones with their own base.
    DeviceArray<float> m_cosGlobal, m_sinGlobal, m_cosLocal, m_sinLocal;
    std::array<float, 5> m_ropeKey{};  // the tables' (len, dims, theta, scale, local theta)

    int64_t m_N = 0, m_maxKeys = 0;
    int64_t m_checkedRows = 0;  // the largest batch checkBatchFits() passed
    std::vector<model::SeqRows> m_seqs;
    DeviceArray<int32_t> m_tokens, m_pos, m_rowStart, m_lastRows;
    DeviceArray<float> m_x, m_h, m_copy, m_qkv, m_att, m_tmp, m_up, m_act, m_attnRes, m_last,
        m_logits;
    std::vector<std::vector<Entry>> m_table;  // [(layers + 1) · sites]
    std::vector<float> m_host;                // a hooked activation on its way
};

}  // namespace mono::gpu
