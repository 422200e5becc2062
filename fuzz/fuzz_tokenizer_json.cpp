// libFuzzer target: Hugging Face tokenizer.json (loadTokenizerJson); an accepted
// tokenizer is then used to encode and decode.

#include <cstdint>

#include "fuzz/fuzz_support.h"

using namespace mono;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = fuzz::writeInput("tokenizer.json", data, size);
    auto tokenizer = tok::loadTokenizerJson(path);
    if (tokenizer.ok()) fuzz::exerciseTokenizer(**tokenizer);
    return 0;
}
