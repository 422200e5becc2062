// config.json parsers of the families beyond GPT-2 and Llama. Absent keys take
// the defaults of the transformers configuration class of the family, because
// Hub configs rely on them (gemma-3 text_config objects list only a few keys).

#include <algorithm>
#include <cmath>

#include "core/model/config_json.h"

namespace mono::model {

namespace {

using nlohmann::json;

// A soft-cap key: a number turns it on, null turns it off, absent keeps `fallback`.
Status readCap(const json& j, const std::string& source, const char* key, float fallback,
               float* out) {
    *out = fallback;
    auto it = j.find(key);
    if (it == j.end()) return Status::success();
    if (it->is_null()) {
        *out = 0.0f;
        return Status::success();
    }
    if (!it->is_number())
        return Status::corruption(source + ": key '" + key +
                                  "': expected a number or null, found " + it->dump());
    *out = it->get<float>();
    return Status::success();
}

// rope_scaling: null, or {"rope_type"/"type": "default" | "linear", "factor": x}.
Status readRopeScaling(const json& j, const std::string& source, float* factor) {
    *factor = 1.0f;
    auto it = j.find("rope_scaling");
    if (it == j.end() || it->is_null()) return Status::success();
    if (!it->is_object())
        return Status::corruption(
            source + ": key 'rope_scaling': expected an object or null, found " + it->dump());
    std::string type;
    for (const char* k : {"rope_type", "type"})
        if (auto t = it->find(k); t != it->end() && t->is_string()) type = t->get<std::string>();
    if (type == "default") return Status::success();
    if (type != "linear")
        return Status::unsupported(source + ": rope_scaling " + it->dump() +
                                   " is not supported (only linear scaling)");
    auto f = it->find("factor");
    if (f == it->end() || !f->is_number() || !(f->get<float>() > 0))
        return Status::corruption(source +
                                  ": rope_scaling: 'factor' must be a positive number, found " +
                                  (f == it->end() ? std::string("nothing") : f->dump()));
    *factor = f->get<float>();
    return Status::success();
}

// transformers 5 writes RoPE settings as "rope_parameters": one object
// {"rope_type", "rope_theta", "factor", "partial_rotary_factor"}, or one such
// object per layer type ("full_attention", "sliding_attention"). Reads the one
// for `layerType` (a single object counts as full_attention) into the fields it
// sets; absent: no change.
Status readRopeParameters(const json& j, const std::string& source, const char* layerType,
                          float* theta, float* factor, float* partial) {
    auto it = j.find("rope_parameters");
    if (it == j.end() || it->is_null()) return Status::success();
    if (!it->is_object())
        return Status::corruption(source + ": key 'rope_parameters': expected an object, found " +
                                  it->dump());
    const json* p = &*it;
    if (it->contains("full_attention") || it->contains("sliding_attention")) {
        auto per = it->find(layerType);
        if (per == it->end()) return Status::success();
        p = &*per;
    } else if (std::string(layerType) == "sliding_attention") {
        return Status::success();  // a single object describes the global RoPE
    }
    if (!p->is_object())
        return Status::corruption(source + ": rope_parameters." + layerType +
                                  ": expected an object, found " + p->dump());
    const std::string where = source + ": rope_parameters";
    auto number = [&](const char* key, float* out) -> Status {
        auto v = p->find(key);
        if (v == p->end() || v->is_null() || !out) return Status::success();
        if (!v->is_number())
            return Status::corruption(where + " '" + key + "': expected a number, found " +
                                      v->dump());
        *out = v->get<float>();
        return Status::success();
    };
    std::string type = "default";
    if (auto t = p->find("rope_type"); t != p->end() && t->is_string())
        type = t->get<std::string>();
    if (type != "default" && type != "linear")
        return Status::unsupported(where + " " + p->dump() +
                                   " is not supported (only default and linear RoPE)");
    MONO_RETURN_IF_ERROR(number("rope_theta", theta));
    MONO_RETURN_IF_ERROR(number("partial_rotary_factor", partial));
    if (type == "linear") {
        if (!factor) return Status::unsupported(where + ": linear scaling on sliding layers");
        MONO_RETURN_IF_ERROR(number("factor", factor));
    }
    return Status::success();
}

Status readActivation(const JsonReader& r, const std::string& source, const char* key,
                      const std::string& fallback, Activation* out) {
    std::string act = fallback;
    MONO_RETURN_IF_ERROR(r.optString(key, &act));
    if (act == "silu" || act == "swish")
        *out = Activation::kSilu;
    else if (act == "gelu_pytorch_tanh" || act == "gelu_new" || act == "gelu_fast" ||
             act == "gelu_tanh")
        *out = Activation::kGeluTanh;
    else if (act == "gelu")
        *out = Activation::kGeluErf;
    else if (act == "relu")
        *out = Activation::kRelu;
    else
        return Status::unsupported(source + ": " + key + " '" + act +
                                   "' is not supported (expected silu, gelu, gelu_pytorch_tanh, "
                                   "gelu_new or relu)");
    return Status::success();
}

// layer_types: ["sliding_attention" | "full_attention", ...], one per layer.
Status readLayerTypes(const json& j, const std::string& source, int nLayers,
                      std::vector<uint8_t>* sliding, bool* present) {
    *present = false;
    auto it = j.find("layer_types");
    if (it == j.end() || it->is_null()) return Status::success();
    if (!it->is_array())
        return Status::corruption(source + ": key 'layer_types': expected a list, found " +
                                  it->dump());
    if (int(it->size()) != nLayers)
        return Status::corruption(source + ": key 'layer_types' has " + std::to_string(it->size()) +
                                  " entries for " + std::to_string(nLayers) + " layers");
    sliding->assign(size_t(nLayers), 0);
    for (int L = 0; L < nLayers; ++L) {
        const json& t = (*it)[size_t(L)];
        if (t == "sliding_attention")
            (*sliding)[size_t(L)] = 1;
        else if (t != "full_attention")
            return Status::unsupported(source + ": layer_types[" + std::to_string(L) + "] " +
                                       t.dump() +
                                       " is not supported (sliding_attention or full_attention)");
    }
    *present = true;
    return Status::success();
}

// The keys every Llama-like family shares; `fallbackHeadDim` 0 means hidden / heads.
Status readLlamaShape(const JsonReader& r, ModelConfig* c, int fallbackHeadDim) {
    MONO_RETURN_IF_ERROR(r.intKey("hidden_size", &c->dModel));
    MONO_RETURN_IF_ERROR(r.intKey("num_hidden_layers", &c->nLayers));
    MONO_RETURN_IF_ERROR(r.intKey("num_attention_heads", &c->nHeads));
    MONO_RETURN_IF_ERROR(r.intKey("intermediate_size", &c->dMlp));
    MONO_RETURN_IF_ERROR(r.intKey("vocab_size", &c->vocabSize));
    c->nKvHeads = c->nHeads;
    MONO_RETURN_IF_ERROR(r.optInt("num_key_value_heads", &c->nKvHeads));
    c->headDim = fallbackHeadDim;
    if (c->headDim == 0 && c->nHeads > 0) c->headDim = c->dModel / c->nHeads;
    MONO_RETURN_IF_ERROR(r.optInt("head_dim", &c->headDim));
    MONO_RETURN_IF_ERROR(r.optInt("max_position_embeddings", &c->maxSeqLen));
    MONO_RETURN_IF_ERROR(r.optFloat("rms_norm_eps", &c->normEps));
    MONO_RETURN_IF_ERROR(r.optFloat("rope_theta", &c->ropeTheta));
    c->rope = RopeLayout::kRotateHalf;
    r.optTokenId("bos_token_id", &c->bosId);
    r.optTokenId("eos_token_id", &c->eosId);
    return Status::success();
}

void slideAll(ModelConfig* c) {
    c->slidingLayers.assign(size_t(std::max(c->nLayers, 0)), 1);
}

}  // namespace

Result<ModelConfig> parseMistral(const json& j, const JsonReader& r, const std::string& source) {
    ModelConfig c;
    c.arch = Arch::kMistral;
    c.maxSeqLen = 4096 * 32;
    c.normEps = 1e-6f;
    c.ropeTheta = 10000.0f;
    c.tiedEmbeddings = false;
    MONO_RETURN_IF_ERROR(readLlamaShape(r, &c, 0));
    MONO_RETURN_IF_ERROR(r.optBool("tie_word_embeddings", &c.tiedEmbeddings));
    MONO_RETURN_IF_ERROR(readActivation(r, source, "hidden_act", "silu", &c.activation));
    MONO_RETURN_IF_ERROR(readRopeScaling(j, source, &c.ropeScale));
    MONO_RETURN_IF_ERROR(
        readRopeParameters(j, source, "full_attention", &c.ropeTheta, &c.ropeScale, nullptr));
    // Mistral slides every layer whenever sliding_window is set (null: full attention).
    c.slidingWindow = 4096;
    if (auto it = j.find("sliding_window"); it != j.end() && it->is_null())
        c.slidingWindow = 0;
    else
        MONO_RETURN_IF_ERROR(r.optInt("sliding_window", &c.slidingWindow));
    if (c.slidingWindow > 0) slideAll(&c);
    return c;
}

Result<ModelConfig> parseQwen(const json& j, const JsonReader& r, const std::string& source,
                              bool qwen3) {
    ModelConfig c;
    c.arch = qwen3 ? Arch::kQwen3 : Arch::kQwen2;
    c.maxSeqLen = 32768;
    c.normEps = 1e-6f;
    c.ropeTheta = 10000.0f;
    c.tiedEmbeddings = false;
    MONO_RETURN_IF_ERROR(readLlamaShape(r, &c, qwen3 ? 128 : 0));
    MONO_RETURN_IF_ERROR(r.optBool("tie_word_embeddings", &c.tiedEmbeddings));
    MONO_RETURN_IF_ERROR(readActivation(r, source, "hidden_act", "silu", &c.activation));
    MONO_RETURN_IF_ERROR(readRopeScaling(j, source, &c.ropeScale));
    MONO_RETURN_IF_ERROR(
        readRopeParameters(j, source, "full_attention", &c.ropeTheta, &c.ropeScale, nullptr));
    if (qwen3) {
        bool bias = false;
        MONO_RETURN_IF_ERROR(r.optBool("attention_bias", &bias));
        c.qkvBias = c.outBias = bias;
        c.qkNorm = true;
    } else {
        c.qkvBias = true;  // Qwen 2 always has q/k/v biases and none on o_proj
    }
    // The window exists only with use_sliding_window; then layer_types, or the
    // layers from max_window_layers on, slide.
    bool useSliding = false;
    MONO_RETURN_IF_ERROR(r.optBool("use_sliding_window", &useSliding));
    if (!useSliding) return c;
    c.slidingWindow = 4096;
    MONO_RETURN_IF_ERROR(r.optInt("sliding_window", &c.slidingWindow));
    int maxWindowLayers = 28;
    MONO_RETURN_IF_ERROR(r.optInt("max_window_layers", &maxWindowLayers));
    bool explicitTypes = false;
    MONO_RETURN_IF_ERROR(readLayerTypes(j, source, c.nLayers, &c.slidingLayers, &explicitTypes));
    if (!explicitTypes) {
        c.slidingLayers.assign(size_t(std::max(c.nLayers, 0)), 0);
        for (int L = maxWindowLayers; L < c.nLayers; ++L) c.slidingLayers[size_t(L)] = 1;
    }
    return c;
}

Result<ModelConfig> parseGemma(const json& j, const JsonReader& r, const std::string& source,
                               bool gemma3) {
    ModelConfig c;
    c.arch = gemma3 ? Arch::kGemma3 : Arch::kGemma2;
    c.vocabSize = gemma3 ? 262208 : 256000;
    c.dModel = 2304;
    c.dMlp = 9216;
    c.nLayers = 26;
    c.nHeads = 8;
    c.nKvHeads = 4;
    c.headDim = 256;
    c.maxSeqLen = gemma3 ? 131072 : 8192;
    c.normEps = 1e-6f;
    c.ropeTheta = gemma3 ? 1000000.0f : 10000.0f;
    c.bosId = 2;
    c.eosId = 1;
    MONO_RETURN_IF_ERROR(r.optInt("vocab_size", &c.vocabSize));
    MONO_RETURN_IF_ERROR(r.optInt("hidden_size", &c.dModel));
    MONO_RETURN_IF_ERROR(r.optInt("intermediate_size", &c.dMlp));
    MONO_RETURN_IF_ERROR(r.optInt("num_hidden_layers", &c.nLayers));
    MONO_RETURN_IF_ERROR(r.optInt("num_attention_heads", &c.nHeads));
    MONO_RETURN_IF_ERROR(r.optInt("num_key_value_heads", &c.nKvHeads));
    MONO_RETURN_IF_ERROR(r.optInt("head_dim", &c.headDim));
    MONO_RETURN_IF_ERROR(r.optInt("max_position_embeddings", &c.maxSeqLen));
    MONO_RETURN_IF_ERROR(r.optFloat("rms_norm_eps", &c.normEps));
    MONO_RETURN_IF_ERROR(r.optFloat("rope_theta", &c.ropeTheta));
    MONO_RETURN_IF_ERROR(r.optBool("tie_word_embeddings", &c.tiedEmbeddings));
    r.optTokenId("bos_token_id", &c.bosId);
    r.optTokenId("eos_token_id", &c.eosId);
    MONO_RETURN_IF_ERROR(
        readActivation(r, source, "hidden_activation", "gelu_pytorch_tanh", &c.activation));
    c.rope = RopeLayout::kRotateHalf;
    c.sandwichNorms = true;
    c.qkNorm = gemma3;
    bool bias = false;
    MONO_RETURN_IF_ERROR(r.optBool("attention_bias", &bias));
    c.qkvBias = c.outBias = bias;
    // The embedding is multiplied by sqrt(hidden_size) rounded to the compute dtype (float32).
    c.embedScale = static_cast<float>(std::sqrt(double(c.dModel)));
    int queryPreAttnScalar = 256;
    MONO_RETURN_IF_ERROR(r.optInt("query_pre_attn_scalar", &queryPreAttnScalar));
    if (queryPreAttnScalar <= 0)
        return Status::corruption(source + ": query_pre_attn_scalar must be positive");
    c.attnScale = static_cast<float>(std::pow(double(queryPreAttnScalar), -0.5));
    MONO_RETURN_IF_ERROR(
        readCap(j, source, "attn_logit_softcapping", gemma3 ? 0.0f : 50.0f, &c.attnSoftcap));
    MONO_RETURN_IF_ERROR(
        readCap(j, source, "final_logit_softcapping", gemma3 ? 0.0f : 30.0f, &c.finalSoftcap));
    c.slidingWindow = 4096;
    MONO_RETURN_IF_ERROR(r.optInt("sliding_window", &c.slidingWindow));
    MONO_RETURN_IF_ERROR(
        readRopeParameters(j, source, "full_attention", &c.ropeTheta, &c.ropeScale, nullptr));
    if (!gemma3) {
        // Gemma 2: even layers (0, 2, ...) slide, odd layers see everything.
        c.slidingLayers.assign(size_t(std::max(c.nLayers, 0)), 0);
        for (int L = 0; L < c.nLayers; L += 2) c.slidingLayers[size_t(L)] = 1;
        return c;
    }
    bool bidirectional = false;
    MONO_RETURN_IF_ERROR(r.optBool("use_bidirectional_attention", &bidirectional));
    if (bidirectional)
        return Status::unsupported(source + ": use_bidirectional_attention is not supported");
    c.ropeLocalTheta = 10000.0f;
    MONO_RETURN_IF_ERROR(r.optFloat("rope_local_base_freq", &c.ropeLocalTheta));
    MONO_RETURN_IF_ERROR(readRopeScaling(j, source, &c.ropeScale));
    MONO_RETURN_IF_ERROR(
        readRopeParameters(j, source, "full_attention", &c.ropeTheta, &c.ropeScale, nullptr));
    MONO_RETURN_IF_ERROR(
        readRopeParameters(j, source, "sliding_attention", &c.ropeLocalTheta, nullptr, nullptr));
    bool explicitTypes = false;
    MONO_RETURN_IF_ERROR(readLayerTypes(j, source, c.nLayers, &c.slidingLayers, &explicitTypes));
    if (!explicitTypes) {
        // Every pattern-th layer (1-based) is global, the others slide.
        int pattern = 6;
        MONO_RETURN_IF_ERROR(r.optInt("sliding_window_pattern", &pattern));
        if (pattern <= 0)
            return Status::corruption(source + ": sliding_window_pattern must be positive");
        c.slidingLayers.assign(size_t(std::max(c.nLayers, 0)), 0);
        for (int L = 0; L < c.nLayers; ++L) c.slidingLayers[size_t(L)] = (L + 1) % pattern != 0;
    }
    return c;
}

Result<ModelConfig> parseGemma3Multimodal(const json& j, const std::string& source) {
    auto it = j.find("text_config");
    if (it == j.end() || !it->is_object())
        return Status::notFound(source + ": model_type gemma3 needs a 'text_config' object");
    const std::string inner = source + " (text_config)";
    JsonReader r(*it, inner);
    MONO_ASSIGN_OR_RETURN(ModelConfig c, parseGemma(*it, r, inner, true));
    // The outer config holds the embedding tie for the whole model.
    JsonReader outer(j, source);
    MONO_RETURN_IF_ERROR(outer.optBool("tie_word_embeddings", &c.tiedEmbeddings));
    return c;
}

Result<ModelConfig> parseGptNeox(const json& j, const JsonReader& r, const std::string& source) {
    ModelConfig c;
    c.arch = Arch::kGptNeox;
    MONO_RETURN_IF_ERROR(r.intKey("hidden_size", &c.dModel));
    MONO_RETURN_IF_ERROR(r.intKey("num_hidden_layers", &c.nLayers));
    MONO_RETURN_IF_ERROR(r.intKey("num_attention_heads", &c.nHeads));
    MONO_RETURN_IF_ERROR(r.intKey("intermediate_size", &c.dMlp));
    MONO_RETURN_IF_ERROR(r.intKey("vocab_size", &c.vocabSize));
    c.nKvHeads = c.nHeads;
    c.headDim = c.nHeads > 0 ? c.dModel / c.nHeads : 0;
    c.maxSeqLen = 2048;
    MONO_RETURN_IF_ERROR(r.optInt("max_position_embeddings", &c.maxSeqLen));
    c.normEps = 1e-5f;
    MONO_RETURN_IF_ERROR(r.optFloat("layer_norm_eps", &c.normEps));
    MONO_RETURN_IF_ERROR(readActivation(r, source, "hidden_act", "gelu", &c.activation));
    // Older configs say rotary_pct / rotary_emb_base, newer ones
    // partial_rotary_factor / rope_theta.
    float pct = 0.25f;
    MONO_RETURN_IF_ERROR(r.optFloat("rotary_pct", &pct));
    MONO_RETURN_IF_ERROR(r.optFloat("partial_rotary_factor", &pct));
    c.ropeTheta = 10000.0f;
    MONO_RETURN_IF_ERROR(r.optFloat("rotary_emb_base", &c.ropeTheta));
    MONO_RETURN_IF_ERROR(r.optFloat("rope_theta", &c.ropeTheta));
    MONO_RETURN_IF_ERROR(readRopeScaling(j, source, &c.ropeScale));
    MONO_RETURN_IF_ERROR(
        readRopeParameters(j, source, "full_attention", &c.ropeTheta, &c.ropeScale, &pct));
    c.rope = RopeLayout::kRotateHalf;
    // transformers truncates head_size * rotary_pct to an integer.
    c.rotaryDim = static_cast<int>(double(c.headDim) * double(pct));
    if (c.rotaryDim <= 0)
        return Status::unsupported(source + ": rotary_pct " + std::to_string(pct) +
                                   " leaves no rotary dims (not supported)");
    c.parallelResidual = true;
    MONO_RETURN_IF_ERROR(r.optBool("use_parallel_residual", &c.parallelResidual));
    c.tiedEmbeddings = false;
    MONO_RETURN_IF_ERROR(r.optBool("tie_word_embeddings", &c.tiedEmbeddings));
    bool bias = true;
    MONO_RETURN_IF_ERROR(r.optBool("attention_bias", &bias));
    c.qkvBias = c.outBias = bias;
    c.mlpBias = true;
    r.optTokenId("bos_token_id", &c.bosId);
    r.optTokenId("eos_token_id", &c.eosId);
    return c;
}

}  // namespace mono::model
