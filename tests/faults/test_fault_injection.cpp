// Fault injection for the long jobs (capture, SAE training, feature analysis):
// each job runs in a child process (this executable re-run with
// MONO_FAULT_JOB set, so no state is shared with the test) that is SIGKILLed
// after a random, seeded delay. After every kill the workspace opens, what the
// job had committed reads back, user labels and notes survive, and a resumed
// run completes with the result of an uninterrupted run (each job promises
// that: capture and training bit for bit, analysis feature by feature).
// A reader polls the feature store while analysis writes it (SQLite WAL) and
// must never see an error. Unwritable folders and a full disk (RLIMIT_FSIZE)
// must give an error naming the path and leave the previous state intact.

#include <QtTest>

#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/acts/activation_store.h"
#include "core/acts/capture.h"
#include "core/acts/shuffled_provider.h"
#include "core/features/analysis.h"
#include "core/features/feature_store.h"
#include "core/model/model.h"
#include "core/quant/calibration.h"
#include "core/sae/sae_io.h"
#include "core/sae/trainer.h"
#include "core/tokenizer/tokenizer.h"
#include "core/workspace/workspace.h"
#include "tests/support/test_support.h"

using namespace mono;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

extern char** environ;

namespace {

const char* kHook = "blocks.2.hook_resid_post";
const char* kSaeName = "topk-128";
constexpr int kKillPoints = 10;  // per job
constexpr int64_t kCaptureTokens = 24576;
constexpr int64_t kTrainSteps = 600;
constexpr int64_t kTrainBatch = 256;
constexpr int64_t kDSae = 128;
const int64_t kLabelled[] = {3, 77};

const char* kStory =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
    "One day, she saw a big, red ball. She ran to it and kicked it very high. Her friend Tom "
    "laughed and clapped. They played together until the sun went down.\n"
    "Tom had a dog named Max. Max liked to run and jump. One day Max found a stick and brought it "
    "to Tom. Tom threw the stick far away and Max ran to get it. They were very happy.\n";

// ---- the child side ---------------------------------------------------------

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

int childFail(const Status& st) {
    std::fprintf(stderr, "%s\n", st.toString().c_str());
    return 3;
}

// Runs one job on the workspace in $MONO_FAULT_WS; exit 0 on success, 3 with
// the error on stderr. Dropping capabilities and the file size limit are set
// up here so that they apply to this process only.
int runChildJob(const std::string& job) {
    if (env("MONO_FAULT_DROP_CAPS") == "1") {
        // Root ignores permission bits; without capabilities it obeys them
        // like any user (it still owns the files it created).
        __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct data[2] = {};
        if (syscall(SYS_capset, &header, data) != 0) return 20;
    }
    if (const std::string limit = env("MONO_FAULT_FSIZE"); !limit.empty()) {
        signal(SIGXFSZ, SIG_IGN);  // writes past the limit fail with EFBIG instead
        rlimit r{};
        r.rlim_cur = r.rlim_max = std::stoull(limit);
        if (setrlimit(RLIMIT_FSIZE, &r) != 0) return 21;
    }
    auto workspace = ws::Workspace::open(env("MONO_FAULT_WS"));
    if (!workspace.ok()) return childFail(workspace.status());
    const ws::Manifest& manifest = workspace->manifest();
    const std::string actsDir = workspace->activationsDir(kHook);
    const std::string saeDir = workspace->saeDir(kSaeName);

    if (job == "calibrate") {
        // Not resumable: a rerun starts over and replaces calibration.json atomically.
        auto model = model::Model::load(manifest.modelPath);
        if (!model.ok()) return childFail(model.status());
        auto tokenizer = tok::loadTokenizer(manifest.tokenizerPath);
        if (!tokenizer.ok()) return childFail(tokenizer.status());
        const int count =
            std::stoi(env("MONO_FAULT_MAX_TOKENS").empty() ? "256" : env("MONO_FAULT_MAX_TOKENS"));
        auto windows = quant::tokenWindows(manifest.corpus, **tokenizer, count, 32);
        if (!windows.ok()) return childFail(windows.status());
        auto calibration = quant::calibrate(**model, *windows);
        if (!calibration.ok()) return childFail(calibration.status());
        fs::create_directories(workspace->quantDir());
        const Status st = quant::saveCalibration(
            *calibration, (fs::path(workspace->quantDir()) / "calibration.json").string());
        return st.ok() ? 0 : childFail(st);
    }
    if (job == "capture" || job == "analyze") {
        auto model = model::Model::load(manifest.modelPath);
        if (!model.ok()) return childFail(model.status());
        auto tokenizer = tok::loadTokenizer(manifest.tokenizerPath);
        if (!tokenizer.ok()) return childFail(tokenizer.status());
        if (job == "capture") {
            acts::CaptureSpec spec;
            spec.corpus = manifest.corpus;
            spec.hooks = {kHook};
            spec.outDirs = {actsDir};
            spec.tokens = kCaptureTokens;
            spec.contextSize = manifest.contextSize;
            spec.batchWindows = 4;
            spec.shardRows = 256;
            spec.dtype = io::DType::kF32;
            auto summary = acts::capture(**model, **tokenizer, spec);
            return summary.ok() ? 0 : childFail(summary.status());
        }
        auto reader = acts::ActivationStoreReader::open(actsDir);
        if (!reader.ok()) return childFail(reader.status());
        auto sae = sae::loadSae(saeDir);
        if (!sae.ok()) return childFail(sae.status());
        features::AnalysisInputs inputs;
        inputs.store = &*reader;
        inputs.sae = &*sae;
        inputs.model = model->get();
        inputs.tokenizer = tokenizer->get();
        inputs.saePath = saeDir;
        features::AnalysisSpec spec;
        spec.topK = 8;
        spec.bins = 4;
        spec.perBin = 3;
        spec.chunkRows = 256;
        spec.checkpointSeconds = 0;  // a state save after every shard
        spec.maxTokens =
            std::stoll(env("MONO_FAULT_MAX_TOKENS").empty() ? "0" : env("MONO_FAULT_MAX_TOKENS"));
        const std::string out = env("MONO_FAULT_OUT").empty()
                                    ? workspace->featureStorePath(kSaeName)
                                    : env("MONO_FAULT_OUT");
        std::error_code ec;
        fs::create_directories(fs::path(out).parent_path(), ec);  // as the CLI does
        auto summary = features::analyze(inputs, spec, out, Progress(), StopToken());
        return summary.ok() ? 0 : childFail(summary.status());
    }
    if (job == "train") {
        auto provider = acts::ShuffledStoreProvider::open(actsDir, 7);
        if (!provider.ok()) return childFail(provider.status());
        sae::TrainSpec spec;
        spec.architecture = sae::Architecture::kTopK;
        spec.dSae = kDSae;
        spec.k = 8;
        spec.batchSize = kTrainBatch;
        spec.totalTokens = kTrainSteps * kTrainBatch;
        spec.lr = 1e-3;
        spec.deadTokens = 100000;
        spec.outDir = env("MONO_FAULT_OUT").empty() ? saeDir : env("MONO_FAULT_OUT");
        spec.resume = fs::exists(fs::path(spec.outDir) / sae::kCheckpointFile);
        spec.checkpointEverySteps = 10;
        spec.reportEverySteps = 100;
        spec.metadata.hookName = kHook;
        Progress quiet;
        auto result = sae::trainSae(spec, **provider, quiet, StopToken());
        return result.ok() ? 0 : childFail(result.status());
    }
    std::fprintf(stderr, "unknown job '%s'\n", job.c_str());
    return 4;
}

// ---- the parent side --------------------------------------------------------

struct ChildEnv {
    std::string job;
    std::string workspace;
    std::string out;        // MONO_FAULT_OUT (empty: the workspace's default)
    std::string maxTokens;  // analysis
    bool dropCaps = false;
    uint64_t fileSizeLimit = 0;
};

ChildEnv jobEnv(const std::string& job, const std::string& workspace) {
    ChildEnv c;
    c.job = job;
    c.workspace = workspace;
    return c;
}

// Starts this executable as a job child; its stderr goes to `errPath`.
pid_t spawnJob(const ChildEnv& c, const std::string& errPath) {
    std::vector<std::string> vars;
    for (char** e = environ; *e; ++e)
        if (std::strncmp(*e, "MONO_FAULT_", 11) != 0) vars.emplace_back(*e);
    vars.push_back("MONO_FAULT_JOB=" + c.job);
    vars.push_back("MONO_FAULT_WS=" + c.workspace);
    if (!c.out.empty()) vars.push_back("MONO_FAULT_OUT=" + c.out);
    if (!c.maxTokens.empty()) vars.push_back("MONO_FAULT_MAX_TOKENS=" + c.maxTokens);
    if (c.dropCaps) vars.push_back("MONO_FAULT_DROP_CAPS=1");
    if (c.fileSizeLimit) vars.push_back("MONO_FAULT_FSIZE=" + std::to_string(c.fileSizeLimit));
    // One thread per job child: two children may run beside the test on a small CI machine.
    vars.push_back("OMP_NUM_THREADS=1");
    std::vector<char*> envp;
    for (auto& v : vars) envp.push_back(v.data());
    envp.push_back(nullptr);
    std::string self = fs::read_symlink("/proc/self/exe").string();
    char* argv[] = {self.data(), nullptr};
    const pid_t pid = fork();
    if (pid == 0) {
        const int fd = open(errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 2);
            close(fd);
        }
        execve(self.c_str(), argv, envp.data());
        _exit(127);
    }
    return pid;
}

