// SAELens, Gemma Scope and sparsify SAE files (layouts in sae_io.h).

#include "core/sae/sae_io.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "core/base/atomic_file.h"
#include "core/base/file_checks.h"
#include "core/io/npy.h"
#include "core/io/safetensors.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace mono::sae {
namespace {

std::string shapeString(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// Converts `view` to float after checking its shape; `label` is "file: tensor 'name'".
Result<std::vector<float>> tensorValues(const io::TensorView& view, const std::string& label,
                                        const std::vector<int64_t>& expected) {
    if (view.shape != expected)
        return Status::invalidArgument(label + ": expected shape " + shapeString(expected) +
                                       ", found " + shapeString(view.shape));
    auto values = io::toFloat(view);
    if (!values.ok()) return values.status().withContext(label);
    return values;
}

Matrix toMatrix(const std::vector<float>& v, int64_t rows, int64_t cols) {
    Matrix m(rows, cols);
    // memcpy must not see the null data() of an empty vector, even for 0 bytes.
    if (rows * cols > 0)
        std::memcpy(m.data(), v.data(), sizeof(float) * static_cast<size_t>(rows * cols));
    return m;
}
Vector toVector(const std::vector<float>& v) {
    Vector out(static_cast<int64_t>(v.size()));
    if (!v.empty()) std::memcpy(out.data(), v.data(), sizeof(float) * v.size());
    return out;
}

std::string tensorList(const io::SafetensorsFile& file) {
    std::string s;
    for (const auto& t : file.tensors()) s += (s.empty() ? "" : ", ") + t.name;
    return s.empty() ? "none" : s;
}

Status checkDIn(const std::string& file, int64_t dIn, const LoadOptions& options) {
    if (options.expectedDIn > 0 && dIn != options.expectedDIn)
        return Status::invalidArgument(file + ": d_in is " + std::to_string(dIn) + ", expected " +
                                       std::to_string(options.expectedDIn) +
                                       " (the width of the hook's activations)");
    return Status::success();
}

Result<json> readJson(const std::string& path) {
    MONO_RETURN_IF_ERROR(requireRegularFile(path));
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::notFound(path + ": cannot open");
    std::stringstream buffer;
    buffer << in.rdbuf();
    json j = json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Status::corruption(path + ": not valid JSON");
    if (!j.is_object()) return Status::corruption(path + ": expected a JSON object");
    return j;
}

// Typed JSON field access that reports the key instead of throwing.
Result<int64_t> intField(const json& j, const std::string& key, const std::string& file) {
    auto it = j.find(key);
    if (it == j.end()) return Status::notFound(file + ": missing key '" + key + "'");
    if (!it->is_number_integer())
        return Status::corruption(file + ": key '" + key + "' should be an integer, found " +
                                  it->dump());
    return it->get<int64_t>();
}
std::string stringOr(const json& j, const std::string& key, const std::string& fallback) {
    auto it = j.find(key);
    return (it != j.end() && it->is_string()) ? it->get<std::string>() : fallback;
}
int64_t intOr(const json& j, const std::string& key, int64_t fallback) {
    auto it = j.find(key);
    return (it != j.end() && it->is_number_integer()) ? it->get<int64_t>() : fallback;
}
bool boolOr(const json& j, const std::string& key, bool fallback) {
    auto it = j.find(key);
    return (it != j.end() && it->is_boolean()) ? it->get<bool>() : fallback;
}

// The dtype names cfg.json uses ("float32"), from a file's element type.
std::string torchDtypeName(io::DType t) {
    switch (t) {
        case io::DType::kF32:
            return "float32";
        case io::DType::kF16:
            return "float16";
        case io::DType::kBF16:
            return "bfloat16";
        case io::DType::kF64:
            return "float64";
        default:
            return io::dtypeName(t);
    }
}

int64_t layerFromHook(const std::string& hook) {
    std::smatch m;
    static const std::regex kLayer(R"((?:blocks|layers|layer)[._](\d+))");
    if (std::regex_search(hook, m, kLayer)) return std::stoll(m[1].str());
    return -1;
}

// Parses a SAELens cfg.json, v6 nested or the flat pre-6.0 layout.
Result<SaeConfig> parseSaeLensConfig(const json& j, const std::string& file) {
    SaeConfig c;
    MONO_ASSIGN_OR_RETURN(c.dIn, intField(j, "d_in", file));
    MONO_ASSIGN_OR_RETURN(c.dSae, intField(j, "d_sae", file));
    if (c.dIn <= 0 || c.dSae <= 0)
        return Status::corruption(file + ": d_in and d_sae must be positive, found d_in=" +
                                  std::to_string(c.dIn) + ", d_sae=" + std::to_string(c.dSae));
    c.dtype = stringOr(j, "dtype", "float32");
    c.applyBDecToInput = boolOr(j, "apply_b_dec_to_input", true);

    std::string arch = stringOr(j, "architecture", "standard");
    const std::string activationFn = stringOr(j, "activation_fn_str", "relu");
    const json* kwargs = nullptr;
    if (auto it = j.find("activation_fn_kwargs"); it != j.end() && it->is_object()) kwargs = &*it;
    if (activationFn == "topk" && arch == "standard") arch = "topk";
    if (arch == "gated")
        return Status::unsupported(file +
                                   ": architecture 'gated' is not supported (standard, "
                                   "topk, batchtopk and jumprelu are)");
    if (!parseArchitecture(arch, &c.architecture) || arch == "relu")
        return Status::corruption(file + ": unknown architecture '" + arch +
                                  "' (expected standard, topk, batchtopk or jumprelu)");
    if (c.architecture == Architecture::kTopK || c.architecture == Architecture::kBatchTopK) {
        c.k = intOr(j, "k", 0);
        if (c.k == 0 && kwargs) c.k = intOr(*kwargs, "k", 0);
        if (c.k <= 0 && c.architecture == Architecture::kTopK)
            return Status::corruption(file +
                                      ": topk SAE without a positive 'k' (or "
                                      "activation_fn_kwargs.k)");
    }

    if (auto it = j.find("normalize_activations"); it != j.end()) {
        if (it->is_boolean()) {
            c.normalizeActivations = it->get<bool>() ? "expected_average_only_in" : "none";
        } else if (it->is_string()) {
            c.normalizeActivations = it->get<std::string>();
        } else if (!it->is_null()) {
            return Status::corruption(file +
                                      ": normalize_activations should be a string or "
                                      "bool, found " +
                                      it->dump());
        }
    }
    if (c.normalizeActivations == "layer_norm" || c.normalizeActivations == "constant_norm_rescale")
        return Status::unsupported(file + ": normalize_activations '" + c.normalizeActivations +
                                   "' is not supported (expected none or an input scaling "
                                   "folded into the weights)");

    const json* meta = &j;
    if (auto it = j.find("metadata"); it != j.end() && it->is_object()) meta = &*it;
    SaeMetadata& m = c.metadata;
    m.modelName = stringOr(*meta, "model_name", stringOr(j, "model_name", ""));
    m.hookName =
        stringOr(*meta, "hook_name", stringOr(j, "hook_name", stringOr(j, "hook_point", "")));
    m.hookLayer = intOr(*meta, "hook_layer", intOr(j, "hook_layer", layerFromHook(m.hookName)));
    m.contextSize = intOr(*meta, "context_size", intOr(j, "context_size", 0));
    m.prependBos = boolOr(*meta, "prepend_bos", boolOr(j, "prepend_bos", true));
    m.datasetPath = stringOr(*meta, "dataset_path", stringOr(j, "dataset_path", ""));
    m.trainingTokens = intOr(*meta, "training_tokens", intOr(j, "training_tokens", 0));
    if (auto it = meta->find("training_config"); it != meta->end() && it->is_object())
        m.trainingConfigJson = it->dump();
    return c;
}

Result<const io::TensorView*> requireTensor(const io::SafetensorsFile& file,
                                            const std::string& name, const std::string& label) {
    const io::TensorView* t = file.find(name);
    if (!t)
        return Status::notFound(label + ": missing tensor '" + name +
                                "' (found: " + tensorList(file) + ")");
    return t;
}

}  // namespace

Result<SaeFormat> detectSaeFormat(const std::string& path) {
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) {
        if (fs::path(path).extension() == ".npz") return SaeFormat::kGemmaScope;
        if (fs::path(path).filename() == "sae_weights.safetensors") return SaeFormat::kSaeLens;
        if (fs::path(path).filename() == "sae.safetensors") return SaeFormat::kSparsify;
        return Status::notFound(path +
                                ": not an SAE file (expected params.npz, "
                                "sae_weights.safetensors or sae.safetensors)");
    }
    if (!fs::is_directory(path, ec)) return Status::notFound(path + ": no such file or folder");
    const fs::path dir(path);
    if (fs::exists(dir / "params.npz", ec)) return SaeFormat::kGemmaScope;
    if (fs::exists(dir / "sae_weights.safetensors", ec)) return SaeFormat::kSaeLens;
    if (fs::exists(dir / "sae.safetensors", ec)) return SaeFormat::kSparsify;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.is_directory(ec) && fs::exists(entry.path() / "sae.safetensors", ec))
            return SaeFormat::kSparsify;
    return Status::notFound(path +
                            ": no SAE found (expected cfg.json + sae_weights.safetensors "
                            "(SAELens), params.npz (Gemma Scope) or <hook>/sae.safetensors "
                            "(sparsify))");
}

