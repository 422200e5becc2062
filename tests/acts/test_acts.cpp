// Workspace manifest, activation store, shuffled reader and corpus reader.

#include <QtTest>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <random>

#include "core/acts/activation_store.h"
#include "core/acts/shuffled_provider.h"
#include "core/io/corpus.h"
#include "core/io/tensor.h"
#include "core/workspace/job_locks.h"
#include "core/workspace/workspace.h"
#include "tests/support/test_support.h"

using namespace mono;
namespace fs = std::filesystem;

namespace {

Matrix randomRows(int64_t rows, int64_t dim, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.f, 3.f);
    Matrix m(rows, dim);
    for (int64_t i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
    return m;
}

// Writes `commits` shards of `rows` rows each; token id of row r is its global index.
Matrix writeStore(const std::string& dir, io::DType dtype, int commits, int64_t rows, int64_t dim) {
    acts::StoreIndex header;
    header.hook = "blocks.0.hook_resid_post";
    header.dim = dim;
    header.dtype = dtype;
    header.contextSize = 9;
    auto writer = acts::ActivationStoreWriter::create(dir, header);
    if (!writer.ok()) qFatal("%s", writer.status().toString().c_str());
    Matrix all = randomRows(commits * rows, dim, 7);
    for (int c = 0; c < commits; ++c) {
        std::vector<int32_t> tokens(rows), docs(rows, c), pos(rows);
        for (int64_t r = 0; r < rows; ++r) {
            tokens[r] = static_cast<int32_t>(c * rows + r);
            pos[r] = static_cast<int32_t>(r % 8 + 1);
        }
        writer->append(all.row(c * rows).data(), rows, tokens.data(), docs.data(), pos.data());
        auto st = writer->commit((c + 1) * rows / 8, c + 1 == commits);
        if (!st.ok()) qFatal("%s", st.toString().c_str());
    }
    return all;
}

}  // namespace

class TestActs : public QObject {
    Q_OBJECT
private slots:
    void storeRoundTripF32() {
        const std::string dir = (test::tempDir() / "store").string();
        Matrix all = writeStore(dir, io::DType::kF32, 3, 40, 6);
        auto reader = acts::ActivationStoreReader::open(dir);
        MONO_VERIFY_RESULT(reader);
        QCOMPARE(reader->numShards(), 3);
        QCOMPARE(reader->index().rows(), int64_t(120));
        QVERIFY(reader->index().complete);
        for (int s = 0; s < 3; ++s) {
            auto shard = reader->readShard(s);
            MONO_VERIFY_RESULT(shard);
            QVERIFY(shard->acts == all.middleRows(s * 40, 40));
            QCOMPARE(shard->tokens[5], int32_t(s * 40 + 5));
            QCOMPARE(shard->docs[5], int32_t(s));
            QCOMPARE(shard->positions[9], int32_t(2));
        }
    }

    void storeRoundTripF16WithinHalfPrecision() {
        const std::string dir = (test::tempDir() / "store").string();
        Matrix all = writeStore(dir, io::DType::kF16, 2, 16, 5);
        auto reader = acts::ActivationStoreReader::open(dir);
        MONO_VERIFY_RESULT(reader);
        auto shard = reader->readShard(1);
        MONO_VERIFY_RESULT(shard);
        const Matrix expected = all.middleRows(16, 16);
        for (int64_t i = 0; i < expected.size(); ++i) {
            const float e = expected.data()[i], got = shard->acts.data()[i];
            QVERIFY2(std::abs(got - e) <= std::abs(e) * 1e-3f + 1e-4f,
                     qPrintable(QString::number(i)));
            QCOMPARE(got, io::halfToFloat(io::floatToHalf(e)));
        }
    }