struct Outcome {
    bool exited = false;
    int code = -1;
    bool killed = false;  // by our SIGKILL
    double seconds = 0;
    std::string err;
};

// Runs the job; kills it after `killAfter` seconds when > 0. `whileRunning` is
// called repeatedly until the child ends (or is killed).
Outcome runJob(const ChildEnv& c, double killAfter,
               const std::function<void()>& whileRunning = {}) {
    const std::string errPath = (test::tempDir() / "child.err").string();
    const auto start = Clock::now();
    const pid_t pid = spawnJob(c, errPath);
    Outcome o;
    if (pid < 0) return o;
    int status = 0;
    bool sentKill = false;
    for (;;) {
        const pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) break;
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        if (killAfter > 0 && elapsed >= killAfter && !sentKill) {
            kill(pid, SIGKILL);
            sentKill = true;
        } else if (elapsed > 300 && !sentKill) {  // a hung child must not hang the test
            kill(pid, SIGKILL);
            sentKill = true;
        }
        if (whileRunning && !sentKill) whileRunning();
        usleep(whileRunning ? 10000 : 2000);
    }
    o.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    o.exited = WIFEXITED(status);
    o.code = o.exited ? WEXITSTATUS(status) : -1;
    o.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    o.err = test::readFile(errPath);
    return o;
}

