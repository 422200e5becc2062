#pragma once
// ModelConfig: the shape and numerics of a decoder-only transformer, read from
// a Hugging Face config.json, GGUF metadata or a llama2.c header. Two
// architectures: GPT-2 (LayerNorm, learned positions, GELU MLP, biases) and
// Llama (RMSNorm, RoPE, SwiGLU MLP, grouped-query attention, no biases).

#include <cstdint>
#include <string>

#include "core/base/result.h"

namespace mono::io {
class GgufFile;
struct Llama2cConfig;
}  // namespace mono::io

namespace mono::model {

enum class Arch { kGpt2, kLlama };

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
    int headDim = 0;    // dModel / nHeads
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

    // Checks that the numbers are positive and consistent (heads divide d_model,
    // kv heads divide heads, RoPE on Llama only, head_dim even for RoPE).
    Status validate() const;

    // Parameter count (tied embeddings counted once); INT64_MAX when the sizes
    // are so large that it would not fit (a config from a hostile file).
    int64_t parameterCount() const;

    // One line per field, for `monoscope-cli info`.
    std::string describe() const;
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

// Parses a Hugging Face config.json (model_type "gpt2" or "llama"). `source`
// names the file in errors. Unsupported model_type, a missing key or a value
// of the wrong type → a Status naming the file and the key.
Result<ModelConfig> configFromHfJson(const std::string& jsonText, const std::string& source);

// From GGUF metadata (general.architecture "llama": llama.embedding_length,
// llama.block_count, ...). GGUF weights use the interleaved RoPE layout.
Result<ModelConfig> configFromGguf(const io::GgufFile& file);

// From a llama2.c header: interleaved RoPE, theta 10000, RMSNorm eps 1e-5, BOS 1, EOS 2.
ModelConfig configFromLlama2c(const io::Llama2cConfig& header, const std::string& name);

const char* archName(Arch arch);  // "gpt2", "llama"

}  // namespace mono::model
