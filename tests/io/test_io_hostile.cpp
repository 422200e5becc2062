// Damaged and malicious files for every reader: each variant is built from a
// valid file, written to disk and opened; it must fail with a Status whose
// message names the file, without crashing, hanging or allocating absurdly.
// Also run under ASan + UBSan (label hostile).

#include <QtTest>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <new>

#include "core/io/format_detect.h"
#include "core/io/gguf.h"
#include "core/io/llama2c.h"
#include "core/io/npy.h"
#include "core/io/safetensors.h"
#include "core/model/config.h"
#include "tests/io/io_builders.h"
#include "tests/support/test_support.h"

// The largest single allocation, to prove that absurd sizes and counts are
// rejected before anything is allocated for them.
namespace {
std::atomic<size_t> g_largestAllocation{0};
void* trackedAlloc(size_t n) {
    size_t seen = g_largestAllocation.load(std::memory_order_relaxed);
    while (n > seen && !g_largestAllocation.compare_exchange_weak(seen, n)) {
    }
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
}  // namespace
void* operator new(size_t n) {
    return trackedAlloc(n);
}
void* operator new[](size_t n) {
    return trackedAlloc(n);
}
void* operator new(size_t n, const std::nothrow_t&) noexcept {
    try {
        return trackedAlloc(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
    try {
        return trackedAlloc(n);
    } catch (...) {
        return nullptr;
    }
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}

using namespace mono;
using namespace mono::io;
using mono::test::poke;
using mono::test::put;

namespace {

struct Variant {
    std::string name;
    std::string bytes;
};

constexpr size_t kAllocationLimit = 64u << 20;

// Thousands of small files are written and reread: on a busy ext4 disk each
// costs milliseconds, so use RAM-backed /dev/shm when there is one, and reuse
// one path per format.
std::filesystem::path scratchDir() {
    static std::filesystem::path dir = [] {
        std::string pattern = "/dev/shm/monoscope-io-XXXXXX";
        if (mkdtemp(pattern.data())) return std::filesystem::path(pattern);
        return test::tempDir();
    }();
    return dir;
}

// Opens every variant with `open` and checks that each fails cleanly.
void checkAll(const char* format, const std::string& ext, const std::vector<Variant>& variants,
              const std::function<Status(const std::string&)>& open) {
    const std::string file = std::string(format) + "-variant" + ext;
    const std::string path = (scratchDir() / file).string();
    for (const auto& v : variants) {
        test::writeFile(path, v.bytes);
        g_largestAllocation = 0;
        const Status s = open(path);
        if (qEnvironmentVariableIsSet("MONO_IO_VERBOSE"))
            qInfo("%s: %s", v.name.c_str(), s.toString().c_str());
        const std::string what = std::string(format) + " variant '" + v.name + "'";
        QVERIFY2(!s.ok(), qPrintable(QString::fromStdString(what + " was accepted")));
        QVERIFY2(s.message().find(file) != std::string::npos,
                 qPrintable(QString::fromStdString(
                     what + ": message does not name the file: " + s.message())));
        QVERIFY2(g_largestAllocation < kAllocationLimit,
                 qPrintable(QString::fromStdString(what + " allocated " +
                                                   std::to_string(g_largestAllocation.load()))));
    }
    qInfo("%s: %zu corrupted variants rejected", format, variants.size());
}

void addTruncations(std::vector<Variant>& out, const std::string& valid, int count) {
    for (int i = 0; i < count; ++i) {
        const size_t at = valid.size() * i / count;
        out.push_back({"truncated at " + std::to_string(at), valid.substr(0, at)});
    }
    out.push_back({"truncated by one byte", valid.substr(0, valid.size() - 1)});
}

std::string replaceOnce(std::string s, const std::string& from, const std::string& to) {
    const size_t at = s.find(from);
    if (at == std::string::npos) qFatal("test bug: '%s' not found", from.c_str());
    return s.replace(at, from.size(), to);
}

}  // namespace

class TestIoHostile : public QObject {
    Q_OBJECT
private slots:
    void cleanupTestCase() {
        std::error_code ec;
        if (scratchDir().string().rfind("/dev/shm/", 0) == 0)
            std::filesystem::remove_all(scratchDir(), ec);
    }
    void safetensors() {
        const std::string header =
            R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
            R"("b":{"dtype":"F16","shape":[4],"data_offsets":[24,32]}})";
        const std::string data(32, '\x01');
        const std::string valid = test::buildSafetensors(header, data);
        {  // the base must be valid, or every variant proves nothing
            const auto path = (scratchDir() / "valid.safetensors").string();
            test::writeFile(path, valid);
            MONO_VERIFY_RESULT(SafetensorsFile::open(path));
        }
        std::vector<Variant> v;
        addTruncations(v, valid, 12);
        auto withHeader = [&](const std::string& name, const std::string& h,
                              const std::string& d = std::string(32, '\x01')) {
            v.push_back({name, test::buildSafetensors(h, d)});
        };
        auto lenVariant = [&](const std::string& name, uint64_t len) {
            std::string s = valid;
            poke<uint64_t>(s, 0, len);
            v.push_back({name, s});
        };
        lenVariant("header length 10^12", 1000000000000ull);
        lenVariant("header length 2^64-1", UINT64_MAX);
        lenVariant("header length one past the file", valid.size() - 7);
        lenVariant("header length 0", 0);
        lenVariant("header length 1", 1);
        lenVariant("header length cuts the JSON", header.size() - 5);
        withHeader("not JSON", "{abc" + std::string(header.size() - 4, ' '));
        withHeader("JSON array", "[1,2,3]");
        withHeader("leading space", " " + header);
        withHeader("trailing garbage", header + "x");
        withHeader("invalid UTF-8 key", replaceOnce(header, "\"a\"", "\"\xff\""));
        withHeader("overlong UTF-8 in metadata", replaceOnce(header, "\"pt\"", "\"\xc0\xaf\""));
        withHeader("missing dtype", replaceOnce(header, R"("dtype":"F32",)", ""));
        withHeader("missing shape", replaceOnce(header, R"("shape":[2,3],)", ""));
        withHeader("missing data_offsets", replaceOnce(header, R"(,"data_offsets":[0,24])", ""));
        withHeader("unknown dtype", replaceOnce(header, "\"F32\"", "\"F99\""));
        withHeader("dtype not a string", replaceOnce(header, "\"F32\"", "5"));
        withHeader("unsupported dtype", replaceOnce(header, "\"F32\"", "\"U16\""));
        withHeader("wrong dtype for the size", replaceOnce(header, "\"F32\"", "\"F64\""));
        withHeader("negative dimension", replaceOnce(header, "[2,3]", "[-2,3]"));
        withHeader("fractional dimension", replaceOnce(header, "[2,3]", "[2.5,3]"));
        withHeader("shape is a string", replaceOnce(header, "[2,3]", "\"2x3\""));
        withHeader("shape overflows", replaceOnce(header, "[2,3]", "[4294967296,4294967296,16]"));
        withHeader("shape of 10^12 elements", replaceOnce(header, "[2,3]", "[1000000000000]"));
        withHeader("shape disagrees with byte size", replaceOnce(header, "[2,3]", "[2,2]"));
        withHeader("offsets reversed", replaceOnce(header, "[0,24]", "[24,0]"));
        withHeader("one offset", replaceOnce(header, "[0,24]", "[24]"));
        withHeader("three offsets", replaceOnce(header, "[0,24]", "[0,24,3]"));
        withHeader("negative offset", replaceOnce(header, "[0,24]", "[-1,23]"));
        withHeader("offset as float", replaceOnce(header, "[0,24]", "[0,1e20]"));
        withHeader("offsets past the data", replaceOnce(header, "[24,32]", "[1000,1008]"));
        withHeader("offsets past 2^64",
                   replaceOnce(header, "[24,32]", "[18446744073709551615,18446744073709551623]"));
        withHeader("overlapping ranges", replaceOnce(header, "[24,32]", "[20,28]"));
        withHeader(
            "entry not an object",
            replaceOnce(header, R"({"dtype":"F16","shape":[4],"data_offsets":[24,32]})", "5"));
        withHeader("metadata value not a string", replaceOnce(header, "\"pt\"", "1"));
        withHeader("metadata is an array", replaceOnce(header, R"({"format":"pt"})", "[1]"));
        withHeader("deeply nested JSON",
                   replaceOnce(header, "\"pt\"", std::string(5000, '[') + std::string(5000, ']')));
        v.push_back({"empty file", ""});
        QVERIFY(v.size() >= 30);
        checkAll("safetensors", ".safetensors", v,
                 [](const std::string& p) { return SafetensorsFile::open(p).status(); });
    }

    void gguf() {
        auto base = test::sampleGguf();
        const std::string valid = base.build();
        {
            const auto path = (scratchDir() / "valid.gguf").string();
            test::writeFile(path, valid);
            MONO_VERIFY_RESULT(GgufFile::open(path));
        }
        std::vector<Variant> v;
        addTruncations(v, valid, 16);
        auto edit = [&](const std::string& name, const std::function<void(test::GgufBuilder&)>& f) {
            auto g = test::sampleGguf();
            f(g);
            v.push_back({name, g.build()});
        };
        auto bytes = [&](const std::string& name, const std::function<void(std::string&)>& f) {
            std::string s = valid;
            f(s);
            v.push_back({name, s});
        };
        using B = test::GgufBuilder;
        bytes("bad magic", [](std::string& s) { s[0] = 'X'; });
        edit("version 1", [](B& g) { g.version = 1; });
        edit("version 0", [](B& g) { g.version = 0; });
        edit("version 4", [](B& g) { g.version = 4; });
        bytes("tensor count 2^63", [&](std::string& s) { poke<uint64_t>(s, 8, 1ull << 63); });
        bytes("metadata count 2^40", [&](std::string& s) { poke<uint64_t>(s, 16, 1ull << 40); });
        bytes("key length 2^62", [&](std::string& s) { poke<uint64_t>(s, 24, 1ull << 62); });
        bytes("key length one past the end",
              [&](std::string& s) { poke<uint64_t>(s, 24, s.size() - 31); });
        edit("string value length absurd", [](B& g) {
            g.kvs[0].value.replace(0, 8, std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8));
        });
        edit("array count 10^15 of u8", [](B& g) {
            g.kvs.push_back({"x", 9, B::arrv(0, 1000000000000000ull, "")});
        });
        edit("array count 2^61 of arrays", [](B& g) {
            g.kvs.push_back({"x", 9, B::arrv(9, 1ull << 61, "")});
        });
        edit("array count 2^64-1 of strings", [](B& g) {
            g.kvs.push_back({"x", 9, B::arrv(8, UINT64_MAX, "")});
        });
        edit("5M bools (metadata value cap)", [](B& g) {
            g.kvs.push_back({"x", 9, B::arrv(7, 5000000, std::string(5000000, '\0'))});
        });
        edit("array element type 13", [](B& g) { g.kvs.push_back({"x", 9, B::arrv(13, 1, "a")}); });
        edit("value type 99", [](B& g) { g.kvs[1].type = 99; });
        edit("arrays nested 20 deep", [](B& g) {
            std::string a = B::arrv(4, 0, "");
            for (int i = 0; i < 20; ++i) a = B::arrv(9, 1, a);
            g.kvs.push_back({"x", 9, a});
        });
        edit("bool value 2", [](B& g) { g.kvs.push_back({"x", 7, std::string("\x02", 1)}); });
        edit("key not UTF-8", [](B& g) { g.kvs[0].key.append("\xff\xfe", 2); });
        edit("empty key", [](B& g) { g.kvs[0].key = ""; });
        edit("duplicate key", [](B& g) { g.kvs.push_back(g.kvs[0]); });
        edit("alignment 0", [](B& g) { g.kvs[1].value = B::u32v(0); });
        edit("alignment 48", [](B& g) { g.kvs[1].value = B::u32v(48); });
        edit("alignment as string", [](B& g) {
            g.kvs[1] = {"general.alignment", 8, B::strv("32")};
        });
        edit("tensor with 5 dims", [](B& g) { g.tensors[0].ne = {4, 2, 1, 1, 1}; });
        edit("element count overflows", [](B& g) {
            g.tensors[0].ne = {1ull << 32, 1ull << 32, 4};
        });
        edit("dimension 2^63", [](B& g) { g.tensors[0].ne = {1ull << 63}; });
        edit("removed ggml type 4", [](B& g) { g.tensors[0].type = 4; });
        edit("ggml type 200", [](B& g) { g.tensors[0].type = 200; });
        edit("Q8_0 with a partial block", [](B& g) { g.tensors[1].ne = {31}; });
        edit("misaligned offset", [](B& g) { g.tensors[1].offset = 36; });
        edit("offset past the end", [](B& g) { g.tensors[2].offset = 1u << 20; });
        edit("offset 2^64-32", [](B& g) { g.tensors[2].offset = UINT64_MAX - 31; });
        edit("tensor runs one past the end", [](B& g) { g.tensors[2].ne = {9}; });
        edit("overlapping tensors", [](B& g) { g.tensors[2].offset = 32; });
        edit("duplicate tensor name", [](B& g) { g.tensors[2].name.assign(1, 'a'); });
        edit("tensor name not UTF-8", [](B& g) { g.tensors[2].name = "\xc3\x28"; });
        edit("empty tensor name", [](B& g) { g.tensors[2].name = ""; });
        edit("data section missing", [](B& g) { g.data.clear(); });
        QVERIFY(v.size() >= 30);
        checkAll("GGUF", ".gguf", v,
                 [](const std::string& p) { return GgufFile::open(p).status(); });
    }

    void llama2c() {
        const test::Llama2cDims d;
        const std::string valid = test::buildLlama2c(d);
        {
            const auto path = (scratchDir() / "valid.bin").string();
            test::writeFile(path, valid);
            MONO_VERIFY_RESULT(Llama2cFile::open(path));
        }
        std::vector<Variant> v;
        addTruncations(v, valid, 10);
        v.push_back({"header only", valid.substr(0, 28)});
        v.push_back({"one extra byte", valid + "x"});
        v.push_back({"one extra float", valid + "abcd"});
        const char* fields[] = {"dim",        "hidden_dim", "n_layers", "n_heads",
                                "n_kv_heads", "vocab_size", "seq_len"};
        for (int i = 0; i < 7; ++i) {
            std::string s = valid;
            poke<int32_t>(s, 4 * i, 0);
            v.push_back({std::string(fields[i]) + " = 0", s});
            if (i == 5) continue;
            poke<int32_t>(s, 4 * i, -8);
            v.push_back({std::string(fields[i]) + " negative", s});
            poke<int32_t>(s, 4 * i, INT32_MAX);
            v.push_back({std::string(fields[i]) + " = INT32_MAX", s});
        }
        {
            std::string s = valid;
            poke<int32_t>(s, 12, 3);
            v.push_back({"dim not divisible by n_heads", s});
            poke<int32_t>(s, 12, 2);
            poke<int32_t>(s, 16, 4);
            v.push_back({"more kv heads than heads", s});
            poke<int32_t>(s, 12, 4);
            poke<int32_t>(s, 16, 3);
            v.push_back({"heads not a multiple of kv heads", s});
        }
        {
            std::string s = valid;
            poke<int32_t>(s, 20, INT32_MIN);
            v.push_back({"vocab_size INT32_MIN", s});
            poke<int32_t>(s, 20, -16);
            v.push_back({"vocab sign flipped (expects wcls)", s});
            poke<int32_t>(s, 0, 0x616b3432);
            v.push_back({"newer export magic", s});
        }
        {
            test::Llama2cDims c = d;
            c.vocab = -16;
            std::string s = test::buildLlama2c(c);
            poke<int32_t>(s, 20, 16);
            v.push_back({"wcls present but vocab positive", s});
        }
        {
            std::string s = valid;
            poke<int32_t>(s, 8, 1000000);
            v.push_back({"10^6 layers claimed", s});
            poke<int32_t>(s, 8, 4000);  // within limits, but the file is far too short
            v.push_back({"4000 layers claimed", s});
        }
        v.push_back({"empty file", ""});
        QVERIFY(v.size() >= 30);
        checkAll("llama2.c", ".bin", v,
                 [](const std::string& p) { return Llama2cFile::open(p).status(); });
    }

    void npy() {
        const std::string data(24, '\x02');
        const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        const std::string valid = test::buildNpy(dict, data);
        {
            const auto path = (scratchDir() / "valid.npy").string();
            test::writeFile(path, valid);
            MONO_VERIFY_RESULT(readNpy(path));
        }
        std::vector<Variant> v;
        addTruncations(v, valid, 10);
        auto withDict = [&](const std::string& name, const std::string& dct,
                            const std::string& d = std::string(24, '\x02'), int major = 1) {
            v.push_back({name, test::buildNpy(dct, d, major)});
        };
        auto bytes = [&](const std::string& name, const std::function<void(std::string&)>& f) {
            std::string s = valid;
            f(s);
            v.push_back({name, s});
        };
        bytes("bad magic", [](std::string& s) { s[1] = 'M'; });
        bytes("version 0.0", [](std::string& s) { s[6] = 0; });
        bytes("version 4.0", [](std::string& s) { s[6] = 4; });
        bytes("version 1.1", [](std::string& s) { s[7] = 1; });
        bytes("header length 65535", [](std::string& s) { poke<uint16_t>(s, 8, 65535); });
        bytes("header length 0", [](std::string& s) { poke<uint16_t>(s, 8, 0); });
        bytes("v2 header length 2^32-1", [](std::string& s) {
            s[6] = 2;
            poke<uint32_t>(s, 8, UINT32_MAX);
        });
        withDict("not a dict", "['descr', '<f4']");
        withDict("missing shape", "{'descr': '<f4', 'fortran_order': False, }");
        withDict("missing descr", "{'fortran_order': False, 'shape': (2, 3), }");
        withDict("extra key",
                 "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1, }");
        withDict("duplicate key",
                 "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
        withDict("big-endian", replaceOnce(dict, "<f4", ">f4"));
        withDict("complex dtype", replaceOnce(dict, "<f4", "<c8"));
        withDict("object dtype", replaceOnce(dict, "<f4", "|O"));
        withDict("float3", replaceOnce(dict, "<f4", "<f3"));
        withDict("structured dtype", replaceOnce(dict, "'<f4'", "[('a', '<f4')]"));
        withDict("descr not a string", replaceOnce(dict, "'<f4'", "5"));
        withDict("Fortran order", replaceOnce(dict, "False", "True"));
        withDict("fortran_order not a bool", replaceOnce(dict, "False", "'maybe'"));
        withDict("negative dimension", replaceOnce(dict, "(2, 3)", "(-2, 3)"));
        withDict("dimension not an integer", replaceOnce(dict, "(2, 3)", "('a', 3)"));
        withDict("shape overflows",
                 replaceOnce(dict, "(2, 3)", "(1000000000000000000, 1000000000000000000)"));
        withDict("dimension beyond int64", replaceOnce(dict, "(2, 3)", "(99999999999999999999,)"));
        withDict("10^12 elements claimed", replaceOnce(dict, "(2, 3)", "(1000000000000,)"));
        withDict("shape disagrees with the data", replaceOnce(dict, "(2, 3)", "(2, 4)"));
        withDict("shape not a tuple", replaceOnce(dict, "(2, 3)", "[2, 3]"));
        withDict("unterminated string",
                 "{'descr: '<f4', 'fortran_order': False, 'shape': (2, 3), }");
        withDict("text after the dict", dict + " x");
        withDict("non-ASCII in a 1.0 header", replaceOnce(dict, "'shape'", "'sh\xe9pe'"));
        withDict("invalid UTF-8 in a 3.0 header", replaceOnce(dict, "'shape'", "'sh\xff'"), data,
                 3);
        withDict("one trailing data byte", dict, data + "x");
        v.push_back({"empty file", ""});
        QVERIFY(v.size() >= 30);
        checkAll("npy", ".npy", v, [](const std::string& p) { return readNpy(p).status(); });
    }

    void npz() {
        const std::string npyA = test::buildNpy(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", std::string(24, '\3'));
        const std::string npyB = test::buildNpy(
            "{'descr': '<i8', 'fortran_order': False, 'shape': (100,), }", std::string(800, '\0'));
        auto sample = [&] {
            test::ZipBuilder z;
            z.members.push_back({"a.npy", npyA, false});
            z.members.push_back({"b.npy", npyB, true});
            return z;
        };
        auto base = sample();
        const std::string valid = base.build();
        {
            const auto path = (scratchDir() / "valid.npz").string();
            test::writeFile(path, valid);
            auto z = readNpz(path);
            MONO_VERIFY_RESULT(z);
            QCOMPARE(z->size(), size_t(2));
        }
        const auto& A = base.members[0];
        const auto& Bm = base.members[1];
        std::vector<Variant> v;
        addTruncations(v, valid, 10);
        auto bytes = [&](const std::string& name, const std::function<void(std::string&)>& f) {
            std::string s = valid;
            f(s);
            v.push_back({name, s});
        };
        const size_t eocd = base.eocdAt;
        bytes("no end record", [&](std::string& s) { s[eocd] = 'X'; });
        bytes("directory offset past the end",
              [&](std::string& s) { poke<uint32_t>(s, eocd + 16, 0x7FFFFFFF); });
        bytes("directory size past the end",
              [&](std::string& s) { poke<uint32_t>(s, eocd + 12, 0x7FFFFFFF); });
        bytes("60000 entries claimed", [&](std::string& s) {
            poke<uint16_t>(s, eocd + 8, 60000);
            poke<uint16_t>(s, eocd + 10, 60000);
        });
        bytes("zip64 marker without locator",
              [&](std::string& s) { poke<uint32_t>(s, eocd + 16, 0xFFFFFFFF); });
        bytes("multi-disk", [&](std::string& s) { poke<uint16_t>(s, eocd + 4, 1); });
        bytes("directory entry signature", [&](std::string& s) { s[A.centralAt] = 'X'; });
        bytes("name length overruns the directory",
              [&](std::string& s) { poke<uint16_t>(s, A.centralAt + 28, 60000); });
        bytes("extra length overruns the directory",
              [&](std::string& s) { poke<uint16_t>(s, Bm.centralAt + 30, 500); });
        bytes("local header offset past the end",
              [&](std::string& s) { poke<uint32_t>(s, A.centralAt + 42, 0x7FFFFFF0); });
        bytes("local header signature", [&](std::string& s) { s[A.localAt] = 'X'; });
        bytes("local name length pushes data past the end",
              [&](std::string& s) { poke<uint16_t>(s, Bm.localAt + 26, 65000); });
        bytes("compressed size past the end",
              [&](std::string& s) { poke<uint32_t>(s, Bm.centralAt + 20, 0x7FFFFFFF); });
        bytes("stored sizes disagree",
              [&](std::string& s) { poke<uint32_t>(s, A.centralAt + 24, 100); });
        bytes("method bzip2", [&](std::string& s) { poke<uint16_t>(s, A.centralAt + 10, 12); });
        bytes("encrypted", [&](std::string& s) { poke<uint16_t>(s, A.centralAt + 8, 1); });
        bytes("stored data flipped (CRC)", [&](std::string& s) { s[A.dataAt + 100] ^= 0x40; });
        bytes("CRC field changed", [&](std::string& s) { s[Bm.centralAt + 16] ^= 1; });
        bytes("declared smaller than inflated",
              [&](std::string& s) { poke<uint32_t>(s, Bm.centralAt + 24, 500); });
        bytes("declared larger than inflated",
              [&](std::string& s) { poke<uint32_t>(s, Bm.centralAt + 24, 1000); });
        bytes("declared 4 GiB from a few bytes",
              [&](std::string& s) { poke<uint32_t>(s, Bm.centralAt + 24, 0xFFFFFFF0); });
        bytes("deflate stream damaged", [&](std::string& s) {
            for (size_t i = 0; i < 6; ++i) s[Bm.dataAt + i] = '\xff';
        });
        bytes("zip64 locator pointing nowhere", [&](std::string& s) {
            std::string loc;
            put<uint32_t>(loc, 0x07064b50);
            put<uint32_t>(loc, 0);
            put<uint64_t>(loc, 1ull << 40);
            put<uint32_t>(loc, 1);
            s.insert(eocd, loc);
        });
        auto members = [&](const std::string& name, std::vector<test::ZipBuilder::Member> m) {
            test::ZipBuilder z;
            z.members = std::move(m);
            v.push_back({name, z.build()});
        };
        members("member not .npy", {{"a.npy", npyA, false}, {"notes.txt", "hello", false}});
        members("duplicate members", {{"a.npy", npyA, false}, {"a.npy", npyA, true}});
        members("member npy damaged", {{"a.npy", "\x93NUMPX" + npyA.substr(6), false}});
        members("member npy truncated", {{"a.npy", npyA.substr(0, npyA.size() - 4), true}});
        members("member npy big-endian",
                {{"a.npy",
                  test::buildNpy("{'descr': '>f4', 'fortran_order': False, 'shape': (6,), }",
                                 std::string(24, '\3')),
                  false}});
        v.push_back({"empty file", ""});
        v.push_back({"not a zip", std::string(100, 'z')});
        QVERIFY(v.size() >= 30);
        checkAll("npz", ".npz", v, [](const std::string& p) { return readNpz(p).status(); });
    }

    void realFilesTruncated() {
        // The shared model files, cut at many offsets: every cut must be refused.
        MONO_REQUIRE_SHARED(gguf, "models/stories260K/stories260K.gguf");
        MONO_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        MONO_REQUIRE_SHARED(st, "models/tiny-random-gpt2/model.safetensors");
        auto cuts = [](const std::string& bytes) {
            std::vector<Variant> v;
            addTruncations(v, bytes, 16);
            return v;
        };
        checkAll("real-gguf", ".gguf", cuts(test::readFile(gguf)),
                 [](const std::string& p) { return GgufFile::open(p).status(); });
        checkAll("real-llama2c", ".bin", cuts(test::readFile(bin)),
                 [](const std::string& p) { return Llama2cFile::open(p).status(); });
        checkAll("real-safetensors", ".safetensors", cuts(test::readFile(st)),
                 [](const std::string& p) { return SafetensorsFile::open(p).status(); });
    }

    void byteMutationsNeverCrash() {
        // Single-byte changes anywhere in the headers may or may not be valid;
        // either way nothing may crash, and errors must name the file.
        const std::string st = test::buildSafetensors(
            R"({"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
            R"("b":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]}})",
            std::string(32, '\x05'));
        struct Base {
            const char* ext;
            std::string bytes;
            std::function<Status(const std::string&)> open;
        };
        std::vector<test::ZipBuilder::Member> members = {
            {"a.npy",
             test::buildNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
                            std::string(16, '\1')),
             true}};
        test::ZipBuilder zip;
        zip.members = members;
        const std::vector<Base> bases = {
            {".safetensors", st,
             [](const std::string& p) { return SafetensorsFile::open(p).status(); }},
            {".gguf", test::sampleGguf().build(),
             [](const std::string& p) { return GgufFile::open(p).status(); }},
            {".bin", test::buildLlama2c({}),
             [](const std::string& p) { return Llama2cFile::open(p).status(); }},
            {".npy",
             test::buildNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }",
                            std::string(32, '\2')),
             [](const std::string& p) { return readNpy(p).status(); }},
            {".npz", zip.build(), [](const std::string& p) { return readNpz(p).status(); }},
        };
        int total = 0, rejected = 0;
        for (const auto& b : bases) {
            const size_t span = std::min<size_t>(b.bytes.size(), 600);
            for (uint32_t i = 0; i < 400; ++i) {
                std::string m = b.bytes;
                const size_t at = (i * 7919u) % span;
                m[at] = static_cast<char>(m[at] ^ static_cast<char>(1u << (i % 8)));
                ++total;
                const std::string path = (scratchDir() / "mutated").string() + b.ext;
                test::writeFile(path, m);
                g_largestAllocation = 0;
                const Status s = b.open(path);
                QVERIFY2(g_largestAllocation < kAllocationLimit, path.c_str());
                if (s.ok()) continue;
                ++rejected;
                QVERIFY2(s.message().find(path) != std::string::npos, s.message().c_str());
            }
        }
        qInfo("byte mutations: %d tried, %d rejected, none crashed", total, rejected);
    }

    void detectionNeverCrashes() {
        // Format detection reads the same damaged bytes; it may accept some (it only
        // looks at magic numbers) but must not crash, and errors must name the file.
        std::vector<std::string> seeds = {test::sampleGguf().build(), test::buildLlama2c({}),
                                          std::string("\x80\x02\x8a\x0a", 4),
                                          std::string("PK\x05\x06", 4) + std::string(18, '\xff')};
        int n = 0;
        for (const auto& seed : seeds)
            for (size_t cut = 0; cut <= seed.size(); cut += 1 + seed.size() / 17) {
                ++n;
                const auto path = (scratchDir() / "probe").string();
                test::writeFile(path, seed.substr(0, cut));
                auto r = detectFileFormat(path);
                if (!r.ok())
                    QVERIFY2(r.status().message().find(path) != std::string::npos,
                             r.status().message().c_str());
            }
        qInfo("format detection: %d damaged inputs probed", n);
    }

    // Found by fuzz_gguf: a model config whose sizes pass validation but whose
    // parameter count overflows int64 (UB in parameterCount and describe); the
    // count saturates now. Exact counts are unchanged.
    void modelConfigWithOverflowingSizes() {
        const std::string text =
            R"({"model_type":"llama","hidden_size":1073741824,"num_hidden_layers":1073741824,)"
            R"("num_attention_heads":1048576,"intermediate_size":1073741824,)"
            R"("vocab_size":1073741824})";
        auto config = model::configFromHfJson(text, "huge/config.json");
        MONO_VERIFY_RESULT(config);
        MONO_VERIFY_OK(config->validate());
        QCOMPARE(config->parameterCount(), std::numeric_limits<int64_t>::max());
        QVERIFY(config->describe().find("9223372036854775807") != std::string::npos);
        QCOMPARE(model::gpt2SmallConfig().parameterCount(), int64_t(124439808));
    }
};

QTEST_GUILESS_MAIN(TestIoHostile)
#include "test_io_hostile.moc"
