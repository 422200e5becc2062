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
};

QTEST_GUILESS_MAIN(TestModelMemory)
#include "test_model_memory.moc"
