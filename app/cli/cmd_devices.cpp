// monoscope-cli devices: the compute devices Monoscope can use here.

#include <cstdio>
#include <thread>

#include "app/cli/command.h"
#ifdef MONO_HAVE_CUDA
#include "gpu/device_info.h"
#endif

namespace mono::cli {
namespace {

int runDevices(CliArgs&) {
    std::printf("cpu   %u hardware threads", std::thread::hardware_concurrency());
#if defined(__AVX512F__)
    std::printf(", AVX-512");
#elif defined(__AVX2__)
    std::printf(", AVX2");
#endif
    std::printf("\n");
#ifdef MONO_HAVE_CUDA
    std::string why;
    auto gpus = gpu::listDevices(&why);
    for (const auto& d : gpus)
        std::printf("cuda:%d %s (sm_%d%d, %.1f GiB, %d SMs)\n", d.index, d.name.c_str(),
                    d.computeMajor, d.computeMinor, d.totalMemoryBytes / 1073741824.0,
                    d.multiprocessors);
    if (gpus.empty()) std::printf("cuda  none (%s)\n", why.c_str());
#else
    std::printf("cuda  not built (nvcc was not found at configure time)\n");
#endif
    return 0;
}

const RegisterCommand kRegister({"devices",
                                 "list the CPU and CUDA devices",
                                 "usage: monoscope-cli devices",
                                 {},
                                 {},
                                 &runDevices});

}  // namespace
}  // namespace mono::cli
