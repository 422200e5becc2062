#pragma once
// W8A8 quantization primitives: symmetric abs-max, 127 levels, round to
// nearest (ties to even), as in SmoothQuant. "Fake" quantization rounds a
// float to its int8 level and multiplies back, so a float forward pass sees
// exactly the values an int8 kernel would multiply.
//
// Schemes (the SmoothQuant paper's names):
//   O1  activations per token, dynamic     (a scale per row)
//   O2  activations per tensor, dynamic    (a scale per sequence's [T, C] block)
//   O3  activations per tensor, static     (a scale fixed from calibration)
// Weights: per output channel (a scale per row of W [out, in]) or per tensor.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/result.h"

namespace mono::quant {

enum class ActScheme { kPerToken, kPerTensorDynamic, kPerTensorStatic };
enum class WeightScheme { kPerChannel, kPerTensor };

const char* actSchemeName(ActScheme s);        // "O1", "O2", "O3"
const char* weightSchemeName(WeightScheme s);  // "per-channel", "per-tensor"
// "O1"/"O2"/"O3" (case-insensitive); InvalidArgument listing the choices.
Result<ActScheme> parseActScheme(std::string_view text);
Result<WeightScheme> parseWeightScheme(std::string_view text);

constexpr float kInt8Levels = 127.0f;

// The step for values up to maxAbs; 1 when maxAbs is 0 (all values quantize to 0).
inline float scaleForMax(float maxAbs) {
    return maxAbs > 0.0f ? maxAbs / kInt8Levels : 1.0f;
}
// round(x / scale) clamped to [-127, 127].
int8_t quantizeValue(float x, float scale);

// Largest |x| over n values.
float maxAbs(const float* x, int64_t n);

// x[i] := quantizeValue(x[i], scale) · scale over n values.
void fakeQuantize(float* x, int64_t n, float scale);
// q[i] = quantizeValue(x[i], scale).
void quantize(const float* x, int64_t n, float scale, int8_t* q);

// Fake-quantizes each row of a [rows, cols] block (row stride ld) with its own scale.
void fakeQuantizeRows(float* x, int64_t rows, int64_t cols, int64_t ld);

}  // namespace mono::quant
