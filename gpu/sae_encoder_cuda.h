#pragma once
// Internal to gpu/: the CUDA analysis encoder (backends.h makes it). W_enc and
// the biases stay on the device; each block of rows is uploaded, encoded by
// one cuBLAS GEMM plus the activation, compacted on the device to its nonzero
// codes (ascending per row) and only those come back.

#include <memory>

#include "core/sae/block_encoder.h"
#include "gpu/cuda_support.h"

namespace mono::gpu {

class CudaBlockEncoder final : public sae::BlockEncoder {
public:
    static Result<std::unique_ptr<CudaBlockEncoder>> create(int device, const sae::Sae& sae,
                                                            int64_t maxRows);

    std::string device() const override { return m_ctx.name(); }
    Status encodeInBlocks(Eigen::Ref<const Matrix> x,
                          const sae::Sae::BlockVisitor& visit) const override;

    int64_t rowsPerBlock() const { return m_rows; }

private:
    explicit CudaBlockEncoder(const sae::Sae& sae) : m_sae(sae) {}
    // Rows [r0, r0 + n) of x: encoded and compacted into m_block's host arrays.
    Status encodeBlock(const Eigen::Ref<const Matrix>& x, int64_t r0, int64_t n) const;

    const sae::Sae& m_sae;
    CudaContext m_ctx;
    int64_t m_rows = 0;  // per block
    DeviceArray<float> m_wEnc, m_bias, m_theta;
    // Scratch of a block (mutable: encoding is logically const).
    mutable DeviceArray<float> m_x, m_h, m_value;
    mutable DeviceArray<int32_t> m_index, m_count;
    mutable DeviceArray<int64_t> m_rowStart;
    mutable std::vector<int32_t> m_hostCount, m_hostRowStart, m_hostIndex;
    mutable std::vector<int64_t> m_hostStart64;
    mutable std::vector<float> m_hostValue;
};

}  // namespace mono::gpu
