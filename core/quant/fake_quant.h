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
// Weights: per output channel (a scale per row of W [out, in]), per tensor,
// or per group (a scale per run of kGroupSize input channels of each row).
// "O1-g128" is O1 with a scale per group of kGroupSize channels of each token
// (the granularity W4A4 schemes use). Bit widths: `bits` gives 2^(bits−1) − 1
// levels each side (8 → 127, 4 → 7).

#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/result.h"

namespace mono::quant {

enum class ActScheme { kPerToken, kPerTensorDynamic, kPerTensorStatic, kPerTokenGroup };
enum class WeightScheme { kPerChannel, kPerTensor, kPerGroup };

// Channels per group of the per-group schemes (the last group of a row may be shorter).
constexpr int64_t kGroupSize = 128;

const char* actSchemeName(ActScheme s);        // "O1", "O2", "O3", "O1-g128"
const char* weightSchemeName(WeightScheme s);  // "per-channel", "per-tensor", "per-group-128"
// The names above (case-insensitive); InvalidArgument listing the choices.
Result<ActScheme> parseActScheme(std::string_view text);
Result<WeightScheme> parseWeightScheme(std::string_view text);

constexpr float kInt8Levels = 127.0f;

// Levels each side of zero for a bit width: 2^(bits−1) − 1 (8 → 127, 4 → 7).
inline float levelsForBits(int bits) {
    return float((1 << (bits - 1)) - 1);
}

// The step for values up to maxAbs; 1 when maxAbs is 0 (all values quantize to 0).
inline float scaleForMax(float maxAbs, float levels = kInt8Levels) {
    return maxAbs > 0.0f ? maxAbs / levels : 1.0f;
}
// round(x / scale) clamped to [-levels, levels].
int8_t quantizeValue(float x, float scale, float levels = kInt8Levels);

// Largest |x| over n values.
float maxAbs(const float* x, int64_t n);

// x[i] := quantizeValue(x[i], scale) · scale over n values.
void fakeQuantize(float* x, int64_t n, float scale, float levels = kInt8Levels);
// q[i] = quantizeValue(x[i], scale).
void quantize(const float* x, int64_t n, float scale, int8_t* q, float levels = kInt8Levels);

// Fake-quantizes each row of a [rows, cols] block (row stride ld) with its own scale.
void fakeQuantizeRows(float* x, int64_t rows, int64_t cols, int64_t ld, float levels = kInt8Levels);
// Fake-quantizes each run of kGroupSize values of each row with its own scale.
void fakeQuantizeRowGroups(float* x, int64_t rows, int64_t cols, int64_t ld,
                           float levels = kInt8Levels);

}  // namespace mono::quant