void copyTree(const fs::path& from, const fs::path& to) {
    fs::remove_all(to);
    fs::create_directories(to);
    fs::copy(from, to, fs::copy_options::recursive);
}

// Every shard of a store, concatenated: tokens and activations.
struct StoreContents {
    std::vector<int32_t> tokens, positions;
    std::vector<float> acts;
};
Result<StoreContents> readStore(const std::string& dir) {
    MONO_ASSIGN_OR_RETURN(acts::ActivationStoreReader reader,
                          acts::ActivationStoreReader::open(dir));
    StoreContents c;
    for (int s = 0; s < reader.numShards(); ++s) {
        MONO_ASSIGN_OR_RETURN(acts::Shard shard, reader.readShard(s));
        c.tokens.insert(c.tokens.end(), shard.tokens.begin(), shard.tokens.end());
        c.positions.insert(c.positions.end(), shard.positions.begin(), shard.positions.end());
        c.acts.insert(c.acts.end(), shard.acts.data(), shard.acts.data() + shard.acts.size());
    }
    if (static_cast<int64_t>(c.tokens.size()) != reader.index().rows())
        return Status::corruption(dir + ": index rows differ from the shards' rows");
    return c;
}

// What a dashboard shows of one feature, as one comparable string.
std::string fingerprint(const features::FeatureRecord& r) {
    std::string s = std::to_string(r.summary.fireCount) + "|" +
                    std::to_string(r.summary.maxActivation) + "|" +
                    std::to_string(r.summary.meanActivation) + "|" + r.summary.topSnippet + "|";
    for (int64_t c : r.histogram.counts) s += std::to_string(c) + ",";
    for (const auto& e : r.topExamples)
        s += std::to_string(e.row) + ":" + std::to_string(e.activation) + ";";
    for (const auto& e : r.intervalExamples) s += std::to_string(e.row) + "/";
    for (const auto& l : r.positiveLogits) s += std::to_string(l.token) + "+";
    for (const auto& n : r.neighbours) s += std::to_string(n.id) + "~";
    for (const auto& n : r.coFiring) s += std::to_string(n.id) + "&";
    return s;
}

