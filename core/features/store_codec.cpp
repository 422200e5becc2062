// Compact blobs of the feature store; format in store_codec.h.

#include "core/features/store_codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace mono::features::codec {
namespace {

constexpr uint8_t kUniform = 1;           // Example::uniform
constexpr uint8_t kNegative = 2;          // a sign mask follows the magnitudes
constexpr uint8_t kExactExample = 4;      // values[tokenIndex] == activation, bit for bit
constexpr uint8_t kExampleValue = 8;      // values[tokenIndex] follows as a float32
constexpr uint64_t kMaxTokens = 1 << 20;  // a window longer than this is a damaged blob

class Out {
public:
    void varint(uint64_t v) {
        while (v >= 0x80) {
            m_bytes.push_back(static_cast<char>((v & 0x7F) | 0x80));
            v >>= 7;
        }
        m_bytes.push_back(static_cast<char>(v));
    }
    void f32(float v) {
        char b[4];
        std::memcpy(b, &v, 4);  // little-endian hosts only, like the v1 arrays
        m_bytes.append(b, 4);
    }
    void byte(uint8_t v) { m_bytes.push_back(static_cast<char>(v)); }
    void bits(const std::vector<bool>& bits) {
        for (size_t i = 0; i < bits.size(); i += 8) {
            uint8_t b = 0;
            for (size_t k = 0; k < 8 && i + k < bits.size(); ++k)
                if (bits[i + k]) b |= static_cast<uint8_t>(1u << k);
            byte(b);
        }
    }
    std::string take() { return std::move(m_bytes); }

private:
    std::string m_bytes;
};

class In {
public:
    explicit In(std::string_view bytes) : m_bytes(bytes) {}
    bool varint(uint64_t* v) {
        *v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (m_pos >= m_bytes.size()) return false;
            const auto b = static_cast<uint8_t>(m_bytes[m_pos++]);
            *v |= uint64_t(b & 0x7F) << shift;
            if (!(b & 0x80)) return true;
        }
        return false;
    }
    bool int32(int32_t* v) {
        uint64_t u = 0;
        if (!varint(&u) || u > 0xFFFFFFFFu) return false;
        *v = static_cast<int32_t>(static_cast<uint32_t>(u));
        return true;
    }
    bool f32(float* v) {
        if (left() < 4) return false;
        std::memcpy(v, m_bytes.data() + m_pos, 4);
        m_pos += 4;
        return true;
    }
    bool byte(uint8_t* v) {
        if (left() < 1) return false;
        *v = static_cast<uint8_t>(m_bytes[m_pos++]);
        return true;
    }
    // n bits, packed 8 per byte.
    bool bits(size_t n, std::vector<bool>* out) {
        if (left() < (n + 7) / 8) return false;
        out->assign(n, false);
        for (size_t i = 0; i < n; ++i)
            (*out)[i] = (static_cast<uint8_t>(m_bytes[m_pos + i / 8]) >> (i % 8)) & 1;
        m_pos += (n + 7) / 8;
        return true;
    }
    // A count of items of at least `minBytes` bytes each that must still fit.
    bool count(size_t minBytes, uint64_t* n) {
        return varint(n) && *n <= left() / std::max<size_t>(minBytes, 1);
    }
    size_t left() const { return m_bytes.size() - m_pos; }
    bool done() const { return m_pos == m_bytes.size(); }

private:
    std::string_view m_bytes;
    size_t m_pos = 0;
};

uint64_t asUnsigned(int64_t v) {
    return static_cast<uint64_t>(v);
}
uint64_t asUnsigned32(int32_t v) {
    return static_cast<uint32_t>(v);
}

uint8_t magnitude(float v, float scale) {
    if (v == 0 || std::isnan(v) || !(scale > 0)) return 0;
    const double m = std::min<double>(std::fabs(v), scale);
    const auto q = std::lround(m * 255.0 / scale);
    return static_cast<uint8_t>(std::clamp<long>(q, 1, 255));
}

// The nonzero mask, the magnitudes and, when `negative`, the sign mask.
void putValues(Out& out, const std::vector<float>& values, float scale, bool negative) {
    std::vector<bool> nonzero(values.size()), sign;
    std::vector<uint8_t> q;
    for (size_t t = 0; t < values.size(); ++t) {
        const uint8_t m = magnitude(values[t], scale);
        nonzero[t] = m != 0;
        if (!m) continue;
        q.push_back(m);
        sign.push_back(values[t] < 0);
    }
    out.bits(nonzero);
    for (uint8_t m : q) out.byte(m);
    if (negative) out.bits(sign);
}

