// The hostile-input suite at the command line (issue #26): what a hostile user
// can do to monoscope-cli, one case per class and cause. Every refusal must end
// with exit code 1 (no signal, no hang: each run has its own time limit), name
// the file or option at fault, and leave the user's files byte-identical.
// docs/RELIABILITY.md lists the classes, the guarantees and these cases.
//
// The fixtures (a workspace captured from stories260K, two SAEs, a feature
// store) are built once by the CLI itself in initTestCase.

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>

#include "tests/support/test_support.h"

namespace fs = std::filesystem;

namespace {

constexpr int kCaseTimeoutMs = 120'000;  // generous for the sanitizer build

struct CliRun {
    bool finished = false;
    QProcess::ExitStatus status = QProcess::CrashExit;
    int code = -1;
    QString out, err;
};

CliRun runCli(const QStringList& args) {
    CliRun r;
    QProcess p;
    p.start(QStringLiteral(MONO_CLI_PATH), args);
    if (!p.waitForStarted(10'000)) return r;
    r.finished = p.waitForFinished(kCaseTimeoutMs);
    if (!r.finished) {
        p.kill();
        p.waitForFinished(10'000);
    }
    r.status = p.exitStatus();
    r.code = p.exitCode();
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

// A file's bytes, or a folder's file names and bytes (recursively, sorted),
// hashed; the workspace lock file is left out (it records its last holder).
QByteArray fingerprint(const QString& path) {
    QCryptographicHash hash(QCryptographicHash::Sha256);
    const QFileInfo info(path);
    if (info.isSymLink()) hash.addData(info.symLinkTarget().toUtf8());
    if (info.isDir()) {
        QStringList files;
        QDirIterator it(path, QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot,
                        QDirIterator::Subdirectories);
        while (it.hasNext()) files << it.next();
        files.sort();
        for (const QString& f : files) {
            if (f.endsWith(QStringLiteral(".monoscope.lock"))) continue;
            hash.addData(f.toUtf8());
            QFile file(f);
            if (file.open(QIODevice::ReadOnly)) hash.addData(file.readAll());
        }
    } else if (info.isFile()) {
        QFile file(path);
        if (file.open(QIODevice::ReadOnly)) hash.addData(file.readAll());
    } else {
        hash.addData(info.exists() ? "special" : "missing");
    }
    return hash.result();
}

void copyFile(const fs::path& from, const fs::path& to) {
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

const char* kHook = "blocks.2.hook_resid_post";
const char* kOtherHook = "blocks.0.hook_resid_post";

}  // namespace

class TestCliHostile : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    QString m_dir;
    bool m_haveGpt2 = false;

    QString at(const QString& relative) const { return m_dir + QLatin1Char('/') + relative; }

    // "@x" in an argument list is the fixture x in the temporary folder.
    QStringList expand(const QStringList& args) const {
        QStringList out;
        for (const QString& a : args) out << (a.startsWith(QLatin1Char('@')) ? at(a.mid(1)) : a);
        return out;
    }

    void mustSucceed(const QStringList& args) {
        const CliRun r = runCli(expand(args));
        QVERIFY2(r.finished && r.status == QProcess::NormalExit && r.code == 0,
                 qPrintable(args.join(QLatin1Char(' ')) + QStringLiteral(": ") + r.err));
    }

    // Runs a case that must be refused: exit code 1, each of `mentions` in the
    // message, every path of `untouched` byte-identical afterwards.
    void expectRefusal(const QStringList& args, const QStringList& mentions,
                       const QStringList& untouched) {
        QList<QByteArray> before;
        for (const QString& u : untouched) before << fingerprint(at(u));
        const CliRun r = runCli(expand(args));
        const QString what = args.join(QLatin1Char(' ')) + QStringLiteral("\n  stderr: ") + r.err;
        QVERIFY2(r.finished,
                 qPrintable(QStringLiteral("hung (killed after the time limit): ") + what));
        QVERIFY2(r.status == QProcess::NormalExit,
                 qPrintable(QStringLiteral("ended by a signal: ") + what));
        QVERIFY2(r.code == 1, qPrintable(QStringLiteral("exit code %1: ").arg(r.code) + what));
        for (const QString& m : mentions)
            QVERIFY2(r.err.contains(m), qPrintable(QStringLiteral("the message does not name '") +
                                                   m + QStringLiteral("': ") + what));
        for (int i = 0; i < untouched.size(); ++i)
            QVERIFY2(fingerprint(at(untouched[i])) == before[i],
                     qPrintable(untouched[i] + QStringLiteral(" changed: ") + what));
    }

    void writeCorpus(const QString& name, int documents, unsigned seed) {
        static const char* words[] = {"once",   "upon", "a",     "time", "there", "was",
                                      "little", "girl", "named", "lily", "she",   "liked",
                                      "to",     "play", "with",  "her",  "ball",  "park"};
        std::string text;
        unsigned x = seed;
        for (int d = 0; d < documents; ++d) {
            for (int w = 0; w < 60; ++w) {
                x = x * 1103515245u + 12345u;
                text += words[(x >> 16) % 18];
                text += ' ';
            }
            text += "\n<|endoftext|>\n";
        }
        mono::test::writeFile(at(name).toStdString(), text);
    }

    // A copy of the stories260K checkpoint with one NaN in its token embedding.
    void writeNanModel() {
        std::string bytes = mono::test::readFile(at(QStringLiteral("model.bin")).toStdString());
        const uint32_t nan = 0x7fc00000u;
        std::memcpy(bytes.data() + 28 + 4 * 100, &nan, 4);
        mono::test::writeFile(at(QStringLiteral("nan/model.bin")).toStdString(), bytes);
        copyFile(at(QStringLiteral("tok512.bin")).toStdString(),
                 at(QStringLiteral("nan/tok512.bin")).toStdString());
    }

    // tiny-random-gpt2 twice: with a symlink loop for its weights, and with a
    // config that claims fewer layers than the checkpoint holds.
    void writeGpt2Variants() {
        const fs::path gpt2 = mono::test::sharedDir() / "models/tiny-random-gpt2";
        m_haveGpt2 = fs::exists(gpt2 / "model.safetensors");
        if (!m_haveGpt2) return;
        const fs::path loop = at(QStringLiteral("loop")).toStdString();
        fs::create_directories(loop);
        copyFile(gpt2 / "config.json", loop / "config.json");
        fs::create_symlink("a", loop / "b");
        fs::create_symlink("b", loop / "a");
        fs::create_symlink("a", loop / "model.safetensors");
        const fs::path few = at(QStringLiteral("few")).toStdString();
        fs::create_directories(few);
        copyFile(gpt2 / "model.safetensors", few / "model.safetensors");
        std::string config = mono::test::readFile(gpt2 / "config.json");
        const size_t pos = config.find("\"n_layer\": 5");
        QVERIFY(pos != std::string::npos);
        config.replace(pos, 12, "\"n_layer\": 3");
        mono::test::writeFile(few / "config.json", config);
    }

    void damageStores() {
        // ws3: its first shard cut short; ws4: a tokens shard deleted.
        const fs::path shard =
            at(QStringLiteral("ws3/activations/%1/shard_00000.acts.npy").arg(kHook)).toStdString();
        fs::resize_file(shard, fs::file_size(shard) - 100);
        fs::remove(at(QStringLiteral("ws4/activations/%1/shard_00000.tokens.npy").arg(kHook))
                       .toStdString());
    }

private slots:
    void initTestCase() {
        MONO_REQUIRE_SHARED(stories, "models/stories260K/stories260K.bin");
        QVERIFY(m_tmp.isValid());
        m_dir = m_tmp.path();
        copyFile(stories, at(QStringLiteral("model.bin")).toStdString());
        copyFile(stories.parent_path() / "tok512.bin",
                 at(QStringLiteral("tok512.bin")).toStdString());
        QVERIFY(QDir(m_dir).mkpath(QStringLiteral("nan")));
        writeNanModel();
        writeGpt2Variants();
        writeCorpus(QStringLiteral("corpus.txt"), 120, 1);
        writeCorpus(QStringLiteral("other.txt"), 120, 2);
        mono::test::writeFile(at(QStringLiteral("empty.txt")).toStdString(), "");
        mono::test::writeFile(at(QStringLiteral("text.gguf")).toStdString(), "Once upon a time\n");
        QCOMPARE(::mkfifo(at(QStringLiteral("fifo.bin")).toLocal8Bit().constData(), 0644), 0);
        QCOMPARE(::mkfifo(at(QStringLiteral("fifo.out")).toLocal8Bit().constData(), 0644), 0);

        const QStringList capture = {
            QStringLiteral("capture"),     QStringLiteral("@model.bin"), QStringLiteral("--corpus"),
            QStringLiteral("@corpus.txt"), QStringLiteral("--hook"),     QString::fromLatin1(kHook),
            QStringLiteral("--tokens"),    QStringLiteral("2000"),       QStringLiteral("--ctx"),
            QStringLiteral("64"),          QStringLiteral("--out")};
        mustSucceed(capture + QStringList{QStringLiteral("@ws"), QStringLiteral("--hook"),
                                          QString::fromLatin1(kOtherHook)});
        for (const char* ws : {"@ws3", "@ws4"})
            mustSucceed(capture + QStringList{QString::fromLatin1(ws)});
        damageStores();
        mustSucceed({QStringLiteral("train-sae"), QStringLiteral("@ws"), QStringLiteral("--hook"),
                     QString::fromLatin1(kHook), QStringLiteral("--features"), QStringLiteral("64"),
                     QStringLiteral("--arch"), QStringLiteral("topk"), QStringLiteral("--k"),
                     QStringLiteral("8"), QStringLiteral("--tokens"), QStringLiteral("2000"),
                     QStringLiteral("--batch"), QStringLiteral("256")});
        mustSucceed({QStringLiteral("train-sae"), QStringLiteral("@ws"), QStringLiteral("--hook"),
                     QString::fromLatin1(kHook), QStringLiteral("--features"), QStringLiteral("32"),
                     QStringLiteral("--tokens"), QStringLiteral("1000"), QStringLiteral("--batch"),
                     QStringLiteral("256")});
        mustSucceed({QStringLiteral("analyze"), QStringLiteral("@ws"), QStringLiteral("--sae"),
                     QStringLiteral("@ws/saes/topk-64"), QStringLiteral("--tokens"),
                     QStringLiteral("1500"), QStringLiteral("--no-model")});
        mono::test::writeFile(
            at(QStringLiteral("ws/saes/relu-32/eval.json")).toStdString(),
            "{\"tokens\": 100, \"l0\": null, \"explained_variance\": null, "
            "\"ce_loss_recovered\": null, \"delta_loss\": null, \"dead_pct\": 0}\n");
        fs::create_symlink("ws/features/topk-64.sqlite",
                           at(QStringLiteral("store-link.json")).toStdString());
    }

    void refused_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QStringList>("mentions");
        QTest::addColumn<QStringList>("untouched");
        const QString store = QStringLiteral("ws/features/topk-64.sqlite");
        const QString sae = QStringLiteral("ws/saes/topk-64");
        const QString hook = QString::fromLatin1(kHook);
        auto row = [](const char* name, const QString& args, const QStringList& mentions,
                      const QStringList& untouched) {
            QTest::newRow(name) << args.split(QLatin1Char(' ')) << mentions << untouched;
        };

        // Aborts from uncaught exceptions, and invalid numbers reaching arithmetic.
        row("abort/bad_alloc: train-sae --features 1e9",
            "train-sae @ws --hook " + hook + " --features 1000000000 --tokens 1000",
            {"--features 1000000000", "GiB"}, {"ws"});
        if (m_haveGpt2)
            row("abort/filesystem_error: symlink loop in a model folder", "info @loop",
                {"model.safetensors"}, {"loop"});
        row("abort/json type error: eval.json with null metrics", "summary @ws",
            {"eval.json", "'l0' is null"}, {"ws/saes"});
        row("abort/zero: capture --batch 0",
            "capture @model.bin --corpus @corpus.txt --hook " + hook + " --out @ws --batch 0",
            {"--batch"}, {"ws"});
        row("abort/zero: train-sae --features 0", "train-sae @ws --hook " + hook + " --features 0",
            {"--features"}, {"ws"});
        row("abort/zero: analyze --context 0", "analyze @ws --sae @" + sae + " --context 0",
            {"--context"}, {store});
        row("abort/range: analyze --features beyond the SAE",
            "analyze @ws --sae @" + sae + " --features 10:100000",
            {"--features 10:100000", "the SAE's features"}, {store});
        row("abort/range: analyze --neighbours of an unknown kind",
            "analyze @ws --sae @" + sae + " --neighbours fast", {"--neighbours fast"}, {store});
        row("abort/zero: train-lm --heads 0", "train-lm --corpus @corpus.txt --out @lm --heads 0",
            {"--heads"}, {"corpus.txt"});

        // Blocking on special files.
        row("hang/FIFO as the model", "info @fifo.bin", {"fifo.bin", "FIFO"}, {});
        row("hang/FIFO as the tokenizer",
            "generate @model.bin --tokenizer @fifo.bin --prompt Once -n 2", {"fifo.bin"}, {});
        row("hang/FIFO as the corpus",
            "capture @model.bin --corpus @fifo.bin --hook " + hook + " --out @ws", {"fifo.bin"},
            {"ws"});
        row("hang/FIFO without a reader as the output", "export @" + store + " --csv @fifo.out",
            {"fifo.out", "no process is reading"}, {store});

        // Writing over what the user has.
        row("overwrite/output is the input: export STORE --csv STORE",
            "export @" + store + " --csv @" + store, {"same file as the input"}, {store});
        row("overwrite/output is a symlink to the input",
            "export @" + store + " --json @store-link.json", {"store-link.json"},
            {store, "store-link.json"});
        row("overwrite/output is the model: logits --out MODEL",
            "logits @model.bin --tokens 1,2,3 --out @model.bin", {"model.bin"}, {"model.bin"});
        row("overwrite/output is a folder", "export @" + store + " --csv @ws", {"is a folder"},
            {"ws"});
        row("overwrite/analyze with fewer tokens discards a larger analysis",
            "analyze @ws --sae @" + sae + " --tokens 500 --no-model", {"--fresh", "1500"}, {store});
        row("overwrite/train-sae over a trained SAE",
            "train-sae @ws --hook " + hook + " --features 64 --arch topk --k 8 --tokens 1000",
            {"--force", "topk-64"}, {sae});
        row("overwrite/train-sae into its own activations",
            "train-sae --activations @ws/activations/" + hook + " --out @ws/activations/" + hook +
                " --features 16",
            {"is the input"}, {"ws/activations"});

        // Mixed provenance.
        row("provenance/capture resumes with another corpus",
            "capture @model.bin --corpus @other.txt --hook " + hook +
                " --out @ws --tokens 4000 "
                "--ctx 64",
            {"other.txt", "--restart"}, {"ws"});
        row("provenance/capture adds a hook to a captured one",
            "capture @model.bin --corpus @corpus.txt --hook " + hook +
                " --hook blocks.1.hook_resid_post --out @ws --tokens 4000 --ctx 64",
            {"blocks.1.hook_resid_post", "--restart"}, {"ws"});
        row("provenance/capture resumes over a truncated shard",
            "capture @model.bin --corpus @corpus.txt --hook " + hook +
                " --out @ws3 --tokens 4000 --ctx 64",
            {"shard_00000.acts.npy", "--restart"}, {"ws3"});
        row("provenance/capture resumes over a deleted shard",
            "capture @model.bin --corpus @corpus.txt --hook " + hook +
                " --out @ws4 --tokens 4000 --ctx 64",
            {"shard_00000.tokens.npy"}, {"ws4"});

        // Silent nonsense instead of an error.
        row("nonsense/NaN weight", "generate @nan/model.bin --prompt Once -n 2",
            {"NaN", "token_embd.weight", "model.bin"}, {"nan"});
        row("nonsense/text file named .gguf", "info @text.gguf", {"text.gguf", "GGUF"},
            {"text.gguf"});
        if (m_haveGpt2)
            row("nonsense/config with fewer layers than the checkpoint", "info @few",
                {"config.json", "3 layers", "h.3."}, {"few"});
        row("nonsense/SAE at another hook",
            "analyze @ws --sae @" + sae + " --hook " + QString::fromLatin1(kOtherHook) +
                " --no-model",
            {"--any-hook", hook}, {"ws/features"});
        row("nonsense/SAE on a hook of another width",
            "eval-sae @model.bin --sae @" + sae +
                " --corpus @corpus.txt --any-hook --hook blocks.2.mlp.hook_post",
            {"width", "topk-64"}, {sae});
        row("nonsense/unknown quality metric",
            "eval-sae @model.bin --sae @" + sae + " --corpus @corpus.txt --metrics kl,shrink",
            {"shrink", "decoder-cosine"}, {sae});
        row("nonsense/store built for another SAE",
            "analyze @ws --sae @ws/saes/relu-32 --out @" + store + " --no-model",
            {"another SAE", "topk-64.sqlite"}, {store});
        row("nonsense/feature map of a store built for another SAE",
            "feature-map @" + store + " --sae @ws/saes/relu-32", {"another SAE", "topk-64.sqlite"},
            {store});
        row("nonsense/feature map of a missing store", "feature-map @no-store.sqlite --sae @" + sae,
            {"no-store.sqlite", "no such feature store"}, {"no-store.sqlite"});
        row("nonsense/steering values from another SAE's store",
            "steer @model.bin --sae @ws/saes/relu-32 --features @" + store +
                " --feature 3=2x --prompt Once -n 2",
            {"another SAE", "topk-64.sqlite"}, {store});
        row("nonsense/empty corpus",
            "capture @model.bin --corpus @empty.txt --hook " + hook + " --out @ws-empty",
            {"empty.txt"}, {"empty.txt"});
        row("nonsense/negative: train-sae --tokens -1",
            "train-sae @ws --hook " + hook + " --features 16 --out @sae-neg --tokens -1",
            {"--tokens", "-1"}, {"ws"});
        row("nonsense/overflow: capture --tokens 2^70",
            "capture @model.bin --corpus @corpus.txt --hook " + hook +
                " --out @ws --tokens 1180591620717411303424",
            {"--tokens", "out of range"}, {"ws"});
        row("nonsense/nan: train-sae --lr nan",
            "train-sae @ws --hook " + hook + " --features 16 --out @sae-nan --lr nan",
            {"--lr", "finite"}, {"ws"});
        row("nonsense/inf: generate --temperature inf",
            "generate @model.bin --prompt Once --temperature inf", {"--temperature"}, {});
        row("nonsense/trailing text: features --top 5x", "features @" + store + " --top 5x",
            {"--top", "5x"}, {store});
    }

    void refused() {
        QFETCH(QStringList, args);
        QFETCH(QStringList, mentions);
        QFETCH(QStringList, untouched);
        expectRefusal(args, mentions, untouched);
    }

    // Jobs that would mix their data: a capture, a training and an analysis
    // while another process holds the workspace for a capture; a capture while
    // a training shares it; a training of an SAE that another job holds.
    static int holdLock(const QString& lockPath, int mode, const std::string& holder) {
        const QByteArray path = lockPath.toLocal8Bit();
        const int fd = ::open(path.constData(), O_RDWR | O_CREAT, 0644);
        if (fd < 0 || ::flock(fd, mode | LOCK_NB) != 0) return -1;
        if (::ftruncate(fd, 0) != 0 ||
            ::pwrite(fd, holder.data(), holder.size(), 0) != ssize_t(holder.size()))
            return -1;
        return fd;
    }

    void concurrentWritersAreRefused() {
        const QString hook = QString::fromLatin1(kHook);
        const QStringList capture = {
            QStringLiteral("capture"),     QStringLiteral("@model.bin"), QStringLiteral("--corpus"),
            QStringLiteral("@corpus.txt"), QStringLiteral("--hook"),     hook,
            QStringLiteral("--out"),       QStringLiteral("@ws"),        QStringLiteral("--tokens"),
            QStringLiteral("4000"),        QStringLiteral("--ctx"),      QStringLiteral("64")};
        const QStringList train = QStringLiteral(
                                      "train-sae @ws --hook %1 --features 64 --arch "
                                      "topk --k 8 --tokens 1000 --force")
                                      .arg(hook)
                                      .split(QLatin1Char(' '));
        const QStringList analyse =
            QStringLiteral("analyze @ws --sae @ws/saes/topk-64 --no-model --fresh")
                .split(QLatin1Char(' '));
        const QStringList inUse = {QStringLiteral("in use by another Monoscope process"),
                                   QStringLiteral("pid 1")};
        int fd = holdLock(at(QStringLiteral("ws/.monoscope.lock")), LOCK_EX, "pid 1: capture\n");
        QVERIFY(fd >= 0);
        for (const QStringList& job : {capture, train, analyse})
            expectRefusal(job, inUse, {QStringLiteral("ws")});
        ::close(fd);

        fd = holdLock(at(QStringLiteral("ws/.monoscope.lock")), LOCK_SH, "pid 1: train-sae\n");
        QVERIFY(fd >= 0);
        expectRefusal(capture, inUse + QStringList{QStringLiteral("train-sae")},
                      {QStringLiteral("ws")});
        ::close(fd);

        fd = holdLock(at(QStringLiteral("ws/saes/topk-64/.monoscope.lock")), LOCK_EX,
                      "pid 1: analyze\n");
        QVERIFY(fd >= 0);
        expectRefusal(train, inUse + QStringList{QStringLiteral("analyze")},
                      {QStringLiteral("ws")});
        ::close(fd);
    }

    // What must still work: writing through a symlink (the link stays a link),
    // into a character device, and a capture that truly resumes.
    void outputsAreWrittenThroughLinksAndDevices() {
        const QString target = at(QStringLiteral("real.csv"));
        QVERIFY(QFile::link(target, at(QStringLiteral("link.csv"))));
        mustSucceed({QStringLiteral("export"), QStringLiteral("@ws/features/topk-64.sqlite"),
                     QStringLiteral("--csv"), QStringLiteral("@link.csv")});
        QVERIFY(QFileInfo(at(QStringLiteral("link.csv"))).isSymLink());
        QVERIFY(QFileInfo(target).size() > 0);
        mustSucceed({QStringLiteral("export"), QStringLiteral("@ws/features/topk-64.sqlite"),
                     QStringLiteral("--csv"), QStringLiteral("/dev/null")});
        struct stat st {};
        QCOMPARE(::stat("/dev/null", &st), 0);
        QVERIFY(S_ISCHR(st.st_mode));
        // /dev/stdout is a link into /proc ("pipe:[N]" here), followed by the kernel.
        const CliRun r = runCli({QStringLiteral("logits"), at(QStringLiteral("model.bin")),
                                 QStringLiteral("--tokens"), QStringLiteral("1,2"),
                                 QStringLiteral("--out"), QStringLiteral("/dev/stdout")});
        QVERIFY2(r.finished && r.code == 0, qPrintable(r.err));
        QVERIFY(r.out.contains(QStringLiteral("NUMPY")));  // the .npy magic, on stdout
    }

    // A store in a folder nobody may write (a read-only share) is still read.
    // As root, modes do not apply, so the CLI then runs as nobody via setpriv.
    void readOnlyStoreIsReadable() {
        const fs::path dir = at(QStringLiteral("ro")).toStdString();
        fs::create_directories(dir);
        copyFile(at(QStringLiteral("ws/features/topk-64.sqlite")).toStdString(), dir / "s.sqlite");
        fs::permissions(dir / "s.sqlite",
                        fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
        fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                 fs::perms::group_exec | fs::perms::others_read |
                                 fs::perms::others_exec);
        const QStringList args = {QStringLiteral("features"),
                                  QString::fromStdString((dir / "s.sqlite").string()),
                                  QStringLiteral("--top"), QStringLiteral("3")};
        QProcess p;
        if (::geteuid() == 0) {
            const QString setpriv = QStandardPaths::findExecutable(QStringLiteral("setpriv"));
            if (setpriv.isEmpty()) QSKIP("running as root without setpriv: modes do not apply");
            // nobody must reach the store: open the folders above it for traversal.
            for (fs::path up = dir.parent_path(); up != up.parent_path(); up = up.parent_path())
                if (up.string().rfind(m_dir.toStdString(), 0) == 0 ||
                    up == fs::path(m_dir.toStdString()))
                    fs::permissions(up, fs::perms::others_exec | fs::perms::group_exec,
                                    fs::perm_options::add);
            p.start(setpriv,
                    QStringList{QStringLiteral("--reuid=65534"), QStringLiteral("--regid=65534"),
                                QStringLiteral("--clear-groups"), QStringLiteral(MONO_CLI_PATH)} +
                        args);
        } else {
            p.start(QStringLiteral(MONO_CLI_PATH), args);
        }
        QVERIFY(p.waitForFinished(kCaseTimeoutMs));
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, qPrintable(err));
        QVERIFY(QString::fromUtf8(p.readAllStandardOutput()).contains(QStringLiteral("of 64")));
        QVERIFY(!fs::exists(dir / "s.sqlite-shm"));
        fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add);  // for the cleanup
    }

    // An output beside an input (eval.json in the SAE's folder) is no input: a
    // rerun may replace it.
    void rerunMayReplaceItsOwnOutputBesideAnInput() {
        const QStringList evalSae = {
            QStringLiteral("eval-sae"), QStringLiteral("@model.bin"),
            QStringLiteral("--sae"),    QStringLiteral("@ws/saes/topk-64"),
            QStringLiteral("--corpus"), QStringLiteral("@other.txt"),
            QStringLiteral("--tokens"), QStringLiteral("300"),
            QStringLiteral("--ctx"),    QStringLiteral("64"),
            QStringLiteral("--json"),   QStringLiteral("@ws/saes/topk-64/eval.json")};
        mustSucceed(evalSae);
        QVERIFY(QFileInfo::exists(at(QStringLiteral("ws/saes/topk-64/eval.json"))));
        mustSucceed(evalSae);
    }

    void captureWithTheSameCorpusResumes() {
        mustSucceed({QStringLiteral("capture"), QStringLiteral("@model.bin"),
                     QStringLiteral("--corpus"), QStringLiteral("@corpus.txt"),
                     QStringLiteral("--hook"), QString::fromLatin1(kHook), QStringLiteral("--hook"),
                     QString::fromLatin1(kOtherHook), QStringLiteral("--out"),
                     QStringLiteral("@ws"), QStringLiteral("--tokens"), QStringLiteral("3000"),
                     QStringLiteral("--ctx"), QStringLiteral("64")});
    }
};

QTEST_GUILESS_MAIN(TestCliHostile)
#include "test_cli_hostile.moc"
