// core/io: conversions, writers' round trips, the committed fixtures written by
// NumPy and PyTorch, and the real model files in the shared folder.

#include <QtTest>

#include <zlib.h>

#include <QProcess>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/io/format_detect.h"
#include "core/io/gguf.h"
#include "core/io/llama2c.h"
#include "core/io/mapped_file.h"
#include "core/io/npy.h"
#include "core/io/safetensors.h"
#include "tests/io/io_builders.h"
#include "tests/support/test_support.h"

using namespace mono;
using namespace mono::io;
namespace fs = std::filesystem;

namespace {

std::string fixture(const char* name) {
    return (test::sourceDir() / "tests/io/data" / name).string();
}

uint32_t bitsOf(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

template <class T>
std::vector<uint8_t> bytesOf(const std::vector<T>& v) {
    std::vector<uint8_t> b(v.size() * sizeof(T));
    std::memcpy(b.data(), v.data(), b.size());
    return b;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

std::vector<std::string> dirEntries(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    return out;
}

}  // namespace

class TestIo : public QObject {
    Q_OBJECT
private slots:
    // ---- conversions -------------------------------------------------------
    void halfToFloat_data() {
        QTest::addColumn<int>("half");
        QTest::addColumn<float>("expected");
        QTest::newRow("one") << 0x3C00 << 1.0f;
        QTest::newRow("minus two") << 0xC000 << -2.0f;
        QTest::newRow("max") << 0x7BFF << 65504.0f;
        QTest::newRow("third") << 0x3555 << 0.333251953125f;
        QTest::newRow("smallest subnormal") << 0x0001 << 5.9604644775390625e-08f;
        QTest::newRow("largest subnormal") << 0x03FF << 6.097555160522461e-05f;
        QTest::newRow("smallest normal") << 0x0400 << 6.103515625e-05f;
        QTest::newRow("inf") << 0x7C00 << std::numeric_limits<float>::infinity();
        QTest::newRow("-inf") << 0xFC00 << -std::numeric_limits<float>::infinity();
    }
    void halfToFloat() {
        QFETCH(int, half);
        QFETCH(float, expected);
        QCOMPARE(bitsOf(io::halfToFloat(static_cast<uint16_t>(half))), bitsOf(expected));
    }
    void halfSpecials() {
        QVERIFY(std::isnan(io::halfToFloat(0x7E00)));
        QVERIFY(std::isnan(io::halfToFloat(0xFC01)));
        QCOMPARE(bitsOf(io::halfToFloat(0x8000)), 0x80000000u);  // -0 keeps its sign
    }
    void halfRoundTripIsExactForEveryValue() {
        for (uint32_t h = 0; h < 65536; ++h) {
            const float f = io::halfToFloat(static_cast<uint16_t>(h));
            if (std::isnan(f)) continue;
            QCOMPARE(io::floatToHalf(f), static_cast<uint16_t>(h));
        }
    }
    void toFloatF16MatchesScalarForEveryValue() {
        // toFloat may take a vectorised path; it must agree with halfToFloat.
        std::vector<uint16_t> all(65536);
        for (uint32_t h = 0; h < 65536; ++h) all[h] = static_cast<uint16_t>(h);
        auto bytes = bytesOf(all);
        auto f = toFloat({"all", DType::kF16, {65536}, bytes.data(), bytes.size()});
        MONO_VERIFY_RESULT(f);
        for (uint32_t h = 0; h < 65536; ++h) {
            const float ref = io::halfToFloat(static_cast<uint16_t>(h));
            if (std::isnan(ref))
                QVERIFY(std::isnan((*f)[h]));
            else
                QCOMPARE(bitsOf((*f)[h]), bitsOf(ref));
        }
    }
    void floatToHalfRounding() {
        QCOMPARE(io::floatToHalf(65519.0f), uint16_t(0x7BFF));  // just below the overflow tie
        QCOMPARE(io::floatToHalf(65520.0f), uint16_t(0x7C00));  // ties away into infinity
        QCOMPARE(io::floatToHalf(1e10f), uint16_t(0x7C00));
        QCOMPARE(io::floatToHalf(std::ldexp(1.0f, -25)), uint16_t(0x0000));         // tie -> even 0
        QCOMPARE(io::floatToHalf(std::ldexp(3.0f, -25)), uint16_t(0x0002));         // tie -> even 2
        QCOMPARE(io::floatToHalf(1.0f + std::ldexp(1.0f, -11)), uint16_t(0x3C00));  // tie, even
        QCOMPARE(io::floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), uint16_t(0x3C02));  // tie, up
        QCOMPARE(io::floatToHalf(-0.0f), uint16_t(0x8000));
        QVERIFY((io::floatToHalf(std::nanf("")) & 0x7FFF) > 0x7C00);
    }
    void bf16() {
        QCOMPARE(io::bf16ToFloat(0x3F80), 1.0f);
        QCOMPARE(io::bf16ToFloat(0x4049), 3.140625f);
        QCOMPARE(io::bf16ToFloat(0xC2F7), -123.5f);
        QCOMPARE(bitsOf(io::bf16ToFloat(0x0001)), 0x00010000u);  // subnormal 2^-133
        QVERIFY(std::isinf(io::bf16ToFloat(0xFF80)) && io::bf16ToFloat(0xFF80) < 0);
        QVERIFY(std::isnan(io::bf16ToFloat(0x7FC0)));
        QCOMPARE(io::floatToBf16(3.14159265f), uint16_t(0x4049));
        QCOMPARE(io::floatToBf16(1.0f + std::ldexp(1.0f, -8)), uint16_t(0x3F80));  // tie, even
        QCOMPARE(io::floatToBf16(1.0f + 3 * std::ldexp(1.0f, -8)), uint16_t(0x3F82));
        QVERIFY(std::isnan(io::bf16ToFloat(io::floatToBf16(std::nanf("")))));
    }
    void toFloatConvertsEveryType() {
        std::vector<uint16_t> half = {0x3C00, 0xC000, 0x0001, 0x7BFF};
        auto hb = bytesOf(half);
        TensorView t{"h", DType::kF16, {2, 2}, hb.data(), hb.size()};
        auto f = toFloat(t);
        MONO_VERIFY_RESULT(f);
        QCOMPARE(*f, (std::vector<float>{1.0f, -2.0f, 5.9604644775390625e-08f, 65504.0f}));

        std::vector<uint16_t> bf = {0x3F80, 0xC2F7};
        auto bb = bytesOf(bf);
        QCOMPARE(*toFloat({"b", DType::kBF16, {2}, bb.data(), bb.size()}),
                 (std::vector<float>{1.0f, -123.5f}));
        std::vector<int64_t> i64 = {-3, 1ll << 40};
        auto ib = bytesOf(i64);
        QCOMPARE(*toFloat({"i", DType::kI64, {2}, ib.data(), ib.size()}),
                 (std::vector<float>{-3.0f, 1099511627776.0f}));
        std::vector<uint8_t> i8 = {0xFF, 0x80, 0x7F};
        QCOMPARE(*toFloat({"i8", DType::kI8, {3}, i8.data(), 3}),
                 (std::vector<float>{-1.0f, -128.0f, 127.0f}));
        QCOMPARE(*toFloat({"u8", DType::kU8, {3}, i8.data(), 3}),
                 (std::vector<float>{255.0f, 128.0f, 127.0f}));
        std::vector<double> d = {0.1, -2.5};
        auto db = bytesOf(d);
        QCOMPARE(*toFloat({"d", DType::kF64, {2}, db.data(), db.size()}),
                 (std::vector<float>{0.1f, -2.5f}));
    }
    void q8_0Dequantizes() {
        // Two blocks, scales 0.5 and -0.25 (f16 0x3800, 0xB400); q = -128, 127, 3, 0...
        std::string blocks;
        test::put<uint16_t>(blocks, 0x3800);
        for (int j = 0; j < 32; ++j) blocks += static_cast<char>(j == 0 ? -128 : j == 1 ? 127 : j);
        test::put<uint16_t>(blocks, 0xB400);
        for (int j = 0; j < 32; ++j) blocks += static_cast<char>(j - 16);
        TensorView t{
            "q", DType::kQ8_0, {2, 32}, reinterpret_cast<const uint8_t*>(blocks.data()), 68};
        auto f = toFloat(t);
        MONO_VERIFY_RESULT(f);
        QCOMPARE(f->size(), size_t(64));
        QCOMPARE((*f)[0], -64.0f);
        QCOMPARE((*f)[1], 63.5f);
        QCOMPARE((*f)[2], 1.0f);
        QCOMPARE((*f)[31], 15.5f);
        QCOMPARE((*f)[32], 4.0f);    // -0.25 * -16
        QCOMPARE((*f)[48], -0.0f);   // -0.25 * 0
        QCOMPARE((*f)[63], -3.75f);  // -0.25 * 15
        uint64_t bytes = 0;
        QVERIFY(dtypeByteSize(DType::kQ8_0, 64, &bytes) && bytes == 68);
        QVERIFY(!dtypeByteSize(DType::kQ8_0, 33, &bytes));  // partial block
    }
    void toFloatRefusesWhatItCannotConvert() {
        std::vector<uint8_t> raw(144);
        auto r = toFloat({"blk.0.ffn_up.weight", DType::kQ4_K, {256}, raw.data(), raw.size()});
        QVERIFY(!r.ok());
        QCOMPARE(r.status().code(), StatusCode::kUnsupported);
        QVERIFY(contains(r.status().message(), "Q4_K"));
        QVERIFY(contains(r.status().message(), "blk.0.ffn_up.weight"));
        auto bad = toFloat({"x", DType::kF32, {3}, raw.data(), 8});  // 3 floats in 8 bytes
        QVERIFY(!bad.ok());
    }

    // ---- safetensors ---------------------------------------------------------
    void safetensorsRoundTrip() {
        const auto path = (test::tempDir() / "rt.safetensors").string();
        std::vector<float> a = {1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, -7.0f};
        std::vector<uint16_t> h = {0x3C00, 0x0001, 0xFC00};
        std::vector<int64_t> c = {-1, 1ll << 50};
        std::vector<uint8_t> flags = {1, 0, 1, 1};
        std::vector<TensorToWrite> tensors = {
            {"layer.w", DType::kF32, {2, 3}, a.data(), 24},
            {"half", DType::kF16, {3}, h.data(), 6},
            {"ids", DType::kI64, {2}, c.data(), 16},
            {"mask", DType::kBool, {2, 2}, flags.data(), 4},
            {"empty", DType::kF32, {0, 5}, nullptr, 0},
            {"scalar", DType::kBF16, {}, h.data(), 2},
        };
        MONO_VERIFY_OK(writeSafetensors(path, tensors, {{"format", "pt"}, {"note", "é ok"}}));
        QCOMPARE(dirEntries(fs::path(path).parent_path()).size(), size_t(1));  // no temp left

        // The header is padded with spaces so the data starts 8-byte aligned.
        const std::string raw = test::readFile(path);
        uint64_t n = 0;
        std::memcpy(&n, raw.data(), 8);
        QCOMPARE(n % 8, uint64_t(0));
        QCOMPARE(raw.size(), 8 + n + 24 + 6 + 16 + 4 + 2);
        QVERIFY(raw[8 + n - 1] == '}' || raw[8 + n - 1] == ' ');

        auto f = SafetensorsFile::open(path);
        MONO_VERIFY_RESULT(f);
        QCOMPARE(f->metadata().at("note"), std::string("é ok"));
        QCOMPARE(f->tensors().size(), tensors.size());
        for (const auto& w : tensors) {
            const TensorView* t = f->find(w.name);
            QVERIFY2(t, w.name.c_str());
            QCOMPARE(t->dtype, w.dtype);
            QCOMPARE(t->shape, w.shape);
            QCOMPARE(t->nbytes, w.nbytes);
            if (w.nbytes) QVERIFY(std::memcmp(t->data, w.data, w.nbytes) == 0);
        }
        // tensors() is in data-offset order: the write order here.
        QCOMPARE(f->tensors()[0].name, std::string("layer.w"));
        QCOMPARE(f->tensors()[1].name, std::string("half"));
        QCOMPARE(*toFloat(*f->find("layer.w")), a);
    }
    void safetensorsWriterRejectsBadInput() {
        const fs::path dir = test::tempDir();
        const auto path = (dir / "bad.safetensors").string();
        std::vector<float> a(4, 1.0f);
        auto dup = writeSafetensors(
            path, {{"x", DType::kF32, {4}, a.data(), 16}, {"x", DType::kF32, {4}, a.data(), 16}});
        QCOMPARE(dup.code(), StatusCode::kInvalidArgument);
        auto size = writeSafetensors(path, {{"x", DType::kF32, {5}, a.data(), 16}});
        QCOMPARE(size.code(), StatusCode::kInvalidArgument);
        QVERIFY(contains(size.message(), "x"));
        auto q8 = writeSafetensors(path, {{"x", DType::kQ8_0, {32}, a.data(), 34}});
        QVERIFY(!q8.ok());
        QVERIFY(dirEntries(dir).empty());  // nothing written, no temporary left behind

        // A failed write leaves the previous file intact.
        MONO_VERIFY_OK(writeSafetensors(path, {{"x", DType::kF32, {4}, a.data(), 16}}));
        const std::string before = test::readFile(path);
        QVERIFY(!writeSafetensors(path, {{"y", DType::kF32, {9}, a.data(), 16}}).ok());
        QCOMPARE(test::readFile(path), before);
        QCOMPARE(dirEntries(dir).size(), size_t(1));
        auto noDir = writeSafetensors((dir / "missing/x.safetensors").string(),
                                      {{"x", DType::kF32, {4}, a.data(), 16}});
        QCOMPARE(noDir.code(), StatusCode::kIoError);
    }
    void safetensorsViewsSurviveMoves() {
        const auto path = (test::tempDir() / "mv.safetensors").string();
        std::vector<float> a = {1, 2, 3, 4};
        MONO_VERIFY_OK(writeSafetensors(path, {{"a", DType::kF32, {4}, a.data(), 16}}));
        auto r = SafetensorsFile::open(path);
        MONO_VERIFY_RESULT(r);
        const uint8_t* data = r->find("a")->data;
        SafetensorsFile moved = std::move(r).value();
        std::vector<SafetensorsFile> holder;
        holder.push_back(std::move(moved));
        holder.reserve(16);  // forces another move of the file object
        QCOMPARE(holder[0].find("a")->data, data);
        QVERIFY(std::memcmp(data, a.data(), 16) == 0);
    }
    void safetensorsRealGpt2() {
        MONO_REQUIRE_SHARED(path, "models/tiny-random-gpt2/model.safetensors");
        auto f = SafetensorsFile::open(path.string());
        MONO_VERIFY_RESULT(f);
        QCOMPARE(f->tensors().size(), size_t(64));  // 5 blocks × 12 + ln_f ×2 + wte + wpe
        QCOMPARE(f->metadata().at("format"), std::string("pt"));
        const TensorView* wte = f->find("transformer.wte.weight");
        QVERIFY(wte);
        QCOMPARE(wte->shape, (std::vector<int64_t>{1000, 32}));
        QCOMPARE(f->find("transformer.wpe.weight")->shape, (std::vector<int64_t>{512, 32}));
        QCOMPARE(f->find("transformer.h.4.attn.c_attn.weight")->shape,
                 (std::vector<int64_t>{32, 96}));  // Conv1D: [in, out]
        QCOMPARE(f->find("transformer.h.0.mlp.c_proj.weight")->shape,
                 (std::vector<int64_t>{128, 32}));
        QVERIFY(!f->find("lm_head.weight"));
        // Values read independently with NumPy (json + frombuffer).
        auto v = toFloat(*wte);
        MONO_VERIFY_RESULT(v);
        QCOMPARE((*v)[0], -0.020643139258027077f);
        QCOMPARE((*v)[2], -0.02890360727906227f);
        QCOMPARE(v->back(), -0.004175789f);
        double sum = 0;
        for (float x : *v) sum += x;
        QVERIFY2(std::abs(sum - 0.07420032310841407) < 1e-6, qPrintable(QString::number(sum)));
    }
    void safetensorsRealTinyStories() {
        MONO_REQUIRE_SHARED(path, "models/TinyStories-656K/model.safetensors");
        auto f = SafetensorsFile::open(path.string());
        MONO_VERIFY_RESULT(f);
        QCOMPARE(f->tensors().size(), size_t(20));
        QCOMPARE(f->metadata().at("model.embed_tokens.weight"), std::string("lm_head.weight"));
        QCOMPARE(f->find("lm_head.weight")->shape, (std::vector<int64_t>{2048, 128}));
        QCOMPARE(f->find("model.layers.1.self_attn.k_proj.weight")->shape,
                 (std::vector<int64_t>{64, 128}));
        QCOMPARE(f->find("model.layers.0.mlp.down_proj.weight")->shape,
                 (std::vector<int64_t>{128, 384}));
        QCOMPARE(f->find("model.norm.weight")->shape, (std::vector<int64_t>{128}));
        auto v = toFloat(*f->find("lm_head.weight"));
        MONO_VERIFY_RESULT(v);
        QCOMPARE((*v)[0], -0.68359375f);
        QCOMPARE((*v)[1], -0.02587890625f);
        QCOMPARE(v->back(), -0.421875f);
    }

    // ---- GGUF ------------------------------------------------------------------
    void ggufSynthetic() {
        for (uint32_t version : {2u, 3u}) {
            auto g = test::sampleGguf();
            g.version = version;
            const auto path = (test::tempDir() / "s.gguf").string();
            test::writeFile(path, g.build());
            auto f = GgufFile::open(path);
            MONO_VERIFY_RESULT(f);
            QCOMPARE(f->version(), version);
            QCOMPARE(f->alignment(), uint64_t(32));
            QCOMPARE(*f->getString("general.architecture"), std::string("llama"));
            QCOMPARE(*f->getStringArray("tokenizer.ggml.tokens"),
                     (std::vector<std::string>{"<s>", "hello", "\xE2\x96\x81world"}));
            QCOMPARE(*f->getFloatArray("tokenizer.ggml.scores"),
                     (std::vector<float>{0.0f, -1.5f, 2.25f}));
            QCOMPARE(*f->getInt("test.big"), int64_t(1) << 40);
            QCOMPARE(*f->getInt("test.i16"), int64_t(-300));
            QCOMPARE(*f->getFloat("test.f64"), 0.125);
            QCOMPARE(std::get<bool>(f->find("test.flag")->value), true);
            const auto* nested = f->find("test.nested")->asArray();
            QVERIFY(nested && nested->size() == 2);
            QCOMPARE(*f->getIntArray("tokenizer.ggml.scores").status().message().c_str() != 0,
                     true);
            QVERIFY(!f->getIntArray("tokenizer.ggml.scores").ok());  // floats are not ints
            const auto* inner = (*nested)[0].asArray();
            QVERIFY(inner && inner->size() == 2);
            QCOMPARE(*(*inner)[1].asInt(), int64_t(-2));
            QVERIFY((*nested)[1].asArray()->empty());

            auto missing = f->getInt("nope");
            QCOMPARE(missing.status().code(), StatusCode::kNotFound);
            auto mismatch = f->getInt("general.architecture");
            QCOMPARE(mismatch.status().code(), StatusCode::kCorruption);
            QVERIFY(contains(mismatch.status().message(), "general.architecture"));

            const TensorView* a = f->findTensor("a");
            QVERIFY(a);
            QCOMPARE(a->shape, (std::vector<int64_t>{2, 4}));  // ne [4, 2] reversed
            QCOMPARE(*toFloat(*a), (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7}));
            auto b = toFloat(*f->findTensor("b"));
            MONO_VERIFY_RESULT(b);
            for (int i = 0; i < 32; ++i) QCOMPARE((*b)[i], 0.5f * static_cast<float>(i - 16));
            auto c = toFloat(*f->findTensor("c"));
            MONO_VERIFY_RESULT(c);
            QCOMPARE((*c)[3], 65504.0f);
            QCOMPARE((*c)[4], 5.9604644775390625e-08f);
            QVERIFY(std::isinf((*c)[5]));
            QCOMPARE(bitsOf((*c)[6]), 0x80000000u);
        }
    }
    void ggufListsQuantizedTypesItCannotConvert() {
        test::GgufBuilder g;
        g.kvs.push_back({"general.alignment", 4, test::GgufBuilder::u32v(64)});
        g.alignment = 64;
        g.tensors.push_back({"q4k", {256, 2}, 12, 0});  // Q4_K: 144 bytes per 256
        g.tensors.push_back({"bf", {3}, 30, 320});
        g.data.assign(320, '\0');
        for (uint16_t v : {0x3F80, 0x4049, 0xC2F7}) test::put<uint16_t>(g.data, v);
        const auto path = (test::tempDir() / "q.gguf").string();
        test::writeFile(path, g.build());
        auto f = GgufFile::open(path);
        MONO_VERIFY_RESULT(f);
        QCOMPARE(f->alignment(), uint64_t(64));
        const TensorView* q = f->findTensor("q4k");
        QCOMPARE(q->dtype, DType::kQ4_K);
        QCOMPARE(q->nbytes, uint64_t(288));
        QCOMPARE(q->shape, (std::vector<int64_t>{2, 256}));
        auto r = toFloat(*q);
        QCOMPARE(r.status().code(), StatusCode::kUnsupported);
        QVERIFY(contains(r.status().message(), "Q4_K"));
        QCOMPARE(*toFloat(*f->findTensor("bf")), (std::vector<float>{1.0f, 3.140625f, -123.5f}));
    }
    void ggufStories260KMatchesLlama2cBitForBit() {
        MONO_REQUIRE_SHARED(ggufPath, "models/stories260K/stories260K.gguf");
        MONO_REQUIRE_SHARED(binPath, "models/stories260K/stories260K.bin");
        auto g = GgufFile::open(ggufPath.string());
        MONO_VERIFY_RESULT(g);
        auto b = Llama2cFile::open(binPath.string());
        MONO_VERIFY_RESULT(b);
        QCOMPARE(g->version(), 3u);
        QCOMPARE(*g->getString("general.architecture"), std::string("llama"));
        QCOMPARE(*g->getInt("llama.embedding_length"), int64_t(64));
        QCOMPARE(*g->getInt("llama.block_count"), int64_t(5));
        QCOMPARE(*g->getInt("llama.attention.head_count_kv"), int64_t(4));
        QCOMPARE(g->getStringArray("tokenizer.ggml.tokens")->size(), size_t(512));
        QCOMPARE(g->getFloatArray("tokenizer.ggml.scores")->size(), size_t(512));

        const Llama2cConfig& c = b->config();
        QCOMPARE(c.dim, 64);
        QCOMPARE(c.hiddenDim, 172);
        QCOMPARE(c.nLayers, 5);
        QCOMPARE(c.nHeads, 8);
        QCOMPARE(c.nKvHeads, 4);
        QCOMPARE(c.vocabSize, 512);
        QCOMPARE(c.seqLen, 512);
        QVERIFY(c.sharedClassifier);

        QCOMPARE(b->tensors().size(), size_t(2 + 9 * 5));
        QCOMPARE(g->tensors().size(), size_t(48));  // the GGUF also stores output.weight
        for (const TensorView& t : b->tensors()) {
            const TensorView* u = g->findTensor(t.name);
            QVERIFY2(u, t.name.c_str());
            QVERIFY2(u->shape == t.shape,
                     (t.name + " " + describe(t) + " vs " + describe(*u)).c_str());
            QCOMPARE(u->dtype, DType::kF32);
            QCOMPARE(u->nbytes, t.nbytes);
            QVERIFY2(std::memcmp(u->data, t.data, t.nbytes) == 0, t.name.c_str());
        }
        QCOMPARE(b->find("blk.3.attn_k.weight")->shape, (std::vector<int64_t>{32, 64}));
        QCOMPARE(b->find("blk.0.ffn_down.weight")->shape, (std::vector<int64_t>{64, 172}));
        const TensorView* out = g->findTensor("output.weight");
        const TensorView* emb = b->find("token_embd.weight");
        QVERIFY(!b->find("output.weight"));
        QVERIFY(std::memcmp(out->data, emb->data, emb->nbytes) == 0);
    }
    void ggufVocabFilesOpen() {
        MONO_REQUIRE_SHARED(dir, "tokenizers/llamacpp-vocab");
        int opened = 0;
        for (const auto& e : fs::directory_iterator(dir)) {
            if (e.path().extension() != ".gguf") continue;
            auto f = GgufFile::open(e.path().string());
            QVERIFY2(f.ok(), f.status().toString().c_str());
            auto tokens = f->getStringArray("tokenizer.ggml.tokens");
            MONO_VERIFY_RESULT(tokens);
            QVERIFY(tokens->size() > 1000);
            MONO_VERIFY_RESULT(f->getString("tokenizer.ggml.model"));
            QVERIFY(f->tensors().empty());
            const std::string name = e.path().filename().string();
            if (name == "ggml-vocab-llama-spm.gguf") {
                QCOMPARE(tokens->size(), size_t(32000));
                QCOMPARE(*f->getString("tokenizer.ggml.model"), std::string("llama"));
                QCOMPARE((*tokens)[13], std::string("<0x0A>"));
            }
            if (name == "ggml-vocab-gpt-2.gguf") {
                QCOMPARE(tokens->size(), size_t(50257));
                QCOMPARE(tokens->back(), std::string("<|endoftext|>"));
                QCOMPARE(f->getStringArray("tokenizer.ggml.merges")->size(), size_t(50000));
            }
            ++opened;
        }
        QVERIFY(opened >= 10);
        qInfo("opened %d vocab GGUF files", opened);
    }

