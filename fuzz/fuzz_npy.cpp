// libFuzzer target: parseNpy on arbitrary bytes (in memory), then the accepted
// array as a view and as floats.

#include <cstdint>
#include <cstdlib>

#include "core/io/npy.h"

using namespace mono;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto array = io::parseNpy(data, size, "fuzz.npy");
    if (!array.ok()) return 0;
    const io::TensorView view = array->view("x");
    if (view.nbytes != array->bytes.size()) std::abort();
    (void)io::describe(view);
    auto values = io::toFloat(view);
    if (values.ok() && values->size() != view.numel()) std::abort();
    return 0;
}