    void writerResumesAfterLastCommit() {
        const std::string dir = (test::tempDir() / "store").string();
        writeStore(dir, io::DType::kF32, 2, 8, 3);
        auto writer = acts::ActivationStoreWriter::resume(dir);
        MONO_VERIFY_RESULT(writer);
        QCOMPARE(writer->index().windows, int64_t(2));
        std::vector<float> rows(3 * 4, 1.5f);
        std::vector<int32_t> ids(4, 3);
        writer->append(rows.data(), 4, ids.data(), ids.data(), ids.data());
        // Rows appended but never committed (a crash) are not in the store.
        auto before = acts::readStoreIndex(dir);
        MONO_VERIFY_RESULT(before);
        QCOMPARE(before->rows(), int64_t(16));
        MONO_VERIFY_OK(writer->commit(3, true));
        auto after = acts::ActivationStoreReader::open(dir);
        MONO_VERIFY_RESULT(after);
        QCOMPARE(after->index().rows(), int64_t(20));
        auto shard = after->readShard(2);
        MONO_VERIFY_RESULT(shard);
        QCOMPARE(shard->acts(3, 2), 1.5f);
    }

    void damagedStoresGiveClearErrors() {
        const std::string dir = (test::tempDir() / "store").string();
        writeStore(dir, io::DType::kF32, 2, 8, 3);
        const fs::path index = fs::path(dir) / "index.json";
        const std::string good = test::readFile(index);

        test::writeFile(index, "{not json");
        auto bad = acts::readStoreIndex(dir);
        QVERIFY(!bad.ok());
        QVERIFY(bad.status().message().find("index.json") != std::string::npos);

        auto j = nlohmann::json::parse(good);
        j["dtype"] = "Q4_K";
        test::writeFile(index, j.dump());
        QVERIFY(!acts::readStoreIndex(dir).ok());

        test::writeFile(index, good);
        fs::remove(fs::path(dir) / "shard_00001.tokens.npy");
        auto missing = acts::ActivationStoreReader::open(dir);
        QVERIFY(!missing.ok());
        QVERIFY(missing.status().message().find("shard_00001.tokens.npy") != std::string::npos);

        // A shard whose shape disagrees with the index.
        j = nlohmann::json::parse(good);
        j["d"] = 4;
        test::writeFile(index, j.dump());
        fs::copy_file(fs::path(dir) / "shard_00000.tokens.npy",
                      fs::path(dir) / "shard_00001.tokens.npy");
        auto reader = acts::ActivationStoreReader::open(dir);
        MONO_VERIFY_RESULT(reader);
        auto shard = reader->readShard(0);
        QVERIFY(!shard.ok());
        QVERIFY(shard.status().message().find("shard_00000.acts.npy") != std::string::npos);
    }

    void shuffledProviderCoversEveryRowOncePerEpoch() {
        const std::string dir = (test::tempDir() / "store").string();
        Matrix all = writeStore(dir, io::DType::kF32, 5, 24, 4);
        auto provider = acts::ShuffledStoreProvider::open(dir, 11, 2);
        MONO_VERIFY_RESULT(provider);
        Matrix batch(20, 4);
        std::vector<std::vector<float>> seen;
        for (int b = 0; b < 6; ++b) {  // exactly one epoch: 120 rows
            MONO_VERIFY_OK((*provider)->next(batch));
            for (int r = 0; r < 20; ++r)
                seen.emplace_back(batch.row(r).data(), batch.row(r).data() + 4);
        }
        std::vector<std::vector<float>> expected;
        for (int r = 0; r < all.rows(); ++r)
            expected.emplace_back(all.row(r).data(), all.row(r).data() + 4);
        QVERIFY(seen != expected);  // shuffled...
        std::sort(seen.begin(), seen.end());
        std::sort(expected.begin(), expected.end());
        QVERIFY(seen == expected);  // ...but every row exactly once
    }

    void shuffledProviderResumesExactly() {
        const std::string dir = (test::tempDir() / "store").string();
        writeStore(dir, io::DType::kF32, 5, 24, 4);
        auto a = acts::ShuffledStoreProvider::open(dir, 3, 2);
        MONO_VERIFY_RESULT(a);
        Matrix batch(17, 4);
        for (int b = 0; b < 4; ++b) MONO_VERIFY_OK((*a)->next(batch));
        const std::string state = (*a)->saveState();
        std::vector<Matrix> expected;
        for (int b = 0; b < 12; ++b) {  // crosses group and epoch boundaries
            MONO_VERIFY_OK((*a)->next(batch));
            expected.push_back(batch);
        }
        auto b2 = acts::ShuffledStoreProvider::open(dir, 3, 2);
        MONO_VERIFY_RESULT(b2);
        MONO_VERIFY_OK((*b2)->restoreState(state));
        for (int b = 0; b < 12; ++b) {
            MONO_VERIFY_OK((*b2)->next(batch));
            QVERIFY2(batch == expected[b], qPrintable(QStringLiteral("batch %1").arg(b)));
        }
        QVERIFY(!(*b2)->restoreState("store-v1 0 99 0").ok());
        QVERIFY(!(*b2)->restoreState("garbage").ok());
    }

