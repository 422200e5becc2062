#pragma once
// The CUDA implementations of core's device seams, made by device ordinal.
// No CUDA types here: app/ and the tests include this without the toolkit.

#include <cstdint>
#include <memory>

#include "core/base/result.h"
#include "core/model/model.h"
#include "core/sae/block_encoder.h"
#include "core/sae/step_engine.h"

namespace mono::gpu {

// Ok when CUDA device `device` exists; else Unsupported "no CUDA device (...)"
// or InvalidArgument naming the ordinal and how many there are.
Status checkDevice(int device);

// The SAE training step on `device`: f32 (cuBLAS with TF32 off), ReLU
// (standard) and TopK. Unsupported for other architectures, Matryoshka
// prefixes and bf16; ResourceExhausted with the sizes when it does not fit
// in the free memory (core/sae/device_memory.h).
Result<std::unique_ptr<sae::SaeStepEngine>> makeSaeStepEngine(int device,
                                                              const sae::StepShape& shape);

// The analysis encoder of `sae` on `device` (any architecture), encoding at
// most `maxRows` rows per block (fewer when the free memory is short).
Result<std::unique_ptr<sae::BlockEncoder>> makeBlockEncoder(int device, const sae::Sae& sae,
                                                            int64_t maxRows);

// The model forward pass on `device` (model::Model::setBackend): prefill
// without a KV cache, every family, hooks, float32 (cuBLAS, TF32 off). A
// forward with a KV cache or a LinearFn is refused (Unsupported); the weights
// are uploaded on the first forward and after Model::weightsChanged().
Result<std::unique_ptr<model::ForwardBackend>> makeForwardBackend(int device);

// cuBLAS' float32 GEMM rate on `device` in GFLOP/s (TF32 off): the median of
// `reps` timed row-major [M, K] x [K, N] products after one warm-up. The
// benchmarks' yardstick where no PyTorch with CUDA is at hand.
Result<double> measureSgemmGflops(int device, int64_t M, int64_t N, int64_t K, int reps);

}  // namespace mono::gpu
