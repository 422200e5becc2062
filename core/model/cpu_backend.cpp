// The CPU forward pass of every family over a packed batch.
//
// Legend (llm.c style):
//   N   rows of the batch (all new tokens of all sequences, packed)
//   C   d_model, H query heads, Hkv key/value heads, hd head_dim
//   F   MLP width, V vocabulary, T rows of one sequence, Tk its keys (cache + new)
// One pass: embed → per block [norm → qkv → (q/k norm) → RoPE → causal
// (windowed, soft-capped) attention → out proj → (post-norm) → residual →
// norm → MLP → (post-norm) → residual] → final norm → unembedding
// (→ soft-cap), with hook calls at every named point. A parallel residual
// (GPT-NeoX) adds the attention and MLP outputs of the same resid_pre at the
// end of the block. Big linears run over all N rows at once (Eigen GEMM on the
// OpenMP threads); attention runs in parallel over (sequence, head). Buffers
// live in the backend and are only grown, so a decode step allocates nothing.

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "core/kernels/bf16_gemm.h"
#include "core/kernels/bf16_pack.h"
#include "core/kernels/sgemm.h"
#include "core/model/cpu_kernels.h"
#include "core/model/first_key_attention.h"
#include "core/model/kv_cache_impl.h"
#include "core/model/model.h"
#include "core/model/weights.h"

namespace mono::model {

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Strided = Eigen::Map<RowMat, Eigen::Unaligned, Eigen::OuterStride<>>;
using CStrided = Eigen::Map<const RowMat, Eigen::Unaligned, Eigen::OuterStride<>>;

// 64-byte aligned, so Eigen's vectorised loops split work the same way on every
// call: results then do not depend on where a buffer happened to be allocated.
using Buffer = std::vector<float, Eigen::aligned_allocator<float>>;

float* grow(Buffer& v, int64_t n) {
    if (static_cast<int64_t>(v.size()) < n) v.resize(n);
    return v.data();
}

// A linear's weight as the backend reads it: rows [row0, row0 + out) of a
// float32 matrix (f32 points at row0 already) or of a packed bf16 one
// (bf16-resident models).
struct WeightView {
    const float* f32 = nullptr;
    const kernels::PackedBf16* bf16 = nullptr;
    int64_t row0 = 0;
    int64_t out = 0, in = 0;
};

WeightView viewOf(const Linear& l, int64_t row0, int64_t rows, int64_t in) {
    if (l.bf16()) return {nullptr, &l.wBf16, row0, rows, in};
    return {l.w.data() + row0 * in, nullptr, row0, rows, in};
}

int64_t rowsOf(const Linear& l) {
    return l.bf16() ? l.wBf16.out : l.w.rows();
}

// One output range of a linear whose input is shared with other linears.
struct Part {
    HookSite site;
    int64_t rowBegin;
    int64_t rows;
};

// One forward's views of the backend's buffers, sized for its N rows.
struct Activations {
    int64_t N;
    float* x;        // [N, C] residual stream
    float* h;        // [N, C] normed
    float* qkv;      // [N, (H + 2Hkv)·hd]
    float* tmp;      // [N, C] attn_out / mlp_out
    float* up;       // [N, F] GPT-2 c_fc; [N, 2F] Llama gate|up
    float* act;      // [N, F] the MLP's activation (GPT-2: up itself)
    float* attnRes;  // [N, C] parallel residual: the attention output kept for the block's end
};

// cos/sin of RoPE for one base and scaling: [maxSeqLen, dims/2], float like HF.
struct RopeTable {
    std::vector<float> cos, sin;
    int len = 0, half = 0;
    float theta = 0.0f, scale = 0.0f;
    void prepare(int maxLen, int dims, float base, float linearScale);
};

void RopeTable::prepare(int maxLen, int dims, float base, float linearScale) {
    const int h = dims / 2;
    if (len == maxLen && half == h && theta == base && scale == linearScale) return;
    cpu::ropeAngles(maxLen, dims, base, linearScale, cos, sin);
    len = maxLen;
    half = h;
    theta = base;
    scale = linearScale;
}

class CpuBackend final : public ForwardBackend {
public:
    explicit CpuBackend(bool bf16 = false, FirstKeyAttention* firstKey = nullptr)
        : m_firstKey(firstKey), m_bf16(bf16) {}
    const char* name() const override { return m_bf16 ? "cpu-bf16" : "cpu"; }
    void weightsChanged() override { m_packed.clear(); }
    Status forward(const ModelConfig& cfg, const ModelWeights& w, const Batch& batch,
                   const ForwardOptions& opt, Logits* out) override;
    Status forwardImpl(const ModelConfig& cfg, const ModelWeights& w, const Batch& batch,
                       const ForwardOptions& opt, Logits* out);

private:
    // forwardImpl's phases, in order. They work in the member buffers, which
    // only grow, so a decode step allocates nothing.
    void bindRows(const Batch& batch, const ForwardOptions& opt, const KvCache::Impl* cache);
    int layersToRun(const ModelConfig& cfg, const ForwardOptions& opt, bool cached) const;
    Activations growBuffers(const ModelConfig& cfg, int64_t N);
    void embed(const ModelConfig& cfg, const ModelWeights& w, const Batch& batch, float* x);
    void attentionBlock(const ModelConfig& cfg, int layer, const LayerWeights& lw,
                        KvCache::Impl* cache, const std::vector<int>& slots, const Activations& a);
    void mlpBlock(const ModelConfig& cfg, int layer, const LayerWeights& lw, const Activations& a);
    Status finalNormAndLogits(const ModelConfig& cfg, const ModelWeights& w, const Batch& batch,
                              const ForwardOptions& opt, const Activations& a, Logits* out);