Result<Sae> loadSae(const std::string& path, const LoadOptions& options) {
    MONO_ASSIGN_OR_RETURN(SaeFormat format, detectSaeFormat(path));
    switch (format) {
        case SaeFormat::kSaeLens: {
            std::error_code ec;
            const std::string dir =
                fs::is_regular_file(path, ec) ? fs::path(path).parent_path().string() : path;
            return loadSaeLens(dir, options);
        }
        case SaeFormat::kGemmaScope:
            return loadGemmaScope(path, options);
        case SaeFormat::kSparsify:
            return loadSparsify(path, options);
    }
    return Status::internal("unknown SAE format");
}

Result<Sae> loadSaeLens(const std::string& dirPath, const LoadOptions& options) {
    const fs::path dir(dirPath);
    const std::string cfgPath = (dir / "cfg.json").string();
    const std::string weightsPath = (dir / "sae_weights.safetensors").string();
    MONO_ASSIGN_OR_RETURN(json j, readJson(cfgPath));
    MONO_ASSIGN_OR_RETURN(SaeConfig config, parseSaeLensConfig(j, cfgPath));
    MONO_RETURN_IF_ERROR(checkDIn(cfgPath, config.dIn, options));
    MONO_ASSIGN_OR_RETURN(io::SafetensorsFile file, io::SafetensorsFile::open(weightsPath));
    const int64_t D = config.dIn, F = config.dSae;
    auto load = [&](const std::string& name,
                    const std::vector<int64_t>& shape) -> Result<std::vector<float>> {
        const std::string label = weightsPath + ": tensor '" + name + "'";
        MONO_ASSIGN_OR_RETURN(const io::TensorView* t, requireTensor(file, name, weightsPath));
        return tensorValues(*t, label, shape);
    };
    MONO_ASSIGN_OR_RETURN(std::vector<float> wEnc, load("W_enc", {D, F}));
    MONO_ASSIGN_OR_RETURN(std::vector<float> wDec, load("W_dec", {F, D}));
    MONO_ASSIGN_OR_RETURN(std::vector<float> bDec, load("b_dec", {D}));
    std::vector<float> bEnc(F, 0.0f), threshold;
    if (file.find("b_enc") || config.architecture != Architecture::kBatchTopK) {
        MONO_ASSIGN_OR_RETURN(bEnc, load("b_enc", {F}));
    }
    Architecture arch = config.architecture;
    if (arch == Architecture::kBatchTopK) {
        // SAELens saves BatchTopK for inference as JumpReLU; without a threshold
        // it can only run as TopK with the training k.
        if (file.find("threshold")) {
            arch = Architecture::kJumpReLU;
        } else if (config.k > 0) {
            arch = Architecture::kTopK;
        } else {
            return Status::notFound(weightsPath +
                                    ": batchtopk SAE without tensor 'threshold' "
                                    "or a k in " +
                                    cfgPath);
        }
    }
    if (arch == Architecture::kJumpReLU) {
        MONO_ASSIGN_OR_RETURN(threshold, load("threshold", {F}));
    }
    config.architecture = arch;
    auto sae = Sae::create(config, toMatrix(wEnc, D, F), toMatrix(wDec, F, D), toVector(bEnc),
                           toVector(bDec), toVector(threshold));
    if (!sae.ok()) return sae.status().withContext(weightsPath);
    return sae;
}

