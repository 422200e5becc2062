// Hugging Face GPT-2 export of the toy model (see hf_export.h).

#include "core/lmtrain/hf_export.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/base/atomic_file.h"
#include "core/io/safetensors.h"
#include "core/io/tensor.h"

namespace mono::lmtrain {

std::string hfGpt2Config(const GptShape& s, int32_t endOfText) {
    nlohmann::ordered_json j;
    j["model_type"] = "gpt2";
    j["architectures"] = {"GPT2LMHeadModel"};
    j["vocab_size"] = s.vocab;
    j["n_positions"] = s.ctx;
    j["n_ctx"] = s.ctx;
    j["n_embd"] = s.dModel;
    j["n_layer"] = s.layers;
    j["n_head"] = s.heads;
    j["n_inner"] = s.dMlp();
    j["activation_function"] = "gelu_new";
    j["layer_norm_epsilon"] = 1e-5;
    j["resid_pdrop"] = 0.0;
    j["embd_pdrop"] = 0.0;
    j["attn_pdrop"] = 0.0;
    j["scale_attn_weights"] = true;
    j["tie_word_embeddings"] = true;
    if (endOfText >= 0) {
        j["bos_token_id"] = endOfText;
        j["eos_token_id"] = endOfText;
    }
    j["torch_dtype"] = "float32";
    return j.dump(2) + "\n";
}

Status saveHfGpt2(const std::string& dir, const GptShape& shape, const AlignedVector<float>& params,
                  int32_t endOfText, bool f16) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::ioError(dir + ": cannot create folder: " + ec.message());
    const std::vector<ParamTensor> layout = paramLayout(shape);
    if (params.size() != static_cast<size_t>(layout.back().offset + layout.back().size))
        return Status::invalidArgument("saving " + dir + ": " + std::to_string(params.size()) +
                                       " parameters do not match the model shape");
    // Converted copies live here until the file is written.
    std::vector<std::vector<float>> f32(layout.size());
    std::vector<std::vector<uint16_t>> half(layout.size());
    std::vector<io::TensorToWrite> tensors;
    for (size_t i = 0; i < layout.size(); ++i) {
        const ParamTensor& t = layout[i];
        const float* p = params.data() + t.offset;
        std::vector<int64_t> fileShape = t.shape;
        std::vector<float>& v = f32[i];
        if (t.linearWeight) {  // [out, in] -> Conv1D [in, out]
            const int64_t out = t.shape[0], in = t.shape[1];
            v.resize(static_cast<size_t>(t.size));
            for (int64_t o = 0; o < out; ++o)
                for (int64_t k = 0; k < in; ++k) v[k * out + o] = p[o * in + k];
            fileShape = {in, out};
        } else {
            v.assign(p, p + t.size);
        }
        const std::string name = t.name == "wte" || t.name == "wpe" ? t.name + ".weight" : t.name;
        if (f16) {
            half[i].resize(v.size());
            for (size_t k = 0; k < v.size(); ++k) half[i][k] = io::floatToHalf(v[k]);
            tensors.push_back({name, io::DType::kF16, fileShape, half[i].data(),
                               static_cast<uint64_t>(v.size()) * 2});
        } else {
            tensors.push_back(
                {name, io::DType::kF32, fileShape, v.data(), static_cast<uint64_t>(v.size()) * 4});
        }
    }
    MONO_RETURN_IF_ERROR(writeFileAtomic((std::filesystem::path(dir) / "config.json").string(),
                                         hfGpt2Config(shape, endOfText)));
    return io::writeSafetensors((std::filesystem::path(dir) / "model.safetensors").string(),
                                tensors, {{"format", "pt"}});
}

}  // namespace mono::lmtrain
