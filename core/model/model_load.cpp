// Loading weights into ModelWeights from Hugging Face folders (safetensors),
// GGUF files and llama2.c checkpoints; random models; shape checks.
//
// Tensor names by format (L = layer):
//   HF GPT-2  [transformer.]wte/wpe.weight, h.L.ln_1/ln_2.{weight,bias},
//             h.L.attn.c_attn/c_proj.{weight,bias}, h.L.mlp.c_fc/c_proj.{weight,bias},
//             ln_f.{weight,bias}, lm_head.weight (untied only). Conv1D weights are
//             [in, out] and get transposed to [out, in].
//   HF Llama  model.embed_tokens.weight, model.layers.L.{input_layernorm,
//             post_attention_layernorm}.weight, .self_attn.{q,k,v,o}_proj.weight,
//             .mlp.{gate,up,down}_proj.weight, model.norm.weight, lm_head.weight.
//             A name absent from the file may be an alias in __metadata__
//             (TinyStories-656K stores lm_head.weight and aliases embed_tokens to it).
//   GGUF and llama2.c (core/io/llama2c.h names them like GGUF): token_embd.weight,
//             blk.L.attn_norm/ffn_norm.weight, blk.L.attn_{q,k,v,output}.weight,
//             blk.L.ffn_{gate,up,down}.weight, output_norm.weight, output.weight.

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "core/base/file_checks.h"
#include "core/base/memory_budget.h"
#include "core/io/format_detect.h"
#include "core/io/gguf.h"
#include "core/io/llama2c.h"
#include "core/io/safetensors.h"
#include "core/model/model.h"
#include "core/model/weight_reader.h"
#include "core/model/weights.h"