    // ---- llama2.c ------------------------------------------------------------
    void llama2cLayoutFollowsRunC() {
        // Every float holds its own index, so a view's first value is its offset.
        test::Llama2cDims d;
        d.vocab = -16;  // unshared classifier stored at the end
        const auto path = (test::tempDir() / "tiny.bin").string();
        test::writeFile(path, test::buildLlama2c(d));
        auto f = Llama2cFile::open(path);
        MONO_VERIFY_RESULT(f);
        QVERIFY(!f->config().sharedClassifier);
        QCOMPARE(f->config().vocabSize, 16);
        auto first = [&](const char* name) {
            const TensorView* t = f->find(name);
            if (!t) return -1.0f;
            float v;
            std::memcpy(&v, t->data, 4);
            return v;
        };
        // dim 8, hidden 12, 2 layers, 2 heads (hd 4), 1 kv head (kv dim 4), vocab 16, seq 4.
        const float emb = 16 * 8, attnNorm = 2 * 8, wq = 2 * 8 * 8, wk = 2 * 4 * 8;
        QCOMPARE(first("token_embd.weight"), 0.0f);
        QCOMPARE(first("blk.0.attn_norm.weight"), emb);
        QCOMPARE(first("blk.1.attn_norm.weight"), emb + 8);
        QCOMPARE(first("blk.0.attn_q.weight"), emb + attnNorm);
        QCOMPARE(first("blk.1.attn_q.weight"), emb + attnNorm + 64);
        QCOMPARE(first("blk.1.attn_k.weight"), emb + attnNorm + wq + 32);
        QCOMPARE(first("blk.0.attn_v.weight"), emb + attnNorm + wq + wk);
        const float wo = emb + attnNorm + wq + 2 * wk;
        QCOMPARE(first("blk.0.attn_output.weight"), wo);
        QCOMPARE(first("blk.0.ffn_norm.weight"), wo + 2 * 64);
        const float w1 = wo + 2 * 64 + 2 * 8;
        QCOMPARE(first("blk.1.ffn_gate.weight"), w1 + 96);
        QCOMPARE(first("blk.0.ffn_down.weight"), w1 + 2 * 96);
        QCOMPARE(first("blk.1.ffn_up.weight"), w1 + 4 * 96 + 96);
        const float finalNorm = w1 + 6 * 96;
        QCOMPARE(first("output_norm.weight"), finalNorm);
        // freq_cis_real/imag: 2 × seq_len*hd/2 = 16 floats skipped.
        QCOMPARE(first("output.weight"), finalNorm + 8 + 16);
        QCOMPARE(f->find("blk.0.attn_k.weight")->shape, (std::vector<int64_t>{4, 8}));
        QCOMPARE(f->find("blk.0.ffn_down.weight")->shape, (std::vector<int64_t>{8, 12}));
        QCOMPARE(f->find("output.weight")->shape, (std::vector<int64_t>{16, 8}));

        test::Llama2cDims shared;
        test::writeFile(path, test::buildLlama2c(shared));
        auto s = Llama2cFile::open(path);
        MONO_VERIFY_RESULT(s);
        QVERIFY(!s->find("output.weight"));
        QCOMPARE(s->tensors().size(), size_t(2 + 9 * 2));
    }
    void llama2cSizeMismatchNamesBothSizes() {
        test::Llama2cDims d;
        std::string bytes = test::buildLlama2c(d);
        bytes += "????";
        const auto path = (test::tempDir() / "long.bin").string();
        test::writeFile(path, bytes);
        auto f = Llama2cFile::open(path);
        QVERIFY(!f.ok());
        QVERIFY(contains(f.status().message(), std::to_string(bytes.size())));
        QVERIFY(contains(f.status().message(), std::to_string(bytes.size() - 4)));
    }