    void corpusReaderSplitsDocuments() {
        const fs::path dir = test::tempDir();
        test::writeFile(dir / "a.txt", "first doc\nline two\n<|endoftext|>\nsecond doc\n");
        test::writeFile(dir / "b.jsonl",
                        "{\"text\": \"third\"}\n\n{\"text\": \"fourth\", \"id\": 4}\n");
        auto reader =
            io::CorpusReader::open({(dir / "a.txt").string(), (dir / "b.jsonl").string()});
        MONO_VERIFY_RESULT(reader);
        std::vector<std::string> docs;
        std::string doc;
        while (true) {
            auto more = reader->next(doc);
            MONO_VERIFY_RESULT(more);
            if (!*more) break;
            docs.push_back(doc);
        }
        QCOMPARE(docs.size(), size_t(4));
        QCOMPARE(QString::fromStdString(docs[0]), QStringLiteral("first doc\nline two\n"));
        QCOMPARE(QString::fromStdString(docs[1]), QStringLiteral("second doc\n"));
        QCOMPARE(QString::fromStdString(docs[3]), QStringLiteral("fourth"));

        test::writeFile(dir / "bad.jsonl", "{\"text\": \"ok\"}\n{\"txt\": 1}\n");
        auto badReader = io::CorpusReader::open({(dir / "bad.jsonl").string()});
        MONO_VERIFY_RESULT(badReader);
        MONO_VERIFY_RESULT(badReader->next(doc));
        auto bad = badReader->next(doc);
        QVERIFY(!bad.ok());
        QVERIFY(bad.status().message().find("bad.jsonl: line 2") != std::string::npos);
        QVERIFY(!io::CorpusReader::open({(dir / "missing.txt").string()}).ok());
    }

    void workspaceCreateOpenAndRefusals() {
        const fs::path root = test::tempDir();
        ws::Manifest m;
        m.modelPath = "/models/x";
        m.hooks = {"blocks.1.hook_resid_post"};
        m.contextSize = 64;
        auto created = ws::Workspace::create((root / "ws").string(), m);
        MONO_VERIFY_RESULT(created);
        auto opened = ws::Workspace::open((root / "ws").string());
        MONO_VERIFY_RESULT(opened);
        QCOMPARE(QString::fromStdString(opened->manifest().modelPath), QStringLiteral("/models/x"));
        QCOMPARE(opened->manifest().contextSize, 64);
        QVERIFY(!opened->manifest().created.empty());
        QVERIFY(opened->activationsDir("blocks.1.hook_resid_post")
                    .find("activations/blocks.1.hook_resid_post") != std::string::npos);

        // A folder of the user's is never taken over; a plain folder is not a workspace.
        fs::create_directories(root / "mine");
        test::writeFile(root / "mine" / "notes.txt", "precious");
        QVERIFY(!ws::Workspace::create((root / "mine").string(), m).ok());
        auto notWs = ws::Workspace::open((root / "mine").string());
        QVERIFY(!notWs.ok());
        QVERIFY(notWs.status().message().find("not a Monoscope workspace") != std::string::npos);
        QCOMPARE(QString::fromStdString(test::readFile(root / "mine" / "notes.txt")),
                 QStringLiteral("precious"));

        test::writeFile(root / "ws" / "monoscope.json",
                        "{\"format\": \"monoscope-workspace\", \"version\": 99}");
        auto newer = ws::Workspace::open((root / "ws").string());
        QVERIFY(!newer.ok());
        QCOMPARE(newer.status().code(), StatusCode::kUnsupported);
        test::writeFile(root / "ws" / "monoscope.json", "[1,2");
        QCOMPARE(ws::Workspace::open((root / "ws").string()).status().code(),
                 StatusCode::kCorruption);
    }

