#pragma once
// --device cpu|cuda[:N] of capture, train-sae, analyze, generate and steer:
// parsed, checked against this build and this machine, and turned into the
// core seams' implementations (gpu/backends.h). The only place that knows
// whether the CUDA backend was built.

#include <cstdint>
#include <memory>
#include <string>

#include "app/cli/cli_args.h"
#include "core/base/compute_device.h"
#include "core/base/result.h"
#include "core/model/model.h"
#include "core/sae/block_encoder.h"
#include "core/sae/step_engine.h"

namespace mono::cli {

// The --device option (cpu when absent). A CUDA device must exist: else
// "built without CUDA" (nvcc was missing at configure time) or "no CUDA
// device" (none visible here), both naming the option's value.
Result<ComputeDevice> deviceOption(const CliArgs& args);

// train-sae: the step engine factory for `device` (empty for the CPU).
sae::StepEngineFactory stepEngineFor(const ComputeDevice& device);

// analyze: the encoder of `sae` on `device` (null for the CPU).
Result<std::unique_ptr<sae::BlockEncoder>> blockEncoderFor(const ComputeDevice& device,
                                                           const sae::Sae& sae, int64_t maxRows);

// capture: the model's forward backend on `device` (null for the CPU).
Result<std::unique_ptr<model::ForwardBackend>> forwardBackendFor(const ComputeDevice& device);

// generate, steer: the --device option, checked as deviceOption() does; then,
// since the CUDA forward pass has no KV cache yet, Unsupported naming the
// command for a CUDA device.
Status cachedForwardDevice(const CliArgs& args, const std::string& command);

}  // namespace mono::cli