    // ---- npy / npz -------------------------------------------------------------
    void npyFixturesFromNumpy() {
        auto a = readNpy(fixture("f32_2x3_v1.npy"));
        MONO_VERIFY_RESULT(a);
        QCOMPARE(a->dtype, DType::kF32);
        QCOMPARE(a->shape, (std::vector<int64_t>{2, 3}));
        QCOMPARE(*toFloat(a->view("a")), (std::vector<float>{-1, -0.5f, 0, 0.5f, 1, 1.5f}));
        auto h = readNpy(fixture("f16_4_v2.npy"));
        MONO_VERIFY_RESULT(h);
        QCOMPARE(*toFloat(h->view()), (std::vector<float>{1, -2, 0.5f, 65504}));
        auto s = readNpy(fixture("i64_scalar_v3.npy"));
        MONO_VERIFY_RESULT(s);
        QVERIFY(s->shape.empty());
        QCOMPARE(*toFloat(s->view()), std::vector<float>{-7});
        auto b = readNpy(fixture("bool_3.npy"));
        MONO_VERIFY_RESULT(b);
        QCOMPARE(b->dtype, DType::kBool);
        QCOMPARE(*toFloat(b->view()), (std::vector<float>{1, 0, 1}));
        auto u = readNpy(fixture("u8_2x2.npy"));
        MONO_VERIFY_RESULT(u);
        QCOMPARE(*toFloat(u->view()), (std::vector<float>{0, 255, 7, 128}));

        auto be = readNpy(fixture("big_endian.npy"));
        QCOMPARE(be.status().code(), StatusCode::kUnsupported);
        QVERIFY(contains(be.status().message(), "big-endian"));
        QVERIFY(contains(be.status().message(), "big_endian.npy"));
        auto fo = readNpy(fixture("fortran.npy"));
        QCOMPARE(fo.status().code(), StatusCode::kUnsupported);
        QVERIFY(contains(fo.status().message(), "Fortran"));
    }
    void npzFixturesFromNumpy() {
        for (const char* name : {"stored.npz", "deflated.npz"}) {
            auto z = readNpz(fixture(name));
            MONO_VERIFY_RESULT(z);
            QCOMPARE(*toFloat(z->at("a").view()),
                     (std::vector<float>{-1, -0.5f, 0, 0.5f, 1, 1.5f}));
            const NpyArray& b = z->at("b");
            QCOMPARE(b.dtype, DType::kI32);
            QCOMPARE(*toFloat(b.view()), (std::vector<float>{-5, -4, -3, -2, -1, 0, 1, 2, 3, 4}));
        }
        auto stored = readNpz(fixture("stored.npz"));
        QCOMPARE(*toFloat(stored->at("c").view()), (std::vector<float>{0, 0.25f, 0.5f, 0.75f, 1}));
        auto deflated = readNpz(fixture("deflated.npz"));
        QCOMPARE(deflated->at("zeros").shape, std::vector<int64_t>{1000});
        QCOMPARE(*toFloat(deflated->at("zeros").view()), std::vector<float>(1000, 0.0f));
    }
    void npyAndNpzRoundTrip() {
        const fs::path dir = test::tempDir();
        std::map<std::string, NpyArray> arrays;
        const DType types[] = {DType::kF32, DType::kF16, DType::kF64, DType::kI8,  DType::kU8,
                               DType::kI16, DType::kI32, DType::kI64, DType::kBool};
        int k = 0;
        for (DType t : types) {
            NpyArray a;
            a.dtype = t;
            a.shape = k % 3 == 0   ? std::vector<int64_t>{3}
                      : k % 3 == 1 ? std::vector<int64_t>{2, 2, 1}
                                   : std::vector<int64_t>{};
            uint64_t bytes = 0;
            QVERIFY(dtypeByteSize(t, a.view().numel(), &bytes));
            for (uint64_t i = 0; i < bytes; ++i)
                a.bytes.push_back(t == DType::kBool ? static_cast<uint8_t>(i % 2)
                                                    : static_cast<uint8_t>(i * 37 + k));
            const std::string name = std::string("arr_") + dtypeName(t);
            const auto path = (dir / (name + ".npy")).string();
            MONO_VERIFY_OK(writeNpy(path, a));
            const std::string raw = test::readFile(path);
            QCOMPARE(raw.size() % 64, a.bytes.size() % 64);  // data starts 64-byte aligned
            auto back = readNpy(path);
            MONO_VERIFY_RESULT(back);
            QCOMPARE(back->dtype, t);
            QCOMPARE(back->shape, a.shape);
            QCOMPARE(back->bytes, a.bytes);
            arrays[name] = a;
            ++k;
        }
        const auto npz = (dir / "all.npz").string();
        MONO_VERIFY_OK(writeNpz(npz, arrays));
        auto z = readNpz(npz);
        MONO_VERIFY_RESULT(z);
        QCOMPARE(z->size(), arrays.size());
        for (const auto& [name, a] : arrays) {
            QCOMPARE(z->at(name).bytes, a.bytes);
            QCOMPARE(z->at(name).shape, a.shape);
        }
        NpyArray bad;
        bad.dtype = DType::kBF16;
        bad.shape = {1};
        bad.bytes = {0, 0};
        QVERIFY(!writeNpy((dir / "bf16.npy").string(), bad).ok());
        bad.dtype = DType::kF32;  // 2 bytes for one float
        QCOMPARE(writeNpy((dir / "short.npy").string(), bad).code(), StatusCode::kInvalidArgument);
        QVERIFY(!fs::exists(dir / "short.npy"));
    }

