#include "gpu/sae_encoder_cuda.h"

#include <algorithm>

#include "core/sae/device_memory.h"
#include "gpu/sae_kernels.h"

namespace mono::gpu {

Result<std::unique_ptr<CudaBlockEncoder>> CudaBlockEncoder::create(int device, const sae::Sae& sae,
                                                                   int64_t maxRows) {
    std::unique_ptr<CudaBlockEncoder> enc(new CudaBlockEncoder(sae));
    MONO_RETURN_IF_ERROR(enc->m_ctx.open(device));
    MONO_ASSIGN_OR_RETURN(const DeviceMemory mem, deviceMemory(enc->m_ctx));
    MONO_ASSIGN_OR_RETURN(
        enc->m_rows,
        sae::encoderRowsThatFit(sae.dIn(), sae.dSae(), double(mem.freeBytes), kDeviceReserveBytes,
                                std::max<int64_t>(1, maxRows), enc->m_ctx.name()));
    const int64_t D = sae.dIn(), F = sae.dSae(), R = enc->m_rows;
    cudaStream_t st = enc->m_ctx.stream();
    // The bias of x W_enc, as Sae::prepare() forms it (b_dec folded in).
    Vector bias = sae.bEnc();
    if (sae.config().applyBDecToInput) bias.noalias() -= sae.bDec() * sae.wEnc();
    MONO_RETURN_IF_ERROR(enc->m_wEnc.upload(sae.wEnc().data(), D * F, st));
    MONO_RETURN_IF_ERROR(enc->m_bias.upload(bias.data(), F, st));
    if (sae.threshold().size() == F)
        MONO_RETURN_IF_ERROR(enc->m_theta.upload(sae.threshold().data(), F, st));
    MONO_RETURN_IF_ERROR(enc->m_x.resize(R * D));
    MONO_RETURN_IF_ERROR(enc->m_h.resize(R * F));
    MONO_RETURN_IF_ERROR(enc->m_index.resize(R * F));
    MONO_RETURN_IF_ERROR(enc->m_value.resize(R * F));
    MONO_RETURN_IF_ERROR(enc->m_count.resize(R));
    MONO_RETURN_IF_ERROR(enc->m_rowStart.resize(R + 1));
    MONO_RETURN_IF_ERROR(enc->m_ctx.synchronize());
    return enc;
}

Status CudaBlockEncoder::encodeBlock(const Eigen::Ref<const Matrix>& x, int64_t r0,
                                     int64_t n) const {
    const int64_t D = m_sae.dIn(), F = m_sae.dSae();
    cudaStream_t st = m_ctx.stream();
    MONO_CUDA(cudaMemcpy2DAsync(m_x.data(), sizeof(float) * size_t(D),
                                x.data() + r0 * x.outerStride(),
                                sizeof(float) * size_t(x.outerStride()), sizeof(float) * size_t(D),
                                size_t(n), cudaMemcpyHostToDevice, st));
    MONO_RETURN_IF_ERROR(m_ctx.gemm(false, false, n, F, D, 1.0f, m_x.data(), D, m_wEnc.data(), F,
                                    0.0f, m_h.data(), F));
    const sae::Architecture a = m_sae.config().architecture;
    const bool topk = a == sae::Architecture::kTopK;
    const Activation act = topk                                ? Activation::kNone
                           : a == sae::Architecture::kStandard ? Activation::kRelu
                                                               : Activation::kThreshold;
    biasActivate(m_h.data(), m_bias.data(), m_theta.data(), n, F, act, st);
    // Codes per row: TopK's k (or fewer positives), else every positive entry.
    m_hostCount.resize(size_t(n));
    m_hostStart64.assign(size_t(n) + 1, 0);
    if (!topk) {
        countPositive(m_h.data(), n, F, m_count.data(), st);
        MONO_CUDA_LAUNCHED();
        MONO_RETURN_IF_ERROR(m_count.download(m_hostCount.data(), n, st));
        MONO_RETURN_IF_ERROR(m_ctx.synchronize());
        for (int64_t r = 0; r < n; ++r)
            m_hostStart64[size_t(r) + 1] = m_hostStart64[size_t(r)] + m_hostCount[size_t(r)];
        MONO_RETURN_IF_ERROR(m_rowStart.upload(m_hostStart64.data(), n + 1, st));
    }
    const int64_t k = topk ? m_sae.config().k : F;
    selectTopK(m_h.data(), n, F, k, nullptr, topk ? nullptr : m_rowStart.data(), k, m_index.data(),
               m_value.data(), m_count.data(), st);
    MONO_CUDA_LAUNCHED();
    MONO_RETURN_IF_ERROR(m_count.download(m_hostCount.data(), n, st));
    MONO_RETURN_IF_ERROR(m_ctx.synchronize());
    m_hostRowStart.assign(size_t(n) + 1, 0);
    for (int64_t r = 0; r < n; ++r)
        m_hostRowStart[size_t(r) + 1] = m_hostRowStart[size_t(r)] + m_hostCount[size_t(r)];
    const int64_t nnz = m_hostRowStart[size_t(n)];
    m_hostIndex.resize(size_t(nnz));
    m_hostValue.resize(size_t(nnz));
    if (!topk || k == 0) {  // already compact
        MONO_RETURN_IF_ERROR(m_index.download(m_hostIndex.data(), nnz, st));
        MONO_RETURN_IF_ERROR(m_value.download(m_hostValue.data(), nnz, st));
        return m_ctx.synchronize();
    }
    // TopK rows are padded to k: gather each row's count.
    std::vector<int32_t> paddedIndex(size_t(n * k));
    std::vector<float> paddedValue(size_t(n * k));
    MONO_RETURN_IF_ERROR(m_index.download(paddedIndex.data(), n * k, st));
    MONO_RETURN_IF_ERROR(m_value.download(paddedValue.data(), n * k, st));
    MONO_RETURN_IF_ERROR(m_ctx.synchronize());
    for (int64_t r = 0; r < n; ++r) {
        const auto c = size_t(m_hostCount[size_t(r)]);
        std::copy_n(paddedIndex.begin() + r * k, c,
                    m_hostIndex.begin() + m_hostRowStart[size_t(r)]);
        std::copy_n(paddedValue.begin() + r * k, c,
                    m_hostValue.begin() + m_hostRowStart[size_t(r)]);
    }
    return Status::success();
}

Status CudaBlockEncoder::encodeInBlocks(Eigen::Ref<const Matrix> x,
                                        const sae::Sae::BlockVisitor& visit) const {
    if (x.cols() != m_sae.dIn())
        return Status::invalidArgument(
            "SAE input: expected rows of width d_in=" + std::to_string(m_sae.dIn()) + ", found " +
            std::to_string(x.cols()));
    MONO_CUDA(cudaSetDevice(m_ctx.device()));
    for (int64_t r0 = 0; r0 < x.rows(); r0 += m_rows) {
        const int64_t n = std::min(m_rows, x.rows() - r0);
        MONO_RETURN_IF_ERROR(encodeBlock(x, r0, n));
        sae::Sae::SparseBlock block;
        block.firstRow = r0;
        block.rows = n;
        block.rowStart = m_hostRowStart.data();
        block.indices = m_hostIndex.data();
        block.values = m_hostValue.data();
        visit(block, 0);
    }
    return Status::success();
}

}  // namespace mono::gpu
