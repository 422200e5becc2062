#pragma once
// Internal to gpu/: CUDA and cuBLAS errors as Status, device arrays, and the
// row-major GEMM every engine uses. Never included by app/ or core/.

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "core/base/result.h"

namespace mono::gpu {

Status cudaStatus(cudaError_t e, const char* what);
Status cublasStatus(cublasStatus_t e, const char* what);

#define MONO_CUDA(expr) MONO_RETURN_IF_ERROR(::mono::gpu::cudaStatus((expr), #expr))
#define MONO_CUBLAS(expr) MONO_RETURN_IF_ERROR(::mono::gpu::cublasStatus((expr), #expr))
// After a kernel launch: a bad launch configuration shows up here.
#define MONO_CUDA_LAUNCHED() MONO_CUDA(cudaGetLastError())

// A device allocation of n elements of T that only grows (buffers are reused
// from step to step).
template <class T>
class DeviceArray {
public:
    DeviceArray() = default;
    DeviceArray(const DeviceArray&) = delete;
    DeviceArray& operator=(const DeviceArray&) = delete;
    ~DeviceArray() {
        if (m_data) cudaFree(m_data);
    }

    Status resize(int64_t n) {
        if (n <= m_capacity) {
            m_size = n;
            return Status::success();
        }
        if (m_data) cudaFree(m_data);
        m_data = nullptr;
        m_capacity = m_size = 0;
        MONO_CUDA(
            cudaMalloc(reinterpret_cast<void**>(&m_data), sizeof(T) * static_cast<size_t>(n)));
        m_capacity = m_size = n;
        return Status::success();
    }
    Status upload(const T* host, int64_t n, cudaStream_t stream) {
        MONO_RETURN_IF_ERROR(resize(n));
        MONO_CUDA(cudaMemcpyAsync(m_data, host, sizeof(T) * static_cast<size_t>(n),
                                  cudaMemcpyHostToDevice, stream));
        return Status::success();
    }
    Status download(T* host, int64_t n, cudaStream_t stream) const {
        MONO_CUDA(cudaMemcpyAsync(host, m_data, sizeof(T) * static_cast<size_t>(n),
                                  cudaMemcpyDeviceToHost, stream));
        return Status::success();
    }
    Status zero(cudaStream_t stream) {
        MONO_CUDA(cudaMemsetAsync(m_data, 0, sizeof(T) * static_cast<size_t>(m_size), stream));
        return Status::success();
    }
    T* data() { return m_data; }
    const T* data() const { return m_data; }
    int64_t size() const { return m_size; }

private:
    T* m_data = nullptr;
    int64_t m_size = 0, m_capacity = 0;
};

// A stream and a cuBLAS handle on one device, in plain float32 math: TF32
// tensor cores stay off so that every GEMM matches the CPU's float32.
class CudaContext {
public:
    CudaContext() = default;
    CudaContext(const CudaContext&) = delete;
    CudaContext& operator=(const CudaContext&) = delete;
    ~CudaContext();

    // Selects the device (an error naming it when absent) and makes the stream
    // and handle.
    Status open(int device);

    int device() const { return m_device; }
    const std::string& name() const { return m_name; }  // "cuda:0 (NVIDIA H100 ...)"
    cudaStream_t stream() const { return m_stream; }
    cublasHandle_t blas() const { return m_blas; }
    Status synchronize() const;

    // Row-major C[M, N] = alpha op(A) op(B) + beta C, op = transpose when asked.
    // A is [M, K] (or [K, M] with transA), B [K, N] (or [N, K]); ld* are row strides.
    Status gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                int64_t ldc) const;
    // y[cols] = alpha Aᵀ x + beta y for row-major A [rows, cols] and x [rows]
    // (with x all ones: A's column sums).
    Status gemvT(const float* A, int64_t rows, int64_t cols, const float* x, float alpha,
                 float beta, float* y) const;

private:
    int m_device = -1;
    std::string m_name;
    cudaStream_t m_stream = nullptr;
    cublasHandle_t m_blas = nullptr;
};

// Free and total memory of the device `ctx` is on.
struct DeviceMemory {
    size_t freeBytes = 0, totalBytes = 0;
};
Result<DeviceMemory> deviceMemory(const CudaContext& ctx);

// Room left for cuBLAS' workspace and the CUDA context's own allocations
// when planning what fits (core/sae/device_memory.h).
inline constexpr double kDeviceReserveBytes = 512.0 * 1024 * 1024;

}  // namespace mono::gpu
