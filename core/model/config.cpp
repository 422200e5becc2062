#include "core/model/config.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/io/gguf.h"
#include "core/io/llama2c.h"
#include "core/model/config_json.h"

namespace mono::model {

const char* archName(Arch arch) {
    switch (arch) {
        case Arch::kGpt2:
            return "gpt2";
        case Arch::kLlama:
            return "llama";
        case Arch::kMistral:
            return "mistral";
        case Arch::kQwen2:
            return "qwen2";
        case Arch::kQwen3:
            return "qwen3";
        case Arch::kGemma2:
            return "gemma2";
        case Arch::kGemma3:
            return "gemma3_text";
        case Arch::kGptNeox:
            return "gpt_neox";
    }
    return "?";
}

const char* supportedModelTypes() {
    return "gpt2, llama, mistral, qwen2, qwen3, gemma2, gemma3_text, gemma3, gpt_neox";
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
        vocabSize <= 0 || maxSeqLen <= 0 || headDim <= 0)
        return bad("sizes must be positive (d_model " + std::to_string(dModel) + ", layers " +
                   std::to_string(nLayers) + ", heads " + std::to_string(nHeads) + ", kv heads " +
                   std::to_string(nKvHeads) + ", head_dim " + std::to_string(headDim) + ", d_mlp " +
                   std::to_string(dMlp) + ", vocab " + std::to_string(vocabSize) + ", context " +
                   std::to_string(maxSeqLen) + ")");
    // GPT-2, Llama and NeoX derive head_dim; the others may set it explicitly.
    const bool impliedHeadDim =
        arch == Arch::kGpt2 || arch == Arch::kLlama || arch == Arch::kGptNeox;
    if (impliedHeadDim && dModel % nHeads != 0)
        return bad("d_model " + std::to_string(dModel) + " is not a multiple of the head count " +
                   std::to_string(nHeads));
    if (impliedHeadDim && headDim != dModel / nHeads)
        return bad("head_dim " + std::to_string(headDim) +
                   ", expected d_model / heads = " + std::to_string(dModel / nHeads));
    if (nHeads % nKvHeads != 0)
        return bad("heads " + std::to_string(nHeads) + " is not a multiple of kv heads " +
                   std::to_string(nKvHeads));
    if (arch == Arch::kGpt2 && (rope != RopeLayout::kNone || nKvHeads != nHeads))
        return bad("gpt2 has learned positions and no grouped-query attention");
    if (arch == Arch::kGptNeox && nKvHeads != nHeads)
        return bad("gpt_neox has no grouped-query attention");
    if (arch != Arch::kGpt2 &&
        (rope == RopeLayout::kNone || ropeDims() % 2 != 0 || ropeDims() > headDim || rotaryDim < 0))
        return bad(std::string(archName(arch)) +
                   " needs RoPE over an even number of dims <= " + "head_dim (found " +
                   std::to_string(ropeDims()) + " of " + std::to_string(headDim) + ")");
    if (!(normEps > 0)) return bad("norm epsilon must be positive");
    if (rope != RopeLayout::kNone && !(ropeTheta > 0)) return bad("rope theta must be positive");
    if (!(ropeScale > 0) || ropeLocalTheta < 0 || !(attnScale >= 0) || !(attnSoftcap >= 0) ||
        !(finalSoftcap >= 0) || !(embedScale >= 0))
        return bad("rope scaling, attention scale and soft-caps must be positive (or 0 for off)");
    if (slidingWindow < 0) return bad("sliding window must not be negative");
    if (!slidingLayers.empty() && int(slidingLayers.size()) != nLayers)
        return bad("sliding-layer pattern has " + std::to_string(slidingLayers.size()) +
                   " entries for " + std::to_string(nLayers) + " layers");
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
        const double perLayer =
            8 * c + c * heads * h + heads * h + c * heads * h + c + 3 * c * f + 2 * f + c + 2 * h;
        const double bound = 2 * v * c + layers * perLayer + 2 * c + seq * c;
        if (!(bound < 9.0e18)) return std::numeric_limits<int64_t>::max();
    }
    const int64_t C = dModel, F = dMlp, V = vocabSize, hd = headDim;
    const int64_t qkvRows = (nHeads + 2 * nKvHeads) * hd, attnWidth = int64_t(nHeads) * hd;
    const int64_t normSize = layerNorm() ? 2 * C : C;  // LayerNorm has a bias
    int64_t perLayer = (sandwichNorms ? 4 : 2) * normSize;
    perLayer += C * qkvRows + (hasQkvBias() ? qkvRows : 0);
    perLayer += attnWidth * C + (hasOutBias() ? C : 0);
    perLayer += (gatedMlp() ? 3 : 2) * C * F + (hasMlpBias() ? (gatedMlp() ? 2 * F : F) + C : 0);
    if (qkNorm) perLayer += 2 * hd;
    int64_t total = V * C + nLayers * perLayer + normSize;
    if (arch == Arch::kGpt2) total += int64_t(maxSeqLen) * C;
    if (!tiedEmbeddings) total += V * C;
    return total;
}