QString describe(const Outcome& o) {
    return QStringLiteral("exited %1 code %2 killed %3 after %4 s: %5")
        .arg(o.exited)
        .arg(o.code)
        .arg(o.killed)
        .arg(o.seconds, 0, 'f', 2)
        .arg(QString::fromStdString(o.err));
}

}  // namespace

class TestFaultInjection : public QObject {
    Q_OBJECT

    fs::path m_root;
    fs::path m_ref;  // uninterrupted runs of every job
    ws::Manifest m_manifest;
    std::mt19937_64 m_rng{20261129};
    double m_captureSeconds = 0, m_trainSeconds = 0, m_analyzeSeconds = 0;

    // Random kill delays: uniform over [5%, 80%] of an uninterrupted run.
    double killDelay(double seconds) {
        return std::uniform_real_distribution<double>(0.05 * seconds, 0.8 * seconds)(m_rng);
    }

    fs::path freshWorkspace(const std::string& name) {
        const fs::path dir = m_root / name;
        fs::remove_all(dir);
        auto ws = ws::Workspace::create(dir.string(), m_manifest);
        if (!ws.ok()) qFatal("%s", ws.status().toString().c_str());
        return dir;
    }

    // Kills `job` at kKillPoints random moments. Before each try `reset` puts
    // the workspace back in its starting state; after each kill `check` looks
    // at what was left, then a resumed run must complete and `checkDone` sees
    // the result. Tries whose child finished before the kill do not count.
    void killAndResume(const ChildEnv& c, double seconds, const std::function<void()>& reset,
                       const std::function<void()>& check, const std::function<void()>& checkDone,
                       const std::function<void()>& whileResuming = {}) {
        int kills = 0, tries = 0;
        double resumeSeconds = 0;
        while (kills < kKillPoints && tries < 3 * kKillPoints) {
            ++tries;
            reset();
            if (QTest::currentTestFailed()) return;
            const double delay = killDelay(seconds);
            const Outcome killed = runJob(c, delay);
            if (!killed.killed) {
                QVERIFY2(killed.exited && killed.code == 0, qPrintable(describe(killed)));
                continue;  // finished before the kill: not a kill point
            }
            ++kills;
            check();
            if (QTest::currentTestFailed()) {
                qWarning("after the kill at %.3f s of %.3f s", delay, seconds);
                return;
            }
            const Outcome resumed = runJob(c, 0, whileResuming);
            QVERIFY2(resumed.exited && resumed.code == 0, qPrintable(describe(resumed)));
            resumeSeconds += resumed.seconds;
            checkDone();
            if (QTest::currentTestFailed()) return;
        }
        qInfo("%s: %d kills in %d tries over a %.2f s run; resumes took %.2f s on average",
              c.job.c_str(), kills, tries, seconds, resumeSeconds / std::max(kills, 1));
        QVERIFY2(kills >= kKillPoints, "too few kills landed inside the job");
    }

private slots:
    void initTestCase() {
        MONO_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        MONO_REQUIRE_SHARED(tok, "models/stories260K/tok512.bin");
        m_root = test::tempDir();
        const fs::path corpus = m_root / "corpus.txt";
        std::string text;
        for (int i = 0; i < 60; ++i) text += kStory;
        test::writeFile(corpus, text);
        m_manifest.modelPath = bin.string();
        m_manifest.tokenizerPath = tok.string();
        m_manifest.corpus = {corpus.string()};
        m_manifest.hooks = {kHook};
        m_manifest.contextSize = 32;

        // The reference: every job once, uninterrupted, timed.
        m_ref = freshWorkspace("ref");
        Outcome o = runJob(jobEnv("capture", m_ref.string()), 0);
        QVERIFY2(o.exited && o.code == 0, qPrintable(describe(o)));
        m_captureSeconds = o.seconds;
        o = runJob(jobEnv("train", m_ref.string()), 0);
        QVERIFY2(o.exited && o.code == 0, qPrintable(describe(o)));
        m_trainSeconds = o.seconds;
        o = runJob(jobEnv("analyze", m_ref.string()), 0);
        QVERIFY2(o.exited && o.code == 0, qPrintable(describe(o)));
        m_analyzeSeconds = o.seconds;
        qInfo("uninterrupted: capture %.2f s, train %.2f s, analyze %.2f s", m_captureSeconds,
              m_trainSeconds, m_analyzeSeconds);
    }

