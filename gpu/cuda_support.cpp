#include "gpu/cuda_support.h"

#include <climits>

namespace mono::gpu {

Status cudaStatus(cudaError_t e, const char* what) {
    if (e == cudaSuccess) return Status::success();
    const std::string message = std::string("CUDA: ") + what + ": " + cudaGetErrorString(e);
    if (e == cudaErrorMemoryAllocation) return Status::resourceExhausted(message);
    return Status::internal(message);
}

Status cublasStatus(cublasStatus_t e, const char* what) {
    if (e == CUBLAS_STATUS_SUCCESS) return Status::success();
    return Status::internal(std::string("cuBLAS: ") + what + ": " + cublasGetStatusString(e));
}

CudaContext::~CudaContext() {
    if (m_blas) cublasDestroy(m_blas);
    if (m_stream) cudaStreamDestroy(m_stream);
}

Status CudaContext::open(int device) {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0)
        return Status::unsupported(
            "no CUDA device (" +
            std::string(e != cudaSuccess ? cudaGetErrorString(e) : "none visible") + ")");
    if (device < 0 || device >= count)
        return Status::invalidArgument(
            "cuda:" + std::to_string(device) + ": there are only " + std::to_string(count) +
            " CUDA devices (cuda:0 .. cuda:" + std::to_string(count - 1) + ")");
    MONO_CUDA(cudaSetDevice(device));
    cudaDeviceProp prop{};
    MONO_CUDA(cudaGetDeviceProperties(&prop, device));
    m_device = device;
    m_name = "cuda:" + std::to_string(device) + " (" + prop.name + ")";
    MONO_CUDA(cudaStreamCreateWithFlags(&m_stream, cudaStreamNonBlocking));
    MONO_CUBLAS(cublasCreate(&m_blas));
    MONO_CUBLAS(cublasSetStream(m_blas, m_stream));
    // The default mode never rounds float32 operands to TF32 (that takes
    // CUBLAS_TF32_TENSOR_OP_MATH); set it explicitly so no global default changes it.
    MONO_CUBLAS(cublasSetMathMode(m_blas, CUBLAS_DEFAULT_MATH));
    return Status::success();
}

Status CudaContext::synchronize() const {
    MONO_CUDA(cudaStreamSynchronize(m_stream));
    return Status::success();
}

Status CudaContext::gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                         const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
                         float* C, int64_t ldc) const {
    for (int64_t v : {M, N, K, lda, ldb, ldc})
        if (v > INT_MAX)
            return Status::outOfRange("GEMM dimension " + std::to_string(v) +
                                      " exceeds cuBLAS' 32-bit limit");
    // Row-major C = op(A) op(B) is column-major Cᵀ = op(B)ᵀ op(A)ᵀ, and a
    // row-major matrix read column-major is its transpose: swap the operands.
    const cublasOperation_t opA = transA ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t opB = transB ? CUBLAS_OP_T : CUBLAS_OP_N;
    MONO_CUBLAS(cublasSgemm(m_blas, opB, opA, int(N), int(M), int(K), &alpha, B, int(ldb), A,
                            int(lda), &beta, C, int(ldc)));
    return Status::success();
}

Status CudaContext::gemvT(const float* A, int64_t rows, int64_t cols, const float* x, float alpha,
                          float beta, float* y) const {
    // Row-major A [rows, cols] is column-major [cols, rows]: Aᵀx = A_cm · x.
    MONO_CUBLAS(cublasSgemv(m_blas, CUBLAS_OP_N, int(cols), int(rows), &alpha, A, int(cols), x, 1,
                            &beta, y, 1));
    return Status::success();
}

Result<DeviceMemory> deviceMemory(const CudaContext& ctx) {
    MONO_CUDA(cudaSetDevice(ctx.device()));
    DeviceMemory m;
    MONO_CUDA(cudaMemGetInfo(&m.freeBytes, &m.totalBytes));
    return m;
}

}  // namespace mono::gpu