    void npzWithZip64Records() {
        // One stored member whose sizes and offset live in a zip64 extra, found
        // through a zip64 end record and locator, as large archives are written.
        const std::string npy =
            test::buildNpy("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }",
                           std::string("\x01\0\0\0\x02\0\0\0\xff\xff\xff\xff", 12));
        const uint32_t crc = static_cast<uint32_t>(
            crc32(0, reinterpret_cast<const Bytef*>(npy.data()), static_cast<uInt>(npy.size())));
        std::string s;
        using test::put;
        put<uint32_t>(s, 0x04034b50);
        put<uint16_t>(s, 45);
        put<uint16_t>(s, 0);
        put<uint16_t>(s, 0);
        put<uint32_t>(s, 0);
        put<uint32_t>(s, crc);
        put<uint32_t>(s, 0xFFFFFFFF);
        put<uint32_t>(s, 0xFFFFFFFF);
        put<uint16_t>(s, 5);
        put<uint16_t>(s, 20);
        s += "x.npy";
        put<uint16_t>(s, 1);
        put<uint16_t>(s, 16);
        put<uint64_t>(s, npy.size());
        put<uint64_t>(s, npy.size());
        s += npy;
        const uint64_t cdAt = s.size();
        put<uint32_t>(s, 0x02014b50);
        put<uint16_t>(s, 45);
        put<uint16_t>(s, 45);
        put<uint16_t>(s, 0);
        put<uint16_t>(s, 0);
        put<uint32_t>(s, 0);
        put<uint32_t>(s, crc);
        put<uint32_t>(s, 0xFFFFFFFF);
        put<uint32_t>(s, 0xFFFFFFFF);
        put<uint16_t>(s, 5);
        put<uint16_t>(s, 28);
        put<uint16_t>(s, 0);
        put<uint16_t>(s, 0);
        put<uint16_t>(s, 0);
        put<uint32_t>(s, 0);
        put<uint32_t>(s, 0xFFFFFFFF);
        s += "x.npy";
        put<uint16_t>(s, 1);
        put<uint16_t>(s, 24);
        put<uint64_t>(s, npy.size());  // uncompressed
        put<uint64_t>(s, npy.size());  // compressed
        put<uint64_t>(s, 0);           // local header offset
        const uint64_t cdSize = s.size() - cdAt;
        const uint64_t z64At = s.size();
        put<uint32_t>(s, 0x06064b50);
        put<uint64_t>(s, 44);
        put<uint16_t>(s, 45);
        put<uint16_t>(s, 45);
        put<uint32_t>(s, 0);
        put<uint32_t>(s, 0);
        put<uint64_t>(s, 1);
        put<uint64_t>(s, 1);
        put<uint64_t>(s, cdSize);
        put<uint64_t>(s, cdAt);
        put<uint32_t>(s, 0x07064b50);
        put<uint32_t>(s, 0);
        put<uint64_t>(s, z64At);
        put<uint32_t>(s, 1);
        put<uint32_t>(s, 0x06054b50);
        put<uint16_t>(s, 0);
        put<uint16_t>(s, 0);
        put<uint16_t>(s, 0xFFFF);
        put<uint16_t>(s, 0xFFFF);
        put<uint32_t>(s, 0xFFFFFFFF);
        put<uint32_t>(s, 0xFFFFFFFF);
        put<uint16_t>(s, 0);
        const auto path = (test::tempDir() / "z64.npz").string();
        test::writeFile(path, s);
        auto z = readNpz(path);
        MONO_VERIFY_RESULT(z);
        QCOMPARE(*toFloat(z->at("x").view()), (std::vector<float>{1, 2, -1}));
    }