    // A capture holds its workspace alone; trainings, analyses and evaluations
    // share it with each other and hold their own SAE alone.
    void jobLocksKeepCaptureAloneAndOneJobPerSae() {
        const fs::path root = test::tempDir() / "locks";
        auto w = ws::Workspace::create(root.string(), ws::Manifest{});
        MONO_VERIFY_RESULT(w);
        const std::string a = w->saeDir("a"), b = w->saeDir("b");
        QCOMPARE(ws::workspaceOfActivations(w->activationsDir("blocks.0.hook_resid_post")),
                 fs::absolute(root).lexically_normal().string());
        QVERIFY(ws::workspaceOfActivations((root / "saes").string()).empty());
        {
            auto train = ws::lockForSaeJob(root.string(), a, "train");
            MONO_VERIFY_RESULT(train);
            QVERIFY(fs::is_directory(a));  // made for its lock
            auto analyseOther = ws::lockForSaeJob(root.string(), b, "analyse");
            MONO_VERIFY_RESULT(analyseOther);
            auto analyseSame = ws::lockForSaeJob(root.string(), a, "analyse");
            QVERIFY(!analyseSame.ok());
            QVERIFY(analyseSame.status().message().find("in use by another Monoscope process") !=
                    std::string::npos);
            QVERIFY(analyseSame.status().message().find(": train") != std::string::npos);
            auto capture = ws::lockForCapture(root.string());
            QVERIFY(!capture.ok());
            QVERIFY(capture.status().message().find(root.string()) != std::string::npos);
        }
        {
            auto capture = ws::lockForCapture(root.string());
            MONO_VERIFY_RESULT(capture);
            auto train = ws::lockForSaeJob(root.string(), a, "train");
            QVERIFY(!train.ok());
            QVERIFY(train.status().message().find("capture") != std::string::npos);
            QVERIFY(!ws::lockForCapture(root.string()).ok());
        }
        MONO_VERIFY_RESULT(ws::lockForCapture(root.string()));  // all released
        // Outside a workspace only the SAE is locked.
        const std::string loose = (test::tempDir() / "loose-sae").string();
        auto first = ws::lockForSaeJob("", loose, "train-sae");
        MONO_VERIFY_RESULT(first);
        QVERIFY(!ws::lockForSaeJob("", loose, "train-sae").ok());
    }

    // Paths given on a command line map back onto the same layout the workspace hands out.
    void workspaceLayoutFromAnSaeFolder() {
        const fs::path root = test::tempDir() / "layout";
        auto w = ws::Workspace::create(root.string(), ws::Manifest{});
        MONO_VERIFY_RESULT(w);
        QVERIFY(ws::isWorkspace(root.string()));
        QVERIFY(!ws::isWorkspace((root / "saes").string()));
        QVERIFY(!ws::isWorkspace((root / ws::kManifestFile).string()));

        const std::string sae = w->saeDir("topk-64");
        QCOMPARE(fs::path(sae).parent_path().string(), w->saesDir());
        QCOMPARE(ws::saeNameOf(sae), std::string("topk-64"));
        QCOMPARE(ws::saeNameOf(sae + "/"), std::string("topk-64"));
        QCOMPARE(fs::path(ws::featureStoreBesideSae(sae + "/")).lexically_normal().string(),
                 fs::path(w->featureStorePath("topk-64")).lexically_normal().string());
        QCOMPARE(fs::path(w->saeEvalPath("topk-64")).parent_path().string(), sae);
        QCOMPARE(fs::path(w->calibrationPath()).parent_path().string(), w->quantDir());
        // An SAE folder outside a workspace's saes/ has no store beside it.
        QCOMPARE(ws::featureStoreBesideSae((root / "elsewhere" / "topk-64").string()),
                 std::string());
        QCOMPARE(ws::featureStoreBesideSae("saes/res6"), std::string("features/res6.sqlite"));
    }
};

QTEST_GUILESS_MAIN(TestActs)
#include "test_acts.moc"
