#include "core/quant/fake_quant.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace mono::quant {

namespace {
std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}
}  // namespace

const char* actSchemeName(ActScheme s) {
    switch (s) {
        case ActScheme::kPerToken:
            return "O1";
        case ActScheme::kPerTensorDynamic:
            return "O2";
        case ActScheme::kPerTensorStatic:
            return "O3";
        case ActScheme::kPerTokenGroup:
            return "O1-g128";
    }
    return "?";
}

const char* weightSchemeName(WeightScheme s) {
    switch (s) {
        case WeightScheme::kPerChannel:
            return "per-channel";
        case WeightScheme::kPerTensor:
            return "per-tensor";
        case WeightScheme::kPerGroup:
            return "per-group-128";
    }
    return "?";
}

Result<ActScheme> parseActScheme(std::string_view text) {
    const std::string t = lower(text);
    if (t == "o1") return ActScheme::kPerToken;
    if (t == "o2") return ActScheme::kPerTensorDynamic;
    if (t == "o3") return ActScheme::kPerTensorStatic;
    if (t == "o1-g128") return ActScheme::kPerTokenGroup;
    return Status::invalidArgument("activation scheme \"" + std::string(text) +
                                   "\": expected O1 (per token), O2 (per tensor, dynamic), O3 "
                                   "(per tensor, static) or O1-g128 (per token, groups of 128)");
}

Result<WeightScheme> parseWeightScheme(std::string_view text) {
    const std::string t = lower(text);
    if (t == "per-channel") return WeightScheme::kPerChannel;
    if (t == "per-tensor") return WeightScheme::kPerTensor;
    if (t == "per-group-128" || t == "per-group") return WeightScheme::kPerGroup;
    return Status::invalidArgument("weight scheme \"" + std::string(text) +
                                   "\": expected per-channel, per-tensor or per-group-128");
}

int8_t quantizeValue(float x, float scale, float levels) {
    // Ties to even (the default rounding mode); rint compiles to one roundss.
    const float q = std::rint(x / scale);
    return static_cast<int8_t>(std::clamp(q, -levels, levels));
}

float maxAbs(const float* x, int64_t n) {
    float m = 0.0f;
    for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(x[i]));
    return m;
}

void fakeQuantize(float* x, int64_t n, float scale, float levels) {
    for (int64_t i = 0; i < n; ++i) x[i] = float(quantizeValue(x[i], scale, levels)) * scale;
}

void quantize(const float* x, int64_t n, float scale, int8_t* q, float levels) {
    for (int64_t i = 0; i < n; ++i) q[i] = quantizeValue(x[i], scale, levels);
}

void fakeQuantizeRows(float* x, int64_t rows, int64_t cols, int64_t ld, float levels) {
    for (int64_t r = 0; r < rows; ++r) {
        float* row = x + r * ld;
        fakeQuantize(row, cols, scaleForMax(maxAbs(row, cols), levels), levels);
    }
}

void fakeQuantizeRowGroups(float* x, int64_t rows, int64_t cols, int64_t ld, float levels) {
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t g = 0; g < cols; g += kGroupSize) {
            float* part = x + r * ld + g;
            const int64_t n = std::min(kGroupSize, cols - g);
            fakeQuantize(part, n, scaleForMax(maxAbs(part, n), levels), levels);
        }
}

}  // namespace mono::quant
