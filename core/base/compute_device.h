#pragma once
// Where a job computes: the CPU (the default and the reference) or one CUDA
// device. Only the choice lives in core; the CUDA implementations of core's
// seams (sae::SaeStepEngine, sae::BlockEncoder) are in gpu/, and app/ wires
// them in (core never depends on gpu/).

#include <string>

#include "core/base/result.h"

namespace mono {

struct ComputeDevice {
    enum class Kind { kCpu, kCuda };
    Kind kind = Kind::kCpu;
    int index = 0;  // CUDA device ordinal (kCuda only)

    bool isCuda() const { return kind == Kind::kCuda; }
    // "cpu" or "cuda:N".
    std::string name() const;
};

// "cpu", "cuda" (device 0) or "cuda:N" (N a non-negative integer); anything
// else is InvalidArgument naming the text and the accepted forms.
Result<ComputeDevice> parseComputeDevice(const std::string& text);

}  // namespace mono