namespace mono::model {

namespace {

namespace fs = std::filesystem;

Status loadGpt2(const ModelConfig& c, const WeightReader& r, const std::string& prefix,
                ModelWeights* w) {
    const int64_t C = c.dModel, F = c.dMlp;
    MONO_RETURN_IF_ERROR(r.embedding(prefix + "wte.weight", c.vocabSize, C, &w->tokenEmbedding,
                                     &w->tokenEmbeddingBf16));
    MONO_RETURN_IF_ERROR(
        r.matrix(prefix + "wpe.weight", c.maxSeqLen, C, false, &w->positionEmbedding));
    w->layers.resize(c.nLayers);
    for (int L = 0; L < c.nLayers; ++L) {
        const std::string p = prefix + "h." + std::to_string(L) + ".";
        LayerWeights& lw = w->layers[L];
        MONO_RETURN_IF_ERROR(r.vector(p + "ln_1.weight", C, &lw.ln1.weight));
        MONO_RETURN_IF_ERROR(r.vector(p + "ln_1.bias", C, &lw.ln1.bias));
        MONO_RETURN_IF_ERROR(r.linear(p + "attn.c_attn.weight", 3 * C, C, true, &lw.qkv));
        MONO_RETURN_IF_ERROR(r.vector(p + "attn.c_attn.bias", 3 * C, &lw.qkv.b));
        MONO_RETURN_IF_ERROR(r.linear(p + "attn.c_proj.weight", C, C, true, &lw.attnOut));
        MONO_RETURN_IF_ERROR(r.vector(p + "attn.c_proj.bias", C, &lw.attnOut.b));
        MONO_RETURN_IF_ERROR(r.vector(p + "ln_2.weight", C, &lw.ln2.weight));
        MONO_RETURN_IF_ERROR(r.vector(p + "ln_2.bias", C, &lw.ln2.bias));
        MONO_RETURN_IF_ERROR(r.linear(p + "mlp.c_fc.weight", F, C, true, &lw.up));
        MONO_RETURN_IF_ERROR(r.vector(p + "mlp.c_fc.bias", F, &lw.up.b));
        MONO_RETURN_IF_ERROR(r.linear(p + "mlp.c_proj.weight", C, F, true, &lw.down));
        MONO_RETURN_IF_ERROR(r.vector(p + "mlp.c_proj.bias", C, &lw.down.b));
    }
    MONO_RETURN_IF_ERROR(r.vector(prefix + "ln_f.weight", C, &w->lnFinal.weight));
    MONO_RETURN_IF_ERROR(r.vector(prefix + "ln_f.bias", C, &w->lnFinal.bias));
    if (!c.tiedEmbeddings)
        MONO_RETURN_IF_ERROR(
            r.embedding("lm_head.weight", c.vocabSize, C, &w->unembedding, &w->unembeddingBf16));
    return Status::success();
}

// Llama weights under either naming; `n` maps a role to the file's tensor name.
struct LlamaNames {
    std::function<std::string()> embed, finalNorm, output;
    std::function<std::string(int, const char*)>
        layer;  // role: attn_norm, q, k, v, o, ffn_norm, gate, up, down
};

Status loadLlama(const ModelConfig& c, const WeightReader& r, const LlamaNames& n,
                 ModelWeights* w) {
    const int64_t C = c.dModel, F = c.dMlp, hd = c.headDim;
    const int64_t q = c.nHeads * hd, kv = c.nKvHeads * hd;
    std::string embed = n.embed();
    // A tied model may store only the output matrix (safetensors drops aliases).
    if (!r.has(embed) && c.tiedEmbeddings && r.has(n.output())) embed = n.output();
    MONO_RETURN_IF_ERROR(
        r.embedding(embed, c.vocabSize, C, &w->tokenEmbedding, &w->tokenEmbeddingBf16));
    w->layers.resize(c.nLayers);
    for (int L = 0; L < c.nLayers; ++L) {
        LayerWeights& lw = w->layers[L];
        MONO_RETURN_IF_ERROR(r.vector(n.layer(L, "attn_norm"), C, &lw.ln1.weight));
        MONO_RETURN_IF_ERROR(r.linearStacked(
            {{n.layer(L, "q"), q}, {n.layer(L, "k"), kv}, {n.layer(L, "v"), kv}}, C, &lw.qkv));
        MONO_RETURN_IF_ERROR(r.linear(n.layer(L, "o"), C, q, false, &lw.attnOut));
        MONO_RETURN_IF_ERROR(r.vector(n.layer(L, "ffn_norm"), C, &lw.ln2.weight));
        MONO_RETURN_IF_ERROR(
            r.linearStacked({{n.layer(L, "gate"), F}, {n.layer(L, "up"), F}}, C, &lw.up));
        MONO_RETURN_IF_ERROR(r.linear(n.layer(L, "down"), C, F, false, &lw.down));
    }
    MONO_RETURN_IF_ERROR(r.vector(n.finalNorm(), C, &w->lnFinal.weight));
    if (!c.tiedEmbeddings)
        MONO_RETURN_IF_ERROR(
            r.embedding(n.output(), c.vocabSize, C, &w->unembedding, &w->unembeddingBf16));
    return Status::success();
}

LlamaNames hfLlamaNames() {
    LlamaNames n;
    n.embed = [] { return std::string("model.embed_tokens.weight"); };
    n.finalNorm = [] { return std::string("model.norm.weight"); };
    n.output = [] { return std::string("lm_head.weight"); };
    n.layer = [](int L, const char* role) {
        const std::string p = "model.layers." + std::to_string(L) + ".";
        const std::string r = role;
        if (r == "attn_norm") return p + "input_layernorm.weight";
        if (r == "ffn_norm") return p + "post_attention_layernorm.weight";
        if (r == "gate" || r == "up" || r == "down") return p + "mlp." + r + "_proj.weight";
        return p + "self_attn." + r + "_proj.weight";
    };
    return n;
}

LlamaNames ggufLlamaNames() {
    LlamaNames n;
    n.embed = [] { return std::string("token_embd.weight"); };
    n.finalNorm = [] { return std::string("output_norm.weight"); };
    n.output = [] { return std::string("output.weight"); };
    n.layer = [](int L, const char* role) {
        const std::string p = "blk." + std::to_string(L) + ".";
        const std::string r = role;
        if (r == "attn_norm" || r == "ffn_norm") return p + r + ".weight";
        if (r == "q" || r == "k" || r == "v") return p + "attn_" + r + ".weight";
        if (r == "o") return p + "attn_output.weight";
        return p + "ffn_" + r + ".weight";
    };
    return n;
}

// The config may not claim fewer layers than the checkpoint holds: the model
// would run truncated and say nothing. (Fewer tensors than layers is caught by
// the loader as a missing tensor.) `nextLayerTensor` names a tensor of layer
// nLayers, which must not exist.
Status checkLayerCount(const ModelConfig& c, const WeightReader& r,
                       const std::string& nextLayerTensor) {
    if (!r.has(nextLayerTensor)) return Status::success();
    return Status::invalidArgument("the configuration says " + std::to_string(c.nLayers) +
                                   " layers, but the checkpoint "
                                   "holds '" +
                                   nextLayerTensor +
                                   "', a layer beyond them: the configuration does not "
                                   "belong to these weights");
}

Result<std::string> readText(const fs::path& path) {
    MONO_RETURN_IF_ERROR(requireRegularFile(path.string()));
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::notFound(path.string() + ": cannot open");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The safetensors files of a Hugging Face folder and which file holds which tensor.
struct HfTensors {
    std::vector<io::SafetensorsFile> files;
    std::map<std::string, size_t> byName;  // tensor name -> index into files
    std::string source;                    // the file errors name by default
};

// Every weight is held in float32 once loaded (a bf16 checkpoint doubles in
// memory), or, bf16-resident, every matrix in bf16 (vectors stay float32): a
// checkpoint that cannot fit is refused with "needs N GiB" before any tensor
// is read, not by std::bad_alloc or the OOM killer half-way.
double estimatedWeightBytes(const std::vector<io::TensorView>& tensors, WeightStorage storage) {
    double bytes = 0;
    for (const io::TensorView& t : tensors)
        bytes += (storage == WeightStorage::kBf16 && t.shape.size() >= 2 ? 2.0 : 4.0) *
                 double(t.numel());
    return bytes;
}

Status checkWeightMemory(const std::string& source, double bytes, WeightStorage storage) {
    return checkMemoryNeed(source + ": holding this model's weights in " +
                               (storage == WeightStorage::kBf16 ? "bf16" : "float32"),
                           bytes);
}

// Opens model.safetensors, or every shard model.safetensors.index.json lists,
// and checks that each tensor of the index is in the shard it names.
Result<HfTensors> openHfTensors(const fs::path& dir) {
    HfTensors t;
    std::error_code ec;  // a symlink loop in the folder is "absent", never an exception
    if (fs::exists(dir / "model.safetensors", ec)) {
        MONO_ASSIGN_OR_RETURN(auto f,
                              io::SafetensorsFile::open((dir / "model.safetensors").string()));
        t.source = f.path();
        for (const io::TensorView& v : f.tensors()) t.byName[v.name] = 0;
        t.files.push_back(std::move(f));
        return t;
    }
    const fs::path indexPath = dir / "model.safetensors.index.json";
    if (!fs::exists(indexPath, ec))
        return Status::notFound(dir.string() + ": no model.safetensors (or sharded index) found");
    t.source = indexPath.string();
    MONO_ASSIGN_OR_RETURN(std::string index, readText(indexPath));
    std::vector<std::pair<std::string, std::string>> entries;  // tensor, shard
    try {
        auto j = nlohmann::json::parse(index);
        for (const auto& [name, file] : j.at("weight_map").items())
            entries.emplace_back(name, file.get<std::string>());
    } catch (const std::exception& e) {
        return Status::corruption(indexPath.string() + ": bad weight_map: " + e.what());
    }
    std::map<std::string, size_t> shardIndex;
    for (const auto& [name, shard] : entries) {
        if (!shardIndex.count(shard)) {
            const fs::path shardPath = dir / shard;
            if (shard.find("..") != std::string::npos || !fs::exists(shardPath, ec))
                return Status::notFound(indexPath.string() + ": shard '" + shard +
                                        "' (holding tensor '" + name +
                                        "') is missing: " + shardPath.string());
            MONO_ASSIGN_OR_RETURN(auto f, io::SafetensorsFile::open(shardPath.string()));
            shardIndex[shard] = t.files.size();
            t.files.push_back(std::move(f));
        }
        const size_t i = shardIndex[shard];
        if (!t.files[i].find(name))
            return Status::notFound(t.files[i].path() + ": tensor '" + name + "' is listed in " +
                                    indexPath.filename().string() +
                                    " for this shard but the shard does not hold it");
        t.byName[name] = i;
    }
    return t;
}

// The first tensor of a decoder layer at or beyond `nLayers` among a
// checkpoint's tensor names ("<prefix>layers.N.…" in the Llama-like families
// and NeoX, "<prefix>h.N.…" in GPT-2); "" when there is none. Only the text
// decoder's prefixes count: a multimodal checkpoint's vision tower has layers
// of its own.
std::string firstLayerBeyond(const HfTensors& t, int64_t nLayers) {
    static const std::set<std::string> kPrefixes = {"",
                                                    "model.",
                                                    "gpt_neox.",
                                                    "transformer.",
                                                    "language_model.model.",
                                                    "model.language_model."};
    std::pair<int64_t, std::string> first{INT64_MAX, ""};
    for (const auto& entry : t.byName) {
        const std::string& name = entry.first;
        for (const std::string key : {"layers.", "h."}) {
            const size_t at = name.find(key);
            if (at == std::string::npos || !kPrefixes.count(name.substr(0, at))) continue;
            size_t end = at + key.size();
            int64_t layer = 0;
            while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end])) &&
                   layer < (int64_t(1) << 40))
                layer = layer * 10 + (name[end++] - '0');
            if (end == at + key.size() || end >= name.size() || name[end] != '.') continue;
            if (layer >= nLayers && layer < first.first) first = {layer, name};
        }
    }
    return first.second;
}

