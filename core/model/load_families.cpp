// Hugging Face tensor names of Mistral, Qwen 2/3, Gemma 2/3 and GPT-NeoX,
// mapped into ModelWeights (L = layer, P = the model prefix):
//   Llama-like  P embed_tokens.weight, P layers.L.input_layernorm.weight,
//               .self_attn.{q,k,v,o}_proj.{weight,bias?}, .self_attn.{q,k}_norm.weight
//               (Qwen 3, Gemma 3), .post_attention_layernorm.weight, Gemma only:
//               .pre_feedforward_layernorm.weight, .post_feedforward_layernorm.weight,
//               .mlp.{gate,up,down}_proj.weight, P norm.weight, lm_head.weight (untied).
//               P is "model." — or, in a multimodal gemma3 checkpoint,
//               "language_model.model." / "model.language_model.".
//   GPT-NeoX    gpt_neox.embed_in.weight, gpt_neox.layers.L.{input_layernorm,
//               post_attention_layernorm}.{weight,bias}, .attention.query_key_value
//               and .attention.dense {weight,bias}, .mlp.dense_h_to_4h and
//               .mlp.dense_4h_to_h {weight,bias}, gpt_neox.final_layer_norm.{weight,bias},
//               embed_out.weight. Buffers some checkpoints carry (attention.bias,
//               attention.masked_bias, attention.rotary_emb.inv_freq) are not read.
//   GGUF gemma2 / qwen2 (llama.cpp names): token_embd.weight, blk.L.attn_norm.weight,
//               blk.L.attn_{q,k,v}.{weight,bias (qwen2)}, blk.L.attn_output.weight,
//               gemma2: blk.L.post_attention_norm / ffn_norm (pre-MLP) / post_ffw_norm,
//               qwen2: blk.L.ffn_norm, then blk.L.ffn_{gate,up,down}.weight,
//               output_norm.weight, output.weight (untied). Gemma norms hold 1 + w.

#include "core/model/weight_reader.h"

