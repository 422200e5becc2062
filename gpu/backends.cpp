#include "gpu/backends.h"

#include "gpu/cuda_support.h"
#include "gpu/sae_encoder_cuda.h"
#include "gpu/sae_step_cuda.h"

namespace mono::gpu {

Status checkDevice(int device) {
    CudaContext ctx;
    return ctx.open(device);
}

Result<std::unique_ptr<sae::SaeStepEngine>> makeSaeStepEngine(int device,
                                                              const sae::StepShape& shape) {
    MONO_ASSIGN_OR_RETURN(std::unique_ptr<CudaSaeStep> step, CudaSaeStep::create(device, shape));
    return std::unique_ptr<sae::SaeStepEngine>(std::move(step));
}

Result<std::unique_ptr<sae::BlockEncoder>> makeBlockEncoder(int device, const sae::Sae& sae,
                                                            int64_t maxRows) {
    MONO_ASSIGN_OR_RETURN(std::unique_ptr<CudaBlockEncoder> enc,
                          CudaBlockEncoder::create(device, sae, maxRows));
    return std::unique_ptr<sae::BlockEncoder>(std::move(enc));
}

}  // namespace mono::gpu