Status loadHfWeights(const ModelConfig& config, const HfTensors& t, WeightStorage storage,
                     ModelWeights* w) {
    FindFn find = [&t](const std::string& name) -> const io::TensorView* {
        if (auto it = t.byName.find(name); it != t.byName.end())
            return t.files[it->second].find(name);
        // Aliases for tied tensors recorded in the metadata: {"alias": "stored name"}.
        for (const auto& f : t.files) {
            auto it = f.metadata().find(name);
            if (it != f.metadata().end())
                if (auto s = t.byName.find(it->second); s != t.byName.end())
                    return t.files[s->second].find(it->second);
        }
        return nullptr;
    };
    WeightReader reader(find, t.source, storage);
    reader.setLocate([&t](const std::string& name) {
        auto it = t.byName.find(name);
        return it == t.byName.end() ? std::string() : t.files[it->second].path();
    });
    switch (config.arch) {
        case Arch::kGpt2: {
            const std::string prefix = reader.has("transformer.wte.weight") ? "transformer." : "";
            return loadGpt2(config, reader, prefix, w);
        }
        case Arch::kLlama:
            return loadLlama(config, reader, hfLlamaNames(), w);
        case Arch::kGptNeox:
            return loadGptNeoxHf(config, reader, w);
        case Arch::kMistral:
        case Arch::kQwen2:
        case Arch::kQwen3:
        case Arch::kGemma2:
        case Arch::kGemma3:
            return loadLlamaLikeHf(config, reader, w);
    }
    return Status::internal("unknown architecture");
}

