#include "gpu/backends.h"

#include <algorithm>
#include <vector>

#include "gpu/cuda_support.h"
#include "gpu/forward_cuda.h"
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

Result<std::unique_ptr<model::ForwardBackend>> makeForwardBackend(int device) {
    MONO_ASSIGN_OR_RETURN(std::unique_ptr<CudaForward> f, CudaForward::create(device));
    return std::unique_ptr<model::ForwardBackend>(std::move(f));
}

Result<double> measureSgemmGflops(int device, int64_t M, int64_t N, int64_t K, int reps) {
    CudaContext ctx;
    MONO_RETURN_IF_ERROR(ctx.open(device));
    DeviceArray<float> a, b, c;
    MONO_RETURN_IF_ERROR(a.resize(M * K));
    MONO_RETURN_IF_ERROR(b.resize(K * N));
    MONO_RETURN_IF_ERROR(c.resize(M * N));
    MONO_RETURN_IF_ERROR(a.zero(ctx.stream()));
    MONO_RETURN_IF_ERROR(b.zero(ctx.stream()));
    cudaEvent_t start = nullptr, stop = nullptr;
    MONO_CUDA(cudaEventCreate(&start));
    MONO_CUDA(cudaEventCreate(&stop));
    std::vector<double> gflops;
    Status st;
    for (int r = 0; r <= reps && st.ok(); ++r) {
        cudaEventRecord(start, ctx.stream());
        st = ctx.gemm(false, false, M, N, K, 1.0f, a.data(), K, b.data(), N, 0.0f, c.data(), N);
        cudaEventRecord(stop, ctx.stream());
        if (st.ok()) st = cudaStatus(cudaEventSynchronize(stop), "cudaEventSynchronize");
        float ms = 0;
        cudaEventElapsedTime(&ms, start, stop);
        if (r > 0 && ms > 0) gflops.push_back(2.0 * double(M) * double(N) * double(K) / ms / 1e6);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    MONO_RETURN_IF_ERROR(st);
    if (gflops.empty()) return Status::internal("cuBLAS GEMM timing gave no sample");
    std::nth_element(gflops.begin(), gflops.begin() + gflops.size() / 2, gflops.end());
    return gflops[gflops.size() / 2];
}

}  // namespace mono::gpu
