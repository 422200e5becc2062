#pragma once
// The transformer runtime: load a GPT-2 or Llama model, run a batched forward
// pass with hooks and an optional KV cache, get logits.
//
//   auto model = mono::model::Model::load("models/gpt2");        // folder, .gguf or .bin
//   if (!model.ok()) return model.status();
//   Batch batch = Batch::fromSequences({{1, 403, 407}, {1, 403}});
//   Hooks hooks;
//   hooks.add("blocks.1.hook_resid_post", [&](const HookContext& c, ActivationBlock a) { ... });
//   ForwardOptions opt;  opt.hooks = &hooks;  opt.logits = LogitsWanted::kLast;
//   Logits out;
//   MONO_RETURN_IF_ERROR((*model)->forward(batch, opt, &out));   // out.row(i): last logits of seq
//   i
//
// Thread-safety: forward() may be called from any thread; calls on one Model
// are serialized (each uses the model's scratch buffers). Weights must not be
// edited while a forward runs.
// Threads: the CPU backend uses the OpenMP threads (omp_get_max_threads() of the
// caller) and, per batch-size class, times one thread against all and keeps the
// faster (on a busy machine one thread wins). Results are bitwise the same for
// any thread count.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"
#include "core/model/config.h"
#include "core/model/hook_points.h"

namespace mono::model {

using TokenId = int32_t;
struct ModelWeights;
struct LinearRef;
class ForwardBackend;

// Several sequences packed into rows: tokens of sequence i are
// tokens[offsets[i] .. offsets[i+1]).
struct Batch {
    std::vector<TokenId> tokens;
    std::vector<int64_t> offsets{0};

    static Batch fromSequences(const std::vector<std::vector<TokenId>>& seqs);
    static Batch single(const std::vector<TokenId>& seq) { return fromSequences({seq}); }
    void add(const TokenId* ids, int64_t n);
    int numSeqs() const { return static_cast<int>(offsets.size()) - 1; }
    int64_t numTokens() const { return offsets.back(); }
    int64_t seqLen(int i) const { return offsets[i + 1] - offsets[i]; }
    void clear() {
        tokens.clear();
        offsets.assign(1, 0);
    }
};

// Keys and values of earlier positions, for incremental decoding. One slot per
// concurrent sequence; a forward with a cache appends each sequence's new
// positions to its slot. Created by Model::newKvCache; tied to that model's shape.
class KvCache {
public:
    KvCache();
    KvCache(KvCache&&) noexcept;
    KvCache& operator=(KvCache&&) noexcept;
    ~KvCache();

    int capacity() const;        // positions per slot
    int length(int slot) const;  // positions filled so far
    void reset(int slot);        // forget a slot's positions
    void resetAll();

    struct Impl;
    Impl* impl() const { return m_impl.get(); }

private:
    friend class Model;
    std::unique_ptr<Impl> m_impl;
};

// How a model holds its linear and embedding weights (weights.h): float32, or
// bf16-resident — packed bf16 only, half the memory; f32 checkpoints are
// rounded to bf16 at load. Compute precision is the backend's choice
// (makeCpuBackend converts bf16-resident weights to float32 by tiles,
// makeCpuBf16Backend reads them as they are).
enum class WeightStorage { kF32, kBf16 };

struct LoadOptions {
    WeightStorage storage = WeightStorage::kF32;
};

enum class LogitsWanted {
    kNone,  // no unembedding (capture): the pass may stop after the last hooked layer
    kLast,  // one row per sequence: its last position (zeros for an empty sequence)
    kAll,   // one row per token of the batch, in batch order
};

struct ForwardOptions {
    LogitsWanted logits = LogitsWanted::kAll;
    const Hooks* hooks = nullptr;  // may be null
    // With a cache, sequence i continues slot cacheSlots[i] (or slot i when
    // cacheSlots is empty) at position length(slot); without one, positions start at 0.
    KvCache* cache = nullptr;
    std::vector<int> cacheSlots;
    // With LogitsWanted::kNone and no cache: skip the layers after the last hook.
    bool stopAfterLastHook = true;
    // When set, every block linear (not the unembedding) is computed by it
    // (see LinearCall in hook_points.h); may be null.
    const LinearFn* linearFn = nullptr;
};

// Logits (float32) of the rows asked for: row(r) is [vocab].
struct Logits {
    std::vector<float> data;  // [rows, vocab]
    int64_t rows = 0;
    int64_t vocab = 0;
    const float* row(int64_t r) const { return data.data() + r * vocab; }
    float* row(int64_t r) { return data.data() + r * vocab; }
};

class Model {
public:
    // Loads a Hugging Face folder (config.json + model.safetensors, or sharded
    // model-*.safetensors), a .gguf file, or a llama2.c .bin checkpoint.
    // Errors name the file, the tensor or key, what was expected and what was found.
    static Result<std::shared_ptr<Model>> load(const std::string& path);
    // The same with a choice of weight storage. Before reading any tensor the
    // weights' size in that storage (4 or 2 bytes a value) is checked against
    // the usable memory: ResourceExhausted "needs about N GiB" when it cannot fit.
    static Result<std::shared_ptr<Model>> load(const std::string& path, const LoadOptions& options);