Result<std::vector<float>> loadSparsity(const std::string& dirPath) {
    const std::string path = (fs::path(dirPath) / "sparsity.safetensors").string();
    MONO_ASSIGN_OR_RETURN(io::SafetensorsFile file, io::SafetensorsFile::open(path));
    MONO_ASSIGN_OR_RETURN(const io::TensorView* t, requireTensor(file, "sparsity", path));
    if (t->shape.size() != 1)
        return Status::corruption(path + ": tensor 'sparsity': expected 1-D [d_sae], found " +
                                  shapeString(t->shape));
    auto values = io::toFloat(*t);
    if (!values.ok()) return values.status().withContext(path);
    return values;
}

Result<Sae> loadGemmaScope(const std::string& path, const LoadOptions& options) {
    std::error_code ec;
    std::string file = path;
    if (fs::is_directory(path, ec)) file = (fs::path(path) / "params.npz").string();
    MONO_ASSIGN_OR_RETURN(auto arrays, io::readNpz(file));
    auto find = [&](const std::string& name) -> const io::NpyArray* {
        auto it = arrays.find(name);
        if (it == arrays.end()) {
            std::string lower = name;
            lower[0] = 'w';
            it = arrays.find(lower);
        }
        return it == arrays.end() ? nullptr : &it->second;
    };
    std::string present;
    for (const auto& [name, array] : arrays) present += (present.empty() ? "" : ", ") + name;
    auto require = [&](const std::string& name) -> Result<const io::NpyArray*> {
        const io::NpyArray* a = find(name);
        if (!a)
            return Status::notFound(file + ": missing array '" + name +
                                    "' (found: " + (present.empty() ? "none" : present) + ")");
        return a;
    };
    MONO_ASSIGN_OR_RETURN(const io::NpyArray* encArray, require("W_enc"));
    if (encArray->shape.size() != 2)
        return Status::invalidArgument(file +
                                       ": array 'W_enc': expected 2-D [d_in, d_sae], found " +
                                       shapeString(encArray->shape));
    const int64_t D = encArray->shape[0], F = encArray->shape[1];
    MONO_RETURN_IF_ERROR(checkDIn(file, D, options));
    auto load = [&](const std::string& name,
                    const std::vector<int64_t>& shape) -> Result<std::vector<float>> {
        MONO_ASSIGN_OR_RETURN(const io::NpyArray* a, require(name));
        return tensorValues(a->view(name), file + ": array '" + name + "'", shape);
    };
    MONO_ASSIGN_OR_RETURN(std::vector<float> wEnc, load("W_enc", {D, F}));
    MONO_ASSIGN_OR_RETURN(std::vector<float> wDec, load("W_dec", {F, D}));
    MONO_ASSIGN_OR_RETURN(std::vector<float> bEnc, load("b_enc", {F}));
    MONO_ASSIGN_OR_RETURN(std::vector<float> bDec, load("b_dec", {D}));
    MONO_ASSIGN_OR_RETURN(std::vector<float> threshold, load("threshold", {F}));
    SaeConfig config;
    config.dIn = D;
    config.dSae = F;
    config.architecture = Architecture::kJumpReLU;
    config.applyBDecToInput = false;
    config.dtype = torchDtypeName(encArray->dtype);
    // Gemma Scope paths look like .../gemma-scope-2b-pt-res/layer_12/width_16k/...
    const std::string p = fs::absolute(fs::path(file), ec).string();
    const int64_t layer = layerFromHook(p);
    config.metadata.hookLayer = layer;
    if (layer >= 0) {
        if (p.find("-mlp") != std::string::npos)
            config.metadata.hookName = "blocks." + std::to_string(layer) + ".hook_mlp_out";
        else if (p.find("-res") != std::string::npos)
            config.metadata.hookName = "blocks." + std::to_string(layer) + ".hook_resid_post";
    }
    auto sae = Sae::create(config, toMatrix(wEnc, D, F), toMatrix(wDec, F, D), toVector(bEnc),
                           toVector(bDec), toVector(threshold));
    if (!sae.ok()) return sae.status().withContext(file);
    return sae;
}

