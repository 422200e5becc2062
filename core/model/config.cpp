#include "core/model/config.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/io/gguf.h"
#include "core/io/llama2c.h"

namespace mono::model {

const char* archName(Arch arch) {
    return arch == Arch::kGpt2 ? "gpt2" : "llama";
}

namespace {

const char* activationName(Activation a) {
    switch (a) {
        case Activation::kGeluTanh:
            return "gelu_new (tanh approximation)";
        case Activation::kGeluErf:
            return "gelu (erf)";
        case Activation::kRelu:
            return "relu";
        case Activation::kSilu:
            return "silu (gated)";
    }
    return "?";
}

const char* ropeName(RopeLayout r) {
    switch (r) {
        case RopeLayout::kNone:
            return "none";
        case RopeLayout::kRotateHalf:
            return "rotate_half (Hugging Face)";
        case RopeLayout::kInterleaved:
            return "interleaved pairs (llama2.c / GGUF)";
    }
    return "?";
}

// Typed reads from config.json that turn a missing key or a wrong type into a Status.
class JsonReader {
public:
    JsonReader(const nlohmann::json& j, const std::string& source) : m_j(j), m_source(source) {}

    Status intKey(const char* key, int* out) const {
        auto it = m_j.find(key);
        if (it == m_j.end()) return Status::notFound(m_source + ": missing key '" + key + "'");
        if (!it->is_number_integer())
            return Status::corruption(m_source + ": key '" + key +
                                      "': expected an integer, found " + it->dump());
        *out = it->get<int>();
        return Status::success();
    }
    // Optional integer: keeps *out when absent or null.
    Status optInt(const char* key, int* out) const {
        auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null()) return Status::success();
        return intKey(key, out);
    }
    Status optFloat(const char* key, float* out) const {
        auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null()) return Status::success();
        if (!it->is_number())
            return Status::corruption(m_source + ": key '" + key + "': expected a number, found " +
                                      it->dump());
        *out = it->get<float>();
        return Status::success();
    }
    Status optBool(const char* key, bool* out) const {
        auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null()) return Status::success();
        if (!it->is_boolean())
            return Status::corruption(m_source + ": key '" + key +
                                      "': expected true/false, found " + it->dump());
        *out = it->get<bool>();
        return Status::success();
    }
    // bos/eos ids may be an integer or a list of integers (first wins).
    void optTokenId(const char* key, int32_t* out) const {
        auto it = m_j.find(key);
        if (it == m_j.end()) return;
        if (it->is_number_integer()) *out = it->get<int32_t>();
        if (it->is_array() && !it->empty() && (*it)[0].is_number_integer())
            *out = (*it)[0].get<int32_t>();
    }
    Status optString(const char* key, std::string* out) const {
        auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null()) return Status::success();
        if (!it->is_string())
            return Status::corruption(m_source + ": key '" + key + "': expected a string, found " +
                                      it->dump());
        *out = it->get<std::string>();
        return Status::success();
    }

private:
    const nlohmann::json& m_j;
    const std::string& m_source;
};

