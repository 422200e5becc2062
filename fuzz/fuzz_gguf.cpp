// libFuzzer target: GgufFile::open on arbitrary bytes, then what Monoscope reads
// from an accepted file: every metadata value through the typed getters, small
// tensors as floats, the model config and the tokenizer (which is then run).

#include <cstdint>
#include <cstdlib>

#include "core/io/gguf.h"
#include "core/model/config.h"
#include "core/tokenizer/gguf_vocab.h"
#include "fuzz/fuzz_support.h"

using namespace mono;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = fuzz::writeInput("model.gguf", data, size);
    auto file = io::GgufFile::open(path);
    if (!file.ok()) return 0;
    for (const auto& [key, value] : file->metadata()) {
        (void)value.asInt();
        (void)value.asFloat();
        (void)value.asString();
        (void)file->getStringArray(key);
        (void)file->getFloatArray(key);
        (void)file->getIntArray(key);
    }
    for (const io::TensorView& t : file->tensors()) {
        (void)io::describe(t);
        if (t.numel() <= (1u << 16)) (void)io::toFloat(t);
    }
    auto config = model::configFromGguf(*file);
    if (config.ok()) (void)config->describe();
    auto tokenizer = tok::loadGgufTokenizer(*file);
    if (tokenizer.ok()) fuzz::exerciseTokenizer(**tokenizer);
    return 0;
}
