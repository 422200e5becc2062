// GGUF metadata of the families beyond llama, under llama.cpp's key names
// ("<arch>.embedding_length", "<arch>.attention.head_count", ...): gemma2 and
// qwen2. llama.cpp converts these without permuting q/k (its NEOX RoPE is
// rotate-half) and stores Gemma's norm weights as 1 + w already.

#include <cmath>

#include "core/io/gguf.h"
#include "core/model/config_json.h"

namespace mono::model {

namespace {

// Typed reads of "<arch>.<key>" that name the file and key in errors.
class GgufKeys {
public:
    GgufKeys(const io::GgufFile& f, std::string arch) : m_f(f), m_arch(std::move(arch)) {}

    Status count(const std::string& key, int* out, bool required = true) const {
        const std::string k = m_arch + "." + key;
        if (!m_f.find(k))
            return required ? Status::notFound(m_f.path() + ": missing key '" + k + "'")
                            : Status::success();
        auto v = m_f.getInt(k);
        if (!v.ok()) return v.status().withContext(m_f.path());
        if (*v <= 0 || *v > (int64_t(1) << 30))
            return Status::corruption(m_f.path() + ": key '" + k + "' = " + std::to_string(*v) +
                                      " is out of range");
        *out = static_cast<int>(*v);
        return Status::success();
    }
    Status number(const std::string& key, float* out, bool required = true) const {
        const std::string k = m_arch + "." + key;
        if (!m_f.find(k))
            return required ? Status::notFound(m_f.path() + ": missing key '" + k + "'")
                            : Status::success();
        auto v = m_f.getFloat(k);
        if (!v.ok()) return v.status().withContext(m_f.path());
        *out = static_cast<float>(*v);
        return Status::success();
    }

private:
    const io::GgufFile& m_f;
    std::string m_arch;
};

Status ggufVocabSize(const io::GgufFile& f, const std::string& arch, int* out) {
    if (f.find(arch + ".vocab_size")) return GgufKeys(f, arch).count("vocab_size", out);
    if (const io::GgufValue* toks = f.find("tokenizer.ggml.tokens"); toks && toks->asArray()) {
        *out = static_cast<int>(toks->asArray()->size());
        return Status::success();
    }
    if (const io::TensorView* emb = f.findTensor("token_embd.weight");
        emb && emb->shape.size() == 2) {
        *out = static_cast<int>(emb->shape[0]);
        return Status::success();
    }
    return Status::notFound(f.path() + ": cannot tell the vocabulary size (no " + arch +
                            ".vocab_size, tokenizer.ggml.tokens or token_embd.weight)");
}

// What llama.cpp fixes for Gemma 2 rather than storing: every other layer
// (0, 2, ...) slides, and q is scaled by 1/sqrt(head_dim) except in the
// 46-layer 27B, where query_pre_attn_scalar is d_model / heads.
Status ggufGemma2(const io::GgufFile& f, ModelConfig* c) {
    const GgufKeys k(f, "gemma2");
    c->arch = Arch::kGemma2;
    c->activation = Activation::kGeluTanh;
    c->sandwichNorms = true;
    c->embedScale = static_cast<float>(std::sqrt(double(c->dModel)));
    const double scalar = c->nLayers == 46 ? double(c->dModel / c->nHeads) : double(c->headDim);
    c->attnScale = static_cast<float>(1.0 / std::sqrt(scalar));
    c->attnSoftcap = 50.0f;
    c->finalSoftcap = 30.0f;
    MONO_RETURN_IF_ERROR(k.number("attn_logit_softcapping", &c->attnSoftcap, false));
    MONO_RETURN_IF_ERROR(k.number("final_logit_softcapping", &c->finalSoftcap, false));
    MONO_RETURN_IF_ERROR(k.count("attention.sliding_window", &c->slidingWindow));
    c->slidingLayers.assign(size_t(c->nLayers), 0);
    for (int L = 0; L < c->nLayers; L += 2) c->slidingLayers[size_t(L)] = 1;
    return Status::success();
}

}  // namespace

Result<ModelConfig> configFromGgufFamily(const io::GgufFile& f, const std::string& arch) {
    const GgufKeys k(f, arch);
    ModelConfig c;
    MONO_RETURN_IF_ERROR(k.count("embedding_length", &c.dModel));
    MONO_RETURN_IF_ERROR(k.count("block_count", &c.nLayers));
    MONO_RETURN_IF_ERROR(k.count("attention.head_count", &c.nHeads));
    MONO_RETURN_IF_ERROR(k.count("feed_forward_length", &c.dMlp));
    MONO_RETURN_IF_ERROR(k.count("context_length", &c.maxSeqLen));
    c.nKvHeads = c.nHeads;
    MONO_RETURN_IF_ERROR(k.count("attention.head_count_kv", &c.nKvHeads, false));
    c.headDim = c.dModel / c.nHeads;
    MONO_RETURN_IF_ERROR(k.count("attention.key_length", &c.headDim, false));
    int valueLength = c.headDim;
    MONO_RETURN_IF_ERROR(k.count("attention.value_length", &valueLength, false));
    if (valueLength != c.headDim)
        return Status::unsupported(f.path() + ": " + arch + ".attention.value_length " +
                                   std::to_string(valueLength) + " != key_length " +
                                   std::to_string(c.headDim));
    MONO_RETURN_IF_ERROR(k.number("attention.layer_norm_rms_epsilon", &c.normEps));
    c.ropeTheta = 10000.0f;
    MONO_RETURN_IF_ERROR(k.number("rope.freq_base", &c.ropeTheta, false));
    MONO_RETURN_IF_ERROR(ggufVocabSize(f, arch, &c.vocabSize));
    c.rope = RopeLayout::kRotateHalf;
    c.tiedEmbeddings = f.findTensor("output.weight") == nullptr;
    if (auto b = f.getInt("tokenizer.ggml.bos_token_id"); b.ok() && *b >= 0 && *b < (1 << 30))
        c.bosId = static_cast<int32_t>(*b);
    if (auto e = f.getInt("tokenizer.ggml.eos_token_id"); e.ok() && *e >= 0 && *e < (1 << 30))
        c.eosId = static_cast<int32_t>(*e);
    if (arch == "gemma2") {
        MONO_RETURN_IF_ERROR(ggufGemma2(f, &c));
    } else {
        c.arch = Arch::kQwen2;
        c.activation = Activation::kSilu;
        c.qkvBias = true;
    }
    Status v = c.validate();
    if (!v.ok()) return Status(v.code(), f.path() + ": " + v.message());
    return c;
}

}  // namespace mono::model
