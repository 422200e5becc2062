#pragma once
// Internal to gpu/: the CUDA SAE step engine (backends.h makes it).
// Parameters, gradient and Adam moments stay on the device; a step uploads the
// batch and downloads the loss sums and the fired counts.
//   TopK: one cuBLAS GEMM for h, a per-row radix select, then every other
//     term over the B·k entries (decode, ∂L/∂h, and atomic scatters into the
//     weight gradients), as the CPU's sparse path.
//   ReLU: five cuBLAS GEMMs, as the CPU's dense path.

#include <array>
#include <memory>

#include "core/sae/step_engine.h"
#include "gpu/cuda_support.h"

namespace mono::gpu {

class CudaSaeStep final : public sae::SaeStepEngine {
public:
    // Opens the device, checks the memory and allocates every buffer.
    static Result<std::unique_ptr<CudaSaeStep>> create(int device, const sae::StepShape& shape);

    std::string device() const override { return m_ctx.name(); }
    Status upload(const sae::TrainParams& params, const sae::TrainParams& m,
                  const sae::TrainParams& v) override;
    Status download(sae::TrainParams& params, sae::TrainParams& m,
                    sae::TrainParams& v) const override;
    Result<sae::StepStats> lossAndGradient(const Matrix& x, const sae::StepSettings& s,
                                           const std::vector<uint8_t>& dead,
                                           std::vector<int64_t>& fired) override;
    Status gradient(sae::TrainParams& grad) const override;
    Status update(const train::AdamStep& step, bool unitDecoder) override;
    Result<bool> biasesFinite() const override;

private:
    // W_encᵀ [F, D], W_dec [F, D], b_enc [F], b_dec [D].
    using Tensors = std::array<DeviceArray<float>, 4>;
    enum { kEnc, kDec, kBEnc, kBDec };

    // One step's entries (main or aux): padded [B, cap].
    struct Entries {
        DeviceArray<int32_t> index, count;
        DeviceArray<float> value, gradH;
        int64_t cap = 0;
        Status allocate(int64_t B, int64_t capacity);
    };

    explicit CudaSaeStep(const sae::StepShape& shape) : m_shape(shape) {}
    Status allocate();
    Status copyIn(Tensors& t, const sae::TrainParams& p);
    Status copyOut(const Tensors& t, sae::TrainParams& p) const;
    Status checkSettings(const Matrix& x, const sae::StepSettings& s) const;
    // The paths after the encoder GEMM; they leave the loss sums in m_sums.
    Status topKStep(const sae::StepSettings& s, const std::vector<uint8_t>& dead, bool* useAux);
    Status topKGradient(const sae::StepSettings& s, bool useAux);
    Status reluStep(const sae::StepSettings& s, double* l1Loss);
    Status reluGradient(const sae::StepSettings& s);
    // ∂b_dec = Σ_b ∂L/∂x̂ − ∂b_enc · W_encᵀ (x' = x − b_dec).
    Status biasDecoderGradient();

    const sae::StepShape m_shape;
    CudaContext m_ctx;
    Tensors m_params, m_grad, m_adamM, m_adamV;
    DeviceArray<float> m_x, m_xc, m_xHat, m_gX, m_gAux;  // [B, D]
    DeviceArray<float> m_h, m_gradH;                     // [B, F] (m_gradH: ReLU only)
    Entries m_main, m_aux;
    DeviceArray<uint8_t> m_dead;  // [F]
    DeviceArray<int32_t> m_fired;
    mutable DeviceArray<int32_t> m_flag;                   // biasesFinite()
    DeviceArray<float> m_norms, m_l1Grad, m_fSum, m_ones;  // [F] x3, [B]
    DeviceArray<double> m_sums, m_colMean;                 // [3]: mse, aux, centred; [D]
    bool m_haveGradient = false;
};

}  // namespace mono::gpu