Result<std::shared_ptr<Model>> loadHfFolder(const fs::path& dir, WeightStorage storage) {
    MONO_ASSIGN_OR_RETURN(std::string text, readText(dir / "config.json"));
    MONO_ASSIGN_OR_RETURN(ModelConfig config,
                          configFromHfJson(text, (dir / "config.json").string()));
    config.name = dir.filename().string();
    if (config.name.empty()) config.name = dir.parent_path().filename().string();
    MONO_ASSIGN_OR_RETURN(HfTensors tensors, openHfTensors(dir));
    // A config that claims fewer layers than the checkpoint holds would run a
    // truncated model without a word.
    if (const std::string name = firstLayerBeyond(tensors, config.nLayers); !name.empty())
        return Status::invalidArgument(
            (dir / "config.json").string() + ": the configuration says " +
            std::to_string(config.nLayers) + " layers, but the checkpoint holds '" + name +
            "', a layer beyond them: the configuration does not belong to these weights");
    double bytes = 0;
    for (const io::SafetensorsFile& f : tensors.files)
        bytes += estimatedWeightBytes(f.tensors(), storage);
    MONO_RETURN_IF_ERROR(checkWeightMemory(dir.string(), bytes, storage));
    auto w = std::make_unique<ModelWeights>();
    MONO_RETURN_IF_ERROR(loadHfWeights(config, tensors, storage, w.get()));
    return Model::fromWeights(config, std::move(*w));
}

}  // namespace

