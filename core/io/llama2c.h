#pragma once
// llama2.c checkpoints (Karpathy's run.c, legacy "v0" layout): seven int32
// (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len), then
// float32 tensors in run.c's order. A negative vocab_size means the classifier
// (wcls) is stored separately at the end instead of being shared with the
// token embedding.

#include <memory>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/io/tensor.h"

namespace mono::io {

struct Llama2cConfig {
    int dim = 0;
    int hiddenDim = 0;
    int nLayers = 0;
    int nHeads = 0;
    int nKvHeads = 0;
    int vocabSize = 0;  // absolute value
    int seqLen = 0;
    bool sharedClassifier = true;
};

class Llama2cFile {
public:
    // Validates the header (positive sizes, heads divide dim, kv heads divide heads)
    // and that the file holds exactly the tensors the header implies.
    static Result<Llama2cFile> open(const std::string& path);

    const std::string& path() const;
    const Llama2cConfig& config() const;
    // Named like llama.cpp's GGUF tensors, with the shapes run.c uses:
    // token_embd.weight [vocab, dim]; blk.L.attn_norm.weight [dim];
    // blk.L.attn_q.weight [n_heads*hd, dim], attn_k/attn_v [n_kv*hd, dim],
    // attn_output [dim, dim]; blk.L.ffn_norm.weight [dim]; ffn_gate (w1) [hidden, dim],
    // ffn_down (w2) [dim, hidden], ffn_up (w3) [hidden, dim]; output_norm.weight [dim];
    // output.weight [vocab, dim] only when not shared. The RoPE freq_cis_real/imag
    // tables stored in the file are skipped.
    const std::vector<TensorView>& tensors() const;
    const TensorView* find(const std::string& name) const;

    Llama2cFile(Llama2cFile&&) noexcept;
    Llama2cFile& operator=(Llama2cFile&&) noexcept;
    ~Llama2cFile();

private:
    struct Impl;
    explicit Llama2cFile(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace mono::io