Result<Sae> loadSparsify(const std::string& path, const LoadOptions& options) {
    std::error_code ec;
    fs::path dir(path);
    if (fs::is_regular_file(dir, ec)) dir = dir.parent_path();
    if (!fs::exists(dir / "sae.safetensors", ec)) {
        std::vector<fs::path> hooks;
        for (const auto& entry : fs::directory_iterator(dir, ec))
            if (entry.is_directory(ec) && fs::exists(entry.path() / "sae.safetensors", ec))
                hooks.push_back(entry.path());
        std::sort(hooks.begin(), hooks.end());
        if (!options.hook.empty()) {
            dir = dir / options.hook;
            if (!fs::exists(dir / "sae.safetensors", ec))
                return Status::notFound(dir.string() + ": no sae.safetensors for hook '" +
                                        options.hook + "'");
        } else if (hooks.size() == 1) {
            dir = hooks.front();
        } else {
            std::string names;
            for (const auto& h : hooks)
                names += (names.empty() ? "" : ", ") + h.filename().string();
            return Status::invalidArgument(path + ": " +
                                           (hooks.empty()
                                                ? std::string("no <hook>/sae.safetensors")
                                                : "several hooks (" + names + "); choose one"));
        }
    }
    const std::string cfgPath = (dir / "cfg.json").string();
    const std::string weightsPath = (dir / "sae.safetensors").string();
    MONO_ASSIGN_OR_RETURN(json j, readJson(cfgPath));
    MONO_ASSIGN_OR_RETURN(io::SafetensorsFile file, io::SafetensorsFile::open(weightsPath));
    for (const char* unsupported : {"W_skip", "W_enc_skip"})
        if (file.find(unsupported))
            return Status::unsupported(weightsPath + ": tensor '" + unsupported +
                                       "' (skip connection / transcoder) is not supported");
    if (boolOr(j, "transcode", false))
        return Status::unsupported(cfgPath + ": transcoders are not supported");
    MONO_ASSIGN_OR_RETURN(const io::TensorView* enc,
                          requireTensor(file, "encoder.weight", weightsPath));
    if (enc->shape.size() != 2)
        return Status::invalidArgument(weightsPath +
                                       ": tensor 'encoder.weight': expected 2-D "
                                       "[d_sae, d_in], found " +
                                       shapeString(enc->shape));
    const int64_t F = enc->shape[0];
    const int64_t D = intOr(j, "d_in", enc->shape[1]);
    MONO_RETURN_IF_ERROR(checkDIn(cfgPath, D, options));
    MONO_ASSIGN_OR_RETURN(int64_t k, intField(j, "k", cfgPath));
    if (k <= 0 || k > F)
        return Status::corruption(cfgPath + ": k=" + std::to_string(k) + " outside 1.." +
                                  std::to_string(F));
    auto load = [&](const std::string& name,
                    const std::vector<int64_t>& shape) -> Result<std::vector<float>> {
        MONO_ASSIGN_OR_RETURN(const io::TensorView* t, requireTensor(file, name, weightsPath));
        return tensorValues(*t, weightsPath + ": tensor '" + name + "'", shape);
    };
    MONO_ASSIGN_OR_RETURN(std::vector<float> encT, load("encoder.weight", {F, D}));
    MONO_ASSIGN_OR_RETURN(std::vector<float> bEnc, load("encoder.bias", {F}));
    MONO_ASSIGN_OR_RETURN(std::vector<float> wDec, load("W_dec", {F, D}));
    MONO_ASSIGN_OR_RETURN(std::vector<float> bDec, load("b_dec", {D}));
    SaeConfig config;
    config.dIn = D;
    config.dSae = F;
    config.architecture = Architecture::kTopK;
    config.k = k;
    config.applyBDecToInput = true;
    config.dtype = torchDtypeName(enc->dtype);
    const std::string hook = dir.filename().string();
    const int64_t layer = layerFromHook(hook);
    config.metadata.hookLayer = layer;
    // sparsify's `layers.N` is the output of block N, i.e. the residual stream after it.
    config.metadata.hookName =
        (hook.rfind("layers.", 0) == 0 && layer >= 0 && hook == "layers." + std::to_string(layer))
            ? "blocks." + std::to_string(layer) + ".hook_resid_post"
            : hook;
    Matrix wEnc = toMatrix(encT, F, D).transpose();  // [D, F]
    auto sae =
        Sae::create(config, std::move(wEnc), toMatrix(wDec, F, D), toVector(bEnc), toVector(bDec));
    if (!sae.ok()) return sae.status().withContext(weightsPath);
    return sae;
}