Result<std::shared_ptr<Model>> Model::load(const std::string& path) {
    return load(path, LoadOptions{});
}

Result<std::shared_ptr<Model>> Model::load(const std::string& path, const LoadOptions& options) {
    const WeightStorage storage = options.storage;
    std::error_code ec;
    const fs::path p(path);
    if (!fs::exists(p, ec)) return Status::notFound(path + ": no such file or folder");
    if (fs::is_directory(p, ec)) {
        auto m = loadHfFolder(p, storage);
        if (m.ok()) (*m)->m_path = path;
        return m;
    }
    // By content, not by name: a text file called .gguf is not read as llama2.c.
    MONO_RETURN_IF_ERROR(requireRegularFile(path));
    MONO_ASSIGN_OR_RETURN(const io::FileFormat format, io::detectFileFormat(path));
    if (format != io::FileFormat::kGguf && format != io::FileFormat::kLlama2c)
        return Status::unsupported(path +
                                   ": holds tensors but no model configuration; give the Hugging "
                                   "Face folder (config.json + model.safetensors), a .gguf or a "
                                   "llama2.c .bin");
    auto w = std::make_unique<ModelWeights>();
    ModelConfig config;
    if (format == io::FileFormat::kGguf) {
        MONO_ASSIGN_OR_RETURN(auto file, io::GgufFile::open(path));
        MONO_ASSIGN_OR_RETURN(config, configFromGguf(file));
        config.name = p.filename().string();
        WeightReader reader([&file](const std::string& n) { return file.findTensor(n); }, path,
                            storage);
        MONO_RETURN_IF_ERROR(
            checkLayerCount(config, reader, ggufLlamaNames().layer(config.nLayers, "attn_norm"))
                .withContext(path));
        MONO_RETURN_IF_ERROR(
            checkWeightMemory(path, estimatedWeightBytes(file.tensors(), storage), storage));
        if (config.arch == Arch::kLlama)
            MONO_RETURN_IF_ERROR(loadLlama(config, reader, ggufLlamaNames(), w.get()));
        else
            MONO_RETURN_IF_ERROR(loadGgufFamily(config, reader, w.get()));
    } else {
        MONO_ASSIGN_OR_RETURN(auto file, io::Llama2cFile::open(path));
        config = configFromLlama2c(file.config(), p.filename().string());
        MONO_RETURN_IF_ERROR(config.validate().withContext(path));
        MONO_RETURN_IF_ERROR(
            checkWeightMemory(path, estimatedWeightBytes(file.tensors(), storage), storage));
        WeightReader reader([&file](const std::string& n) { return file.find(n); }, path, storage);
        MONO_RETURN_IF_ERROR(loadLlama(config, reader, ggufLlamaNames(), w.get()));
    }
    auto m = fromWeights(config, std::move(*w));
    if (m.ok()) (*m)->m_path = path;
    return m;
}