    // ---- format detection -------------------------------------------------------
    void detectsFormats() {
        const fs::path dir = test::tempDir();
        auto g = test::sampleGguf();
        test::writeFile(dir / "model.weights", g.build());  // magic wins over extension
        QCOMPARE(*detectFileFormat((dir / "model.weights").string()), FileFormat::kGguf);
        std::vector<float> a = {1, 2};
        MONO_VERIFY_OK(
            writeSafetensors((dir / "w").string(), {{"a", DType::kF32, {2}, a.data(), 8}}));
        QCOMPARE(*detectFileFormat((dir / "w").string()), FileFormat::kSafetensors);
        QCOMPARE(*detectFileFormat(fixture("f32_2x3_v1.npy")), FileFormat::kNpy);
        QCOMPARE(*detectFileFormat(fixture("deflated.npz")), FileFormat::kNpz);
        test::writeFile(dir / "ckpt", test::buildLlama2c({}));
        QCOMPARE(*detectFileFormat((dir / "ckpt").string()), FileFormat::kLlama2c);
        auto unknown = detectFileFormat(fixture("make_fixtures.py"));
        QCOMPARE(unknown.status().code(), StatusCode::kUnsupported);
        QCOMPARE(detectFileFormat((dir / "absent").string()).status().code(),
                 StatusCode::kNotFound);
    }
    void refusesPickleCheckpoints() {
        for (const char* name : {"torch_zip.pt", "torch_legacy.pt"}) {
            auto r = detectFileFormat(fixture(name));
            QVERIFY(!r.ok());
            QCOMPARE(r.status().code(), StatusCode::kUnsupported);
            QVERIFY2(contains(r.status().message(), "pickle"), r.status().message().c_str());
            QVERIFY(contains(r.status().message(), "safetensors"));
            QVERIFY(contains(r.status().message(), name));
        }
        // A zip with a bare data.pkl, named like an npz, is still refused.
        test::ZipBuilder z;
        z.members.push_back({"data.pkl", "\x80\x02}q\x00.", false});
        const auto path = (test::tempDir() / "sneaky.npz").string();
        test::writeFile(path, z.build());
        QVERIFY(contains(detectFileFormat(path).status().message(), "pickle"));
    }
    void inspectCommand() {
        const char* buildDir = std::getenv("MONO_BUILD_DIR");
        const QString cli = QString::fromUtf8(buildDir ? buildDir : "") + "/app/monoscope-cli";
        if (!buildDir || !QFileInfo::exists(cli)) QSKIP("monoscope-cli not built here");
        MONO_REQUIRE_SHARED(gguf, "models/stories260K/stories260K.gguf");
        auto run = [&](const std::string& file, int* code) {
            QProcess p;
            p.start(cli, {"inspect", QString::fromStdString(file)});
            p.waitForFinished(30000);
            *code = p.exitCode();
            return (p.readAllStandardOutput() + p.readAllStandardError()).toStdString();
        };
        int code = -1;
        std::string out = run(gguf.string(), &code);
        QCOMPARE(code, 0);
        QVERIFY(contains(out, "48 tensors"));
        QVERIFY(contains(out, "blk.4.ffn_down.weight"));
        QVERIFY(contains(out, "[64, 172]"));
        QVERIFY2(contains(out, "[string × 512] \"<unk>\", \"<s>\""), out.c_str());
        QVERIFY(contains(out, "llama.block_count"));
        out = run(fixture("torch_zip.pt"), &code);
        QCOMPARE(code, 1);
        QVERIFY(contains(out, "pickle"));
        out = run(fixture("fortran.npy"), &code);
        QCOMPARE(code, 1);
        QVERIFY(contains(out, "Fortran"));
    }
    void mappedFileBasics() {
        const auto path = (test::tempDir() / "empty").string();
        test::writeFile(path, "");
        auto m = MappedFile::open(path);
        MONO_VERIFY_RESULT(m);
        QCOMPARE(m->size(), size_t(0));
        QVERIFY(m->data() == nullptr);
        QCOMPARE(MappedFile::open(path + "-nope").status().code(), StatusCode::kNotFound);
        QVERIFY(!MappedFile::open(test::tempDir().string()).ok());  // a folder
    }
};

QTEST_GUILESS_MAIN(TestIo)
#include "test_io.moc"