namespace mono::model {

namespace {

bool isGemma(const ModelConfig& c) {
    return c.arch == Arch::kGemma2 || c.arch == Arch::kGemma3;
}

// The prefix under which the decoder's tensors live.
std::string llamaLikePrefix(const WeightReader& r) {
    for (const char* p : {"model.", "language_model.model.", "model.language_model."})
        if (r.has(std::string(p) + "embed_tokens.weight")) return p;
    return "model.";
}

// A norm weight: Gemma stores w and multiplies by (1 + w).
Status normWeight(const ModelConfig& c, const WeightReader& r, const std::string& name, int64_t n,
                  Vector* out) {
    return isGemma(c) ? r.onePlusVector(name, n, out) : r.vector(name, n, out);
}

Status loadLlamaLikeAttention(const ModelConfig& c, const WeightReader& r, const std::string& p,
                              LayerWeights* lw) {
    const int64_t C = c.dModel, hd = c.headDim;
    const int64_t q = c.nHeads * hd, kv = c.nKvHeads * hd;
    const std::string a = p + "self_attn.";
    MONO_RETURN_IF_ERROR(r.linearStacked(
        {{a + "q_proj.weight", q}, {a + "k_proj.weight", kv}, {a + "v_proj.weight", kv}}, C,
        &lw->qkv));
    if (c.qkvBias)
        MONO_RETURN_IF_ERROR(r.stackedVector(
            {{a + "q_proj.bias", q}, {a + "k_proj.bias", kv}, {a + "v_proj.bias", kv}},
            &lw->qkv.b));
    if (c.qkNorm) {
        MONO_RETURN_IF_ERROR(normWeight(c, r, a + "q_norm.weight", hd, &lw->qNorm));
        MONO_RETURN_IF_ERROR(normWeight(c, r, a + "k_norm.weight", hd, &lw->kNorm));
    }
    MONO_RETURN_IF_ERROR(r.linear(a + "o_proj.weight", C, q, false, &lw->attnOut));
    if (c.outBias) MONO_RETURN_IF_ERROR(r.vector(a + "o_proj.bias", C, &lw->attnOut.b));
    return Status::success();
}

Status loadLlamaLikeLayer(const ModelConfig& c, const WeightReader& r, const std::string& p,
                          LayerWeights* lw) {
    const int64_t C = c.dModel, F = c.dMlp;
    MONO_RETURN_IF_ERROR(normWeight(c, r, p + "input_layernorm.weight", C, &lw->ln1.weight));
    MONO_RETURN_IF_ERROR(loadLlamaLikeAttention(c, r, p, lw));
    if (c.sandwichNorms) {
        // Gemma's post_attention_layernorm normalises the attention output; the
        // MLP reads pre_feedforward_layernorm.
        MONO_RETURN_IF_ERROR(
            normWeight(c, r, p + "post_attention_layernorm.weight", C, &lw->postAttn.weight));
        MONO_RETURN_IF_ERROR(
            normWeight(c, r, p + "pre_feedforward_layernorm.weight", C, &lw->ln2.weight));
        MONO_RETURN_IF_ERROR(
            normWeight(c, r, p + "post_feedforward_layernorm.weight", C, &lw->postMlp.weight));
    } else {
        MONO_RETURN_IF_ERROR(
            normWeight(c, r, p + "post_attention_layernorm.weight", C, &lw->ln2.weight));
    }
    MONO_RETURN_IF_ERROR(r.linearStacked(
        {{p + "mlp.gate_proj.weight", F}, {p + "mlp.up_proj.weight", F}}, C, &lw->up));
    MONO_RETURN_IF_ERROR(r.linear(p + "mlp.down_proj.weight", C, F, false, &lw->down));
    if (c.mlpBias) {
        MONO_RETURN_IF_ERROR(r.stackedVector(
            {{p + "mlp.gate_proj.bias", F}, {p + "mlp.up_proj.bias", F}}, &lw->up.b));
        MONO_RETURN_IF_ERROR(r.vector(p + "mlp.down_proj.bias", C, &lw->down.b));
    }
    return Status::success();
}

// GPT-NeoX's query_key_value rows are [head][q | k | v][head_dim]; the forward
// wants all q rows, then all k rows, then all v rows.
RowMatrix regroupNeoxRows(const RowMatrix& m, int heads, int hd) {
    RowMatrix out(m.rows(), m.cols());
    for (int h = 0; h < heads; ++h)
        for (int part = 0; part < 3; ++part)
            out.middleRows(int64_t(part) * heads * hd + int64_t(h) * hd, hd) =
                m.middleRows((int64_t(h) * 3 + part) * hd, hd);
    return out;
}

Vector regroupNeoxBias(const Vector& b, int heads, int hd) {
    Vector out(b.size());
    for (int h = 0; h < heads; ++h)
        for (int part = 0; part < 3; ++part)
            out.segment(int64_t(part) * heads * hd + int64_t(h) * hd, hd) =
                b.segment((int64_t(h) * 3 + part) * hd, hd);
    return out;
}

Status loadNeoxLayer(const ModelConfig& c, const WeightReader& r, const std::string& p,
                     LayerWeights* lw) {
    const int64_t C = c.dModel, F = c.dMlp;
    MONO_RETURN_IF_ERROR(r.vector(p + "input_layernorm.weight", C, &lw->ln1.weight));
    MONO_RETURN_IF_ERROR(r.vector(p + "input_layernorm.bias", C, &lw->ln1.bias));
    const std::string qkvName = p + "attention.query_key_value.weight";
    if (r.storage() == WeightStorage::kBf16) {
        // The same regrouping as regroupNeoxRows, one head's q, k or v at a time.
        std::vector<WeightReader::RowBlock> blocks;
        const int64_t H = c.nHeads, hd = c.headDim;
        for (int64_t h = 0; h < H; ++h)
            for (int64_t part = 0; part < 3; ++part)
                blocks.push_back({(h * 3 + part) * hd, part * H * hd + h * hd, hd});
        kernels::allocateBf16(lw->qkv.wBf16, 3 * C, C);
        MONO_RETURN_IF_ERROR(r.packRows(qkvName, 3 * C, C, false, blocks, &lw->qkv.wBf16));
    } else {
        RowMatrix qkv;
        MONO_RETURN_IF_ERROR(r.matrix(qkvName, 3 * C, C, false, &qkv));
        lw->qkv.w = regroupNeoxRows(qkv, c.nHeads, c.headDim);
    }
    if (c.qkvBias) {
        Vector b;
        MONO_RETURN_IF_ERROR(r.vector(p + "attention.query_key_value.bias", 3 * C, &b));
        lw->qkv.b = regroupNeoxBias(b, c.nHeads, c.headDim);
    }
    MONO_RETURN_IF_ERROR(r.linear(p + "attention.dense.weight", C, C, false, &lw->attnOut));
    if (c.outBias) MONO_RETURN_IF_ERROR(r.vector(p + "attention.dense.bias", C, &lw->attnOut.b));
    MONO_RETURN_IF_ERROR(r.vector(p + "post_attention_layernorm.weight", C, &lw->ln2.weight));
    MONO_RETURN_IF_ERROR(r.vector(p + "post_attention_layernorm.bias", C, &lw->ln2.bias));
    MONO_RETURN_IF_ERROR(r.linear(p + "mlp.dense_h_to_4h.weight", F, C, false, &lw->up));
    MONO_RETURN_IF_ERROR(r.vector(p + "mlp.dense_h_to_4h.bias", F, &lw->up.b));
    MONO_RETURN_IF_ERROR(r.linear(p + "mlp.dense_4h_to_h.weight", C, F, false, &lw->down));
    MONO_RETURN_IF_ERROR(r.vector(p + "mlp.dense_4h_to_h.bias", C, &lw->down.b));
    return Status::success();
}

Status loadGgufLayer(const ModelConfig& c, const WeightReader& r, const std::string& p,
                     LayerWeights* lw) {
    const int64_t C = c.dModel, F = c.dMlp, hd = c.headDim;
    const int64_t q = c.nHeads * hd, kv = c.nKvHeads * hd;
    MONO_RETURN_IF_ERROR(r.vector(p + "attn_norm.weight", C, &lw->ln1.weight));
    MONO_RETURN_IF_ERROR(r.linearStacked(
        {{p + "attn_q.weight", q}, {p + "attn_k.weight", kv}, {p + "attn_v.weight", kv}}, C,
        &lw->qkv));
    if (c.qkvBias)
        MONO_RETURN_IF_ERROR(r.stackedVector(
            {{p + "attn_q.bias", q}, {p + "attn_k.bias", kv}, {p + "attn_v.bias", kv}},
            &lw->qkv.b));
    MONO_RETURN_IF_ERROR(r.linear(p + "attn_output.weight", C, q, false, &lw->attnOut));
    if (c.sandwichNorms) {
        MONO_RETURN_IF_ERROR(r.vector(p + "post_attention_norm.weight", C, &lw->postAttn.weight));
        MONO_RETURN_IF_ERROR(r.vector(p + "post_ffw_norm.weight", C, &lw->postMlp.weight));
    }
    MONO_RETURN_IF_ERROR(r.vector(p + "ffn_norm.weight", C, &lw->ln2.weight));
    MONO_RETURN_IF_ERROR(
        r.linearStacked({{p + "ffn_gate.weight", F}, {p + "ffn_up.weight", F}}, C, &lw->up));
    return r.linear(p + "ffn_down.weight", C, F, false, &lw->down);
}

}  // namespace

Status loadGgufFamily(const ModelConfig& c, const WeightReader& r, ModelWeights* w) {
    const int64_t C = c.dModel;
    MONO_RETURN_IF_ERROR(r.embedding("token_embd.weight", c.vocabSize, C, &w->tokenEmbedding,
                                     &w->tokenEmbeddingBf16));
    w->layers.resize(size_t(c.nLayers));
    for (int L = 0; L < c.nLayers; ++L)
        MONO_RETURN_IF_ERROR(
            loadGgufLayer(c, r, "blk." + std::to_string(L) + ".", &w->layers[size_t(L)]));
    MONO_RETURN_IF_ERROR(r.vector("output_norm.weight", C, &w->lnFinal.weight));
    if (c.tiedEmbeddings) return Status::success();
    return r.embedding("output.weight", c.vocabSize, C, &w->unembedding, &w->unembeddingBf16);
}

Status loadLlamaLikeHf(const ModelConfig& c, const WeightReader& r, ModelWeights* w) {
    const int64_t C = c.dModel;
    const std::string prefix = llamaLikePrefix(r);
    MONO_RETURN_IF_ERROR(r.embedding(prefix + "embed_tokens.weight", c.vocabSize, C,
                                     &w->tokenEmbedding, &w->tokenEmbeddingBf16));
    w->layers.resize(size_t(c.nLayers));
    for (int L = 0; L < c.nLayers; ++L)
        MONO_RETURN_IF_ERROR(loadLlamaLikeLayer(c, r, prefix + "layers." + std::to_string(L) + ".",
                                                &w->layers[size_t(L)]));
    MONO_RETURN_IF_ERROR(normWeight(c, r, prefix + "norm.weight", C, &w->lnFinal.weight));
    if (c.tiedEmbeddings) return Status::success();
    // A multimodal gemma3 checkpoint keeps its head beside the language model.
    std::string head = "lm_head.weight";
    if (!r.has(head) && r.has("language_model.lm_head.weight"))
        head = "language_model.lm_head.weight";
    return r.embedding(head, c.vocabSize, C, &w->unembedding, &w->unembeddingBf16);
}

Status loadGptNeoxHf(const ModelConfig& c, const WeightReader& r, ModelWeights* w) {
    const int64_t C = c.dModel;
    MONO_RETURN_IF_ERROR(r.embedding("gpt_neox.embed_in.weight", c.vocabSize, C, &w->tokenEmbedding,
                                     &w->tokenEmbeddingBf16));
    w->layers.resize(size_t(c.nLayers));
    for (int L = 0; L < c.nLayers; ++L)
        MONO_RETURN_IF_ERROR(loadNeoxLayer(c, r, "gpt_neox.layers." + std::to_string(L) + ".",
                                           &w->layers[size_t(L)]));
    MONO_RETURN_IF_ERROR(r.vector("gpt_neox.final_layer_norm.weight", C, &w->lnFinal.weight));
    MONO_RETURN_IF_ERROR(r.vector("gpt_neox.final_layer_norm.bias", C, &w->lnFinal.bias));
    // A tied NeoX reads its head from the embedding (tie_word_embeddings true).
    if (c.tiedEmbeddings) return Status::success();
    return r.embedding("embed_out.weight", c.vocabSize, C, &w->unembedding, &w->unembeddingBf16);
}

}  // namespace mono::model