    void killedCaptureResumesToTheSameStore() {
        const fs::path wsDir = freshWorkspace("capture");
        ws::Workspace ref = *ws::Workspace::open(m_ref.string());
        auto expected = readStore(ref.activationsDir(kHook));
        MONO_VERIFY_RESULT(expected);
        const std::string actsDir = (wsDir / "activations" / kHook).string();
        killAndResume(
            jobEnv("capture", wsDir.string()), m_captureSeconds, [&] { fs::remove_all(actsDir); },
            [&] {
                MONO_VERIFY_RESULT(ws::Workspace::open(wsDir.string()));
                // Killed before the first commit, the store has no index yet;
                // otherwise every committed shard reads back.
                if (!fs::exists(fs::path(actsDir) / "index.json")) return;
                auto partial = readStore(actsDir);
                MONO_VERIFY_RESULT(partial);
                QVERIFY(partial->tokens.size() <= expected->tokens.size());
                QVERIFY(std::equal(partial->tokens.begin(), partial->tokens.end(),
                                   expected->tokens.begin()));
            },
            [&] {
                auto got = readStore(actsDir);
                MONO_VERIFY_RESULT(got);
                QCOMPARE(got->tokens, expected->tokens);
                QCOMPARE(got->positions, expected->positions);
                QVERIFY(got->acts == expected->acts);
                auto index = acts::readStoreIndex(actsDir);
                MONO_VERIFY_RESULT(index);
                QVERIFY(index->complete);
            });
    }

    void killedTrainingResumesToTheSameSae() {
        const fs::path wsDir = freshWorkspace("train");
        ws::Workspace ref = *ws::Workspace::open(m_ref.string());
        copyTree(ref.activationsDir(kHook), wsDir / "activations" / kHook);
        auto expected = sae::loadSae(ref.saeDir(kSaeName));
        MONO_VERIFY_RESULT(expected);
        const fs::path saeDir = wsDir / "saes" / kSaeName;
        killAndResume(
            jobEnv("train", wsDir.string()), m_trainSeconds, [&] { fs::remove_all(saeDir); },
            [&] {
                MONO_VERIFY_RESULT(ws::Workspace::open(wsDir.string()));
                // A checkpoint, when there is one, loads; a final SAE only appears whole.
                if (fs::exists(saeDir / sae::kCheckpointFile))
                    MONO_VERIFY_RESULT(
                        sae::loadCheckpointSae((saeDir / sae::kCheckpointFile).string()));
                if (fs::exists(saeDir / "sae_weights.safetensors") &&
                    fs::exists(saeDir / "cfg.json"))
                    MONO_VERIFY_RESULT(sae::loadSae(saeDir.string()));
            },
            [&] {
                auto got = sae::loadSae(saeDir.string());
                MONO_VERIFY_RESULT(got);
                QVERIFY(got->wEnc() == expected->wEnc());
                QVERIFY(got->wDec() == expected->wDec());
                QVERIFY(got->bEnc() == expected->bEnc());
                QVERIFY(got->bDec() == expected->bDec());
                auto density = sae::loadSparsity(saeDir.string());
                auto expectedDensity = sae::loadSparsity(ref.saeDir(kSaeName));
                MONO_VERIFY_RESULT(density);
                MONO_VERIFY_RESULT(expectedDensity);
                QCOMPARE(*density, *expectedDensity);
            });
    }

