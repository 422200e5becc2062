// libFuzzer target: the zip reader (listZip, extractZip) in memory, readNpz on
// the same bytes as a file, and format detection, which must refuse pickle
// checkpoints and never parse them.

#include <cstdint>
#include <cstdlib>

#include "core/io/format_detect.h"
#include "core/io/npy.h"
#include "core/io/zip.h"
#include "fuzz/fuzz_support.h"

using namespace mono;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto entries = io::listZip(data, size, "fuzz.npz");
    if (entries.ok()) {
        for (const io::ZipEntry& e : *entries) {
            if (e.uncompressedSize > (16u << 20)) continue;
            auto bytes = io::extractZip(data, size, e, "fuzz.npz");
            if (bytes.ok() && bytes->size() != e.uncompressedSize) std::abort();
        }
    }
    const std::string path = fuzz::writeInput("arrays.npz", data, size);
    auto arrays = io::readNpz(path);
    if (arrays.ok())
        for (const auto& [name, array] : *arrays) (void)io::toFloat(array.view(name));
    (void)io::detectFileFormat(path);
    const std::string pt = fuzz::writeInput("model.pt", data, size);
    (void)io::detectFileFormat(pt);
    return 0;
}
