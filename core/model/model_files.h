#pragma once
// Finding the tokenizer that belongs to a model path, shared by the CLI, the
// GUI and the workspace jobs so that all three choose the same way.

#include <memory>
#include <string>

#include "core/base/result.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::model {

// The tokenizer for `modelPath`: `tokenizerPath` when given; else the HF
// folder's or the GGUF file's own vocabulary; else, for a llama2.c .bin, a
// single tokenizer.bin / tok*.bin in the same folder. InvalidArgument naming
// the model when none can be found (or several candidates are found).
Result<std::shared_ptr<const tok::Tokenizer>> loadModelTokenizer(
    const std::string& modelPath, const std::string& tokenizerPath = {});

// The path loadModelTokenizer would read (without loading it).
Result<std::string> findModelTokenizer(const std::string& modelPath,
                                       const std::string& tokenizerPath = {});

}  // namespace mono::model