std::string ModelConfig::positionsText() const {
    if (rope == RopeLayout::kNone) return "learned";
    std::string t = std::string("RoPE ") + ropeName(rope) + ", theta " + std::to_string(ropeTheta);
    if (ropeDims() != headDim)
        t += ", " + std::to_string(ropeDims()) + " of " + std::to_string(headDim) + " dims";
    if (ropeScale != 1.0f) t += ", linear scaling " + std::to_string(ropeScale);
    if (ropeLocalTheta > 0) t += ", sliding layers theta " + std::to_string(ropeLocalTheta);
    return t;
}

std::string ModelConfig::attentionText() const {
    std::string t = attnScale > 0 ? "scale " + std::to_string(attnScale) : "scale 1/sqrt(head_dim)";
    if (attnSoftcap > 0) t += ", soft-cap " + std::to_string(attnSoftcap);
    if (finalSoftcap > 0) t += ", final logits soft-cap " + std::to_string(finalSoftcap);
    int sliding = 0;
    for (int L = 0; L < nLayers; ++L) sliding += isSliding(L) ? 1 : 0;
    if (sliding > 0)
        t += ", sliding window " + std::to_string(slidingWindow) + " on " +
             std::to_string(sliding) + " of " + std::to_string(nLayers) + " layers";
    if (embedScale > 0) t += "; embedding scaled by " + std::to_string(embedScale);
    return t;
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
      << "norm             " << (layerNorm() ? "LayerNorm" : "RMSNorm") << ", eps " << normEps
      << (sandwichNorms ? ", also after attention and MLP" : "")
      << (qkNorm ? ", per-head q/k norm" : "") << "\n"
      << "activation       " << activationName(activation) << (gatedMlp() ? " gated" : "") << "\n"
      << "positions        " << positionsText() << "\n"
      << "attention        " << attentionText() << "\n"
      << "residual         " << (parallelResidual ? "parallel (attn + mlp)" : "sequential") << "\n"
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
    else if (type == "mistral")
        c = parseMistral(j, r, source);
    else if (type == "qwen2" || type == "qwen3")
        c = parseQwen(j, r, source, type == "qwen3");
    else if (type == "gemma2" || type == "gemma3_text")
        c = parseGemma(j, r, source, type == "gemma3_text");
    else if (type == "gemma3")
        c = parseGemma3Multimodal(j, source);
    else if (type == "gpt_neox")
        c = parseGptNeox(j, r, source);
    else
        return Status::unsupported(source + ": model_type '" + type +
                                   "' is not supported (supported: " + supportedModelTypes() + ")");
    if (!c.ok()) return c.status();
    if (c->headDim == 0 && c->nHeads > 0) c->headDim = c->dModel / c->nHeads;
    Status v = c->validate();
    if (!v.ok()) return Status(v.code(), source + ": " + v.message());
    return c;
}

Result<ModelConfig> configFromGguf(const io::GgufFile& file) {
    const std::string& src = file.path();
    auto arch = file.getString("general.architecture");
    if (!arch.ok()) return arch.status().withContext(src);
    if (*arch == "gemma2" || *arch == "qwen2") return configFromGgufFamily(file, *arch);
    if (*arch != "llama")
        return Status::unsupported(src + ": general.architecture '" + *arch +
                                   "' is not supported (supported: llama, gemma2, qwen2)");
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