Result<ModelConfig> parseGpt2(const JsonReader& r, const std::string& source) {
    ModelConfig c;
    c.arch = Arch::kGpt2;
    MONO_RETURN_IF_ERROR(r.intKey("n_embd", &c.dModel));
    MONO_RETURN_IF_ERROR(r.intKey("n_layer", &c.nLayers));
    MONO_RETURN_IF_ERROR(r.intKey("n_head", &c.nHeads));
    MONO_RETURN_IF_ERROR(r.intKey("vocab_size", &c.vocabSize));
    c.maxSeqLen = 1024;
    MONO_RETURN_IF_ERROR(r.optInt("n_ctx", &c.maxSeqLen));
    MONO_RETURN_IF_ERROR(r.optInt("n_positions", &c.maxSeqLen));
    c.nKvHeads = c.nHeads;
    c.dMlp = 4 * c.dModel;
    MONO_RETURN_IF_ERROR(r.optInt("n_inner", &c.dMlp));
    c.normEps = 1e-5f;
    MONO_RETURN_IF_ERROR(r.optFloat("layer_norm_epsilon", &c.normEps));
    std::string act = "gelu_new";
    MONO_RETURN_IF_ERROR(r.optString("activation_function", &act));
    if (act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast")
        c.activation = Activation::kGeluTanh;
    else if (act == "gelu")
        c.activation = Activation::kGeluErf;
    else if (act == "relu")
        c.activation = Activation::kRelu;
    else
        return Status::unsupported(source + ": activation_function '" + act +
                                   "' is not supported (expected gelu_new, gelu or relu)");
    c.rope = RopeLayout::kNone;
    c.tiedEmbeddings = true;
    MONO_RETURN_IF_ERROR(r.optBool("tie_word_embeddings", &c.tiedEmbeddings));
    bool scaleAttn = true;
    MONO_RETURN_IF_ERROR(r.optBool("scale_attn_weights", &scaleAttn));
    bool byLayer = false;
    MONO_RETURN_IF_ERROR(r.optBool("scale_attn_by_inverse_layer_idx", &byLayer));
    if (!scaleAttn || byLayer)
        return Status::unsupported(
            source +
            ": only the standard 1/sqrt(head_dim) attention scaling is "
            "supported (scale_attn_weights / scale_attn_by_inverse_layer_idx)");
    r.optTokenId("bos_token_id", &c.bosId);
    r.optTokenId("eos_token_id", &c.eosId);
    return c;
}

Result<ModelConfig> parseLlama(const nlohmann::json& j, const JsonReader& r,
                               const std::string& source) {
    ModelConfig c;
    c.arch = Arch::kLlama;
    MONO_RETURN_IF_ERROR(r.intKey("hidden_size", &c.dModel));
    MONO_RETURN_IF_ERROR(r.intKey("num_hidden_layers", &c.nLayers));
    MONO_RETURN_IF_ERROR(r.intKey("num_attention_heads", &c.nHeads));
    MONO_RETURN_IF_ERROR(r.intKey("intermediate_size", &c.dMlp));
    MONO_RETURN_IF_ERROR(r.intKey("vocab_size", &c.vocabSize));
    c.nKvHeads = c.nHeads;
    MONO_RETURN_IF_ERROR(r.optInt("num_key_value_heads", &c.nKvHeads));
    c.maxSeqLen = 2048;
    MONO_RETURN_IF_ERROR(r.optInt("max_position_embeddings", &c.maxSeqLen));
    c.normEps = 1e-6f;
    MONO_RETURN_IF_ERROR(r.optFloat("rms_norm_eps", &c.normEps));
    c.ropeTheta = 10000.0f;
    MONO_RETURN_IF_ERROR(r.optFloat("rope_theta", &c.ropeTheta));
    c.rope = RopeLayout::kRotateHalf;
    c.tiedEmbeddings = false;
    MONO_RETURN_IF_ERROR(r.optBool("tie_word_embeddings", &c.tiedEmbeddings));
    std::string act = "silu";
    MONO_RETURN_IF_ERROR(r.optString("hidden_act", &act));
    if (act != "silu" && act != "swish")
        return Status::unsupported(source + ": hidden_act '" + act +
                                   "' is not supported for llama (expected silu)");
    c.activation = Activation::kSilu;
    bool bias = false;
    MONO_RETURN_IF_ERROR(r.optBool("attention_bias", &bias));
    bool mlpBias = false;
    MONO_RETURN_IF_ERROR(r.optBool("mlp_bias", &mlpBias));
    if (bias || mlpBias)
        return Status::unsupported(source +
                                   ": llama with attention_bias/mlp_bias is not supported");
    if (auto it = j.find("rope_scaling"); it != j.end() && !it->is_null())
        return Status::unsupported(source + ": rope_scaling " + it->dump() +
                                   " is not supported (only plain RoPE)");
    int headDim = 0;
    MONO_RETURN_IF_ERROR(r.optInt("head_dim", &headDim));
    if (headDim && c.nHeads && headDim * c.nHeads != c.dModel)
        return Status::unsupported(source + ": head_dim " + std::to_string(headDim) +
                                   " != hidden_size / num_attention_heads is not supported");
    r.optTokenId("bos_token_id", &c.bosId);
    r.optTokenId("eos_token_id", &c.eosId);
    return c;
}

}  // namespace