Status saveSaeLens(const Sae& sae, const std::string& dirPath,
                   const std::vector<float>& log10Density) {
    std::error_code ec;
    const fs::path dir(dirPath);
    fs::create_directories(dir, ec);
    if (ec) return Status::ioError(dirPath + ": cannot create folder: " + ec.message());
    const SaeConfig& c = sae.config();
    const int64_t D = c.dIn, F = c.dSae;
    std::vector<io::TensorToWrite> tensors;
    auto add = [&](const char* name, std::vector<int64_t> shape, const float* data, int64_t n) {
        tensors.push_back({name, io::DType::kF32, std::move(shape), data,
                           static_cast<uint64_t>(n) * sizeof(float)});
    };
    add("W_enc", {D, F}, sae.wEnc().data(), D * F);
    add("W_dec", {F, D}, sae.wDec().data(), F * D);
    add("b_enc", {F}, sae.bEnc().data(), F);
    add("b_dec", {D}, sae.bDec().data(), D);
    if (c.architecture == Architecture::kJumpReLU) add("threshold", {F}, sae.threshold().data(), F);
    MONO_RETURN_IF_ERROR(io::writeSafetensors((dir / "sae_weights.safetensors").string(), tensors,
                                              {{"format", "pt"}}));
    if (static_cast<int64_t>(log10Density.size()) == F) {
        MONO_RETURN_IF_ERROR(io::writeSafetensors((dir / "sparsity.safetensors").string(),
                                                  {{"sparsity",
                                                    io::DType::kF32,
                                                    {F},
                                                    log10Density.data(),
                                                    static_cast<uint64_t>(F) * sizeof(float)}}));
    }

    json meta = {
        {"model_name", c.metadata.modelName},
        {"hook_name", c.metadata.hookName},
        {"hook_head_index", nullptr},
        {"context_size", c.metadata.contextSize},
        {"prepend_bos", c.metadata.prependBos},
        {"dataset_path", c.metadata.datasetPath},
        {"training_tokens", c.metadata.trainingTokens},
        {"trained_with", std::string("monoscope ") + MONO_VERSION},
    };
    if (c.metadata.hookLayer >= 0) meta["hook_layer"] = c.metadata.hookLayer;
    if (!c.metadata.trainingConfigJson.empty()) {
        json tc = json::parse(c.metadata.trainingConfigJson, nullptr, false);
        if (!tc.is_discarded()) meta["training_config"] = tc;
    }
    json cfg = {
        {"architecture", architectureName(c.architecture)},
        {"d_in", D},
        {"d_sae", F},
        {"dtype", "float32"},
        {"device", "cpu"},
        {"apply_b_dec_to_input", c.applyBDecToInput},
        {"normalize_activations", c.normalizeActivations},
        {"reshape_activations", "none"},
        {"metadata", meta},
    };
    if (c.architecture == Architecture::kTopK) cfg["k"] = c.k;
    return writeFileAtomic((dir / "cfg.json").string(), cfg.dump(2) + "\n");
}

}  // namespace mono::sae
