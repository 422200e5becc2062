#include "app/cli/device_args.h"

#ifdef MONO_HAVE_CUDA
#include "gpu/backends.h"
#endif

namespace mono::cli {

Result<ComputeDevice> deviceOption(const CliArgs& args) {
    const std::string text = args.option("device").value_or("cpu");
    MONO_ASSIGN_OR_RETURN(const ComputeDevice device, parseComputeDevice(text));
    if (!device.isCuda()) return device;
#ifdef MONO_HAVE_CUDA
    if (Status st = gpu::checkDevice(device.index); !st.ok())
        return Status(st.code(), "--device " + text + ": " + st.message() +
                                     "; run with --device cpu (see `monoscope-cli devices`)");
    return device;
#else
    return Status::unsupported("--device " + text +
                               ": built without CUDA (nvcc was not found at configure time); "
                               "run with --device cpu");
#endif
}

sae::StepEngineFactory stepEngineFor(const ComputeDevice& device) {
#ifdef MONO_HAVE_CUDA
    if (device.isCuda())
        return [index = device.index](const sae::StepShape& shape) {
            return gpu::makeSaeStepEngine(index, shape);
        };
#else
    (void)device;
#endif
    return {};
}

Result<std::unique_ptr<sae::BlockEncoder>> blockEncoderFor(const ComputeDevice& device,
                                                           const sae::Sae& sae, int64_t maxRows) {
#ifdef MONO_HAVE_CUDA
    if (device.isCuda()) return gpu::makeBlockEncoder(device.index, sae, maxRows);
#else
    (void)sae;
    (void)maxRows;
    if (device.isCuda()) return Status::unsupported("built without CUDA");
#endif
    return std::unique_ptr<sae::BlockEncoder>();
}

Result<std::unique_ptr<model::ForwardBackend>> forwardBackendFor(const ComputeDevice& device) {
#ifdef MONO_HAVE_CUDA
    if (device.isCuda()) return gpu::makeForwardBackend(device.index);
#else
    if (device.isCuda()) return Status::unsupported("built without CUDA");
#endif
    return std::unique_ptr<model::ForwardBackend>();
}

Status cachedForwardDevice(const CliArgs& args, const std::string& command) {
    MONO_ASSIGN_OR_RETURN(const ComputeDevice device, deviceOption(args));
    if (!device.isCuda()) return Status::success();
    return Status::unsupported(command + " --device " + device.name() +
                               ": generation needs a KV cache, which the CUDA forward pass does "
                               "not have yet; run with --device cpu");
}

}  // namespace mono::cli
