#include "core/sae/device_memory.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace mono::sae {
namespace {

constexpr double kFloat = 4.0;

std::string gib(double bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
    return text;
}

// Bytes per batch row of a step.
double stepRowBytes(const StepShape& s) {
    const bool dense = s.settings.architecture == Architecture::kStandard;
    const double D = double(s.dIn), F = double(s.dSae);
    const double k = dense ? 0.0 : double(s.settings.k + s.settings.kAux);
    // x, x', x̂, ∂L/∂x̂ and the aux gradient [B, D]; h (and ∂L/∂h) [B, F];
    // index, value and ∂L/∂h of each entry.
    return kFloat * (5.0 * D + (dense ? 2.0 : 1.0) * F + 3.0 * k);
}

}  // namespace

double saeStateDeviceBytes(int64_t dIn, int64_t dSae) {
    const double D = double(dIn), F = double(dSae);
    return kFloat * 4.0 * (2.0 * F * D + F + D);
}

double saeBatchDeviceBytes(const StepShape& shape) {
    // Plus per latent: row norms, dead flags, fired counts and partial sums.
    return double(shape.batch) * stepRowBytes(shape) + kFloat * 6.0 * double(shape.dSae);
}

Status checkStepFits(const StepShape& shape, double freeBytes, double reserveBytes,
                     const std::string& device) {
    const double state = saeStateDeviceBytes(shape.dIn, shape.dSae);
    const double batch = saeBatchDeviceBytes(shape);
    if (state + batch + reserveBytes <= freeBytes) return Status::success();
    std::string hint;
    const double room = freeBytes - reserveBytes - state - kFloat * 6.0 * double(shape.dSae);
    const double rows = std::floor(room / stepRowBytes(shape));
    if (rows >= 1)
        hint = "; a batch of at most " + std::to_string(int64_t(rows)) + " rows would fit";
    else
        hint = "; the weights and Adam state alone do not fit: lower --features";
    return Status::resourceExhausted(
        "SAE training on " + device + " needs about " + gib(state + batch + reserveBytes) + " (" +
        gib(state) + " for the weights, gradient and Adam state of d_in " +
        std::to_string(shape.dIn) + " x F " + std::to_string(shape.dSae) + ", " + gib(batch) +
        " for a batch of " + std::to_string(shape.batch) + " rows), " + gib(freeBytes) + " free" +
        hint);
}

double encoderWeightBytes(int64_t dIn, int64_t dSae) {
    const double D = double(dIn), F = double(dSae);
    return kFloat * (D * F + 2.0 * F + D);
}

double encoderRowBytes(int64_t dIn, int64_t dSae) {
    // x [D], h [F], and the codes compacted as index + value (at most F each).
    return kFloat * (double(dIn) + 3.0 * double(dSae)) + 8.0;
}

Result<int64_t> encoderRowsThatFit(int64_t dIn, int64_t dSae, double freeBytes, double reserveBytes,
                                   int64_t maxRows, const std::string& device) {
    constexpr int64_t kMinRows = 32;
    const double weights = encoderWeightBytes(dIn, dSae);
    const double room = freeBytes - reserveBytes - weights;
    const double rows = room > 0 ? std::floor(room / encoderRowBytes(dIn, dSae)) : 0.0;
    if (rows < double(kMinRows))
        return Status::resourceExhausted(
            "encoding with the SAE (d_in " + std::to_string(dIn) + " x F " + std::to_string(dSae) +
            ") on " + device + " needs about " +
            gib(weights + reserveBytes + kMinRows * encoderRowBytes(dIn, dSae)) + ", " +
            gib(freeBytes) + " free");
    return std::min<int64_t>(maxRows, int64_t(rows));
}

}  // namespace mono::sae
