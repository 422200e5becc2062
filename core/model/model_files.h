#pragma once
// Finding the tokenizer that belongs to a model path, shared by the CLI, the
// GUI and the workspace jobs so that all three choose the same way.

#include <memory>
#include <string>

#include "core/base/result.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::model {

// The tokenizer for `modelPath`: `tokenizerPath` when given; else the HF
// folder's or the GGUF file's own vocabulary; else, for a llama2.c .bin, the
// one findTokenizerBeside picks. InvalidArgument naming the model when none is found.
Result<std::shared_ptr<const tok::Tokenizer>> loadModelTokenizer(
    const std::string& modelPath, const std::string& tokenizerPath = {});

// A llama2.c tokenizer beside a checkpoint: "tokenizer.bin" if present, else the
// first "tok*.bin" by name; never the checkpoint itself. Empty when there is none.
std::string findTokenizerBeside(const std::string& checkpointPath);

// The path loadModelTokenizer would read (without loading it).
Result<std::string> findModelTokenizer(const std::string& modelPath,
                                       const std::string& tokenizerPath = {});

}  // namespace mono::model
