// Jobs stream their data: feature analysis over an activation store about 4×
// larger than the memory the process may use succeeds, and so do capture and
// analysis together on a real model whose store is over 3× the cap. The cap is
// RLIMIT_DATA (heap and private mappings, thread stacks included) set in a
// forked child to what the process already uses plus a budget far smaller than
// the store.

#include <QtTest>

#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include "core/acts/activation_store.h"
#include "core/acts/capture.h"
#include "core/features/analysis.h"
#include "core/features/feature_store.h"
#include "core/kernels/sgemm.h"
#include "core/model/model.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/support/test_support.h"

using namespace mono;

namespace {

constexpr int64_t kDim = 64;
constexpr int64_t kShardRows = 16384;  // 4 MiB of f32 per shard
constexpr int kShards = 64;            // 256 MiB of activations
// Room for two shards in flight, the encoder's chunk, the feature bookkeeping
// and the stacks of the prefetch and OpenMP threads (8 MiB each).
constexpr int64_t kBudgetBytes = 64ll << 20;

// Private data of this process now (VmData in /proc/self/status), in bytes.
int64_t dataBytes() {
    std::ifstream status("/proc/self/status");
    std::string key;
    while (status >> key) {
        if (key == "VmData:") {
            int64_t kb = 0;
            status >> kb;
            return kb * 1024;
        }
        status.ignore(1 << 12, '\n');
    }
    return -1;
}

// One malloc arena for every thread: otherwise each thread that allocates
// may commit a heap of its own, and the memory a job needs would depend on
// which threads happened to allocate first.
void singleArena() {
    mallopt(M_ARENA_MAX, 1);
}

// The capped children compute their GEMMs with Eigen: OpenBLAS reserves a
// 128 MiB buffer per thread on first use (address space, which RLIMIT_DATA
// counts), more than the whole budget here, and under a cap it cannot meet it
// retries the allocation forever instead of failing. What this test checks,
// that the jobs stream their data, does not depend on the GEMM library.
void useEigenGemm() {
    kernels::setGemmLibrary(kernels::GemmLibrary::kEigen);
}

// Caps this process's private memory at what it uses now plus `budget`.
bool capData(int64_t budget) {
    singleArena();
    const int64_t base = dataBytes();
    if (base <= 0) return false;
    rlimit limit{};
    limit.rlim_cur = limit.rlim_max = static_cast<rlim_t>(base + budget);
    return setrlimit(RLIMIT_DATA, &limit) == 0;
}

// Waits for a child with a deadline; kills it when the deadline passes.
// Returns its exit code, or -1 (crashed) / -2 (timed out).
int waitChild(pid_t child, int seconds) {
    int status = 0;
    pid_t done = 0;
    for (int waited = 0; waited < seconds * 10 && done == 0; ++waited) {
        done = waitpid(child, &status, WNOHANG);
        if (done == 0) QTest::qSleep(100);
    }
    if (done == 0) {
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
        return -2;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The child of captureAndAnalysisStayWithinACapSmallerThanTheStore: caps its
// memory, captures, analyses, and exits (0 on success).
[[noreturn]] void runCappedCaptureAndAnalysis(
    int64_t budget, int64_t storeBytes, const std::string& modelPath,
    const std::string& tokenizerPath, const std::string& corpusPath, const std::string& hook,
    int64_t rows, const std::string& storeDir, const sae::Sae& sae, const std::string& out) {
    useEigenGemm();
    if (!capData(budget)) _exit(10);
    if (void* whole = std::malloc(static_cast<size_t>(storeBytes))) {
        std::free(whole);
        _exit(12);  // the cap is not real
    }
    auto model = model::Model::load(modelPath);
    auto tokenizer = tok::loadTokenizer(tokenizerPath);
    if (!model.ok() || !tokenizer.ok()) _exit(13);
    acts::CaptureSpec spec;
    spec.corpus = {corpusPath};
    spec.hooks = {hook};
    spec.outDirs = {storeDir};
    spec.tokens = rows;
    spec.contextSize = 128;
    spec.batchWindows = 8;
    spec.shardRows = 4096;
    spec.dtype = io::DType::kF32;
    auto captured = acts::capture(**model, **tokenizer, spec);
    if (!captured.ok()) {
        std::fprintf(stderr, "capture: %s\n", captured.status().toString().c_str());
        _exit(14);
    }
    auto reader = acts::ActivationStoreReader::open(storeDir);
    if (!reader.ok()) _exit(15);
    features::AnalysisInputs inputs;
    inputs.store = &*reader;
    inputs.sae = &sae;
    inputs.tokenizer = tokenizer->get();
    features::AnalysisSpec analysis;
    analysis.topK = 10;
    auto summary = features::analyze(inputs, analysis, out, Progress(), StopToken());
    if (!summary.ok()) {
        std::fprintf(stderr, "analysis: %s\n", summary.status().toString().c_str());
        _exit(16);
    }
    _exit(summary->rowsAnalysed == captured->rows ? 0 : 17);
}

const char* kStory =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
    "One day, she saw a big, red ball. She ran to it and kicked it very high. Her friend Tom "
    "laughed and clapped. They played together until the sun went down.\n";

}  // namespace

class TestMemoryCap : public QObject {
    Q_OBJECT
private slots:
    void analysisStreamsAStoreLargerThanItsMemory() {
        const std::string dir = (test::tempDir() / "store").string();
        acts::StoreIndex header;
        header.hook = "blocks.0.hook_resid_post";
        header.dim = kDim;
        header.dtype = io::DType::kF32;
        header.contextSize = 129;
        auto writer = acts::ActivationStoreWriter::create(dir, header);
        MONO_VERIFY_RESULT(writer);
        std::mt19937_64 rng(5);
        std::normal_distribution<float> normal(0.f, 1.f);
        std::vector<float> rows(kShardRows * kDim);
        std::vector<int32_t> tokens(kShardRows), docs(kShardRows), pos(kShardRows);
        for (int s = 0; s < kShards; ++s) {
            for (auto& v : rows) v = normal(rng);
            for (int64_t r = 0; r < kShardRows; ++r) {
                tokens[r] = static_cast<int32_t>(rng() % 500);
                docs[r] = s;
                pos[r] = static_cast<int32_t>(r % 128 + 1);
            }
            writer->append(rows.data(), kShardRows, tokens.data(), docs.data(), pos.data());
            MONO_VERIFY_OK(writer->commit((s + 1) * kShardRows / 128, s + 1 == kShards));
        }
        const int64_t storeBytes = int64_t(kShards) * kShardRows * kDim * 4;
        QVERIFY(storeBytes >= 4 * kBudgetBytes);

        sae::SaeConfig cfg;
        cfg.dIn = kDim;
        cfg.dSae = 256;
        cfg.architecture = sae::Architecture::kTopK;
        cfg.k = 8;
        Matrix wDec(256, kDim);
        for (int64_t i = 0; i < wDec.size(); ++i) wDec.data()[i] = normal(rng);
        wDec.rowwise().normalize();
        auto sae =
            sae::Sae::create(cfg, wDec.transpose(), wDec, Vector::Zero(256), Vector::Zero(kDim));
        MONO_VERIFY_RESULT(sae);
        const std::string out = (test::tempDir() / "features.sqlite").string();

        const pid_t child = fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            // Cap the child's private memory at what it uses now plus the budget.
            singleArena();
            useEigenGemm();
            const int64_t base = dataBytes();
            if (base <= 0) _exit(10);
            rlimit limit{};
            limit.rlim_cur = limit.rlim_max = static_cast<rlim_t>(base + kBudgetBytes);
            if (setrlimit(RLIMIT_DATA, &limit) != 0) _exit(11);
            // The cap is real: the whole store would not fit.
            void* whole = std::malloc(static_cast<size_t>(storeBytes));
            if (whole) _exit(12);
            auto reader = acts::ActivationStoreReader::open(dir);
            if (!reader.ok()) _exit(13);
            features::AnalysisInputs inputs;
            inputs.store = &*reader;
            inputs.sae = &*sae;
            features::AnalysisSpec spec;
            spec.topK = 10;
            // Nothing may escape the child: back in Qt Test it would wait forever
            // for a watchdog thread that fork() did not copy.
            try {
                auto summary = features::analyze(inputs, spec, out, Progress(), StopToken());
                if (!summary.ok()) {
                    std::fprintf(stderr, "%s\n", summary.status().toString().c_str());
                    _exit(14);
                }
                _exit(summary->rowsAnalysed == int64_t(kShards) * kShardRows ? 0 : 15);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "analysis threw: %s\n", e.what());
                _exit(16);
            }
        }
        // A job that does not stream fails in the child (or hangs there when a
        // thread cannot start): wait with a deadline, never forever.
        int status = 0;
        pid_t done = 0;
        for (int waited = 0; waited < 1200 && done == 0; ++waited) {
            done = waitpid(child, &status, WNOHANG);
            if (done == 0) QTest::qSleep(100);
        }
        if (done == 0) {
            kill(child, SIGKILL);
            waitpid(child, &status, 0);
            QFAIL("the capped analysis did not finish within 120 s");
        }
        QCOMPARE(done, child);
        QVERIFY2(WIFEXITED(status), "the capped analysis crashed");
        QCOMPARE(WEXITSTATUS(status), 0);

        auto store = features::FeatureStore::open(out, features::FeatureStore::Mode::kReadOnly);
        MONO_VERIFY_RESULT(store);
        auto count = store->featureCount();
        MONO_VERIFY_RESULT(count);
        QCOMPARE(*count, int64_t(256));
    }

