#pragma once
// ModelConfig: the shape and numerics of a decoder-only transformer, read from
// a Hugging Face config.json, GGUF metadata or a llama2.c header. Families:
//   GPT-2     LayerNorm, learned positions, GELU MLP, biases.
//   Llama     RMSNorm, RoPE, SwiGLU MLP, grouped-query attention, no biases.
//   Mistral   Llama with a sliding attention window.
//   Qwen 2    Llama with q/k/v biases (sliding window only with use_sliding_window).
//   Qwen 3    Llama with per-head q/k RMSNorm and an explicit head_dim.
//   Gemma 2   scaled embedding, (1 + w) RMSNorm before and after attention and
//             MLP, GeGLU, soft-capped attention and final logits, sliding and
//             global layers alternating.
//   Gemma 3   Gemma 2 with per-head q/k norms, a layer pattern, a separate RoPE
//             base on sliding layers and RoPE scaling on global ones.
//   GPT-NeoX  LayerNorm with bias, partial rotary, fused per-head q|k|v,
//             parallel or sequential residual (Pythia).
// The forward reads the feature fields below, not the family, so a family is
// a choice of features plus its tensor names (model_load.cpp, load_families.cpp).

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/result.h"

namespace mono::io {
class GgufFile;
struct Llama2cConfig;
}  // namespace mono::io

namespace mono::model {

enum class Arch { kGpt2, kLlama, kMistral, kQwen2, kQwen3, kGemma2, kGemma3, kGptNeox };

// Which dimensions of a head RoPE rotates together.
//  kRotateHalf:  (i, i + head_dim/2) — Hugging Face Llama.
//  kInterleaved: (2i, 2i + 1)        — llama2.c run.c and llama.cpp (GGUF).
enum class RopeLayout { kNone, kRotateHalf, kInterleaved };

enum class Activation { kGeluTanh, kGeluErf, kRelu, kSilu };

struct ModelConfig {
    Arch arch = Arch::kGpt2;
    std::string name;  // for display: folder or file name

    int dModel = 0;  // C: width of the residual stream
    int nLayers = 0;
    int nHeads = 0;     // query heads
    int nKvHeads = 0;   // key/value heads (== nHeads without GQA)
    int headDim = 0;    // dModel / nHeads, or the config's explicit head_dim
    int dMlp = 0;       // hidden width of the MLP (GPT-2 n_inner, Llama intermediate_size)
    int vocabSize = 0;  // V
    int maxSeqLen = 0;  // n_positions / max_position_embeddings / seq_len

    float normEps = 1e-5f;
    Activation activation = Activation::kGeluTanh;  // GPT-2 gelu_new; Llama silu (gated)
    RopeLayout rope = RopeLayout::kNone;
    float ropeTheta = 10000.0f;
    bool tiedEmbeddings = true;  // unembedding shares the token embedding matrix

    int32_t bosId = -1;  // -1 when unknown
    int32_t eosId = -1;

    // ---- Features beyond GPT-2 / Llama (defaults: off) ----
    bool qkvBias = false;           // q/k/v have biases (always on for GPT-2: see hasQkvBias)
    bool outBias = false;           // the attention output projection has a bias
    bool mlpBias = false;           // the MLP linears have biases
    bool qkNorm = false;            // per-head RMSNorm of q and k before RoPE (Qwen 3, Gemma 3)
    bool sandwichNorms = false;     // Gemma: RMSNorm on the attention and MLP outputs too
    bool parallelResidual = false;  // GPT-NeoX: x + attn(ln1(x)) + mlp(ln2(x))
    float embedScale = 0.0f;        // multiplies the token embedding (Gemma sqrt(C)); 0: none
    float attnScale = 0.0f;         // query·key scale; 0: 1/sqrt(head_dim)
    float attnSoftcap = 0.0f;       // scores → c·tanh(scores / c); 0: none
    float finalSoftcap = 0.0f;      // logits → c·tanh(logits / c); 0: none
    int rotaryDim = 0;              // leading dims of a head that RoPE rotates; 0: all
    float ropeScale = 1.0f;         // linear RoPE scaling (positions / factor); not on layers
                                    // with their own ropeLocalTheta
    float ropeLocalTheta = 0.0f;    // RoPE base of sliding layers; 0: ropeTheta
    int slidingWindow = 0;          // a query sees itself and slidingWindow - 1 earlier keys
    std::vector<uint8_t> slidingLayers;  // [nLayers] 1 = sliding; empty: no sliding layer