    // Analysis over a store that grew: the store holds an analysis of half the
    // rows with the user's labels and notes; the kills hit the extension to all
    // rows. The GUI's view (a read-only connection) polls the store throughout
    // the resumed runs, including while the new tables are written.
    void killedAnalysisKeepsLabelsAndResumes() {
        const fs::path wsDir = freshWorkspace("analyze");
        ws::Workspace ref = *ws::Workspace::open(m_ref.string());
        copyTree(ref.activationsDir(kHook), wsDir / "activations" / kHook);
        copyTree(ref.saeDir(kSaeName), wsDir / "saes" / kSaeName);
        const std::string storePath =
            (wsDir / "features" / (std::string(kSaeName) + ".sqlite")).string();
        const int64_t rows = acts::readStoreIndex(ref.activationsDir(kHook))->rows();
        ChildEnv half = jobEnv("analyze", wsDir.string());
        half.maxTokens = std::to_string(rows / 2);
        const Outcome o = runJob(half, 0);
        QVERIFY2(o.exited && o.code == 0, qPrintable(describe(o)));
        {
            auto store =
                features::FeatureStore::open(storePath, features::FeatureStore::Mode::kReadWrite);
            MONO_VERIFY_RESULT(store);
            for (int64_t id : kLabelled) {
                MONO_VERIFY_OK(store->setLabel(id, "label " + std::to_string(id)));
                MONO_VERIFY_OK(store->setNotes(id, "notes of " + std::to_string(id)));
            }
        }
        const fs::path before = m_root / "analyze-before";
        copyTree(wsDir / "features", before);

        auto expectedStore = features::FeatureStore::open(
            (m_ref / "features" / (std::string(kSaeName) + ".sqlite")).string(),
            features::FeatureStore::Mode::kReadOnly);
        MONO_VERIFY_RESULT(expectedStore);
        std::vector<std::string> expected;
        for (int64_t i = 0; i < kDSae; ++i)
            expected.push_back(fingerprint(*expectedStore->feature(i)));

        auto checkLabels = [&](const features::FeatureStore& store) {
            for (int64_t id : kLabelled) {
                auto r = store.feature(id);
                MONO_VERIFY_RESULT(r);
                QCOMPARE(r->summary.label, "label " + std::to_string(id));
                QCOMPARE(r->notes, "notes of " + std::to_string(id));
            }
        };
        int64_t polls = 0, pollErrors = 0;
        std::string firstPollError;
        auto poll = [&] {
            // A fresh connection each time, as the GUI opens the store when shown.
            auto store =
                features::FeatureStore::open(storePath, features::FeatureStore::Mode::kReadOnly);
            auto fail = [&](const Status& st) {
                if (pollErrors++ == 0) firstPollError = st.toString();
            };
            ++polls;
            if (!store.ok()) return fail(store.status());
            features::PageRequest page;
            page.sort = features::SortKey::kDensity;
            page.descending = true;
            page.limit = 50;
            auto p = store->page(page);
            if (!p.ok()) return fail(p.status());
            if (p->total != kDSae) fail(Status::internal("page total " + std::to_string(p->total)));
            for (int64_t id : kLabelled) {
                auto r = store->feature(id);
                if (!r.ok()) return fail(r.status());
                if (r->summary.label != "label " + std::to_string(id))
                    fail(Status::internal("label lost: '" + r->summary.label + "'"));
            }
            auto hits = store->search("label", 10);
            if (!hits.ok()) return fail(hits.status());
        };
        killAndResume(
            jobEnv("analyze", wsDir.string()), m_analyzeSeconds,
            [&] { copyTree(before, wsDir / "features"); },
            [&] {
                MONO_VERIFY_RESULT(ws::Workspace::open(wsDir.string()));
                auto store = features::FeatureStore::open(storePath,
                                                          features::FeatureStore::Mode::kReadOnly);
                MONO_VERIFY_RESULT(store);
                QCOMPARE(*store->featureCount(), kDSae);
                const int64_t analysed = store->runInfo()->tokensAnalysed;
                QVERIFY2(analysed == rows / 2 || analysed == rows,
                         qPrintable(QString::number(analysed)));
                checkLabels(*store);
            },
            [&] {
                auto store = features::FeatureStore::open(storePath,
                                                          features::FeatureStore::Mode::kReadOnly);
                MONO_VERIFY_RESULT(store);
                QCOMPARE(store->runInfo()->tokensAnalysed, rows);
                for (int64_t i = 0; i < kDSae; ++i)
                    QCOMPARE(fingerprint(*store->feature(i)), expected[i]);
                checkLabels(*store);
            },
            poll);
        qInfo("WAL reader: %lld polls during the resumed analyses, %lld errors", (long long)polls,
              (long long)pollErrors);
        QVERIFY2(pollErrors == 0, firstPollError.c_str());
        QVERIFY(polls >= kKillPoints);
    }