    void resolveHooks(const ModelConfig& cfg, const Hooks* hooks);
    bool has(int layer, HookSite site) const {
        return !m_table[layer * kHookSitesPerLayer + static_cast<int>(site)].empty();
    }
    void call(int layer, HookSite site, float* data, int64_t rows, int64_t cols);
    void prepareRope(const ModelConfig& cfg);
    void applyRope(const ModelConfig& cfg, int layer, float* qkv, int64_t N, int64_t ld);
    void projectQkv(const ModelConfig& cfg, int layer, const LayerWeights& lw,
                    const Activations& a);
    void gatedActivation(const ModelConfig& cfg, const Activations& a);
    void sharedInputLinear(int layer, const float* h, int64_t N, int64_t C, const Linear& lin,
                           const Part* parts, int nParts, float* Y, int64_t ldy,
                           cpu::Epilogue epilogue = cpu::Epilogue::kNone);
    // One module's linear: the caller's LinearFn when it takes it, else cpu::linear.
    void moduleLinear(int layer, HookSite site, const float* X, int64_t ldx, int64_t N,
                      const WeightView& W, const float* b, float* Y, int64_t ldy,
                      cpu::Epilogue epilogue = cpu::Epilogue::kNone);
    void attention(const ModelConfig& cfg, int layer, KvCache::Impl* cache,
                   const std::vector<int>& slots, int64_t N);
    // Adds head h's attention on key 0 (queries at positions ≥ 1) to m_firstKey.
    void addFirstKeyMass(int layer, int head, const Eigen::Map<RowMat>& S, const SeqRows& sr);
    // cpu::linear, or its bf16 counterpart in bf16 mode.
    void linear(const float* X, int64_t ldx, int64_t N, const WeightView& W, const float* b,
                float* Y, int64_t ldy, cpu::Epilogue epilogue = cpu::Epilogue::kNone);
    // bf16-resident weights: read in place by the bf16 GEMM, or converted to
    // float32 one tile of rows at a time for float32 compute.
    void residentBf16Linear(const float* X, int64_t ldx, int64_t N, const WeightView& W,
                            const float* b, float* Y, int64_t ldy);
    void tiledF32Linear(const float* X, int64_t ldx, int64_t N, const WeightView& W, const float* b,
                        float* Y, int64_t ldy, cpu::Epilogue epilogue);

    struct Entry {
        std::string_view name;
        const HookFn* fn;
    };
    std::vector<std::vector<Entry>>
        m_table;  // [(layers + 1) · sites]; final norm at layers · sites
    std::vector<SeqRows> m_seqs;
    const LinearFn* m_linearFn = nullptr;     // this forward's ForwardOptions::linearFn
    FirstKeyAttention* m_firstKey = nullptr;  // makeFirstKeyAttentionBackend's statistics
    std::vector<int64_t> m_rowPos;            // [N] position of each row in its sequence

    Buffer m_x;                    // [N, C] residual stream
    Buffer m_h;                    // [N, C] normed
    Buffer m_copy;                 // [N, C] a hooked linear's private copy of a shared input
    Buffer m_qkv;                  // [N, (H + 2Hkv)·hd]
    Buffer m_att;                  // [N, H·hd] heads' outputs, concatenated
    Buffer m_tmp;                  // [N, C] attn_out / mlp_out
    Buffer m_up;                   // [N, F] GPT-2 c_fc; [N, 2F] Llama gate|up
    Buffer m_act;                  // [N, F] Llama act(gate)·up
    Buffer m_last;                 // [nSeq, C] last rows, for LogitsWanted::kLast
    Buffer m_attnRes;              // [N, C] parallel residual: attention output
    std::vector<Buffer> m_scores;  // per thread [T, Tk]
    Buffer m_partY;                // [N, panels·16] a bf16-resident part that is not panel-aligned
    Buffer m_tile;                 // [rows, in] float32 tile of bf16-resident weights
    Buffer m_moduleW;              // [out, in] one bf16-resident module in float32, for a LinearFn

    const bool m_bf16;
    // bf16 mode: packed copies of the weights, made on first use and keyed by
    // the f32 weights' address (a hooked part of a fused linear gets its own).
    std::unordered_map<const float*, kernels::PackedBf16> m_packed;

    // Two threads halve a forward on an idle machine, but on a busy one each
    // fork waits for a descheduled thread and one thread is several times
    // faster. So each batch size class times both choices now and then and
    // keeps the faster; the numbers are the same either way (fixed chunking).
    struct SmallStepTuner {
        double seconds[2] = {0.0, 0.0};  // smoothed time per token: [one thread, all threads]
        int64_t steps = 0;
        int64_t interval = 16, nextCheck = 19;  // when to re-check the slower choice
        int pick() const;
        void record(int choice, double s);
    } m_tuners[4];  // by rows: ≤ 16 (decode), ≤ 128, ≤ 1024, more

