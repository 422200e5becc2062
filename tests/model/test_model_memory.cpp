// Model::load refuses a checkpoint whose float32 weights cannot fit in the
// memory this process may use, before reading any tensor, with "needs N GiB".
// The test caps RLIMIT_DATA (which usableMemoryBytes() honours) at what the
// process uses plus 1 GiB and loads a GPT-2 folder whose model.safetensors
// claims one bf16 tensor 1.25× too large for the cap in float32 (a sparse file:
// gigabytes on paper, nothing on disk); the real tiny model must still load
// under the same cap.

#include <sys/resource.h>

#include <QtTest>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "core/model/model.h"
#include "tests/support/test_support.h"

using namespace mono;
namespace fs = std::filesystem;

namespace {

// Private data of this process now (VmData in /proc/self/status), in bytes.
uint64_t dataBytes() {
    std::ifstream status("/proc/self/status");
    std::string key;
    while (status >> key) {
        if (key == "VmData:") {
            uint64_t kb = 0;
            status >> kb;
            return kb * 1024;
        }
        status.ignore(1 << 12, '\n');
    }
    return 0;
}

// Lowers the soft RLIMIT_DATA while alive.
class DataCap {
public:
    explicit DataCap(rlim_t bytes) {
        m_ok = getrlimit(RLIMIT_DATA, &m_saved) == 0;
        rlimit capped = m_saved;
        capped.rlim_cur = std::min(bytes, m_saved.rlim_max);
        m_ok = m_ok && setrlimit(RLIMIT_DATA, &capped) == 0;
    }
    ~DataCap() {
        if (m_ok) setrlimit(RLIMIT_DATA, &m_saved);
    }
    bool ok() const { return m_ok; }

private:
    rlimit m_saved{};
    bool m_ok = false;
};

// model.safetensors holding one bf16 tensor of `elements` values, sparse.
void writeHugeSafetensors(const fs::path& file, uint64_t elements) {
    std::string header = "{\"transformer.h.0.mlp.c_fc.weight\":{\"dtype\":\"BF16\",\"shape\":[" +
                         std::to_string(elements) + "],\"data_offsets\":[0," +
                         std::to_string(2 * elements) + "]}}";
    header.append((8 - header.size() % 8) % 8, ' ');
    std::ofstream out(file, std::ios::binary);
    const uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) out.put(char((n >> (8 * i)) & 0xff));
    out << header;
    out.close();
    fs::resize_file(file, 8 + n + 2 * elements);
}

// A Llama-shaped HF folder (tied, zero bf16 weights in a sparse file) of
// about `params` values: C = 1024, F = 2816, V = 32000, layers to fit.
void writeSparseLlama(const fs::path& dir, uint64_t params) {
    const int64_t C = 1024, F = 2816, V = 32000, H = 8;
    const int64_t perLayer = 4 * C * C + 3 * C * F + 2 * C;
    const int64_t layers = std::max<int64_t>(1, (int64_t(params) - V * C) / perLayer);
    std::ofstream(dir / "config.json")
        << "{\"model_type\": \"llama\", \"hidden_size\": " << C << ", \"intermediate_size\": " << F
        << ", \"num_attention_heads\": " << H << ", \"num_key_value_heads\": " << H
        << ", \"num_hidden_layers\": " << layers << ", \"vocab_size\": " << V
        << ", \"max_position_embeddings\": 256, \"rms_norm_eps\": 1e-5, "
           "\"tie_word_embeddings\": true}";
    std::vector<std::pair<std::string, std::vector<int64_t>>> tensors{
        {"model.embed_tokens.weight", {V, C}}, {"model.norm.weight", {C}}};
    for (int64_t L = 0; L < layers; ++L) {
        const std::string p = "model.layers." + std::to_string(L) + ".";
        for (const char* n : {"q", "k", "v", "o"})
            tensors.push_back({p + "self_attn." + n + "_proj.weight", {C, C}});
        tensors.push_back({p + "mlp.gate_proj.weight", {F, C}});
        tensors.push_back({p + "mlp.up_proj.weight", {F, C}});
        tensors.push_back({p + "mlp.down_proj.weight", {C, F}});
        tensors.push_back({p + "input_layernorm.weight", {C}});
        tensors.push_back({p + "post_attention_layernorm.weight", {C}});
    }
    std::string header = "{";
    uint64_t at = 0;
    for (const auto& [name, shape] : tensors) {
        uint64_t n = 1;
        std::string dims;
        for (int64_t d : shape) {
            n *= uint64_t(d);
            if (!dims.empty()) dims += ",";
            dims += std::to_string(d);
        }
        if (header.size() > 1) header += ",";
        header += "\"" + name + "\":{\"dtype\":\"BF16\",\"shape\":[" + dims +
                  "],\"data_offsets\":[" + std::to_string(at) + "," + std::to_string(at + 2 * n) +
                  "]}";
        at += 2 * n;
    }
    header += "}";
    header.append((8 - header.size() % 8) % 8, ' ');
    const fs::path file = dir / "model.safetensors";
    std::ofstream out(file, std::ios::binary);
    const uint64_t h = header.size();
    for (int i = 0; i < 8; ++i) out.put(char((h >> (8 * i)) & 0xff));
    out << header;
    out.close();
    fs::resize_file(file, 8 + h + at);
}

}  // namespace