void putExample(Out& out, const Example& e, bool top, float scale) {
    if (!top) out.varint(asUnsigned32(e.bin));
    out.varint(asUnsigned32(e.rank));
    out.varint(asUnsigned(e.row));
    out.f32(e.activation);
    out.varint(asUnsigned32(e.tokenIndex));
    // One value per token: missing values are 0, extra ones are dropped.
    std::vector<float> values(e.tokens.size(), 0.f);
    std::copy_n(e.values.begin(), std::min(e.values.size(), values.size()), values.begin());
    bool negative = false;
    for (float v : values) negative = negative || (v < 0 && magnitude(v, scale) != 0);
    // The example token's value is kept exact: it is the activation (the
    // pass's value) or, when the recomputed context differs in the last bits,
    // a float32 of its own.
    const auto ti = static_cast<size_t>(e.tokenIndex);
    const bool inWindow = e.tokenIndex >= 0 && ti < values.size();
    const bool exact = inWindow && std::memcmp(&values[ti], &e.activation, sizeof(float)) == 0;
    out.byte(static_cast<uint8_t>((e.uniform ? kUniform : 0) | (negative ? kNegative : 0) |
                                  (exact ? kExactExample : 0) |
                                  (inWindow && !exact ? kExampleValue : 0)));
    if (inWindow && !exact) out.f32(values[ti]);
    out.varint(e.tokens.size());
    for (int32_t t : e.tokens) out.varint(asUnsigned32(t));
    putValues(out, values, scale, negative);
}

bool getExample(In& in, bool top, float scale, Example* e, bool tokensOnly) {
    uint64_t u = 0;
    int32_t v = 0;
    e->bin = -1;
    if (!top) {
        if (!in.int32(&v)) return false;
        e->bin = v;
    }
    if (!in.int32(&v)) return false;
    e->rank = v;
    if (!in.varint(&u)) return false;
    e->row = static_cast<int64_t>(u);
    if (!in.f32(&e->activation) || !in.int32(&v)) return false;
    e->tokenIndex = v;
    uint8_t flags = 0;
    uint64_t n = 0;
    float exampleValue = e->activation;
    if (!in.byte(&flags)) return false;
    if ((flags & kExampleValue) && !in.f32(&exampleValue)) return false;
    if (!in.count(1, &n) || n > kMaxTokens) return false;
    e->uniform = flags & kUniform;
    e->tokens.resize(n);
    for (auto& t : e->tokens)
        if (!in.int32(&t)) return false;
    std::vector<bool> nonzero, negative;
    if (!in.bits(n, &nonzero)) return false;
    const auto k = static_cast<size_t>(std::count(nonzero.begin(), nonzero.end(), true));
    if (in.left() < k) return false;
    std::vector<uint8_t> q(k);
    for (auto& m : q) in.byte(&m);
    if ((flags & kNegative) && !in.bits(k, &negative)) return false;
    if (tokensOnly) return true;
    e->values.assign(n, 0.f);
    for (size_t t = 0, j = 0; t < n; ++t) {
        if (!nonzero[t]) continue;
        const float m = static_cast<float>(double(q[j]) * double(scale) / 255.0);
        e->values[t] = (flags & kNegative) && negative[j] ? -m : m;
        ++j;
    }
    if ((flags & (kExactExample | kExampleValue)) && e->tokenIndex >= 0 &&
        static_cast<uint64_t>(e->tokenIndex) < n)
        e->values[static_cast<size_t>(e->tokenIndex)] = exampleValue;
    return true;
}

// Reads the examples blob; with tokensOnly, stops after the top examples.
bool getExamples(std::string_view blob, std::vector<Example>* top, std::vector<Example>* interval,
                 bool tokensOnly) {
    In in(blob);
    float scale = 0;
    uint64_t nTop = 0, nInterval = 0;
    // An example takes at least 9 bytes (four varints, a float32, flags, a length).
    if (!in.f32(&scale) || !in.count(9, &nTop) || !in.count(9, &nInterval)) return false;
    for (uint64_t i = 0; i < nTop; ++i)
        if (!getExample(in, true, scale, &top->emplace_back(), tokensOnly)) return false;
    if (tokensOnly) return true;
    for (uint64_t i = 0; i < nInterval; ++i)
        if (!getExample(in, false, scale, &interval->emplace_back(), false)) return false;
    return in.done();
}

}  // namespace

