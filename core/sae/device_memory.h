#pragma once
// Memory planning for the device engines (step_engine.h, block_encoder.h):
// what they hold on the device, so that a job that cannot fit is refused up
// front with the sizes, and an encoder can size its row blocks to the free
// memory. The figures follow the buffers of gpu/sae_step_cuda.cpp and
// gpu/sae_encoder_cuda.cpp; keep them in step.

#include <cstdint>
#include <string>

#include "core/base/result.h"
#include "core/sae/step_engine.h"

namespace mono::sae {

// Bytes an engine needs for the parameters, their gradient and both Adam
// moments (4 × (2·F·D + F + D) floats).
double saeStateDeviceBytes(int64_t dIn, int64_t dSae);
// Bytes a step of B rows adds: the [B, D] buffers, the pre-activations [B, F]
// (twice for ReLU, whose backward pass is dense) and the active entries.
double saeBatchDeviceBytes(const StepShape& shape);

// ResourceExhausted "SAE training on <device> needs about N GiB (...), M GiB
// free" with the largest batch that would fit, when state + batch + `reserve`
// exceed `freeBytes`.
Status checkStepFits(const StepShape& shape, double freeBytes, double reserveBytes,
                     const std::string& device);

// The encoder: its weights (W_enc, biases, thresholds) and per row the input,
// the pre-activations and the worst case of the compacted codes.
double encoderWeightBytes(int64_t dIn, int64_t dSae);
double encoderRowBytes(int64_t dIn, int64_t dSae);
// Rows per block so that the encoder fits in `freeBytes` less `reserveBytes`
// (at most maxRows); ResourceExhausted naming the device when not even one
// block of 32 rows fits.
Result<int64_t> encoderRowsThatFit(int64_t dIn, int64_t dSae, double freeBytes, double reserveBytes,
                                   int64_t maxRows, const std::string& device);

}  // namespace mono::sae
