// libFuzzer target: SafetensorsFile::open on arbitrary bytes, then every view
// the parser accepted is described and, when small, converted to floats.

#include <cstdint>
#include <cstdlib>

#include "core/io/safetensors.h"
#include "fuzz/fuzz_support.h"

using namespace mono;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = fuzz::writeInput("model.safetensors", data, size);
    auto file = io::SafetensorsFile::open(path);
    if (!file.ok()) return 0;
    for (const io::TensorView& t : file->tensors()) {
        (void)io::describe(t);
        if (file->find(t.name) == nullptr) std::abort();  // every listed tensor can be found
        if (t.numel() <= (1u << 16)) {
            auto values = io::toFloat(t);
            if (values.ok() && values->size() != t.numel()) std::abort();
        }
    }
    (void)file->metadata().size();
    return 0;
}