    // Capture from a real model (stories260K, its widest hook: the 172-wide MLP
    // activations of block 0) into a store of over 3× the cap, then analysis of
    // that store, both in one capped process.
    void captureAndAnalysisStayWithinACapSmallerThanTheStore() {
        MONO_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        MONO_REQUIRE_SHARED(tok, "models/stories260K/tok512.bin");
        constexpr int64_t kBudget = 64ll << 20;
        constexpr int64_t kRows = 300000;
        constexpr int64_t kWidth = 172;
        const std::string hook = "blocks.0.mlp.hook_post";
        const auto dir = test::tempDir();
        std::string corpus;
        // Many short documents, as corpora are: capture streams documents, and
        // one document is the unit it tokenizes whole.
        while (corpus.size() < 1800000) corpus += std::string(kStory) + "<|endoftext|>\n";
        test::writeFile(dir / "corpus.txt", corpus);
        const std::string storeDir = (dir / "acts").string();
        const std::string out = (dir / "features.sqlite").string();

        std::mt19937_64 rng(9);
        std::normal_distribution<float> normal(0.f, 1.f);
        sae::SaeConfig cfg;
        cfg.dIn = kWidth;
        cfg.dSae = 256;
        cfg.architecture = sae::Architecture::kTopK;
        cfg.k = 8;
        Matrix wDec(256, kWidth);
        for (int64_t i = 0; i < wDec.size(); ++i) wDec.data()[i] = normal(rng);
        wDec.rowwise().normalize();
        auto sae =
            sae::Sae::create(cfg, wDec.transpose(), wDec, Vector::Zero(256), Vector::Zero(kWidth));
        MONO_VERIFY_RESULT(sae);

        const pid_t child = fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            // Nothing may return into Qt Test from the child: exceptions end it too.
            try {
                runCappedCaptureAndAnalysis(kBudget, kRows * kWidth * 4, bin.string(), tok.string(),
                                            (dir / "corpus.txt").string(), hook, kRows, storeDir,
                                            *sae, out);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "exception: %s\n", e.what());
                _exit(18);
            }
            _exit(19);
        }
        const int code = waitChild(child, 300);
        QVERIFY2(code != -2, "capture + analysis under the cap did not finish within 300 s");
        QCOMPARE(code, 0);

        auto index = acts::readStoreIndex(storeDir);
        MONO_VERIFY_RESULT(index);
        QVERIFY(index->rows() >= kRows);
        int64_t storeBytes = 0;
        for (const auto& entry : std::filesystem::directory_iterator(storeDir))
            storeBytes += static_cast<int64_t>(entry.file_size());
        qInfo("store %.1f MiB on disk, cap %.1f MiB above the process's base",
              storeBytes / 1048576.0, kBudget / 1048576.0);
        QVERIFY(storeBytes >= 3 * kBudget);
        auto store = features::FeatureStore::open(out, features::FeatureStore::Mode::kReadOnly);
        MONO_VERIFY_RESULT(store);
        QCOMPARE(*store->featureCount(), int64_t(256));
        QCOMPARE(store->runInfo()->tokensAnalysed, index->rows());
    }
};

QTEST_GUILESS_MAIN(TestMemoryCap)
#include "test_memory_cap.moc"