    // Family-derived properties.
    bool layerNorm() const { return arch == Arch::kGpt2 || arch == Arch::kGptNeox; }
    // down(act(gate) * up) with gate|up fused; GPT-2 and NeoX have one up projection.
    bool gatedMlp() const { return !layerNorm(); }
    bool hasQkvBias() const { return arch == Arch::kGpt2 || qkvBias; }
    bool hasOutBias() const { return arch == Arch::kGpt2 || outBias; }
    bool hasMlpBias() const { return arch == Arch::kGpt2 || mlpBias; }
    // q, k and v come out of one named module (GPT-2 c_attn, NeoX query_key_value).
    bool fusedQkv() const { return arch == Arch::kGpt2 || arch == Arch::kGptNeox; }
    bool isSliding(int layer) const {
        return slidingWindow > 0 && layer >= 0 && size_t(layer) < slidingLayers.size() &&
               slidingLayers[size_t(layer)] != 0;
    }
    int ropeDims() const { return rotaryDim > 0 ? rotaryDim : headDim; }

    // Checks that the numbers are positive and consistent (heads divide d_model
    // where head_dim is implied, kv heads divide heads, RoPE over an even number
    // of dims, a window per layer).
    Status validate() const;

    // Parameter count (tied embeddings counted once); INT64_MAX when the sizes
    // are so large that it would not fit (a config from a hostile file).
    int64_t parameterCount() const;

    // One line per field, for `monoscope-cli info`.
    std::string describe() const;
    std::string positionsText() const;  // "learned" or the RoPE variant
    std::string attentionText() const;  // scale, soft-caps, sliding layers
};

// The preset of GPT-2 small (124M): the shape the benchmarks use with random weights.
ModelConfig gpt2SmallConfig();

// A Llama-shaped config (SiLU-gated MLP, Hugging Face rotate-half RoPE, untied
// embeddings) for models with random weights in tests and benchmarks.
struct LlamaShape {
    int dModel = 64, nLayers = 1, nHeads = 4, nKvHeads = 4, dMlp = 128;
    int vocabSize = 256, maxSeqLen = 128;
};
ModelConfig llamaConfig(const std::string& name, const LlamaShape& shape);

// Parses a Hugging Face config.json (model_type gpt2, llama, mistral, qwen2,
// qwen3, gemma2, gemma3_text, gemma3 (its text_config) or gpt_neox). `source`
// names the file in errors. Unsupported model_type (the message lists the
// supported ones), a missing key or a value of the wrong type → a Status
// naming the file and the key.
Result<ModelConfig> configFromHfJson(const std::string& jsonText, const std::string& source);

// From GGUF metadata (general.architecture "llama": llama.embedding_length,
// llama.block_count, ...; llama weights use the interleaved RoPE layout), or
// "gemma2" / "qwen2" under the same llama.cpp key scheme (rotate-half RoPE).
Result<ModelConfig> configFromGguf(const io::GgufFile& file);

// From a llama2.c header: interleaved RoPE, theta 10000, RMSNorm eps 1e-5, BOS 1, EOS 2.
ModelConfig configFromLlama2c(const io::Llama2cConfig& header, const std::string& name);

const char* archName(Arch arch);  // the model_type: "gpt2", "llama", "gemma2", "gpt_neox", ...
// The model_type values configFromHfJson accepts, comma-separated.
const char* supportedModelTypes();

}  // namespace mono::model
