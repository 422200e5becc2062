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
    }
    return "?";
}

const char* weightSchemeName(WeightScheme s) {
    return s == WeightScheme::kPerChannel ? "per-channel" : "per-tensor";
}

Result<ActScheme> parseActScheme(std::string_view text) {
    const std::string t = lower(text);
    if (t == "o1") return ActScheme::kPerToken;
    if (t == "o2") return ActScheme::kPerTensorDynamic;
    if (t == "o3") return ActScheme::kPerTensorStatic;
    return Status::invalidArgument("activation scheme \"" + std::string(text) +
                                   "\": expected O1 (per token), O2 (per tensor, dynamic) or O3 "
                                   "(per tensor, static)");
}

Result<WeightScheme> parseWeightScheme(std::string_view text) {
    const std::string t = lower(text);
    if (t == "per-channel") return WeightScheme::kPerChannel;
    if (t == "per-tensor") return WeightScheme::kPerTensor;
    return Status::invalidArgument("weight scheme \"" + std::string(text) +
                                   "\": expected per-channel or per-tensor");
}

int8_t quantizeValue(float x, float scale) {
    // Ties to even (the default rounding mode); rint compiles to one roundss.
    const float q = std::rint(x / scale);
    return static_cast<int8_t>(std::clamp(q, -kInt8Levels, kInt8Levels));
}

float maxAbs(const float* x, int64_t n) {
    float m = 0.0f;
    for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(x[i]));
    return m;
}

void fakeQuantize(float* x, int64_t n, float scale) {
    for (int64_t i = 0; i < n; ++i) x[i] = float(quantizeValue(x[i], scale)) * scale;
}

void quantize(const float* x, int64_t n, float scale, int8_t* q) {
    for (int64_t i = 0; i < n; ++i) q[i] = quantizeValue(x[i], scale);
}

void fakeQuantizeRows(float* x, int64_t rows, int64_t cols, int64_t ld) {
    for (int64_t r = 0; r < rows; ++r) {
        float* row = x + r * ld;
        fakeQuantize(row, cols, scaleForMax(maxAbs(row, cols)));
    }
}

}  // namespace mono::quant