    // Calibration has no resume (a rerun starts over); what it promises is an
    // atomic calibration.json: after a kill the previous file (from fewer
    // windows) or the complete new one, never a torn one.
    void killedCalibrationKeepsTheFileWhole() {
        const fs::path wsDir = freshWorkspace("calibrate");
        ChildEnv c = jobEnv("calibrate", wsDir.string());
        c.maxTokens = "16";
        Outcome o = runJob(c, 0);
        QVERIFY2(o.exited && o.code == 0, qPrintable(describe(o)));
        const fs::path file = wsDir / "quant" / "calibration.json";
        const std::string previous = test::readFile(file);
        c.maxTokens = "";
        o = runJob(c, 0);
        QVERIFY2(o.exited && o.code == 0, qPrintable(describe(o)));
        const double seconds = o.seconds;
        const std::string complete = test::readFile(file);
        QVERIFY(complete != previous);
        killAndResume(
            c, seconds, [&] { test::writeFile(file, previous); },
            [&] {
                MONO_VERIFY_RESULT(ws::Workspace::open(wsDir.string()));
                auto loaded = quant::loadCalibration(file.string());
                MONO_VERIFY_RESULT(loaded);
                const std::string now = test::readFile(file);
                QVERIFY(now == previous || now == complete);
            },
            [&] { QVERIFY(test::readFile(file) == complete); });
    }

    // A folder the job cannot write: an error that names it, and nothing lost.
    void unwritableFolderKeepsPreviousState() {
        const fs::path wsDir = freshWorkspace("readonly");
        ws::Workspace ref = *ws::Workspace::open(m_ref.string());
        copyTree(ref.activationsDir(kHook), wsDir / "activations" / kHook);
        copyTree(ref.saeDir(kSaeName), wsDir / "saes" / kSaeName);
        copyTree(m_ref / "features", wsDir / "features");
        const std::string storePath =
            (wsDir / "features" / (std::string(kSaeName) + ".sqlite")).string();
        {
            auto store =
                features::FeatureStore::open(storePath, features::FeatureStore::Mode::kReadWrite);
            MONO_VERIFY_RESULT(store);
            MONO_VERIFY_OK(store->setLabel(3, "kept"));
        }
        const std::string stateFile = storePath + ".analysis-state";
        fs::remove(stateFile);  // so the analysis has to run and write
        const bool root = geteuid() == 0;

        // capture: a new hook's store under a read-only activations/; training:
        // a read-only SAE folder; analysis: a read-only features/ (SQLite
        // cannot create its journal beside the store).
        const fs::path newSae = wsDir / "saes" / "new";
        fs::create_directories(newSae);
        struct Case {
            const char* job;
            fs::path folder;  // made read-only
            std::string out;
        };
        const Case cases[] = {
            {"analyze", wsDir / "features", ""},
            {"train", newSae, newSae.string()},
            {"capture", wsDir / "activations", ""},
        };
        for (const Case& c : cases) {
            if (std::string(c.job) == "capture") fs::remove_all(wsDir / "activations" / kHook);
            fs::permissions(c.folder, fs::perms::owner_read | fs::perms::owner_exec |
                                          fs::perms::group_read | fs::perms::group_exec |
                                          fs::perms::others_read | fs::perms::others_exec);
            ChildEnv e = jobEnv(c.job, wsDir.string());
            e.out = c.out;
            e.dropCaps = root;
            const Outcome o = runJob(e, 0);
            fs::permissions(c.folder, fs::perms::owner_all, fs::perm_options::add);
            qInfo("%s into a read-only folder: %s", c.job, o.err.substr(0, 300).c_str());
            QVERIFY2(o.exited && o.code == 3, qPrintable(describe(o)));
            QVERIFY2(o.err.find(c.folder.string()) != std::string::npos, qPrintable(describe(o)));
        }
        // The previous state: the store, its label, the store index.
        auto store =
            features::FeatureStore::open(storePath, features::FeatureStore::Mode::kReadOnly);
        MONO_VERIFY_RESULT(store);
        QCOMPARE(store->feature(3)->summary.label, std::string("kept"));
        QCOMPARE(*store->featureCount(), kDSae);
        QVERIFY(!fs::exists(newSae / "cfg.json"));
        QVERIFY(!fs::exists(wsDir / "activations" / kHook));
        MONO_VERIFY_RESULT(ws::Workspace::open(wsDir.string()));
    }