std::string encodeCounts(const std::vector<int64_t>& counts) {
    Out out;
    out.varint(counts.size());
    for (int64_t c : counts) out.varint(asUnsigned(c));
    return out.take();
}

bool decodeCounts(std::string_view blob, std::vector<int64_t>* counts) {
    In in(blob);
    uint64_t n = 0;
    if (!in.count(1, &n)) return false;
    counts->resize(n);
    for (auto& c : *counts) {
        uint64_t u = 0;
        if (!in.varint(&u)) return false;
        c = static_cast<int64_t>(u);
    }
    return in.done();
}

std::string encodeLogits(const std::vector<LogitEffect>& positive,
                         const std::vector<LogitEffect>& negative) {
    Out out;
    for (const auto* list : {&positive, &negative}) {
        out.varint(list->size());
        for (const LogitEffect& e : *list) {
            out.varint(asUnsigned32(e.token));
            out.f32(e.value);
        }
    }
    return out.take();
}

bool decodeLogits(std::string_view blob, std::vector<LogitEffect>* positive,
                  std::vector<LogitEffect>* negative) {
    In in(blob);
    for (auto* list : {positive, negative}) {
        uint64_t n = 0;
        if (!in.count(5, &n)) return false;
        list->resize(n);
        for (LogitEffect& e : *list)
            if (!in.int32(&e.token) || !in.f32(&e.value)) return false;
    }
    return in.done();
}

std::string encodeRelated(const std::vector<RelatedFeature>& neighbours,
                          const std::vector<RelatedFeature>& coFiring) {
    Out out;
    for (const auto* list : {&neighbours, &coFiring}) {
        out.varint(list->size());
        for (const RelatedFeature& r : *list) {
            out.varint(asUnsigned(r.id));
            out.f32(r.value);
            out.varint(asUnsigned(r.count));
        }
    }
    return out.take();
}

bool decodeRelated(std::string_view blob, std::vector<RelatedFeature>* neighbours,
                   std::vector<RelatedFeature>* coFiring) {
    In in(blob);
    for (auto* list : {neighbours, coFiring}) {
        uint64_t n = 0;
        if (!in.count(6, &n)) return false;
        list->resize(n);
        for (RelatedFeature& r : *list) {
            uint64_t id = 0, count = 0;
            if (!in.varint(&id) || !in.f32(&r.value) || !in.varint(&count)) return false;
            r.id = static_cast<int64_t>(id);
            r.count = static_cast<int64_t>(count);
        }
    }
    return in.done();
}

float quantizationScale(const std::vector<Example>& top, const std::vector<Example>& interval) {
    float scale = 0;
    for (const auto* list : {&top, &interval})
        for (const Example& e : *list)
            for (float v : e.values)
                if (std::isfinite(v)) scale = std::max(scale, std::fabs(v));
    return scale;
}

float quantize(float value, float scale) {
    const uint8_t m = magnitude(value, scale);
    const auto q = static_cast<float>(double(m) * double(scale) / 255.0);
    return value < 0 ? -q : q;
}

std::string encodeExamples(const std::vector<Example>& top, const std::vector<Example>& interval) {
    const float scale = quantizationScale(top, interval);
    Out out;
    out.f32(scale);
    out.varint(top.size());
    out.varint(interval.size());
    for (const Example& e : top) putExample(out, e, true, scale);
    for (const Example& e : interval) putExample(out, e, false, scale);
    return out.take();
}

bool decodeExamples(std::string_view blob, std::vector<Example>* top,
                    std::vector<Example>* interval) {
    return getExamples(blob, top, interval, false);
}

bool decodeTopTokens(std::string_view blob, std::vector<std::vector<int32_t>>* windows) {
    std::vector<Example> top, none;
    if (!getExamples(blob, &top, &none, true)) return false;
    for (Example& e : top) windows->push_back(std::move(e.tokens));
    return true;
}

}  // namespace mono::features::codec