namespace {

// Compares every shape of `weights` with what `config` implies; the first
// mismatch as text, empty when all fit.
class ShapeCheck {
public:
    explicit ShapeCheck(const ModelConfig& c) : m_c(c) {}

    std::string run(const ModelWeights& w) {
        const int64_t C = m_c.dModel, V = m_c.vocabSize;
        matrix("token embedding", w.tokenEmbedding, w.tokenEmbeddingBf16, V, C);
        if (m_c.arch == Arch::kGpt2)
            matrix("position embedding", w.positionEmbedding, m_c.maxSeqLen, C);
        if (m_err.empty() && static_cast<int>(w.layers.size()) != m_c.nLayers)
            m_err = "expected " + std::to_string(m_c.nLayers) + " layers, found " +
                    std::to_string(w.layers.size());
        for (size_t L = 0; m_err.empty() && L < w.layers.size(); ++L)
            layer("layer " + std::to_string(L) + " ", w.layers[L]);
        norm("final norm", w.lnFinal, true);
        if (!m_c.tiedEmbeddings)
            matrix("unembedding", w.unembedding, w.unembeddingBf16, V, C);
        else if (m_err.empty() && (w.unembedding.size() || w.unembeddingBf16.out))
            m_err = "unembedding given for a model with tied embeddings";
        return m_err;
    }

private:
    // A weight held either in float32 (`m`) or packed bf16 (`p`), never both.
    void matrix(const std::string& what, const RowMatrix& m, const kernels::PackedBf16& p,
                int64_t wantR, int64_t wantC) {
        if (!p.out) return matrix(what, m, wantR, wantC);
        if (m_err.empty() && m.size()) m_err = what + ": held both in float32 and in bf16";
        if (m_err.empty() && (p.out != wantR || p.in != wantC))
            m_err = what + ": expected shape [" + std::to_string(wantR) + ", " +
                    std::to_string(wantC) + "], found [" + std::to_string(p.out) + ", " +
                    std::to_string(p.in) + "] (bf16)";
    }
    void matrix(const std::string& what, const RowMatrix& m, int64_t wantR, int64_t wantC) {
        if (m_err.empty() && (m.rows() != wantR || m.cols() != wantC))
            m_err = what + ": expected shape [" + std::to_string(wantR) + ", " +
                    std::to_string(wantC) + "], found [" + std::to_string(m.rows()) + ", " +
                    std::to_string(m.cols()) + "]";
    }
    void vec(const std::string& what, const Vector& v, int64_t want) {
        if (m_err.empty() && v.size() != want)
            m_err = what + ": expected " + std::to_string(want) + " values, found " +
                    std::to_string(v.size());
    }
    // A bias the family must have is checked; one it may lack is checked when present.
    void bias(const std::string& what, const Vector& v, int64_t want, bool required) {
        if (required || v.size()) vec(what, v, want);
    }
    void norm(const std::string& what, const Norm& n, bool present) {
        const int64_t C = m_c.dModel;
        vec(what + " weight", n.weight, present ? C : 0);
        if (present && m_c.layerNorm()) vec(what + " bias", n.bias, C);
    }
    void layer(const std::string& p, const LayerWeights& lw) {
        const int64_t C = m_c.dModel, F = m_c.dMlp, hd = m_c.headDim;
        const int64_t qkvRows = (m_c.nHeads + 2 * m_c.nKvHeads) * hd;
        const int64_t upRows = m_c.gatedMlp() ? 2 * F : F;
        norm(p + "ln1", lw.ln1, true);
        norm(p + "ln2", lw.ln2, true);
        norm(p + "post-attention norm", lw.postAttn, m_c.sandwichNorms);
        norm(p + "post-MLP norm", lw.postMlp, m_c.sandwichNorms);
        vec(p + "q norm", lw.qNorm, m_c.qkNorm ? hd : 0);
        vec(p + "k norm", lw.kNorm, m_c.qkNorm ? hd : 0);
        matrix(p + "qkv weight", lw.qkv.w, lw.qkv.wBf16, qkvRows, C);
        matrix(p + "attention out weight", lw.attnOut.w, lw.attnOut.wBf16, C, m_c.nHeads * hd);
        matrix(p + "mlp up weight", lw.up.w, lw.up.wBf16, upRows, C);
        matrix(p + "mlp down weight", lw.down.w, lw.down.wBf16, C, F);
        bias(p + "qkv bias", lw.qkv.b, qkvRows, m_c.hasQkvBias());
        bias(p + "attention out bias", lw.attnOut.b, C, m_c.hasOutBias());
        bias(p + "mlp up bias", lw.up.b, upRows, m_c.hasMlpBias());
        bias(p + "mlp down bias", lw.down.b, C, m_c.hasMlpBias());
    }

