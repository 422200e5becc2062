// libFuzzer target: llama2.c tokenizer.bin (loadLlama2cTokenizer); an accepted
// vocabulary is then used to encode and decode.

#include <cstdint>

#include "fuzz/fuzz_support.h"

using namespace mono;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = fuzz::writeInput("tokenizer.bin", data, size);
    auto tokenizer = tok::loadLlama2cTokenizer(path);
    if (tokenizer.ok()) fuzz::exerciseTokenizer(**tokenizer);
    return 0;
}
