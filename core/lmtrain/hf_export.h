#pragma once
// Saving the toy GPT in Hugging Face GPT-2 layout, so that Model::load (and
// transformers) run it: config.json + model.safetensors with Conv1D weights
// stored [in, out], names wte.weight, wpe.weight, h.L.*, ln_f.*; the
// unembedding is tied to wte.

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/lmtrain/gpt.h"

namespace mono::lmtrain {

// Writes dir/config.json and dir/model.safetensors (atomically, F32 or F16).
// `endOfText` becomes bos/eos_token_id (-1: left out). IoError naming the file.
Status saveHfGpt2(const std::string& dir, const GptShape& shape, const AlignedVector<float>& params,
                  int32_t endOfText, bool f16);

// The config.json text of a shape.
std::string hfGpt2Config(const GptShape& shape, int32_t endOfText);

}  // namespace mono::lmtrain
