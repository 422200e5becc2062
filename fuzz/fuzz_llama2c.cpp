// libFuzzer target: llama2.c checkpoints (Llama2cFile::open) and the model
// config built from an accepted header.

#include <cstdint>
#include <cstdlib>

#include "core/io/llama2c.h"
#include "core/model/config.h"
#include "fuzz/fuzz_support.h"

using namespace mono;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = fuzz::writeInput("model.bin", data, size);
    auto file = io::Llama2cFile::open(path);
    if (!file.ok()) return 0;
    for (const io::TensorView& t : file->tensors()) {
        if (file->find(t.name) == nullptr) std::abort();
        if (t.nbytes > size) std::abort();  // no tensor is larger than the file
        (void)io::describe(t);
    }
    const model::ModelConfig config = model::configFromLlama2c(file->config(), "fuzz");
    (void)config.validate();
    (void)config.describe();
    return 0;
}
