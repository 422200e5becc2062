// Model: owns the config and weights, validates forward requests and hands
// them to the backend; KvCache and Batch bookkeeping.

#include "core/model/model.h"

#include <algorithm>

#include "core/kernels/bf16_pack.h"
#include "core/model/kv_cache_impl.h"
#include "core/model/weights.h"

namespace mono::model {

// ---- Batch ----

Batch Batch::fromSequences(const std::vector<std::vector<TokenId>>& seqs) {
    Batch b;
    for (const auto& s : seqs) b.add(s.data(), static_cast<int64_t>(s.size()));
    return b;
}

void Batch::add(const TokenId* ids, int64_t n) {
    tokens.insert(tokens.end(), ids, ids + n);
    offsets.push_back(offsets.back() + n);
}

// ---- KvCache ----

KvCache::KvCache() = default;
KvCache::KvCache(KvCache&&) noexcept = default;
KvCache& KvCache::operator=(KvCache&&) noexcept = default;
KvCache::~KvCache() = default;

int KvCache::capacity() const {
    return m_impl ? m_impl->capacity : 0;
}
int KvCache::length(int slot) const {
    return m_impl && slot >= 0 && slot < m_impl->slots ? m_impl->lengths[slot] : 0;
}
void KvCache::reset(int slot) {
    if (m_impl && slot >= 0 && slot < m_impl->slots) m_impl->lengths[slot] = 0;
}
void KvCache::resetAll() {
    if (m_impl) std::fill(m_impl->lengths.begin(), m_impl->lengths.end(), 0);
}

KvCache Model::newKvCache(int slots, int capacity) const {
    KvCache cache;
    cache.m_impl = std::make_unique<KvCache::Impl>();
    auto& c = *cache.m_impl;
    c.slots = std::max(slots, 0);
    c.capacity = std::clamp(capacity, 0, m_config.maxSeqLen);
    c.layers = m_config.nLayers;
    c.kvDim = m_config.nKvHeads * m_config.headDim;
    c.lengths.assign(c.slots, 0);
    const size_t n = size_t(c.slots) * c.capacity * c.kvDim;
    c.k.resize(c.layers);
    c.v.resize(c.layers);
    for (int L = 0; L < c.layers; ++L) {
        c.k[L].assign(n, 0.0f);
        c.v[L].assign(n, 0.0f);
    }
    return cache;
}

// ---- Model ----

Model::Model(ModelConfig config, std::unique_ptr<ModelWeights> weights, std::string path)
    : m_config(std::move(config)),
      m_weights(std::move(weights)),
      m_path(std::move(path)),
      m_backend(makeCpuBackend()) {}

Model::~Model() = default;

void Model::weightsChanged() {
    std::lock_guard lock(m_mutex);
    m_backend->weightsChanged();
}

void Model::setBackend(std::unique_ptr<ForwardBackend> backend) {
    std::lock_guard lock(m_mutex);
    if (backend) m_backend = std::move(backend);
}

WeightStorage Model::weightStorage() const {
    return m_weights->bf16Resident() ? WeightStorage::kBf16 : WeightStorage::kF32;
}

int64_t Model::weightBytes() const {
    return residentWeightBytes(*m_weights);
}

Status Model::requireF32Weights(const std::string& operation) const {
    if (!m_weights->bf16Resident()) return Status::success();
    return Status::unsupported(operation + " needs float32 weights, but " +
                               (m_path.empty() ? m_config.name : m_path) +
                               " holds its weights in bf16 (loaded bf16-resident, --weights "
                               "bf16); load it with float32 weights (--weights f32)");
}

int64_t residentWeightBytes(const ModelWeights& w) {
    auto f32 = [](const auto& m) { return int64_t(m.size()) * int64_t(sizeof(float)); };
    auto norm = [&](const Norm& n) { return f32(n.weight) + f32(n.bias); };
    auto linear = [&](const Linear& l) {
        return f32(l.w) + f32(l.b) + kernels::bf16Bytes(l.wBf16);
    };
    int64_t bytes = f32(w.tokenEmbedding) + f32(w.positionEmbedding) + f32(w.unembedding) +
                    kernels::bf16Bytes(w.tokenEmbeddingBf16) +
                    kernels::bf16Bytes(w.unembeddingBf16) + norm(w.lnFinal);
    for (const LayerWeights& lw : w.layers)
        bytes += norm(lw.ln1) + norm(lw.ln2) + norm(lw.postAttn) + norm(lw.postMlp) +
                 f32(lw.qNorm) + f32(lw.kNorm) + linear(lw.qkv) + linear(lw.attnOut) +
                 linear(lw.up) + linear(lw.down);
    return bytes;
}

Result<LinearRef> Model::linear(int layer, std::string_view module) {
    MONO_RETURN_IF_ERROR(requireF32Weights("linear '" + std::string(module) + "' of layer " +
                                           std::to_string(layer) + " (its float32 weight)"));
    if (layer < 0 || layer >= m_config.nLayers)
        return Status::notFound("linear '" + std::string(module) + "': layer " +
                                std::to_string(layer) + " out of range (model has " +
                                std::to_string(m_config.nLayers) + ")");
    LayerWeights& lw = m_weights->layers[layer];
    const int64_t C = m_config.dModel, hd = m_config.headDim;
    const int64_t q = m_config.nHeads * hd, kv = m_config.nKvHeads * hd, F = m_config.dMlp;
    const bool fused = m_config.fusedQkv(), gated = m_config.gatedMlp();
    // Each linear-input site and the rows of its module in the fused matrices.
    struct Entry {
        HookSite site;
        Linear* lin;
        int64_t begin, rows;
    };
    const Entry table[] = {
        {HookSite::kAttnIn, &lw.qkv, 0, fused ? q + 2 * kv : q},
        {HookSite::kKIn, &lw.qkv, q, kv},
        {HookSite::kVIn, &lw.qkv, q + kv, kv},
        {HookSite::kAttnOutProjIn, &lw.attnOut, 0, C},
        {HookSite::kMlpIn, &lw.up, 0, F},
        {HookSite::kUpIn, &lw.up, gated ? F : 0, F},
        {HookSite::kMlpOutProjIn, &lw.down, 0, C},
    };
    for (const Entry& e : table) {
        const char* name = hookSiteSuffix(m_config, e.site);
        if (name && module == name) return LinearRef{e.lin, e.begin, e.rows};
    }
    return Status::notFound("no linear module '" + std::string(module) + "' in a " +
                            archName(m_config.arch) + " block");
}

Status Model::forward(const Batch& batch, const ForwardOptions& options, Logits* out) {
    const int nSeq = batch.numSeqs();
    if (nSeq < 0 || batch.offsets.empty() || batch.offsets.front() != 0 ||
        static_cast<int64_t>(batch.tokens.size()) != batch.numTokens())
        return Status::invalidArgument("forward: malformed batch (offsets do not match tokens)");
    for (int s = 0; s < nSeq; ++s)
        if (batch.offsets[s + 1] < batch.offsets[s])
            return Status::invalidArgument("forward: malformed batch (offsets decrease)");
    for (size_t i = 0; i < batch.tokens.size(); ++i) {
        const TokenId t = batch.tokens[i];
        if (t < 0 || t >= m_config.vocabSize)
            return Status::invalidArgument("forward: token " + std::to_string(t) + " at row " +
                                           std::to_string(i) + " is outside the vocabulary [0, " +
                                           std::to_string(m_config.vocabSize) + ")");
    }
    if (options.logits != LogitsWanted::kNone && !out)
        return Status::invalidArgument("forward: logits requested but no output given");
    if (options.hooks)
        for (const auto& [name, fns] : options.hooks->all()) {
            auto id = parseHookName(m_config, name);
            if (!id.ok()) return id.status().withContext("forward");
        }
    if (options.cache) {
        KvCache::Impl* c = options.cache->impl();
        if (!c || c->layers != m_config.nLayers || c->kvDim != m_config.nKvHeads * m_config.headDim)
            return Status::invalidArgument("forward: the KV cache was not made for this model");
        if (!options.cacheSlots.empty() && static_cast<int>(options.cacheSlots.size()) != nSeq)
            return Status::invalidArgument("forward: " + std::to_string(options.cacheSlots.size()) +
                                           " cache slots given for " + std::to_string(nSeq) +
                                           " sequences");
        for (int s = 0; s < nSeq; ++s) {
            const int slot = options.cacheSlots.empty() ? s : options.cacheSlots[s];
            bool repeated = false;  // quadratic, but allocation-free for the decode loop
            for (int t = 0; t < s && !options.cacheSlots.empty(); ++t)
                repeated = repeated || options.cacheSlots[t] == slot;
            if (slot < 0 || slot >= c->slots || repeated)
                return Status::invalidArgument("forward: cache slot " + std::to_string(slot) +
                                               " of sequence " + std::to_string(s) +
                                               " is out of range or used twice (cache has " +
                                               std::to_string(c->slots) + " slots)");
            if (c->lengths[slot] + batch.seqLen(s) > c->capacity)
                return Status::outOfRange(
                    "forward: sequence " + std::to_string(s) + " would fill cache slot " +
                    std::to_string(slot) + " to " +
                    std::to_string(c->lengths[slot] + batch.seqLen(s)) +
                    " positions, beyond its capacity " + std::to_string(c->capacity));
        }
    } else {
        for (int s = 0; s < nSeq; ++s)
            if (batch.seqLen(s) > m_config.maxSeqLen)
                return Status::outOfRange("forward: sequence " + std::to_string(s) + " has " +
                                          std::to_string(batch.seqLen(s)) +
                                          " tokens, beyond the model's context of " +
                                          std::to_string(m_config.maxSeqLen));
    }

    std::lock_guard lock(m_mutex);
    MONO_RETURN_IF_ERROR(m_backend->forward(m_config, *m_weights, batch, options, out));
    if (options.cache) {
        KvCache::Impl* c = options.cache->impl();
        for (int s = 0; s < nSeq; ++s) {
            const int slot = options.cacheSlots.empty() ? s : options.cacheSlots[s];
            c->lengths[slot] += static_cast<int>(batch.seqLen(s));
        }
    }
    return Status::success();
}

}  // namespace mono::model
