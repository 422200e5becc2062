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
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "core/base/file_checks.h"
#include "core/io/format_detect.h"
#include "core/io/gguf.h"
#include "core/io/llama2c.h"
#include "core/io/safetensors.h"
#include "core/model/model.h"
#include "core/model/weights.h"

namespace mono::model {

namespace {

namespace fs = std::filesystem;

std::string shapeString(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// A weight that is NaN or infinite poisons every activation after it (generation
// prints NUL bytes, metrics print NaN), so it is refused at load, by name.
Status checkFinite(const std::string& source, const std::string& name,
                   const std::vector<float>& values) {
    for (size_t i = 0; i < values.size(); ++i)
        if (!std::isfinite(values[i]))
            return Status::corruption(source + ": tensor '" + name + "' holds " +
                                      (std::isnan(values[i]) ? "NaN" : "an infinite value") +
                                      " at element " + std::to_string(i) +
                                      "; the weights are damaged");
    return Status::success();
}

// Looks tensors up by name across the files of one model.
using FindFn = std::function<const io::TensorView*(const std::string&)>;

class WeightReader {
public:
    WeightReader(FindFn find, std::string source)
        : m_find(std::move(find)), m_source(std::move(source)) {}

    // Reads `name` as a [rows, cols] matrix (or a vector when cols == 0); with
    // `transpose` the file holds [cols, rows] (Conv1D) and it is transposed.
    Status matrix(const std::string& name, int64_t rows, int64_t cols, bool transpose,
                  RowMatrix* out) const {
        const io::TensorView* t = m_find(name);
        if (!t) return Status::notFound(m_source + ": missing tensor '" + name + "'");
        std::vector<int64_t> want =
            transpose ? std::vector<int64_t>{cols, rows} : std::vector<int64_t>{rows, cols};
        if (t->shape != want)
            return Status::invalidArgument(m_source + ": tensor '" + name + "': expected shape " +
                                           shapeString(want) + ", found " + shapeString(t->shape));
        auto f = io::toFloat(*t);
        if (!f.ok()) return f.status().withContext(m_source);
        MONO_RETURN_IF_ERROR(checkFinite(m_source, name, *f));
        if (transpose) {
            *out = Eigen::Map<const RowMatrix>(f->data(), cols, rows).transpose();
        } else {
            out->resize(rows, cols);
            std::memcpy(out->data(), f->data(), sizeof(float) * rows * cols);
        }
        return Status::success();
    }

    Status vector(const std::string& name, int64_t n, Vector* out) const {
        const io::TensorView* t = m_find(name);
        if (!t) return Status::notFound(m_source + ": missing tensor '" + name + "'");
        if (t->shape != std::vector<int64_t>{n})
            return Status::invalidArgument(m_source + ": tensor '" + name + "': expected shape " +
                                           shapeString({n}) + ", found " + shapeString(t->shape));
        auto f = io::toFloat(*t);
        if (!f.ok()) return f.status().withContext(m_source);
        MONO_RETURN_IF_ERROR(checkFinite(m_source, name, *f));
        *out = Eigen::Map<const Vector>(f->data(), n);
        return Status::success();
    }

    // Stacks several [rows_i, cols] tensors along rows into one fused linear.
    Status stacked(const std::vector<std::pair<std::string, int64_t>>& parts, int64_t cols,
                   RowMatrix* out) const {
        int64_t total = 0;
        for (const auto& p : parts) total += p.second;
        out->resize(total, cols);
        int64_t row = 0;
        for (const auto& [name, rows] : parts) {
            RowMatrix m;
            MONO_RETURN_IF_ERROR(matrix(name, rows, cols, false, &m));
            out->middleRows(row, rows) = m;
            row += rows;
        }
        return Status::success();
    }

    bool has(const std::string& name) const { return m_find(name) != nullptr; }

private:
    FindFn m_find;
    std::string m_source;
};

Status loadGpt2(const ModelConfig& c, const WeightReader& r, const std::string& prefix,
                ModelWeights* w) {
    const int64_t C = c.dModel, F = c.dMlp;
    MONO_RETURN_IF_ERROR(
        r.matrix(prefix + "wte.weight", c.vocabSize, C, false, &w->tokenEmbedding));
    MONO_RETURN_IF_ERROR(
        r.matrix(prefix + "wpe.weight", c.maxSeqLen, C, false, &w->positionEmbedding));
    w->layers.resize(c.nLayers);
    for (int L = 0; L < c.nLayers; ++L) {
        const std::string p = prefix + "h." + std::to_string(L) + ".";
        LayerWeights& lw = w->layers[L];
        MONO_RETURN_IF_ERROR(r.vector(p + "ln_1.weight", C, &lw.ln1.weight));
        MONO_RETURN_IF_ERROR(r.vector(p + "ln_1.bias", C, &lw.ln1.bias));
        MONO_RETURN_IF_ERROR(r.matrix(p + "attn.c_attn.weight", 3 * C, C, true, &lw.qkv.w));
        MONO_RETURN_IF_ERROR(r.vector(p + "attn.c_attn.bias", 3 * C, &lw.qkv.b));
        MONO_RETURN_IF_ERROR(r.matrix(p + "attn.c_proj.weight", C, C, true, &lw.attnOut.w));
        MONO_RETURN_IF_ERROR(r.vector(p + "attn.c_proj.bias", C, &lw.attnOut.b));
        MONO_RETURN_IF_ERROR(r.vector(p + "ln_2.weight", C, &lw.ln2.weight));
        MONO_RETURN_IF_ERROR(r.vector(p + "ln_2.bias", C, &lw.ln2.bias));
        MONO_RETURN_IF_ERROR(r.matrix(p + "mlp.c_fc.weight", F, C, true, &lw.up.w));
        MONO_RETURN_IF_ERROR(r.vector(p + "mlp.c_fc.bias", F, &lw.up.b));
        MONO_RETURN_IF_ERROR(r.matrix(p + "mlp.c_proj.weight", C, F, true, &lw.down.w));
        MONO_RETURN_IF_ERROR(r.vector(p + "mlp.c_proj.bias", C, &lw.down.b));
    }
    MONO_RETURN_IF_ERROR(r.vector(prefix + "ln_f.weight", C, &w->lnFinal.weight));
    MONO_RETURN_IF_ERROR(r.vector(prefix + "ln_f.bias", C, &w->lnFinal.bias));
    if (!c.tiedEmbeddings)
        MONO_RETURN_IF_ERROR(r.matrix("lm_head.weight", c.vocabSize, C, false, &w->unembedding));
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
    MONO_RETURN_IF_ERROR(r.matrix(embed, c.vocabSize, C, false, &w->tokenEmbedding));
    w->layers.resize(c.nLayers);
    for (int L = 0; L < c.nLayers; ++L) {
        LayerWeights& lw = w->layers[L];
        MONO_RETURN_IF_ERROR(r.vector(n.layer(L, "attn_norm"), C, &lw.ln1.weight));
        MONO_RETURN_IF_ERROR(r.stacked(
            {{n.layer(L, "q"), q}, {n.layer(L, "k"), kv}, {n.layer(L, "v"), kv}}, C, &lw.qkv.w));
        MONO_RETURN_IF_ERROR(r.matrix(n.layer(L, "o"), C, q, false, &lw.attnOut.w));
        MONO_RETURN_IF_ERROR(r.vector(n.layer(L, "ffn_norm"), C, &lw.ln2.weight));
        MONO_RETURN_IF_ERROR(
            r.stacked({{n.layer(L, "gate"), F}, {n.layer(L, "up"), F}}, C, &lw.up.w));
        MONO_RETURN_IF_ERROR(r.matrix(n.layer(L, "down"), C, F, false, &lw.down.w));
    }
    MONO_RETURN_IF_ERROR(r.vector(n.finalNorm(), C, &w->lnFinal.weight));
    if (!c.tiedEmbeddings)
        MONO_RETURN_IF_ERROR(r.matrix(n.output(), c.vocabSize, C, false, &w->unembedding));
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

Result<std::shared_ptr<Model>> loadHfFolder(const fs::path& dir) {
    MONO_ASSIGN_OR_RETURN(std::string text, readText(dir / "config.json"));
    MONO_ASSIGN_OR_RETURN(ModelConfig config,
                          configFromHfJson(text, (dir / "config.json").string()));
    config.name = dir.filename().string();
    if (config.name.empty()) config.name = dir.parent_path().filename().string();

    // One model.safetensors, or the shards listed by model.safetensors.index.json.
    std::vector<io::SafetensorsFile> files;
    std::error_code ec;  // a symlink loop in the folder is "absent", never an exception
    if (fs::exists(fs::symlink_status(dir / "model.safetensors", ec))) {
        MONO_ASSIGN_OR_RETURN(auto f,
                              io::SafetensorsFile::open((dir / "model.safetensors").string()));
        files.push_back(std::move(f));
    } else if (fs::exists(dir / "model.safetensors.index.json", ec)) {
        const fs::path indexPath = dir / "model.safetensors.index.json";
        MONO_ASSIGN_OR_RETURN(std::string index, readText(indexPath));
        std::vector<std::string> shards;
        try {
            auto j = nlohmann::json::parse(index);
            for (const auto& [name, file] : j.at("weight_map").items()) {
                const std::string f = file.get<std::string>();
                if (std::find(shards.begin(), shards.end(), f) == shards.end()) shards.push_back(f);
            }
        } catch (const std::exception& e) {
            return Status::corruption(indexPath.string() + ": bad weight_map: " + e.what());
        }
        for (const auto& s : shards) {
            MONO_ASSIGN_OR_RETURN(auto f, io::SafetensorsFile::open((dir / s).string()));
            files.push_back(std::move(f));
        }
    } else {
        return Status::notFound(dir.string() + ": no model.safetensors (or sharded index) found");
    }
    FindFn find = [&files](const std::string& name) -> const io::TensorView* {
        for (const auto& f : files)
            if (const io::TensorView* t = f.find(name)) return t;
        // Aliases for tied tensors recorded in the metadata: {"alias": "stored name"}.
        for (const auto& f : files) {
            auto it = f.metadata().find(name);
            if (it != f.metadata().end())
                for (const auto& g : files)
                    if (const io::TensorView* t = g.find(it->second)) return t;
        }
        return nullptr;
    };
    const std::string source = files.size() == 1 ? files[0].path() : dir.string();
    WeightReader reader(find, source);
    auto w = std::make_unique<ModelWeights>();
    if (config.arch == Arch::kGpt2) {
        const std::string prefix = reader.has("transformer.wte.weight") ? "transformer." : "";
        MONO_RETURN_IF_ERROR(
            checkLayerCount(config, reader,
                            prefix + "h." + std::to_string(config.nLayers) + ".ln_1.weight")
                .withContext((dir / "config.json").string()));
        MONO_RETURN_IF_ERROR(loadGpt2(config, reader, prefix, w.get()));
    } else {
        MONO_RETURN_IF_ERROR(
            checkLayerCount(config, reader, hfLlamaNames().layer(config.nLayers, "attn_norm"))
                .withContext((dir / "config.json").string()));
        MONO_RETURN_IF_ERROR(loadLlama(config, reader, hfLlamaNames(), w.get()));
    }
    return Model::fromWeights(config, std::move(*w));
}

}  // namespace

Result<std::shared_ptr<Model>> Model::load(const std::string& path) {
    std::error_code ec;
    const fs::path p(path);
    if (!fs::exists(p, ec)) return Status::notFound(path + ": no such file or folder");
    if (fs::is_directory(p, ec)) {
        auto m = loadHfFolder(p);
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
        WeightReader reader([&file](const std::string& n) { return file.findTensor(n); }, path);
        MONO_RETURN_IF_ERROR(
            checkLayerCount(config, reader, ggufLlamaNames().layer(config.nLayers, "attn_norm"))
                .withContext(path));
        MONO_RETURN_IF_ERROR(loadLlama(config, reader, ggufLlamaNames(), w.get()));
    } else {
        MONO_ASSIGN_OR_RETURN(auto file, io::Llama2cFile::open(path));
        config = configFromLlama2c(file.config(), p.filename().string());
        MONO_RETURN_IF_ERROR(config.validate().withContext(path));
        WeightReader reader([&file](const std::string& n) { return file.find(n); }, path);
        MONO_RETURN_IF_ERROR(loadLlama(config, reader, ggufLlamaNames(), w.get()));
    }
    auto m = fromWeights(config, std::move(*w));
    if (m.ok()) (*m)->m_path = path;
    return m;
}

Result<std::shared_ptr<Model>> Model::fromWeights(const ModelConfig& config, ModelWeights weights) {
    MONO_RETURN_IF_ERROR(config.validate());
    const int64_t C = config.dModel, F = config.dMlp, V = config.vocabSize, hd = config.headDim;
    const int64_t qkvRows = (config.nHeads + 2 * config.nKvHeads) * hd;
    const bool gpt2 = config.arch == Arch::kGpt2;
    std::string err;
    auto check = [&](const std::string& what, int64_t rows, int64_t cols, int64_t wantR,
                     int64_t wantC) {
        if (err.empty() && (rows != wantR || cols != wantC))
            err = what + ": expected shape [" + std::to_string(wantR) + ", " +
                  std::to_string(wantC) + "], found [" + std::to_string(rows) + ", " +
                  std::to_string(cols) + "]";
    };
    auto checkV = [&](const std::string& what, const Vector& v, int64_t want) {
        if (err.empty() && v.size() != want)
            err = what + ": expected " + std::to_string(want) + " values, found " +
                  std::to_string(v.size());
    };
    check("token embedding", weights.tokenEmbedding.rows(), weights.tokenEmbedding.cols(), V, C);
    if (gpt2)
        check("position embedding", weights.positionEmbedding.rows(),
              weights.positionEmbedding.cols(), config.maxSeqLen, C);
    if (err.empty() && static_cast<int>(weights.layers.size()) != config.nLayers)
        err = "expected " + std::to_string(config.nLayers) + " layers, found " +
              std::to_string(weights.layers.size());
    for (size_t L = 0; err.empty() && L < weights.layers.size(); ++L) {
        const LayerWeights& lw = weights.layers[L];
        const std::string p = "layer " + std::to_string(L) + " ";
        checkV(p + "ln1 weight", lw.ln1.weight, C);
        checkV(p + "ln2 weight", lw.ln2.weight, C);
        if (gpt2) {
            checkV(p + "ln1 bias", lw.ln1.bias, C);
            checkV(p + "ln2 bias", lw.ln2.bias, C);
        }
        check(p + "qkv weight", lw.qkv.w.rows(), lw.qkv.w.cols(), qkvRows, C);
        check(p + "attention out weight", lw.attnOut.w.rows(), lw.attnOut.w.cols(), C,
              config.nHeads * hd);
        check(p + "mlp up weight", lw.up.w.rows(), lw.up.w.cols(), gpt2 ? F : 2 * F, C);
        check(p + "mlp down weight", lw.down.w.rows(), lw.down.w.cols(), C, F);
        if (gpt2) {
            checkV(p + "qkv bias", lw.qkv.b, qkvRows);
            checkV(p + "attention out bias", lw.attnOut.b, C);
            checkV(p + "mlp up bias", lw.up.b, F);
            checkV(p + "mlp down bias", lw.down.b, C);
        } else if (err.empty() &&
                   (lw.qkv.b.size() || lw.attnOut.b.size() || lw.up.b.size() || lw.down.b.size())) {
            if (lw.qkv.b.size()) checkV(p + "qkv bias", lw.qkv.b, qkvRows);
            if (lw.attnOut.b.size()) checkV(p + "attention out bias", lw.attnOut.b, C);
            if (lw.up.b.size()) checkV(p + "mlp up bias", lw.up.b, 2 * F);
            if (lw.down.b.size()) checkV(p + "mlp down bias", lw.down.b, C);
        }
    }
    checkV("final norm weight", weights.lnFinal.weight, C);
    if (gpt2) checkV("final norm bias", weights.lnFinal.bias, C);
    if (!config.tiedEmbeddings)
        check("unembedding", weights.unembedding.rows(), weights.unembedding.cols(), V, C);
    else if (err.empty() && weights.unembedding.size())
        err = "unembedding given for a model with tied embeddings";
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
    for (LayerWeights& lw : w.layers) {
        lw.ln1.weight = Vector::Ones(C);
        lw.ln2.weight = Vector::Ones(C);
        lw.qkv.w = randn((config.nHeads + 2 * config.nKvHeads) * hd, C);
        lw.attnOut.w = randn(C, config.nHeads * hd);
        lw.up.w = randn(gpt2 ? F : 2 * F, C);
        lw.down.w = randn(C, F);
        if (gpt2) {
            lw.ln1.bias = Vector::Zero(C);
            lw.ln2.bias = Vector::Zero(C);
            lw.qkv.b = Vector::Zero(lw.qkv.w.rows());
            lw.attnOut.b = Vector::Zero(C);
            lw.up.b = Vector::Zero(F);
            lw.down.b = Vector::Zero(C);
        }
    }
    w.lnFinal.weight = Vector::Ones(C);
    if (gpt2) w.lnFinal.bias = Vector::Zero(C);
    if (!config.tiedEmbeddings) w.unembedding = randn(V, C);
    return fromWeights(config, std::move(w));
}

}  // namespace mono::model