Status ModelConfig::validate() const {
    auto bad = [&](const std::string& what) {
        return Status::invalidArgument(
            (name.empty() ? std::string("model config") : "model config (" + name + ")") + ": " +
            what);
    };
    if (dModel <= 0 || nLayers <= 0 || nHeads <= 0 || nKvHeads <= 0 || dMlp <= 0 ||
        vocabSize <= 0 || maxSeqLen <= 0)
        return bad("sizes must be positive (d_model " + std::to_string(dModel) + ", layers " +
                   std::to_string(nLayers) + ", heads " + std::to_string(nHeads) + ", kv heads " +
                   std::to_string(nKvHeads) + ", d_mlp " + std::to_string(dMlp) + ", vocab " +
                   std::to_string(vocabSize) + ", context " + std::to_string(maxSeqLen) + ")");
    if (dModel % nHeads != 0)
        return bad("d_model " + std::to_string(dModel) + " is not a multiple of the head count " +
                   std::to_string(nHeads));
    if (headDim != dModel / nHeads)
        return bad("head_dim " + std::to_string(headDim) +
                   ", expected d_model / heads = " + std::to_string(dModel / nHeads));
    if (nHeads % nKvHeads != 0)
        return bad("heads " + std::to_string(nHeads) + " is not a multiple of kv heads " +
                   std::to_string(nKvHeads));
    if (arch == Arch::kGpt2 && (rope != RopeLayout::kNone || nKvHeads != nHeads))
        return bad("gpt2 has learned positions and no grouped-query attention");
    if (arch == Arch::kLlama && (rope == RopeLayout::kNone || headDim % 2 != 0))
        return bad("llama needs RoPE over an even head_dim (found " + std::to_string(headDim) +
                   ")");
    if (!(normEps > 0)) return bad("norm epsilon must be positive");
    if (rope != RopeLayout::kNone && !(ropeTheta > 0)) return bad("rope theta must be positive");
    return Status::success();
}

int64_t ModelConfig::parameterCount() const {
    // A config read from a file may claim sizes whose products overflow int64:
    // estimate the magnitude of every term in double first and saturate.
    {
        const double c = std::fabs(double(dModel)), f = std::fabs(double(dMlp)),
                     v = std::fabs(double(vocabSize)), h = std::fabs(double(headDim)),
                     heads = std::fabs(double(nHeads)) + 2 * std::fabs(double(nKvHeads)),
                     layers = std::fabs(double(nLayers)), seq = std::fabs(double(maxSeqLen));
        const double perLayer = 4 * c + c * heads * h + heads * h + c * c + c + 3 * c * f + f + c;
        const double bound = 2 * v * c + layers * perLayer + 2 * c + seq * c;
        if (!(bound < 9.0e18)) return std::numeric_limits<int64_t>::max();
    }
    const int64_t C = dModel, F = dMlp, V = vocabSize, hd = headDim;
    const int64_t qkv = C * (nHeads + 2 * nKvHeads) * hd;
    int64_t perLayer = 0;
    if (arch == Arch::kGpt2) {
        perLayer = 2 * 2 * C                             // ln_1, ln_2
                   + qkv + (nHeads + 2 * nKvHeads) * hd  // c_attn
                   + C * C + C                           // c_proj
                   + C * F + F + F * C + C;              // c_fc, mlp.c_proj
    } else {
        perLayer = 2 * C + qkv + C * C + 3 * C * F;
    }
    int64_t total = V * C + nLayers * perLayer + (arch == Arch::kGpt2 ? 2 * C : C);
    if (arch == Arch::kGpt2) total += int64_t(maxSeqLen) * C;
    if (!tiedEmbeddings) total += V * C;
    return total;
}