    // RoPE tables: global layers, and sliding layers when they have their own base.
    RopeTable m_ropeGlobal, m_ropeLocal;
};

int CpuBackend::SmallStepTuner::pick() const {
    // The first pass (a warm-up, not recorded), then one timed pass of each
    // choice: all threads, then one.
    if (steps < 3) return steps < 2 ? 1 : 0;
    const int best = seconds[1] < seconds[0] ? 1 : 0;
    return steps >= nextCheck ? 1 - best : best;
}

void CpuBackend::SmallStepTuner::record(int choice, double s) {
    // The first pass carries one-time costs (bf16 packing of every weight,
    // first-touch page faults) that once made prefill settle on one thread
    // for good: it is not compared.
    if (steps++ == 0) return;
    const int best = seconds[1] < seconds[0] ? 1 : 0;
    seconds[choice] = seconds[choice] == 0.0 ? s : 0.7 * seconds[choice] + 0.3 * s;
    if (steps > 3 && choice != best) {
        // A re-check of the slower choice: if it lost again, wait twice as long
        // before the next one (on a busy machine a re-check can cost 20 steps).
        interval = seconds[choice] >= seconds[best] ? std::min<int64_t>(2 * interval, 4096) : 16;
        nextCheck = steps + interval;
    }
}

void CpuBackend::resolveHooks(const ModelConfig& cfg, const Hooks* hooks) {
    const size_t n = size_t(cfg.nLayers + 1) * kHookSitesPerLayer;
    if (m_table.size() != n) m_table.assign(n, {});
    for (auto& e : m_table) e.clear();
    if (!hooks) return;
    for (const auto& [name, fns] : hooks->all()) {
        auto id = parseHookName(cfg, name);
        if (!id.ok()) continue;  // validated by Model::forward
        const size_t idx = id->isFinalNorm()
                               ? size_t(cfg.nLayers) * kHookSitesPerLayer
                               : size_t(id->layer) * kHookSitesPerLayer + int(id->site);
        for (const HookFn& fn : fns) m_table[idx].push_back({name, &fn});
    }
}

void CpuBackend::call(int layer, HookSite site, float* data, int64_t rows, int64_t cols) {
    const auto& entries = m_table[layer * kHookSitesPerLayer + static_cast<int>(site)];
    if (entries.empty()) return;
    HookContext ctx;
    ctx.id = HookId{layer, site};
    if (layer * kHookSitesPerLayer == static_cast<int>(m_table.size()) - kHookSitesPerLayer)
        ctx.id = HookId{-1, HookSite::kResidPost};
    ctx.seqs = &m_seqs;
    for (const Entry& e : entries) {
        ctx.name = e.name;
        (*e.fn)(ctx, ActivationBlock{data, rows, cols});
    }
}

void CpuBackend::prepareRope(const ModelConfig& cfg) {
    m_ropeGlobal.prepare(cfg.maxSeqLen, cfg.ropeDims(), cfg.ropeTheta, cfg.ropeScale);
    if (cfg.ropeLocalTheta > 0)
        m_ropeLocal.prepare(cfg.maxSeqLen, cfg.ropeDims(), cfg.ropeLocalTheta, 1.0f);
}

// Rotates the leading ropeDims() of the q and k heads of every row by its
// position, in place.
void CpuBackend::applyRope(const ModelConfig& cfg, int layer, float* qkv, int64_t N, int64_t ld) {
    const bool local = cfg.ropeLocalTheta > 0 && cfg.isSliding(layer);
    const RopeTable& table = local ? m_ropeLocal : m_ropeGlobal;
    const int hd = cfg.headDim, half = cfg.ropeDims() / 2, heads = cfg.nHeads + cfg.nKvHeads;
    const bool interleaved = cfg.rope == RopeLayout::kInterleaved;
#pragma omp parallel for schedule(static) if (N * heads * hd > (1 << 15))
    for (int64_t r = 0; r < N; ++r) {
        const float* cs = table.cos.data() + m_rowPos[r] * half;
        const float* sn = table.sin.data() + m_rowPos[r] * half;
        for (int h = 0; h < heads; ++h) {
            float* v = qkv + r * ld + int64_t(h) * hd;
            for (int i = 0; i < half; ++i) {
                float* a = interleaved ? v + 2 * i : v + i;
                float* b = interleaved ? v + 2 * i + 1 : v + i + half;
                const float x0 = *a, x1 = *b;
                *a = x0 * cs[i] - x1 * sn[i];
                *b = x0 * sn[i] + x1 * cs[i];
            }
        }
    }
}

void CpuBackend::sharedInputLinear(int layer, const float* h, int64_t N, int64_t C,
                                   const Linear& lin, const Part* parts, int nParts, float* Y,
                                   int64_t ldy, cpu::Epilogue epilogue) {
    const float* bias = lin.b.size() ? lin.b.data() : nullptr;
    bool hooked = false;
    for (int p = 0; p < nParts; ++p) hooked = hooked || has(layer, parts[p].site);
    if (!hooked && !m_linearFn) {
        linear(h, C, N, viewOf(lin, 0, rowsOf(lin), C), bias, Y, ldy, epilogue);
        return;
    }
    // Each hooked linear gets its own copy, so replacing its input leaves its siblings alone.
    for (int p = 0; p < nParts; ++p) {
        const Part& part = parts[p];
        const float* src = h;
        if (has(layer, part.site)) {
            float* copy = grow(m_copy, N * C);
            std::memcpy(copy, h, sizeof(float) * N * C);
            call(layer, part.site, copy, N, C);
            src = copy;
        }
        moduleLinear(layer, part.site, src, C, N, viewOf(lin, part.rowBegin, part.rows, C),
                     bias ? bias + part.rowBegin : nullptr, Y + part.rowBegin, ldy, epilogue);
    }
}

void CpuBackend::moduleLinear(int layer, HookSite site, const float* X, int64_t ldx, int64_t N,
                              const WeightView& W, const float* b, float* Y, int64_t ldy,
                              cpu::Epilogue epilogue) {
    if (m_linearFn) {
        const int64_t out = W.out, in = W.in;
        const float* Wf = W.f32;
        if (W.bf16) {  // the LinearFn reads float32: this module's, converted
            Wf = grow(m_moduleW, out * in);
            kernels::unpackBf16Rows(*W.bf16, W.row0, out, m_moduleW.data());
        }
        const LinearCall call{HookId{layer, site}, X, ldx, N, in, Wf, out, b, Y, ldy, &m_seqs};
        if ((*m_linearFn)(call)) {
            if (epilogue == cpu::Epilogue::kGeluTanh) {
                const float kS = 0.7978845608028654f;  // sqrt(2/pi), as cpu::linear's epilogue
                for (int64_t r = 0; r < N; ++r)
                    for (int64_t o = 0; o < out; ++o) {
                        float& a = Y[r * ldy + o];
                        a = 0.5f * a * (1.0f + std::tanh(kS * (a + 0.044715f * a * a * a)));
                    }
            }
            return;
        }
    }
    linear(X, ldx, N, W, b, Y, ldy, epilogue);
}

void CpuBackend::linear(const float* X, int64_t ldx, int64_t N, const WeightView& W, const float* b,
                        float* Y, int64_t ldy, cpu::Epilogue epilogue) {
    const int64_t out = W.out, in = W.in;
    if (W.bf16 && !m_bf16) {
        tiledF32Linear(X, ldx, N, W, b, Y, ldy, epilogue);
        return;
    }
    if (W.bf16) {
        residentBf16Linear(X, ldx, N, W, b, Y, ldy);
    } else if (!m_bf16) {
        cpu::linear(X, ldx, N, W.f32, out, in, b, Y, ldy, epilogue);
        return;
    } else {
        auto it = m_packed.find(W.f32);
        if (it == m_packed.end() || it->second.out != out || it->second.in != in)
            it = m_packed.insert_or_assign(W.f32, kernels::packBf16(W.f32, out, in)).first;
        kernels::linearBf16(X, ldx, N, it->second, b, Y, ldy);
    }
    if (epilogue == cpu::Epilogue::kGeluTanh) cpu::geluTanh(Y, N, out, ldy);
}

void CpuBackend::residentBf16Linear(const float* X, int64_t ldx, int64_t N, const WeightView& W,
                                    const float* b, float* Y, int64_t ldy) {
    constexpr int64_t kPanel = 16;  // outputs per panel of the packed layout
    const kernels::PackedBf16& P = *W.bf16;
    const int64_t p0 = W.row0 / kPanel, p1 = (W.row0 + W.out + kPanel - 1) / kPanel;
    if (W.row0 % kPanel == 0 && (W.out % kPanel == 0 || W.row0 + W.out == P.out)) {
        kernels::linearBf16Panels(X, ldx, N, P, p0, p1, b, Y, ldy);
        return;
    }
    // A part of a fused matrix that starts or ends inside a panel (a hooked
    // gate of a 172-wide MLP): its panels into scratch, then its columns.
    const int64_t ld = (p1 - p0) * kPanel, skip = W.row0 - p0 * kPanel;
    float* s = grow(m_partY, N * ld);
    kernels::linearBf16Panels(X, ldx, N, P, p0, p1, nullptr, s, ld);
    for (int64_t r = 0; r < N; ++r)
        for (int64_t o = 0; o < W.out; ++o)
            Y[r * ldy + o] = s[r * ld + skip + o] + (b ? b[o] : 0.0f);
}

void CpuBackend::tiledF32Linear(const float* X, int64_t ldx, int64_t N, const WeightView& W,
                                const float* b, float* Y, int64_t ldy, cpu::Epilogue epilogue) {
    // Tiles of about 8 MiB: large enough for an efficient sgemm over a prompt,
    // small enough to stay beside the bf16 weights without counting.
    const int64_t tileRows =
        std::clamp<int64_t>((int64_t(1) << 21) / std::max<int64_t>(W.in, 1) / 16 * 16, 16, 4096);
    for (int64_t o = 0; o < W.out; o += tileRows) {
        const int64_t n = std::min(tileRows, W.out - o);
        float* tile = grow(m_tile, n * W.in);
        kernels::unpackBf16Rows(*W.bf16, W.row0 + o, n, tile);
        cpu::linear(X, ldx, N, tile, n, W.in, b ? b + o : nullptr, Y + o, ldy, epilogue);
    }
}

void CpuBackend::attention(const ModelConfig& cfg, int layer, KvCache::Impl* cache,
                           const std::vector<int>& slots, int64_t N) {
    const int H = cfg.nHeads, Hkv = cfg.nKvHeads, hd = cfg.headDim, group = H / Hkv;
    const int64_t ldqkv = int64_t(H + 2 * Hkv) * hd;  // row stride of m_qkv
    const int64_t ldatt = int64_t(H) * hd;
    const int64_t kvDim = int64_t(Hkv) * hd;
    const int nSeq = static_cast<int>(m_seqs.size());
    const float scale = cfg.attnScale > 0 ? cfg.attnScale : 1.0f / std::sqrt(float(hd));
    const float cap = cfg.attnSoftcap;
    // A sliding layer lets a query see itself and the window - 1 keys before it.
    const int64_t window = cfg.isSliding(layer) ? cfg.slidingWindow : 0;
    float* qkv = m_qkv.data();
    float* att = grow(m_att, N * ldatt);

    if (cache) {
        // Append this step's keys (already rotated) and values to each sequence's slot.
        for (int s = 0; s < nSeq; ++s) {
            const SeqRows& sr = m_seqs[s];
            const int slot = slots.empty() ? s : slots[s];
            float* kc = cache->keys(layer, slot) + sr.pos0 * kvDim;
            float* vc = cache->values(layer, slot) + sr.pos0 * kvDim;
            for (int64_t t = 0; t < sr.rows; ++t) {
                const float* src = qkv + (sr.row0 + t) * ldqkv;
                std::memcpy(kc + t * kvDim, src + int64_t(H) * hd, sizeof(float) * kvDim);
                std::memcpy(vc + t * kvDim, src + int64_t(H + Hkv) * hd, sizeof(float) * kvDim);
            }
        }
    }

    const int threads = omp_get_max_threads();
    if (static_cast<int>(m_scores.size()) < threads) m_scores.resize(threads);
    const int64_t items = int64_t(nSeq) * H;
    // Fork only when the heads carry enough work: a fork costs microseconds, and
    // much more when the other core is busy.
    int64_t work = 0;
    for (const SeqRows& sr : m_seqs) work += sr.rows * (sr.pos0 + sr.rows);
    work *= int64_t(H) * hd;
    const int saved = omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(work > (1 << 17) ? threads : 1)
    for (int64_t item = 0; item < items; ++item) {
        omp_set_num_threads(1);  // Eigen must not fork inside a head
        const int s = static_cast<int>(item / H), h = static_cast<int>(item % H), g = h / group;
        const SeqRows& sr = m_seqs[s];
        const int64_t T = sr.rows, Tk = sr.pos0 + sr.rows;
        if (T == 0) continue;
        const float* qp = qkv + sr.row0 * ldqkv + int64_t(h) * hd;
        const float *kp, *vp;
        int64_t ldkv;
        if (cache) {
            const int slot = slots.empty() ? s : slots[s];
            kp = cache->keys(layer, slot) + int64_t(g) * hd;
            vp = cache->values(layer, slot) + int64_t(g) * hd;
            ldkv = kvDim;
        } else {
            kp = qkv + sr.row0 * ldqkv + int64_t(H + g) * hd;
            vp = qkv + sr.row0 * ldqkv + int64_t(H + Hkv + g) * hd;
            ldkv = ldqkv;
        }
        CStrided Q(qp, T, hd, Eigen::OuterStride<>(ldqkv));   // [T, hd]
        CStrided K(kp, Tk, hd, Eigen::OuterStride<>(ldkv));   // [Tk, hd]
        CStrided Vm(vp, Tk, hd, Eigen::OuterStride<>(ldkv));  // [Tk, hd]
        Buffer& buf = m_scores[omp_get_thread_num()];
        Eigen::Map<RowMat> S(grow(buf, T * Tk), T, Tk);  // [T, Tk]
        kernels::gemm(Q, kernels::Op::kN, K, kernels::Op::kT, S);
        for (int64_t i = 0; i < T; ++i) {
            const int64_t visible = sr.pos0 + i + 1;  // causal: keys at positions ≤ own
            const int64_t first = window > 0 ? std::max<int64_t>(0, visible - window) : 0;
            auto row = S.row(i).segment(first, visible - first).array();
            row *= scale;
            if (cap > 0) row = (row / cap).tanh() * cap;
            const float m = row.maxCoeff();
            row = (row - m).exp();
            row /= row.sum();
            if (first > 0) S.row(i).head(first).setZero();
            if (visible < Tk) S.row(i).tail(Tk - visible).setZero();
        }
        if (m_firstKey) addFirstKeyMass(layer, h, S, sr);
        Strided O(att + sr.row0 * ldatt + int64_t(h) * hd, T, hd,
                  Eigen::OuterStride<>(ldatt));  // [T, hd]
        kernels::gemm(S, kernels::Op::kN, Vm, kernels::Op::kN, O);
    }
    omp_set_num_threads(saved);
}

void CpuBackend::addFirstKeyMass(int layer, int head, const Eigen::Map<RowMat>& S,
                                 const SeqRows& sr) {
    double mass = 0;
    int64_t queries = 0;
    for (int64_t i = 0; i < sr.rows; ++i) {
        if (sr.pos0 + i == 0) continue;  // the first query has nowhere else to look
        mass += S(i, 0);
        ++queries;
    }
    double& total = m_firstKey->mass[size_t(layer) * m_firstKey->heads + head];
#pragma omp atomic
    total += mass;
    // Every head sees the same queries: head 0 counts them.
    if (head == 0) {
#pragma omp atomic
        m_firstKey->queries[layer] += queries;
    }
}

Status CpuBackend::forward(const ModelConfig& cfg, const ModelWeights& w, const Batch& batch,
                           const ForwardOptions& opt, Logits* out) {
    if (m_firstKey && (m_firstKey->layers != cfg.nLayers || m_firstKey->heads != cfg.nHeads ||
                       m_firstKey->mass.size() != size_t(cfg.nLayers) * size_t(cfg.nHeads) ||
                       m_firstKey->queries.size() != size_t(cfg.nLayers)))
        return Status::invalidArgument(
            "forward: the first-key attention statistics were not reset to this model's " +
            std::to_string(cfg.nLayers) + " layers × " + std::to_string(cfg.nHeads) + " heads");
    const int maxThreads = omp_get_max_threads();
    if (maxThreads < 2) return forwardImpl(cfg, w, batch, opt, out);
    const int64_t N = batch.numTokens();
    const int bucket = N <= cpu::smallRowsMaxRows() ? 0 : N <= 128 ? 1 : N <= 1024 ? 2 : 3;
    SmallStepTuner& tuner = m_tuners[bucket];
    const int choice = tuner.pick();
    omp_set_num_threads(choice == 0 ? 1 : maxThreads);
    const double t0 = omp_get_wtime();
    Status s = forwardImpl(cfg, w, batch, opt, out);
    tuner.record(choice, (omp_get_wtime() - t0) / double(std::max<int64_t>(N, 1)));
    omp_set_num_threads(maxThreads);
    return s;
}

Status CpuBackend::forwardImpl(const ModelConfig& cfg, const ModelWeights& w, const Batch& batch,
                               const ForwardOptions& opt, Logits* out) {
    KvCache::Impl* cache = opt.cache ? opt.cache->impl() : nullptr;
    bindRows(batch, opt, cache);
    resolveHooks(cfg, opt.hooks);
    m_linearFn = opt.linearFn;
    if (cfg.rope != RopeLayout::kNone) prepareRope(cfg);
    const int layers = layersToRun(cfg, opt, cache != nullptr);
    const Activations a = growBuffers(cfg, batch.numTokens());
    embed(cfg, w, batch, a.x);
    for (int L = 0; L < layers; ++L) {
        call(L, HookSite::kResidPre, a.x, a.N, cfg.dModel);
        attentionBlock(cfg, L, w.layers[L], cache, opt.cacheSlots, a);
        mlpBlock(cfg, L, w.layers[L], a);
    }
    if (layers < cfg.nLayers) return Status::success();
    return finalNormAndLogits(cfg, w, batch, opt, a, out);
}

// Each sequence's rows and the position of every row: after its cache slot's
// length when continuing a cached sequence, else from 0.
void CpuBackend::bindRows(const Batch& batch, const ForwardOptions& opt,
                          const KvCache::Impl* cache) {
    const int nSeq = batch.numSeqs();
    m_seqs.resize(nSeq);
    m_rowPos.resize(batch.numTokens());
    for (int s = 0; s < nSeq; ++s) {
        const int slot = opt.cacheSlots.empty() ? s : opt.cacheSlots[s];
        const int64_t pos0 = cache ? cache->lengths[slot] : 0;
        m_seqs[s] = SeqRows{s, batch.offsets[s], batch.seqLen(s), pos0};
        for (int64_t t = 0; t < batch.seqLen(s); ++t) m_rowPos[batch.offsets[s] + t] = pos0 + t;
    }
}

// How many blocks to run: capture without logits stops after its last hook.
int CpuBackend::layersToRun(const ModelConfig& cfg, const ForwardOptions& opt, bool cached) const {
    if (opt.logits != LogitsWanted::kNone || cached || !opt.stopAfterLastHook || m_firstKey)
        return cfg.nLayers;
    int layers = 0;
    for (int L = 0; L <= cfg.nLayers; ++L)
        for (int s = 0; s < kHookSitesPerLayer; ++s)
            if (has(L, static_cast<HookSite>(s))) layers = std::min(L + 1, cfg.nLayers);
    if (has(cfg.nLayers, HookSite::kResidPre)) layers = cfg.nLayers;
    return layers;
}

Activations CpuBackend::growBuffers(const ModelConfig& cfg, int64_t N) {
    const int64_t C = cfg.dModel, F = cfg.dMlp;
    const int64_t ldqkv = int64_t(cfg.nHeads + 2 * cfg.nKvHeads) * cfg.headDim;
    const bool gated = cfg.gatedMlp();
    Activations a;
    a.N = N;
    a.x = grow(m_x, N * C);
    a.h = grow(m_h, N * C);
    a.qkv = grow(m_qkv, N * ldqkv);
    a.tmp = grow(m_tmp, N * C);
    a.up = grow(m_up, N * (gated ? 2 * F : F));
    a.act = gated ? grow(m_act, N * F) : a.up;
    a.attnRes = cfg.parallelResidual ? grow(m_attnRes, N * C) : nullptr;
    return a;
}

// x[r] = E[token] (+ P[pos] for GPT-2) (· embedScale for Gemma).
void CpuBackend::embed(const ModelConfig& cfg, const ModelWeights& w, const Batch& batch,
                       float* x) {
    const int64_t N = batch.numTokens(), C = cfg.dModel;
    const bool gpt2 = cfg.arch == Arch::kGpt2;
    const bool packed = w.bf16Resident();
#pragma omp parallel for schedule(static) if (N * C > (1 << 15))
    for (int64_t r = 0; r < N; ++r) {
        float* xr = x + r * C;
        const float* e = xr;  // bf16-resident: the row converted in place first
        if (packed)
            kernels::bf16RowToFloat(w.tokenEmbeddingBf16, batch.tokens[r], xr);
        else
            e = w.tokenEmbedding.data() + int64_t(batch.tokens[r]) * C;
        if (gpt2) {
            const float* p = w.positionEmbedding.data() + m_rowPos[r] * C;
            for (int64_t c = 0; c < C; ++c) xr[c] = e[c] + p[c];
        } else if (cfg.embedScale > 0) {
            for (int64_t c = 0; c < C; ++c) xr[c] = e[c] * cfg.embedScale;
        } else if (!packed) {
            std::memcpy(xr, e, sizeof(float) * C);
        }
    }
}

// The block's pre-attention or pre-MLP norm of x into h: LayerNorm or RMSNorm.
void normRows(const ModelConfig& cfg, const Norm& n, float* out, const float* x, int64_t N) {
    const int64_t C = cfg.dModel;
    if (cfg.layerNorm())
        cpu::layerNorm(out, x, N, C, n.weight.data(), n.bias.data(), cfg.normEps);
    else
        cpu::rmsNorm(out, x, N, C, n.weight.data(), cfg.normEps);
}

// h → q | k | v, then the per-head q/k norms and RoPE.
void CpuBackend::projectQkv(const ModelConfig& cfg, int L, const LayerWeights& lw,
                            const Activations& a) {
    const int64_t N = a.N, C = cfg.dModel, hd = cfg.headDim;
    const int64_t H = cfg.nHeads, Hkv = cfg.nKvHeads;
    const int64_t ldqkv = (H + 2 * Hkv) * hd;
    if (cfg.fusedQkv()) {
        const Part parts[] = {{HookSite::kAttnIn, 0, ldqkv}};
        sharedInputLinear(L, a.h, N, C, lw.qkv, parts, 1, a.qkv, ldqkv);
    } else {
        const Part parts[] = {{HookSite::kAttnIn, 0, H * hd},
                              {HookSite::kKIn, H * hd, Hkv * hd},
                              {HookSite::kVIn, (H + Hkv) * hd, Hkv * hd}};
        sharedInputLinear(L, a.h, N, C, lw.qkv, parts, 3, a.qkv, ldqkv);
    }
    if (cfg.qkNorm) {
        cpu::headRmsNorm(a.qkv, N, ldqkv, int(H), int(hd), lw.qNorm.data(), cfg.normEps);
        cpu::headRmsNorm(a.qkv + H * hd, N, ldqkv, int(Hkv), int(hd), lw.kNorm.data(), cfg.normEps);
    }
    if (cfg.rope != RopeLayout::kNone) applyRope(cfg, L, a.qkv, N, ldqkv);
}

// norm → qkv → RoPE → causal attention → out proj (→ post-norm) → residual.
// With a parallel residual the output waits in a.attnRes for the MLP's.
void CpuBackend::attentionBlock(const ModelConfig& cfg, int L, const LayerWeights& lw,
                                KvCache::Impl* cache, const std::vector<int>& slots,
                                const Activations& a) {
    const int64_t N = a.N, C = cfg.dModel, width = int64_t(cfg.nHeads) * cfg.headDim;
    normRows(cfg, lw.ln1, a.h, a.x, N);
    projectQkv(cfg, L, lw, a);
    attention(cfg, L, cache, slots, N);
    float* att = m_att.data();  // [N, H·hd], grown by attention()
    call(L, HookSite::kAttnOutProjIn, att, N, width);
    float* out = cfg.parallelResidual ? a.attnRes : a.tmp;
    moduleLinear(L, HookSite::kAttnOutProjIn, att, width, N, viewOf(lw.attnOut, 0, C, width),
                 lw.attnOut.b.size() ? lw.attnOut.b.data() : nullptr, out, C);
    if (cfg.sandwichNorms) normRows(cfg, lw.postAttn, out, out, N);
    call(L, HookSite::kAttnOut, out, N, C);
    if (cfg.parallelResidual) return;
    cpu::addInPlace(a.x, out, N * C);
    call(L, HookSite::kResidMid, a.x, N, C);
}

// The gated MLP's act(gate) · up, from a.up [N, 2F] into a.act [N, F].
void CpuBackend::gatedActivation(const ModelConfig& cfg, const Activations& a) {
    const int64_t N = a.N, F = cfg.dMlp;
    if (cfg.activation == Activation::kGeluTanh)
        cpu::geluTanhMul(a.act, a.up, N, F);
    else if (cfg.activation == Activation::kGeluErf)
        cpu::geluErfMul(a.act, a.up, N, F);
    else
        cpu::siluMul(a.act, a.up, N, F);
}

// norm → MLP (→ post-norm) → residual.
void CpuBackend::mlpBlock(const ModelConfig& cfg, int L, const LayerWeights& lw,
                          const Activations& a) {
    const int64_t N = a.N, C = cfg.dModel, F = cfg.dMlp;
    normRows(cfg, lw.ln2, a.h, a.x, N);
    if (!cfg.gatedMlp()) {
        const Part parts[] = {{HookSite::kMlpIn, 0, F}};
        const bool tanhGelu = cfg.activation == Activation::kGeluTanh;
        sharedInputLinear(L, a.h, N, C, lw.up, parts, 1, a.up, F,
                          tanhGelu ? cpu::Epilogue::kGeluTanh : cpu::Epilogue::kNone);
        if (cfg.activation == Activation::kGeluErf) cpu::geluErf(a.up, N * F);
        if (cfg.activation == Activation::kRelu) cpu::relu(a.up, N * F);
    } else {
        const Part parts[] = {{HookSite::kMlpIn, 0, F}, {HookSite::kUpIn, F, F}};
        sharedInputLinear(L, a.h, N, C, lw.up, parts, 2, a.up, 2 * F);
        gatedActivation(cfg, a);
    }
    call(L, HookSite::kMlpPost, a.act, N, F);
    call(L, HookSite::kMlpOutProjIn, a.act, N, F);
    moduleLinear(L, HookSite::kMlpOutProjIn, a.act, F, N, viewOf(lw.down, 0, C, F),
                 lw.down.b.size() ? lw.down.b.data() : nullptr, a.tmp, C);
    if (cfg.sandwichNorms) normRows(cfg, lw.postMlp, a.tmp, a.tmp, N);
    call(L, HookSite::kMlpOut, a.tmp, N, C);
    // GPT-NeoX sums (mlp_out + attn_out) + resid_pre, in that order.
    if (cfg.parallelResidual) cpu::addInPlace(a.tmp, a.attnRes, N * C);
    cpu::addInPlace(a.x, a.tmp, N * C);
    call(L, HookSite::kResidPost, a.x, N, C);
}

// Final norm (skipped when neither logits nor its hook want it) and unembedding
// of every row, or of each sequence's last row.
Status CpuBackend::finalNormAndLogits(const ModelConfig& cfg, const ModelWeights& w,
                                      const Batch& batch, const ForwardOptions& opt,
                                      const Activations& a, Logits* out) {
    const int64_t N = a.N, C = cfg.dModel, V = cfg.vocabSize;
    const int nSeq = batch.numSeqs();
    if (opt.logits == LogitsWanted::kNone && !has(cfg.nLayers, HookSite::kResidPre))
        return Status::success();
    normRows(cfg, w.lnFinal, a.h, a.x, N);
    call(cfg.nLayers, HookSite::kResidPre, a.h, N, C);
    if (opt.logits == LogitsWanted::kNone) return Status::success();

    const WeightView U = w.bf16Resident() ? WeightView{nullptr, &w.unembedBf16(), 0, V, C}
                                          : WeightView{w.unembed().data(), nullptr, 0, V, C};
    if (opt.logits == LogitsWanted::kAll) {
        out->rows = N;
        out->vocab = V;
        out->data.resize(N * V);
        linear(a.h, C, N, U, nullptr, out->data.data(), V);
        if (cfg.finalSoftcap > 0) cpu::softcap(out->data.data(), N * V, cfg.finalSoftcap);
        return Status::success();
    }
    float* last = grow(m_last, int64_t(nSeq) * C);  // [nSeq, C]
    for (int s = 0; s < nSeq; ++s) {
        const int64_t r = batch.offsets[s + 1] - 1;
        if (r >= batch.offsets[s])
            std::memcpy(last + s * C, a.h + r * C, sizeof(float) * C);
        else
            std::fill(last + s * C, last + (s + 1) * C, 0.0f);
    }
    out->rows = nSeq;
    out->vocab = V;
    out->data.resize(int64_t(nSeq) * V);
    linear(last, C, nSeq, U, nullptr, out->data.data(), V);
    if (cfg.finalSoftcap > 0) cpu::softcap(out->data.data(), int64_t(nSeq) * V, cfg.finalSoftcap);
    return Status::success();
}

}  // namespace

std::unique_ptr<ForwardBackend> makeCpuBackend() {
    return std::make_unique<CpuBackend>();
}

std::unique_ptr<ForwardBackend> makeFirstKeyAttentionBackend(FirstKeyAttention* stats) {
    return std::make_unique<CpuBackend>(false, stats);
}

void FirstKeyAttention::reset(int nLayers, int nHeads) {
    layers = nLayers;
    heads = nHeads;
    mass.assign(size_t(nLayers) * size_t(nHeads), 0.0);
    queries.assign(size_t(nLayers), 0);
}

double FirstKeyAttention::mean(int layer, int head) const {
    const int64_t q = queries[size_t(layer)];
    return q > 0 ? mass[size_t(layer) * size_t(heads) + size_t(head)] / double(q) : 0.0;
}

Result<std::unique_ptr<ForwardBackend>> makeCpuBf16Backend() {
    if (!kernels::bf16Supported())
        return Status::unsupported(
            "bf16 compute needs a CPU with AVX-512 BF16 (avx512_bf16); this one has none");
    return std::unique_ptr<ForwardBackend>(std::make_unique<CpuBackend>(true));
}

}  // namespace mono::model
