// libFuzzer target: Hugging Face config.json (configFromHfJson, in memory).

#include <cstdint>
#include <string>

#include "core/model/config.h"

using namespace mono;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    auto config = model::configFromHfJson(text, "config.json");
    if (!config.ok()) return 0;
    (void)config->validate();
    (void)config->parameterCount();
    (void)config->describe();
    return 0;
}
