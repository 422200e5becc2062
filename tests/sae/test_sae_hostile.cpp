// Damaged and mismatched SAE files: every case must come back as an error that
// names the file and the key or tensor, never a crash (also run under ASan+UBSan).

#include <QtTest>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "core/acts/batch_provider.h"
#include "core/io/npy.h"
#include "core/io/safetensors.h"
#include "core/sae/sae_io.h"
#include "core/sae/trainer.h"
#include "tests/support/test_support.h"

using namespace mono;
using namespace mono::sae;
using namespace mono::acts;
namespace fs = std::filesystem;

namespace {

fs::path dataDir() {
    return test::sourceDir() / "tests" / "data" / "sae";
}

void copyTree(const fs::path& from, const fs::path& to) {
    fs::create_directories(to);
    fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
}

void replaceInFile(const fs::path& p, const std::string& from, const std::string& to) {
    std::string s = test::readFile(p);
    const size_t at = s.find(from);
    QVERIFY2(at != std::string::npos, from.c_str());
    s.replace(at, from.size(), to);
    test::writeFile(p, s);
}

// Rewrites a SAELens folder's weights with `edit` applied to the tensor list.
void rewriteWeights(const fs::path& dir,
                    const std::function<void(std::vector<io::TensorToWrite>&,
                                             std::vector<std::vector<float>>&)>& edit) {
    auto sae = loadSaeLens(dir.string());
    QVERIFY(sae.ok());
    std::vector<std::vector<float>> store;
    auto keep = [&](const float* d, int64_t n) { store.emplace_back(d, d + n); };
    const int64_t D = sae->dIn(), F = sae->dSae();
    store.reserve(8);
    keep(sae->wEnc().data(), D * F);
    keep(sae->wDec().data(), F * D);
    keep(sae->bEnc().data(), F);
    keep(sae->bDec().data(), D);
    std::vector<io::TensorToWrite> t = {
        {"W_enc", io::DType::kF32, {D, F}, store[0].data(), static_cast<uint64_t>(D * F * 4)},
        {"W_dec", io::DType::kF32, {F, D}, store[1].data(), static_cast<uint64_t>(F * D * 4)},
        {"b_enc", io::DType::kF32, {F}, store[2].data(), static_cast<uint64_t>(F * 4)},
        {"b_dec", io::DType::kF32, {D}, store[3].data(), static_cast<uint64_t>(D * 4)},
    };
    edit(t, store);
    QVERIFY(io::writeSafetensors((dir / "sae_weights.safetensors").string(), t).ok());
}

struct Case {
    const char* name;
    const char* fixture;  // copied into a fresh folder first
    std::function<void(const fs::path&)> damage;
    std::function<Status(const fs::path&)> load;
    StatusCode code;
    std::vector<std::string> mentions;  // substrings the message must contain
};

Status loadAny(const fs::path& p) {
    return loadSae(p.string()).status();
}

const std::vector<Case>& cases() {
    static const std::vector<Case> kCases = {
        {"missing cfg.json",
         "saelens_v6_standard",
         [](const fs::path& d) { fs::remove(d / "cfg.json"); },
         loadAny,
         StatusCode::kNotFound,
         {"cfg.json"}},
        {"cfg.json not JSON",
         "saelens_v6_standard",
         [](const fs::path& d) { test::writeFile(d / "cfg.json", "{\"d_in\": 16, \"d_sae\": "); },
         loadAny,
         StatusCode::kCorruption,
         {"cfg.json", "JSON"}},
        {"cfg.json is an array",
         "saelens_v6_standard",
         [](const fs::path& d) { test::writeFile(d / "cfg.json", "[1, 2]"); },
         loadAny,
         StatusCode::kCorruption,
         {"cfg.json", "object"}},
        {"d_in missing",
         "saelens_v6_standard",
         [](const fs::path& d) { replaceInFile(d / "cfg.json", "\"d_in\"", "\"d_inn\""); },
         loadAny,
         StatusCode::kNotFound,
         {"cfg.json", "'d_in'"}},
        {"d_sae is a string",
         "saelens_v6_standard",
         [](const fs::path& d) {
             replaceInFile(d / "cfg.json", "\"d_sae\": 48", "\"d_sae\": \"48\"");
         },
         loadAny,
         StatusCode::kCorruption,
         {"cfg.json", "'d_sae'", "integer"}},
        {"d_sae disagrees with the tensors",
         "saelens_v6_standard",
         [](const fs::path& d) { replaceInFile(d / "cfg.json", "\"d_sae\": 48", "\"d_sae\": 40"); },
         loadAny,
         StatusCode::kInvalidArgument,
         {"sae_weights.safetensors", "'W_enc'", "[16, 40]", "[16, 48]"}},
        {"d_in differs from the hook width",
         "saelens_v6_standard",
         [](const fs::path&) {},
         [](const fs::path& d) {
             return loadSae(d.string(), LoadOptions{32, {}}).status();
         },
         StatusCode::kInvalidArgument,
         {"cfg.json", "d_in is 16", "expected 32"}},
        {"unknown architecture",
         "saelens_v6_standard",
         [](const fs::path& d) { replaceInFile(d / "cfg.json", "\"standard\"", "\"mystery\""); },
         loadAny,
         StatusCode::kCorruption,
         {"cfg.json", "mystery"}},
        {"gated is unsupported",
         "saelens_v6_standard",
         [](const fs::path& d) { replaceInFile(d / "cfg.json", "\"standard\"", "\"gated\""); },
         loadAny,
         StatusCode::kUnsupported,
         {"cfg.json", "gated"}},
        {"layer_norm input normalisation",
         "saelens_v6_standard",
         [](const fs::path& d) {
             replaceInFile(d / "cfg.json", "\"normalize_activations\": \"none\"",
                           "\"normalize_activations\": \"layer_norm\"");
         },
         loadAny,
         StatusCode::kUnsupported,
         {"cfg.json", "layer_norm"}},
        {"topk without k",
         "saelens_v6_topk",
         [](const fs::path& d) { replaceInFile(d / "cfg.json", "\"k\": 6", "\"kk\": 6"); },
         loadAny,
         StatusCode::kCorruption,
         {"cfg.json", "'k'"}},
        {"topk k larger than d_sae",
         "saelens_v6_topk",
         [](const fs::path& d) { replaceInFile(d / "cfg.json", "\"k\": 6", "\"k\": 600"); },
         loadAny,
         StatusCode::kInvalidArgument,
         {"sae_weights.safetensors", "k must be in 1..48"}},
        {"missing W_dec",
         "saelens_v6_standard",
         [](const fs::path& d) {
             rewriteWeights(d, [](auto& t, auto&) { t.erase(t.begin() + 1); });
         },
         loadAny,
         StatusCode::kNotFound,
         {"sae_weights.safetensors", "'W_dec'"}},
        {"W_enc transposed",
         "saelens_v6_standard",
         [](const fs::path& d) {
             rewriteWeights(d, [](auto& t, auto&) { t[0].shape = {48, 16}; });
         },
         loadAny,
         StatusCode::kInvalidArgument,
         {"'W_enc'", "expected shape [16, 48]", "found [48, 16]"}},
        {"b_dec wrong length",
         "saelens_v6_standard",
         [](const fs::path& d) {
             rewriteWeights(d, [](auto& t, auto&) {
                 t[3].shape = {8};
                 t[3].nbytes = 32;
             });
         },
         loadAny,
         StatusCode::kInvalidArgument,
         {"'b_dec'", "[16]", "[8]"}},
        {"NaN in W_dec",
         "saelens_v6_standard",
         [](const fs::path& d) {
             rewriteWeights(d, [](auto&, auto& store) { store[1][17] = std::nanf(""); });
         },
         loadAny,
         StatusCode::kInvalidArgument,
         {"sae_weights.safetensors", "W_dec", "not finite"}},
        {"jumprelu without threshold",
         "saelens_v6_standard",
         [](const fs::path& d) { replaceInFile(d / "cfg.json", "\"standard\"", "\"jumprelu\""); },
         loadAny,
         StatusCode::kNotFound,
         {"sae_weights.safetensors", "'threshold'"}},
        {"weights truncated",
         "saelens_v6_standard",
         [](const fs::path& d) {
             std::string s = test::readFile(d / "sae_weights.safetensors");
             test::writeFile(d / "sae_weights.safetensors", s.substr(0, s.size() / 2));
         },
         loadAny,
         StatusCode::kCorruption,
         {"sae_weights.safetensors"}},
        {"weights header length absurd",
         "saelens_v6_standard",
         [](const fs::path& d) {
             std::string s = test::readFile(d / "sae_weights.safetensors");
             const uint64_t huge = ~uint64_t{0} >> 2;
             std::memcpy(s.data(), &huge, 8);
             test::writeFile(d / "sae_weights.safetensors", s);
         },
         loadAny,
         StatusCode::kCorruption,
         {"sae_weights.safetensors"}},
        {"empty folder",
         nullptr,
         [](const fs::path&) {},
         loadAny,
         StatusCode::kNotFound,
         {"no SAE found"}},
        {"gemma scope without threshold",
         "gemma-scope-test-res",
         [](const fs::path& d) {
             const fs::path p = d / "layer_3/width_48/average_l0_9/params.npz";
             auto arrays = io::readNpz(p.string());
             QVERIFY(arrays.ok());
             arrays->erase("threshold");
             QVERIFY(io::writeNpz(p.string(), *arrays).ok());
         },
         [](const fs::path& d) {
             return loadSae((d / "layer_3/width_48/average_l0_9").string()).status();
         },
         StatusCode::kNotFound,
         {"params.npz", "'threshold'"}},
        {"gemma scope W_dec wrong shape",
         "gemma-scope-test-res",
         [](const fs::path& d) {
             const fs::path p = d / "layer_3/width_48/average_l0_9/params.npz";
             auto arrays = io::readNpz(p.string());
             QVERIFY(arrays.ok());
             arrays->at("W_dec").shape = {16, 48};
             QVERIFY(io::writeNpz(p.string(), *arrays).ok());
         },
         [](const fs::path& d) {
             return loadGemmaScope((d / "layer_3/width_48/average_l0_9/params.npz").string())
                 .status();
         },
         StatusCode::kInvalidArgument,
         {"params.npz", "'W_dec'", "[48, 16]"}},
        {"gemma scope npz is garbage",
         "gemma-scope-test-res",
         [](const fs::path& d) {
             test::writeFile(d / "layer_3/width_48/average_l0_9/params.npz",
                             "PK\x03\x04 not a zip");
         },
         [](const fs::path& d) {
             return loadSae((d / "layer_3/width_48/average_l0_9/params.npz").string()).status();
         },
         StatusCode::kCorruption,
         {"params.npz"}},
        {"sparsify without encoder.bias",
         "sparsify",
         [](const fs::path& d) {
             const fs::path p = d / "layers.2/sae.safetensors";
             auto f = io::SafetensorsFile::open(p.string());
             QVERIFY(f.ok());
             std::vector<std::vector<uint8_t>> bytes;
             std::vector<io::TensorToWrite> t;
             for (const auto& v : f->tensors()) {
                 if (v.name == "encoder.bias") continue;
                 bytes.emplace_back(v.data, v.data + v.nbytes);
             }
             size_t i = 0;
             for (const auto& v : f->tensors())
                 if (v.name != "encoder.bias")
                     t.push_back({v.name, v.dtype, v.shape, bytes[i++].data(), v.nbytes});
             QVERIFY(io::writeSafetensors(p.string() + ".new", t).ok());
             fs::rename(p.string() + ".new", p);
         },
         loadAny,
         StatusCode::kNotFound,
         {"sae.safetensors", "'encoder.bias'"}},
        {"sparsify k out of range",
         "sparsify",
         [](const fs::path& d) { replaceInFile(d / "layers.2/cfg.json", "\"k\": 5", "\"k\": 0"); },
         loadAny,
         StatusCode::kCorruption,
         {"cfg.json", "k=0"}},
        {"sparsify with two hooks and none chosen",
         "sparsify",
         [](const fs::path& d) { copyTree(d / "layers.2", d / "layers.5"); },
         loadAny,
         StatusCode::kInvalidArgument,
         {"several hooks", "layers.2", "layers.5"}},
        {"checkpoint is not a checkpoint",
         "saelens_v6_standard",
         [](const fs::path&) {},
         [](const fs::path& d) {
             return loadCheckpointSae((d / "sae_weights.safetensors").string()).status();
         },
         StatusCode::kCorruption,
         {"sae_weights.safetensors", "not a Monoscope SAE checkpoint"}},
        {"resume without a checkpoint",
         nullptr,
         [](const fs::path&) {},
         [](const fs::path& d) {
             Matrix x = Matrix::Random(64, 8);
             MatrixBatchProvider data(x, 1);
             TrainSpec spec;
             spec.dSae = 16;
             spec.batchSize = 16;
             spec.totalTokens = 64;
             spec.outDir = d.string();
             spec.resume = true;
             Progress quiet;
             return trainSae(spec, data, quiet, StopToken()).status();
         },
         StatusCode::kNotFound,
         {"checkpoint.safetensors"}},
    };
    return kCases;
}

}  // namespace

class TestSaeHostile : public QObject {
    Q_OBJECT
private slots:
    void damagedFilesGiveClearErrors_data() {
        QTest::addColumn<int>("index");
        for (size_t i = 0; i < cases().size(); ++i)
            QTest::newRow(cases()[i].name) << static_cast<int>(i);
    }
    void damagedFilesGiveClearErrors() {
        QFETCH(int, index);
        const Case& c = cases()[index];
        const fs::path dir = test::tempDir() / ("case" + std::to_string(index));
        fs::create_directories(dir);
        if (c.fixture) copyTree(dataDir() / c.fixture, dir);
        c.damage(dir);
        const Status s = c.load(dir);
        QVERIFY2(!s.ok(), "loading damaged files succeeded");
        const std::string msg = s.toString();
        qInfo("%s", msg.c_str());
        QCOMPARE(statusCodeName(s.code()), statusCodeName(c.code));
        for (const std::string& m : c.mentions)
            QVERIFY2(msg.find(m) != std::string::npos,
                     qPrintable(QStringLiteral("'%1' not in: %2")
                                    .arg(QString::fromStdString(m), QString::fromStdString(msg))));
    }
};

QTEST_GUILESS_MAIN(TestSaeHostile)
#include "test_sae_hostile.moc"