    // A full disk, as a file size limit (EFBIG where ENOSPC would come):
    // every job fails with an error and the previous state stays readable.
    void fullDiskKeepsPreviousState() {
        const fs::path wsDir = freshWorkspace("full");
        ws::Workspace ref = *ws::Workspace::open(m_ref.string());
        copyTree(ref.activationsDir(kHook), wsDir / "activations" / kHook);
        copyTree(ref.saeDir(kSaeName), wsDir / "saes" / kSaeName);
        copyTree(m_ref / "features", wsDir / "features");
        const std::string storePath =
            (wsDir / "features" / (std::string(kSaeName) + ".sqlite")).string();
        {
            auto store =
                features::FeatureStore::open(storePath, features::FeatureStore::Mode::kReadWrite);
            MONO_VERIFY_RESULT(store);
            MONO_VERIFY_OK(store->setLabel(3, "kept"));
            MONO_VERIFY_OK(store->setNotes(3, "notes kept"));
        }
        fs::remove(storePath + ".analysis-state");

        // Analysis: the state file or the store outgrows the limit.
        ChildEnv a = jobEnv("analyze", wsDir.string());
        a.fileSizeLimit = 16 << 10;
        Outcome o = runJob(a, 0);
        qInfo("analyze on a full disk: %s", o.err.substr(0, 300).c_str());
        QVERIFY2(o.exited && o.code == 3, qPrintable(describe(o)));
        QVERIFY2(o.err.find(wsDir.string()) != std::string::npos, qPrintable(describe(o)));
        {
            auto store =
                features::FeatureStore::open(storePath, features::FeatureStore::Mode::kReadOnly);
            MONO_VERIFY_RESULT(store);
            QCOMPARE(*store->featureCount(), kDSae);
            QCOMPARE(store->feature(3)->summary.label, std::string("kept"));
            QCOMPARE(store->feature(3)->notes, std::string("notes kept"));
        }

        // Training into a new folder: the checkpoint cannot be written.
        ChildEnv t = jobEnv("train", wsDir.string());
        t.out = (wsDir / "saes" / "new").string();
        t.fileSizeLimit = 16 << 10;
        o = runJob(t, 0);
        qInfo("train on a full disk: %s", o.err.substr(0, 300).c_str());
        QVERIFY2(o.exited && o.code == 3, qPrintable(describe(o)));
        QVERIFY2(o.err.find(t.out) != std::string::npos, qPrintable(describe(o)));
        QVERIFY(!fs::exists(fs::path(t.out) / "cfg.json"));
        MONO_VERIFY_RESULT(sae::loadSae((wsDir / "saes" / kSaeName).string()));

        // Capture from scratch into a fresh store: the first shard does not fit.
        fs::remove_all(wsDir / "activations");
        ChildEnv c = jobEnv("capture", wsDir.string());
        c.fileSizeLimit = 16 << 10;
        o = runJob(c, 0);
        qInfo("capture on a full disk: %s", o.err.substr(0, 300).c_str());
        QVERIFY2(o.exited && o.code == 3, qPrintable(describe(o)));
        QVERIFY2(o.err.find(wsDir.string()) != std::string::npos, qPrintable(describe(o)));
        MONO_VERIFY_RESULT(ws::Workspace::open(wsDir.string()));
        // Whatever the capture committed before the disk filled reads back.
        const std::string actsDir = (wsDir / "activations" / kHook).string();
        if (fs::exists(fs::path(actsDir) / "index.json")) MONO_VERIFY_RESULT(readStore(actsDir));
    }
};

int main(int argc, char** argv) {
    if (const char* job = std::getenv("MONO_FAULT_JOB")) return runChildJob(job);
    QCoreApplication app(argc, argv);
    TestFaultInjection test;
    return QTest::qExec(&test, argc, argv);
}

#include "test_fault_injection.moc"
