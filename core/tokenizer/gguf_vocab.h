#pragma once
// The tokenizer stored in a GGUF file's tokenizer.ggml.* metadata, for a caller
// that already opened the file (the model loader). Errors name the file and key.
//  - model "gpt2":  tokens, merges, token_type; pre ("gpt-2", "mpt", "starcoder",
//    "refact", "falcon", ...) picks the pre-tokenizer regex; unknown ones are Unsupported.
//  - model "llama": tokens, scores, token_type; merged by score as llama.cpp does.

#include <memory>

#include "core/base/result.h"
#include "core/io/gguf.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::tok {

Result<std::shared_ptr<const Tokenizer>> loadGgufTokenizer(const io::GgufFile& file);

}  // namespace mono::tok
