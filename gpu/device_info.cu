#include "gpu/device_info.h"

#include <cuda_runtime.h>

namespace mono::gpu {

std::vector<DeviceInfo> listDevices(std::string* why) {
    std::vector<DeviceInfo> devices;
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        if (why) *why = cudaGetErrorString(err);
        return devices;
    }
    for (int i = 0; i < count; ++i) {
        cudaDeviceProp prop{};
        if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
        devices.push_back(
            {i, prop.name, prop.major, prop.minor, prop.totalGlobalMem, prop.multiProcessorCount});
    }
    if (devices.empty() && why) *why = "no CUDA device visible";
    return devices;
}

}  // namespace mono::gpu
