#include "core/io/tensor.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#ifdef __F16C__
#include <immintrin.h>
#endif

#include "core/io/byte_reader.h"

namespace mono::io {

namespace {

struct DTypeInfo {
    DType type;
    const char* name;
    uint64_t blockValues;
    uint64_t blockBytes;
};

// Block sizes as in ggml's type_traits (ggml-common.h block structs).
constexpr DTypeInfo kDTypes[] = {
    {DType::kF32, "F32", 1, 4},
    {DType::kF16, "F16", 1, 2},
    {DType::kBF16, "BF16", 1, 2},
    {DType::kF64, "F64", 1, 8},
    {DType::kI8, "I8", 1, 1},
    {DType::kU8, "U8", 1, 1},
    {DType::kI16, "I16", 1, 2},
    {DType::kI32, "I32", 1, 4},
    {DType::kI64, "I64", 1, 8},
    {DType::kBool, "BOOL", 1, 1},
    {DType::kQ8_0, "Q8_0", 32, 34},
    {DType::kQ4_0, "Q4_0", 32, 18},
    {DType::kQ4_1, "Q4_1", 32, 20},
    {DType::kQ5_0, "Q5_0", 32, 22},
    {DType::kQ5_1, "Q5_1", 32, 24},
    {DType::kQ8_1, "Q8_1", 32, 36},
    {DType::kQ2_K, "Q2_K", 256, 84},
    {DType::kQ3_K, "Q3_K", 256, 110},
    {DType::kQ4_K, "Q4_K", 256, 144},
    {DType::kQ5_K, "Q5_K", 256, 176},
    {DType::kQ6_K, "Q6_K", 256, 210},
    {DType::kQ8_K, "Q8_K", 256, 292},
    {DType::kIQ2_XXS, "IQ2_XXS", 256, 66},
    {DType::kIQ2_XS, "IQ2_XS", 256, 74},
    {DType::kIQ3_XXS, "IQ3_XXS", 256, 98},
    {DType::kIQ1_S, "IQ1_S", 256, 50},
    {DType::kIQ4_NL, "IQ4_NL", 32, 18},
    {DType::kIQ3_S, "IQ3_S", 256, 110},
    {DType::kIQ2_S, "IQ2_S", 256, 82},
    {DType::kIQ4_XS, "IQ4_XS", 256, 136},
    {DType::kIQ1_M, "IQ1_M", 256, 56},
    {DType::kTQ1_0, "TQ1_0", 256, 54},
    {DType::kTQ2_0, "TQ2_0", 256, 66},
    {DType::kMXFP4, "MXFP4", 32, 17},
};

const DTypeInfo& info(DType t) {
    for (const auto& i : kDTypes)
        if (i.type == t) return i;
    return kDTypes[0];  // unreachable for valid enumerators
}

uint32_t floatBits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}
float bitsFloat(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

template <class T>
T load(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

}  // namespace

const char* dtypeName(DType t) {
    return info(t).name;
}

void dtypeBlock(DType t, uint64_t* valuesPerBlock, uint64_t* bytesPerBlock) {
    const auto& i = info(t);
    *valuesPerBlock = i.blockValues;
    *bytesPerBlock = i.blockBytes;
}

bool dtypeConvertible(DType t) {
    const auto& i = info(t);
    return i.blockValues == 1 || t == DType::kQ8_0;
}

bool dtypeByteSize(DType t, uint64_t count, uint64_t* bytes) {
    const auto& i = info(t);
    if (count % i.blockValues != 0) return false;
    return !detail::mulOverflow(count / i.blockValues, i.blockBytes, bytes);
}

uint64_t TensorView::numel() const {
    uint64_t n = 1;
    for (int64_t d : shape) n *= static_cast<uint64_t>(d);
    return n;
}

float halfToFloat(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
    const uint32_t exp = (h >> 10) & 0x1F;
    const uint32_t mant = h & 0x3FF;
    if (exp == 0) {
        // Zero or subnormal: mant * 2^-24, exact in float.
        float v = static_cast<float>(mant) * 5.9604644775390625e-08f;
        return sign ? -v : v;
    }
    if (exp == 31) return bitsFloat(sign | 0x7F800000u | (mant << 13));
    return bitsFloat(sign | ((exp + 112) << 23) | (mant << 13));
}

float bf16ToFloat(uint16_t b) {
    return bitsFloat(static_cast<uint32_t>(b) << 16);
}

uint16_t floatToHalf(float f) {
    uint32_t x = floatBits(f);
    const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
    x &= 0x7FFFFFFFu;
    if (x >= 0x7F800000u) {  // inf or NaN (NaN stays NaN: keep it quiet)
        if (x == 0x7F800000u) return sign | 0x7C00;
        return sign | 0x7E00 | static_cast<uint16_t>((x >> 13) & 0x3FF);
    }
    if (x >= 0x477FF000u) return sign | 0x7C00;  // rounds to >= 65520: overflow
    if (x < 0x38800000u) {
        // Below the smallest normal half: scale to units of 2^-24 and round to even.
        float scaled = bitsFloat(x) * 16777216.0f;
        return sign | static_cast<uint16_t>(std::nearbyint(scaled));
    }
    const uint32_t odd = (x >> 13) & 1;
    x += 0xFFF + odd;
    x -= 112u << 23;
    return sign | static_cast<uint16_t>(x >> 13);
}

uint16_t floatToBf16(float f) {
    uint32_t x = floatBits(f);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u)
        return static_cast<uint16_t>((x >> 16) | 0x40);  // quiet NaN
    x += 0x7FFF + ((x >> 16) & 1);
    return static_cast<uint16_t>(x >> 16);
}

namespace {

// Checked before anything is allocated: the byte size must match the shape.
Status checkConvertible(const TensorView& t) {
    uint64_t expected = 0;
    if (!dtypeByteSize(t.dtype, t.numel(), &expected) || expected != t.nbytes)
        return Status::invalidArgument("tensor " + detail::quoteName(t.name) + ": " + describe(t) +
                                       " needs a different byte size than " +
                                       std::to_string(t.nbytes));
    if (!dtypeConvertible(t.dtype))
        return Status::unsupported("tensor " + detail::quoteName(t.name) + ": cannot convert " +
                                   dtypeName(t.dtype) + " to float32");
    return Status::success();
}

}  // namespace

Result<std::vector<float>> toFloat(const TensorView& t) {
    MONO_RETURN_IF_ERROR(checkConvertible(t));
    const uint64_t n = t.numel();
    if (n > SIZE_MAX / sizeof(float) / 2)
        return Status::resourceExhausted("tensor " + detail::quoteName(t.name) + ": " +
                                         std::to_string(n) + " values do not fit in memory");
    std::vector<float> out(n);
    MONO_RETURN_IF_ERROR(toFloatInto(t, out.data()));
    return out;
}

Status toFloatInto(const TensorView& t, float* out) {
    MONO_RETURN_IF_ERROR(checkConvertible(t));
    const uint64_t n = t.numel();
    const uint8_t* p = t.data;
    switch (t.dtype) {
        case DType::kF32:
            if (n) std::memcpy(out, p, n * 4);
            break;
        case DType::kF16: {
            // Large arrays (activation shards) are converted by all threads in
            // slices of 64K values; the values do not depend on the split.
            constexpr uint64_t kSlice = 1 << 16;
            const int64_t slices = static_cast<int64_t>((n + kSlice - 1) / kSlice);
            const bool parallel = n >= (uint64_t(1) << 22) && !omp_in_parallel();
#pragma omp parallel for schedule(static) if (parallel)
            for (int64_t slice = 0; slice < slices; ++slice) {
                uint64_t i = static_cast<uint64_t>(slice) * kSlice;
                const uint64_t end = std::min<uint64_t>(n, i + kSlice);
#ifdef __F16C__
                // The hardware conversion is exact too (and equals halfToFloat bit for bit).
                for (; i + 8 <= end; i += 8)
                    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(
                                                  reinterpret_cast<const __m128i*>(p + 2 * i))));
#endif
                for (; i < end; ++i) out[i] = halfToFloat(load<uint16_t>(p + 2 * i));
            }
            break;
        }
        case DType::kBF16:
            for (uint64_t i = 0; i < n; ++i) out[i] = bf16ToFloat(load<uint16_t>(p + 2 * i));
            break;
        case DType::kF64:
            for (uint64_t i = 0; i < n; ++i) out[i] = static_cast<float>(load<double>(p + 8 * i));
            break;
        case DType::kI8:
            for (uint64_t i = 0; i < n; ++i) out[i] = static_cast<int8_t>(p[i]);
            break;
        case DType::kU8:
            for (uint64_t i = 0; i < n; ++i) out[i] = p[i];
            break;
        case DType::kBool:
            for (uint64_t i = 0; i < n; ++i) out[i] = p[i] ? 1.0f : 0.0f;
            break;
        case DType::kI16:
            for (uint64_t i = 0; i < n; ++i) out[i] = load<int16_t>(p + 2 * i);
            break;
        case DType::kI32:
            for (uint64_t i = 0; i < n; ++i) out[i] = static_cast<float>(load<int32_t>(p + 4 * i));
            break;
        case DType::kI64:
            for (uint64_t i = 0; i < n; ++i) out[i] = static_cast<float>(load<int64_t>(p + 8 * i));
            break;
        case DType::kQ8_0:
            // block_q8_0: f16 scale d, then 32 int8 q; value = d * q.
            for (uint64_t b = 0; b < n / 32; ++b) {
                const uint8_t* blk = p + b * 34;
                const float d = halfToFloat(load<uint16_t>(blk));
                for (int j = 0; j < 32; ++j)
                    out[b * 32 + j] = d * static_cast<float>(static_cast<int8_t>(blk[2 + j]));
            }
            break;
        default:
            return Status::internal("toFloat: unhandled dtype " + std::string(dtypeName(t.dtype)));
    }
    return Status::success();
}

std::string shapeString(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

std::string describe(const TensorView& t) {
    return std::string(dtypeName(t.dtype)) + " " + shapeString(t.shape);
}

}  // namespace mono::io
