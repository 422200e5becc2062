#pragma once
// What CUDA devices this process can use. Exposes no CUDA types, so app/ can
// include it without the toolkit's headers.

#include <string>
#include <vector>

namespace mono::gpu {

struct DeviceInfo {
    int index = 0;
    std::string name;
    int computeMajor = 0;
    int computeMinor = 0;
    size_t totalMemoryBytes = 0;
    int multiprocessors = 0;
};

// The visible devices; empty (with `why` set) when there is no driver or no GPU.
std::vector<DeviceInfo> listDevices(std::string* why = nullptr);

}  // namespace mono::gpu
