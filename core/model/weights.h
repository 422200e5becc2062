#pragma once
// The float32 weights of a model, in the layout the CPU forward wants, and
// mutable for those who transform them (SmoothQuant folding, fake weight
// quantization). Every linear is stored like PyTorch's nn.Linear: W [out, in]
// row-major, y = x Wᵀ + b, so "the weights that read input channel j" are
// column j. GPT-2's Conv1D [in, out] tensors are transposed at load.
// Linears that share an input are fused along the output dimension:
//   GPT-2     qkv = c_attn (rows q | k | v), up = c_fc
//   Llama     qkv = q_proj | k_proj | v_proj, up = gate_proj | up_proj
//             (also Mistral, Qwen, Gemma)
//   GPT-NeoX  qkv = query_key_value with its rows regrouped at load from the
//             file's per-head [head][q|k|v][head_dim] order into q | k | v,
//             up = dense_h_to_4h
// Norm weights are the factor the forward multiplies by: Gemma stores w and
// scales by (1 + w), so its norms hold 1 + w (computed in float at load).
// linear() returns the rows of one named module inside a fused matrix.
// After editing weights of a model that runs on another backend, call
// Model::weightsChanged().
//
// Storage (LoadOptions::storage in model.h): float32 by default. A model
// loaded bf16-resident (WeightStorage::kBf16) holds every linear's weight and
// the token embedding / unembedding only as packed bf16 (Linear::wBf16,
// tokenEmbeddingBf16, unembeddingBf16, layout of core/kernels/bf16_gemm.h)
// and leaves the float32 members empty: half the bytes, and the 2-byte
// weights the bf16 GEMM reads directly. Norms, biases and GPT-2's position
// embedding stay float32. Code that reads or writes Linear::w must check
// bf16Resident() first (Model::linear refuses such models).

#include <Eigen/Core>
#include <string_view>
#include <vector>

#include "core/base/result.h"
#include "core/kernels/bf16_gemm.h"

namespace mono::model {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::VectorXf;

struct Linear {
    RowMatrix w;                // [out, in]; empty when bf16-resident
    Vector b;                   // [out], or size 0 when the module has no bias
    kernels::PackedBf16 wBf16;  // bf16-resident only: the weight [out, in], packed
    bool bf16() const { return wBf16.out > 0; }
};

struct Norm {
    Vector weight;  // [d_model] (LayerNorm γ / RMSNorm scale)
    Vector bias;    // [d_model] LayerNorm β; size 0 for RMSNorm
};

struct LayerWeights {
    Norm ln1;        // GPT-2 ln_1, Llama / Gemma / NeoX input_layernorm
    Linear qkv;      // [(H + 2·Hkv)·hd, C]
    Vector qNorm;    // [hd] per-head q RMSNorm (Qwen 3, Gemma 3); size 0 when absent
    Vector kNorm;    // [hd] per-head k RMSNorm
    Linear attnOut;  // c_proj / o_proj / dense [C, H·hd]
    Norm postAttn;   // Gemma post_attention_layernorm (on the attention output); empty elsewhere
    Norm ln2;  // GPT-2 ln_2, Llama / NeoX post_attention_layernorm, Gemma pre_feedforward_layernorm
    Linear up;     // GPT-2 c_fc, NeoX dense_h_to_4h [F, C]; gated: gate|up [2F, C]
    Linear down;   // c_proj / down_proj / dense_4h_to_h [C, F]
    Norm postMlp;  // Gemma post_feedforward_layernorm (on the MLP output); empty elsewhere
};

struct ModelWeights {
    RowMatrix tokenEmbedding;     // [V, C]
    RowMatrix positionEmbedding;  // [maxSeqLen, C] (GPT-2 only; empty for Llama)
    std::vector<LayerWeights> layers;
    Norm lnFinal;
    RowMatrix unembedding;  // [V, C]; empty when tied to tokenEmbedding
    const RowMatrix& unembed() const { return unembedding.size() ? unembedding : tokenEmbedding; }

    // bf16-resident only (then tokenEmbedding and unembedding are empty).
    kernels::PackedBf16 tokenEmbeddingBf16;  // [V, C]
    kernels::PackedBf16 unembeddingBf16;     // [V, C]; empty when tied
    bool bf16Resident() const { return tokenEmbeddingBf16.out > 0; }
    const kernels::PackedBf16& unembedBf16() const {
        return unembeddingBf16.out ? unembeddingBf16 : tokenEmbeddingBf16;
    }
};

// Bytes the weights occupy in memory (float32 members at 4 bytes a value,
// packed bf16 at 2, padding included).
int64_t residentWeightBytes(const ModelWeights& w);

// A view of one named linear module inside the fused matrices: weight rows
// [rowBegin, rowBegin + rows) of `linear`. Module names are those of the
// linear-input hooks without the "blocks.L." prefix: "attn.c_attn", "attn.q_proj",
// "mlp.down_proj", ... (see hook_points.h).
struct LinearRef {
    Linear* linear = nullptr;
    int64_t rowBegin = 0;
    int64_t rows = 0;
    auto weight() { return linear->w.middleRows(rowBegin, rows); }
    // Empty segment when the module has no bias.
    auto bias() {
        return linear->b.segment(linear->b.size() ? rowBegin : 0, linear->b.size() ? rows : 0);
    }
};

}  // namespace mono::model