    // A model of the given shape with random weights N(0, 0.02²) (norms at 1, biases
    // at 0), deterministic in `seed`. For benchmarks and tests.
    static Result<std::shared_ptr<Model>> random(const ModelConfig& config, uint64_t seed = 0);

    // Builds a model from weights already in memory; checks every shape against the config.
    static Result<std::shared_ptr<Model>> fromWeights(const ModelConfig& config,
                                                      ModelWeights weights);

    ~Model();
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    const ModelConfig& config() const { return m_config; }
    const std::string& path() const { return m_path; }

    // Runs the batch. Errors: InvalidArgument for a token outside the vocabulary,
    // an unknown hook name, a sequence longer than the context (or the cache
    // capacity), a bad cache slot; an empty sequence is allowed (it has no rows).
    // `out` is reused across calls to avoid allocation; it may be null with kNone.
    Status forward(const Batch& batch, const ForwardOptions& options, Logits* out);

    // A cache with `slots` sequences of up to `capacity` positions (≤ maxSeqLen).
    KvCache newKvCache(int slots, int capacity) const;

    // Mutable weights (layout in weights.h). linear() finds one module of layer
    // L by its hook name suffix ("attn.q_proj", "mlp.c_fc"); NotFound otherwise.
    ModelWeights& weights() { return *m_weights; }
    const ModelWeights& weights() const { return *m_weights; }
    // Unsupported for a bf16-resident model (its Linear::w is empty).
    Result<LinearRef> linear(int layer, std::string_view module);

    WeightStorage weightStorage() const;
    // Bytes of the weights in memory (residentWeightBytes in weights.h).
    int64_t weightBytes() const;
    // Ok for float32 weights; for bf16-resident ones Unsupported
    // "<operation> needs float32 weights ...", for operations that read or
    // edit Linear::w (SmoothQuant folding, fake quantization, logit effects).
    Status requireF32Weights(const std::string& operation) const;
    // Tells the backend that weights() were edited (a GPU copy must be refreshed).
    void weightsChanged();

    // Replaces the backend that runs forward() (the CPU one by default).
    void setBackend(std::unique_ptr<ForwardBackend> backend);
    const ForwardBackend& backend() const { return *m_backend; }

private:
    Model(ModelConfig config, std::unique_ptr<ModelWeights> weights, std::string path);

    ModelConfig m_config;
    std::unique_ptr<ModelWeights> m_weights;
    std::string m_path;
    std::unique_ptr<ForwardBackend> m_backend;
    std::mutex m_mutex;
};

// The seam for other compute backends (CUDA later): runs a forward over a
// model's config and weights. Implementations own their scratch buffers.
class ForwardBackend {
public:
    virtual ~ForwardBackend() = default;
    virtual const char* name() const = 0;
    // Inputs are validated by Model::forward (tokens, slots, lengths, hook names).
    virtual Status forward(const ModelConfig& config, const ModelWeights& weights,
                           const Batch& batch, const ForwardOptions& options, Logits* out) = 0;
    virtual void weightsChanged() {}
};

std::unique_ptr<ForwardBackend> makeCpuBackend();
// The CPU backend with every linear (and the unembedding) in bfloat16: weights
// and inputs rounded to bf16, sums in float32 — about twice the speed, logits
// within ~1% of float32. Unsupported on a CPU without AVX-512 BF16.
Result<std::unique_ptr<ForwardBackend>> makeCpuBf16Backend();

}  // namespace mono::model