    const ModelConfig& m_c;
    std::string m_err;
};

}  // namespace

Result<std::shared_ptr<Model>> Model::fromWeights(const ModelConfig& config, ModelWeights weights) {
    MONO_RETURN_IF_ERROR(config.validate());
    const std::string err = ShapeCheck(config).run(weights);
    if (!err.empty()) return Status::invalidArgument("model weights (" + config.name + "): " + err);
    return std::shared_ptr<Model>(
        new Model(config, std::make_unique<ModelWeights>(std::move(weights)), std::string()));
}

Result<std::shared_ptr<Model>> Model::random(const ModelConfig& config, uint64_t seed) {
    MONO_RETURN_IF_ERROR(config.validate());
    const int64_t C = config.dModel, F = config.dMlp, V = config.vocabSize, hd = config.headDim;
    const bool gpt2 = config.arch == Arch::kGpt2;
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    auto randn = [&](int64_t r, int64_t c) {
        RowMatrix m(r, c);
        for (int64_t i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
        return m;
    };
    ModelWeights w;
    w.tokenEmbedding = randn(V, C);
    if (gpt2) w.positionEmbedding = randn(config.maxSeqLen, C);
    w.layers.resize(config.nLayers);
    auto unitNorm = [&](Norm& n) {
        n.weight = Vector::Ones(C);
        if (config.layerNorm()) n.bias = Vector::Zero(C);
    };
    for (LayerWeights& lw : w.layers) {
        unitNorm(lw.ln1);
        unitNorm(lw.ln2);
        if (config.sandwichNorms) {
            unitNorm(lw.postAttn);
            unitNorm(lw.postMlp);
        }
        if (config.qkNorm) {
            lw.qNorm = Vector::Ones(hd);
            lw.kNorm = Vector::Ones(hd);
        }
        lw.qkv.w = randn((config.nHeads + 2 * config.nKvHeads) * hd, C);
        lw.attnOut.w = randn(C, config.nHeads * hd);
        lw.up.w = randn(config.gatedMlp() ? 2 * F : F, C);
        lw.down.w = randn(C, F);
        if (config.hasQkvBias()) lw.qkv.b = Vector::Zero(lw.qkv.w.rows());
        if (config.hasOutBias()) lw.attnOut.b = Vector::Zero(C);
        if (config.hasMlpBias()) {
            lw.up.b = Vector::Zero(lw.up.w.rows());
            lw.down.b = Vector::Zero(C);
        }
    }
    unitNorm(w.lnFinal);
    if (!config.tiedEmbeddings) w.unembedding = randn(V, C);
    return fromWeights(config, std::move(w));
}

}  // namespace mono::model