std::string ModelConfig::describe() const {
    std::ostringstream s;
    s << "architecture     " << archName(arch) << "\n"
      << "d_model          " << dModel << "\n"
      << "layers           " << nLayers << "\n"
      << "heads            " << nHeads << " (kv heads " << nKvHeads << ", head_dim " << headDim
      << ")\n"
      << "d_mlp            " << dMlp << "\n"
      << "vocab            " << vocabSize << "\n"
      << "context          " << maxSeqLen << "\n"
      << "norm             " << (arch == Arch::kGpt2 ? "LayerNorm" : "RMSNorm") << ", eps "
      << normEps << "\n"
      << "activation       " << activationName(activation) << "\n"
      << "positions        "
      << (rope == RopeLayout::kNone
              ? std::string("learned")
              : std::string("RoPE ") + ropeName(rope) + ", theta " + std::to_string(ropeTheta))
      << "\n"
      << "tied embeddings  " << (tiedEmbeddings ? "yes" : "no") << "\n"
      << "bos / eos        " << bosId << " / " << eosId << "\n"
      << "parameters       " << parameterCount() << "\n";
    return s.str();
}

ModelConfig gpt2SmallConfig() {
    ModelConfig c;
    c.arch = Arch::kGpt2;
    c.name = "gpt2-small (random)";
    c.dModel = 768;
    c.nLayers = 12;
    c.nHeads = 12;
    c.nKvHeads = 12;
    c.headDim = 64;
    c.dMlp = 3072;
    c.vocabSize = 50257;
    c.maxSeqLen = 1024;
    c.normEps = 1e-5f;
    c.activation = Activation::kGeluTanh;
    c.tiedEmbeddings = true;
    c.bosId = c.eosId = 50256;
    return c;
}

ModelConfig llamaConfig(const std::string& name, const LlamaShape& shape) {
    ModelConfig c;
    c.arch = Arch::kLlama;
    c.name = name;
    c.dModel = shape.dModel;
    c.nLayers = shape.nLayers;
    c.nHeads = shape.nHeads;
    c.nKvHeads = shape.nKvHeads;
    c.headDim = shape.nHeads > 0 ? shape.dModel / shape.nHeads : 0;  // validate() rejects 0 heads
    c.dMlp = shape.dMlp;
    c.vocabSize = shape.vocabSize;
    c.maxSeqLen = shape.maxSeqLen;
    c.activation = Activation::kSilu;
    c.rope = RopeLayout::kRotateHalf;
    return c;
}

Result<ModelConfig> configFromHfJson(const std::string& jsonText, const std::string& source) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(jsonText);
    } catch (const std::exception& e) {
        return Status::corruption(source + ": not valid JSON: " + e.what());
    }
    if (!j.is_object()) return Status::corruption(source + ": expected a JSON object");
    JsonReader r(j, source);
    std::string type;
    MONO_RETURN_IF_ERROR(r.optString("model_type", &type));
    if (type.empty()) return Status::notFound(source + ": missing key 'model_type'");
    Result<ModelConfig> c = Status::internal("unreachable");
    if (type == "gpt2")
        c = parseGpt2(r, source);
    else if (type == "llama")
        c = parseLlama(j, r, source);
    else
        return Status::unsupported(source + ": model_type '" + type +
                                   "' is not supported (expected gpt2 or llama)");
    if (!c.ok()) return c.status();
    if (c->nHeads > 0) c->headDim = c->dModel / c->nHeads;
    Status v = c->validate();
    if (!v.ok()) return Status(v.code(), source + ": " + v.message());
    return c;
}