class TestModelMemory : public QObject {
    Q_OBJECT

private slots:
    void refusesWeightsLargerThanTheMemory() {
        MONO_REQUIRE_SHARED(tiny, "models/tiny-random-gpt2");
        QTemporaryDir tmp;
        const fs::path dir = fs::path(tmp.path().toStdString()) / "huge-gpt2";
        fs::create_directories(dir);
        fs::copy_file(tiny / "config.json", dir / "config.json");
        const uint64_t base = dataBytes();
        QVERIFY(base > 0);
        const uint64_t capBytes = base + (uint64_t(1) << 30);
        const uint64_t elements = capBytes / 4 * 5 / 4;  // float32: 1.25 × the cap
        writeHugeSafetensors(dir / "model.safetensors", elements);
        char needs[64];
        std::snprintf(needs, sizeof needs, "needs about %.1f GiB",
                      4.0 * double(elements) / (1024.0 * 1024.0 * 1024.0));

        DataCap cap(capBytes);
        QVERIFY2(cap.ok(), "setrlimit(RLIMIT_DATA) failed");
        auto huge = model::Model::load(dir.string());
        QVERIFY(!huge.ok());
        QCOMPARE(huge.status().code(), StatusCode::kResourceExhausted);
        const std::string msg = huge.status().toString();
        qInfo("%s", msg.c_str());
        QVERIFY2(msg.find(dir.string()) != std::string::npos, msg.c_str());
        QVERIFY2(msg.find(needs) != std::string::npos, msg.c_str());
        // The estimate refuses only what does not fit.
        auto small = model::Model::load(tiny.string());
        MONO_VERIFY_RESULT(small);
    }

    // 2 bytes a value bf16-resident: what float32 cannot hold loads and runs.
    void residentFitsWhereFloat32DoesNot() {
        QTemporaryDir tmp;
        const fs::path dir = fs::path(tmp.path().toStdString()) / "sparse-llama";
        fs::create_directories(dir);
        const uint64_t base = dataBytes();
        QVERIFY(base > 0);
        const uint64_t capBytes = base + (uint64_t(1) << 30);
        writeSparseLlama(dir, capBytes * 3 / 10);  // bf16 0.6 × the cap, float32 1.2 ×
        DataCap cap(capBytes);
        QVERIFY2(cap.ok(), "setrlimit(RLIMIT_DATA) failed");
        auto f32 = model::Model::load(dir.string());
        QVERIFY(!f32.ok());
        QCOMPARE(f32.status().code(), StatusCode::kResourceExhausted);
        qInfo("%s", f32.status().toString().c_str());
        QVERIFY(f32.status().message().find("in float32") != std::string::npos);
        model::LoadOptions opt;
        opt.storage = model::WeightStorage::kBf16;
        auto bf16 = model::Model::load(dir.string(), opt);
        MONO_VERIFY_RESULT(bf16);
        const double ratio = double((*bf16)->weightBytes()) / double(capBytes);
        qInfo("bf16-resident: %.2f GiB of weights under a %.2f GiB cap (%.2f)",
              double((*bf16)->weightBytes()) / double(1 << 30), double(capBytes) / double(1 << 30),
              ratio);
        QVERIFY(ratio > 0.5 && ratio < 0.7);
        model::Logits out;
        QVERIFY((*bf16)->forward(model::Batch::single({1, 2, 3}), {}, &out).ok());
        QCOMPARE(out.rows, int64_t(3));
    }
};

QTEST_GUILESS_MAIN(TestModelMemory)
#include "test_model_memory.moc"
