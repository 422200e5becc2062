#pragma once
// Byte-level builders for the io tests: they write GGUF, safetensors, llama2.c,
// npy and zip files independently of core/io's writers, so a reader bug cannot
// hide behind a matching writer bug, and so the hostile tests can damage any field.

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace mono::test {

// Little-endian appenders.
template <class T>
void put(std::string& s, T v) {
    s.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
template <class T>
void poke(std::string& s, size_t at, T v) {
    std::memcpy(s.data() + at, &v, sizeof(T));
}
inline void putStr(std::string& s, const std::string& v) {
    put<uint64_t>(s, v.size());
    s += v;
}

// A GGUF file: metadata values are given pre-encoded (type + bytes) so tests can
// write anything, valid or not.
struct GgufBuilder {
    struct Kv {
        std::string key;
        uint32_t type;
        std::string value;  // encoded value bytes
    };
    struct Tensor {
        std::string name;
        std::vector<uint64_t> ne;  // innermost first
        uint32_t type;
        uint64_t offset;
    };
    uint32_t version = 3;
    uint64_t alignment = 32;  // used for padding only
    std::vector<Kv> kvs;
    std::vector<Tensor> tensors;
    std::string data;

    static std::string u32v(uint32_t v) {
        std::string s;
        put(s, v);
        return s;
    }
    static std::string strv(const std::string& v) {
        std::string s;
        putStr(s, v);
        return s;
    }
    static std::string arrv(uint32_t elemType, uint64_t count, const std::string& items) {
        std::string s;
        put(s, elemType);
        put(s, count);
        return s + items;
    }

    // Offsets of interesting fields in the last build(), for byte-level damage.
    size_t tensorCountAt = 8, kvCountAt = 16, firstKvAt = 24, firstTensorInfoAt = 0, dataAt = 0;

    std::string build() {
        std::string s = "GGUF";
        put(s, version);
        put<uint64_t>(s, tensors.size());
        put<uint64_t>(s, kvs.size());
        for (const auto& kv : kvs) {
            putStr(s, kv.key);
            put(s, kv.type);
            s += kv.value;
        }
        firstTensorInfoAt = s.size();
        for (const auto& t : tensors) {
            putStr(s, t.name);
            put<uint32_t>(s, static_cast<uint32_t>(t.ne.size()));
            for (uint64_t d : t.ne) put(s, d);
            put(s, t.type);
            put(s, t.offset);
        }
        s.append((alignment - s.size() % alignment) % alignment, '\0');
        dataAt = s.size();
        return s + data;
    }
};

// A valid GGUF with varied metadata and three tensors (F32 [2,4], Q8_0 [32], F16 [8]).
inline GgufBuilder sampleGguf() {
    GgufBuilder g;
    g.kvs.push_back({"general.architecture", 8, GgufBuilder::strv("llama")});
    g.kvs.push_back({"general.alignment", 4, GgufBuilder::u32v(32)});
    std::string toks;
    for (const char* t : {"<s>", "hello", "\xE2\x96\x81world"}) putStr(toks, t);
    g.kvs.push_back({"tokenizer.ggml.tokens", 9, GgufBuilder::arrv(8, 3, toks)});
    std::string scores;
    for (float f : {0.0f, -1.5f, 2.25f}) put(scores, f);
    g.kvs.push_back({"tokenizer.ggml.scores", 9, GgufBuilder::arrv(6, 3, scores)});
    std::string inner1 = GgufBuilder::arrv(5, 2, std::string("\x01\0\0\0\xfe\xff\xff\xff", 8));
    std::string inner2 = GgufBuilder::arrv(5, 0, "");
    g.kvs.push_back({"test.nested", 9, GgufBuilder::arrv(9, 2, inner1 + inner2)});
    g.kvs.push_back({"test.flag", 7, std::string("\x01", 1)});
    std::string u64;
    put<uint64_t>(u64, 1ull << 40);
    g.kvs.push_back({"test.big", 10, u64});
    std::string f64;
    put<double>(f64, 0.125);
    g.kvs.push_back({"test.f64", 12, f64});
    std::string i16;
    put<int16_t>(i16, -300);
    g.kvs.push_back({"test.i16", 3, i16});

    // a: F32 ne [4, 2] -> row-major [2, 4], values 0..7
    for (int i = 0; i < 8; ++i) put<float>(g.data, static_cast<float>(i));
    g.tensors.push_back({"a", {4, 2}, 0, 0});
    g.data.resize(32, '\0');
    // b: Q8_0 [32]: d = 0.5 (f16 0x3800), q = -16..15
    put<uint16_t>(g.data, 0x3800);
    for (int i = 0; i < 32; ++i) g.data += static_cast<char>(static_cast<int8_t>(i - 16));
    g.tensors.push_back({"b", {32}, 8, 32});
    g.data.resize(96, '\0');
    // c: F16 [8]: 1, -2, 0.5, 65504, 2^-24, inf, -0, 2^-14
    for (uint16_t h : {0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x7C00, 0x8000, 0x0400})
        put<uint16_t>(g.data, h);
    g.tensors.push_back({"c", {8}, 1, 96});
    return g;
}

// safetensors from a raw header string (no padding added unless asked).
inline std::string buildSafetensors(const std::string& header, const std::string& data) {
    std::string s;
    put<uint64_t>(s, header.size());
    return s + header + data;
}

// llama2.c: header ints then `floats` float32 values 0, 1, 2, ... so every
// value tells its own index in the file.
struct Llama2cDims {
    int32_t dim = 8, hidden = 12, layers = 2, heads = 2, kvHeads = 1, vocab = 16, seqLen = 4;
    uint64_t floats() const {
        const uint64_t d = dim, h = hidden, l = layers, v = vocab < 0 ? -vocab : vocab;
        const uint64_t hd = d / heads, q = heads * hd, kv = kvHeads * hd;
        return v * d + l * d + l * d * q + 2 * l * d * kv + l * q * d + l * d + 3 * l * d * h + d +
               2 * (uint64_t(seqLen) * hd / 2) + (vocab < 0 ? v * d : 0);
    }
};
inline std::string buildLlama2c(const Llama2cDims& c) {
    std::string s;
    for (int32_t v : {c.dim, c.hidden, c.layers, c.heads, c.kvHeads, c.vocab, c.seqLen}) put(s, v);
    const uint64_t n = c.floats();
    for (uint64_t i = 0; i < n; ++i) put<float>(s, static_cast<float>(i));
    return s;
}

// A .npy from a raw header dict (padded as numpy pads) and raw data.
inline std::string buildNpy(const std::string& dict, const std::string& data, int major = 1) {
    std::string h = dict;
    const size_t prefix = major == 1 ? 10 : 12;
    h.append((64 - (prefix + h.size() + 1) % 64) % 64, ' ');
    h += '\n';
    std::string s = "\x93NUMPY";
    s += static_cast<char>(major);
    s += '\0';
    if (major == 1)
        put<uint16_t>(s, static_cast<uint16_t>(h.size()));
    else
        put<uint32_t>(s, static_cast<uint32_t>(h.size()));
    return s + h + data;
}

// Raw deflate (no zlib header), as zip stores it.
inline std::string rawDeflate(const std::string& in) {
    z_stream z{};
    deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, in.size()), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

// A zip with chosen members; records where each field went for damage tests.
struct ZipBuilder {
    struct Member {
        std::string name;
        std::string content;
        bool deflate = false;
        size_t localAt = 0, dataAt = 0, centralAt = 0;
    };
    std::vector<Member> members;
    size_t centralStart = 0, eocdAt = 0;

    std::string build() {
        std::string s, central;
        for (auto& m : members) {
            const std::string payload = m.deflate ? rawDeflate(m.content) : m.content;
            const uint32_t crc =
                static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(m.content.data()),
                                            static_cast<uInt>(m.content.size())));
            m.localAt = s.size();
            put<uint32_t>(s, 0x04034b50);
            put<uint16_t>(s, 20);
            put<uint16_t>(s, 0);
            put<uint16_t>(s, m.deflate ? 8 : 0);
            put<uint32_t>(s, 0);
            put<uint32_t>(s, crc);
            put<uint32_t>(s, static_cast<uint32_t>(payload.size()));
            put<uint32_t>(s, static_cast<uint32_t>(m.content.size()));
            put<uint16_t>(s, static_cast<uint16_t>(m.name.size()));
            put<uint16_t>(s, 0);
            s += m.name;
            m.dataAt = s.size();
            s += payload;

            m.centralAt = central.size();
            put<uint32_t>(central, 0x02014b50);
            put<uint16_t>(central, 20);
            put<uint16_t>(central, 20);
            put<uint16_t>(central, 0);
            put<uint16_t>(central, m.deflate ? 8 : 0);
            put<uint32_t>(central, 0);
            put<uint32_t>(central, crc);
            put<uint32_t>(central, static_cast<uint32_t>(payload.size()));
            put<uint32_t>(central, static_cast<uint32_t>(m.content.size()));
            put<uint16_t>(central, static_cast<uint16_t>(m.name.size()));
            put<uint16_t>(central, 0);
            put<uint16_t>(central, 0);
            put<uint16_t>(central, 0);
            put<uint16_t>(central, 0);
            put<uint32_t>(central, 0);
            put<uint32_t>(central, static_cast<uint32_t>(m.localAt));
            central += m.name;
        }
        centralStart = s.size();
        for (auto& m : members) m.centralAt += centralStart;
        s += central;
        eocdAt = s.size();
        put<uint32_t>(s, 0x06054b50);
        put<uint16_t>(s, 0);
        put<uint16_t>(s, 0);
        put<uint16_t>(s, static_cast<uint16_t>(members.size()));
        put<uint16_t>(s, static_cast<uint16_t>(members.size()));
        put<uint32_t>(s, static_cast<uint32_t>(central.size()));
        put<uint32_t>(s, static_cast<uint32_t>(centralStart));
        put<uint16_t>(s, 0);
        return s;
    }
};

}  // namespace mono::test
