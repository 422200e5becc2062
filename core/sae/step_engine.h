#pragma once
// The seam for running SAE training steps somewhere other than the CPU (the
// CUDA engine lives in gpu/sae_step_cuda.*). An engine holds the parameters
// and both Adam moments where it computes, so that a step moves only the batch
// in and a few statistics out; the trainer copies the state back for
// checkpoints and the final SAE. The CPU path (lossAndGradient + the trainer's
// Adam) stays the reference every engine is tested against (tests/gpu/).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/sae/train_step.h"
#include "core/train/adam.h"

namespace mono::sae {

class SaeStepEngine {
public:
    virtual ~SaeStepEngine() = default;

    // "cuda:0 (NVIDIA H100 80GB HBM3)": for logs and the training config.
    virtual std::string device() const = 0;

    // Copies parameters and Adam moments in (start, resume) and back out
    // (checkpoints, the final SAE). Shapes as the engine was made for.
    virtual Status upload(const TrainParams& params, const TrainParams& m,
                          const TrainParams& v) = 0;
    virtual Status download(TrainParams& params, TrainParams& m, TrainParams& v) const = 0;

    // Loss of the batch x [B, D] (already scaled) at the current parameters,
    // and its gradient, kept by the engine for update(). `fired` [F] receives
    // how many rows each latent was active in. Same contract as
    // lossAndGradient() in train_step.h (minActive is left 0: only BatchTopK
    // uses it, and no engine runs BatchTopK).
    virtual Result<StepStats> lossAndGradient(const Matrix& x, const StepSettings& s,
                                              const std::vector<uint8_t>& dead,
                                              std::vector<int64_t>& fired) = 0;
    // The gradient of the latest lossAndGradient() (tests).
    virtual Status gradient(TrainParams& grad) const = 0;

    // The trainer's update with that gradient: with `unitDecoder`, each
    // W_dec gradient row loses its component along its (unit) row; then Adam
    // (train::adamUpdate's arithmetic) on every tensor; then, with
    // `unitDecoder`, the W_dec rows are renormalised.
    virtual Status update(const train::AdamStep& step, bool unitDecoder) = 0;

    // Whether b_enc and b_dec are finite (the trainer's per-step divergence check).
    virtual Result<bool> biasesFinite() const = 0;
};

// What an engine is made for: the widths, the batch rows and the step's settings.
struct StepShape {
    int64_t dIn = 0, dSae = 0, batch = 0;
    StepSettings settings;
};

// Makes an engine (an error when the device lacks memory, or cannot run these
// settings); empty: train on the CPU.
using StepEngineFactory =
    std::function<Result<std::unique_ptr<SaeStepEngine>>(const StepShape& shape)>;

}  // namespace mono::sae