Result<ModelConfig> configFromGguf(const io::GgufFile& file) {
    const std::string& src = file.path();
    auto arch = file.getString("general.architecture");
    if (!arch.ok()) return arch.status().withContext(src);
    if (*arch != "llama")
        return Status::unsupported(src + ": general.architecture '" + *arch +
                                   "' is not supported (expected llama)");
    ModelConfig c;
    c.arch = Arch::kLlama;
    auto getInt = [&](const char* key, int* out) -> Status {
        auto v = file.getInt(key);
        if (!v.ok()) return v.status().withContext(src);
        if (*v <= 0 || *v > (int64_t(1) << 30))
            return Status::corruption(src + ": key '" + key + "' = " + std::to_string(*v) +
                                      " is out of range");
        *out = static_cast<int>(*v);
        return Status::success();
    };
    MONO_RETURN_IF_ERROR(getInt("llama.embedding_length", &c.dModel));
    MONO_RETURN_IF_ERROR(getInt("llama.block_count", &c.nLayers));
    MONO_RETURN_IF_ERROR(getInt("llama.attention.head_count", &c.nHeads));
    MONO_RETURN_IF_ERROR(getInt("llama.feed_forward_length", &c.dMlp));
    MONO_RETURN_IF_ERROR(getInt("llama.context_length", &c.maxSeqLen));
    c.nKvHeads = c.nHeads;
    if (file.find("llama.attention.head_count_kv"))
        MONO_RETURN_IF_ERROR(getInt("llama.attention.head_count_kv", &c.nKvHeads));
    auto eps = file.getFloat("llama.attention.layer_norm_rms_epsilon");
    if (!eps.ok()) return eps.status().withContext(src);
    c.normEps = static_cast<float>(*eps);
    if (file.find("llama.rope.freq_base")) {
        auto theta = file.getFloat("llama.rope.freq_base");
        if (!theta.ok()) return theta.status().withContext(src);
        c.ropeTheta = static_cast<float>(*theta);
    }
    c.headDim = c.dModel / c.nHeads;
    if (file.find("llama.rope.dimension_count")) {
        int ropeDim = 0;
        MONO_RETURN_IF_ERROR(getInt("llama.rope.dimension_count", &ropeDim));
        if (ropeDim != c.headDim)
            return Status::unsupported(src + ": llama.rope.dimension_count " +
                                       std::to_string(ropeDim) + " != head_dim " +
                                       std::to_string(c.headDim) + " (partial RoPE)");
    }
    // The vocabulary size: llama.vocab_size, else the token list, else the embedding rows.
    if (file.find("llama.vocab_size")) {
        MONO_RETURN_IF_ERROR(getInt("llama.vocab_size", &c.vocabSize));
    } else if (const io::GgufValue* toks = file.find("tokenizer.ggml.tokens");
               toks && toks->asArray()) {
        c.vocabSize = static_cast<int>(toks->asArray()->size());
    } else if (const io::TensorView* emb = file.findTensor("token_embd.weight");
               emb && emb->shape.size() == 2) {
        c.vocabSize = static_cast<int>(emb->shape[0]);
    } else {
        return Status::notFound(src +
                                ": cannot tell the vocabulary size (no llama.vocab_size, "
                                "tokenizer.ggml.tokens or token_embd.weight)");
    }
    c.rope = RopeLayout::kInterleaved;
    c.activation = Activation::kSilu;
    c.tiedEmbeddings = file.findTensor("output.weight") == nullptr;
    if (auto b = file.getInt("tokenizer.ggml.bos_token_id"); b.ok() && *b >= 0 && *b < (1 << 30))
        c.bosId = static_cast<int32_t>(*b);
    if (auto e = file.getInt("tokenizer.ggml.eos_token_id"); e.ok() && *e >= 0 && *e < (1 << 30))
        c.eosId = static_cast<int32_t>(*e);
    Status v = c.validate();
    if (!v.ok()) return Status(v.code(), src + ": " + v.message());
    return c;
}

ModelConfig configFromLlama2c(const io::Llama2cConfig& h, const std::string& name) {
    ModelConfig c = llamaConfig(name, LlamaShape{h.dim, h.nLayers, h.nHeads, h.nKvHeads,
                                                 h.hiddenDim, h.vocabSize, h.seqLen});
    c.normEps = 1e-5f;
    c.rope = RopeLayout::kInterleaved;  // llama2.c rotates adjacent pairs
    c.ropeTheta = 10000.0f;
    c.tiedEmbeddings = h.sharedClassifier;
    c.bosId = 1;
    c.eosId = 2;
    return c;
}

}  // namespace mono::model
