// The feature store against damaged, foreign and hostile input: every case
// must give a clear error naming the file (or a normal result), never a crash,
// an SQL injection or an FTS syntax error.

#include <QtTest>

#include <sqlite3.h>

#include <filesystem>
#include <random>

#include "core/features/analysis.h"
#include "core/features/feature_store.h"
#include "tests/features/feature_test_data.h"
#include "tests/support/test_support.h"

using namespace mono;
using namespace mono::features;
namespace fs = std::filesystem;

namespace {

// A store of n features with a few examples each, written through the public API.
void writeStore(const std::string& path, int64_t n) {
    auto store = FeatureStore::open(path, FeatureStore::Mode::kReadWrite);
    if (!store.ok()) qFatal("%s", store.status().toString().c_str());
    RunInfo run;
    run.model = "m";
    run.hook = "blocks.0.hook_resid_post";
    run.saeHash = "abc";
    run.dIn = 4;
    run.dSae = n;
    run.tokensAnalysed = 1000;
    auto st = store->replaceAnalysis(run, n, [](int64_t id, FeatureRecord* r) {
        r->summary.fireCount = id;
        r->summary.density = double(id) / 1000.0;
        r->summary.maxActivation = float(id % 17);
        r->summary.meanActivation = 0.5f;
        r->histogram.binWidth = 0.25;
        r->histogram.counts = {id, 1, 2};
        for (int e = 0; e < 3; ++e) {
            Example ex;
            ex.rank = e;
            ex.row = id * 10 + e;
            ex.activation = 1.f;
            ex.tokens = {1, 2, id % 2 ? 4 : 3};  // one text per token id, as a tokenizer gives
            ex.strings = {" the", " bridge", (id % 2 ? " quote\"s" : " plain")};
            ex.values = {0.f, 1.f, 0.5f};
            ex.tokenIndex = 1;
            r->topExamples.push_back(ex);
        }
        return Status::success();
    });
    if (!st.ok()) qFatal("%s", st.toString().c_str());
}

bool mentions(const Status& st, const std::string& path) {
    return st.message().find(path) != std::string::npos;
}

}  // namespace

class TestFeatureStoreHostile : public QObject {
    Q_OBJECT
private slots:
    void missingFileAndFolder() {
        const auto dir = test::tempDir();
        const std::string path = (dir / "none.sqlite").string();
        auto r = FeatureStore::open(path, FeatureStore::Mode::kReadOnly);
        QCOMPARE(r.status().code(), StatusCode::kNotFound);
        QVERIFY(mentions(r.status(), path));
        QVERIFY(!fs::exists(path));  // read-only never creates
        auto d = FeatureStore::open(dir.string(), FeatureStore::Mode::kReadWrite);
        QVERIFY(!d.ok());
        QVERIFY(mentions(d.status(), dir.string()));
    }

    void randomBytesAreNotAStore() {
        const auto dir = test::tempDir();
        const std::string path = (dir / "random.sqlite").string();
        std::mt19937 rng(1);
        std::string bytes(8192, '\0');
        for (char& c : bytes) c = static_cast<char>(rng());
        test::writeFile(path, bytes);
        for (auto mode : {FeatureStore::Mode::kReadOnly, FeatureStore::Mode::kReadWrite}) {
            auto r = FeatureStore::open(path, mode);
            QCOMPARE(r.status().code(), StatusCode::kCorruption);
            QVERIFY(mentions(r.status(), path));
        }
        QCOMPARE(test::readFile(path), bytes);  // untouched
        // A text file that happens to be short.
        test::writeFile(path, "hello");
        QCOMPARE(FeatureStore::open(path, FeatureStore::Mode::kReadOnly).status().code(),
                 StatusCode::kCorruption);
    }

    void truncatedStoreIsCorrupt() {
        const auto dir = test::tempDir();
        const std::string path = (dir / "f.sqlite").string();
        writeStore(path, 400);
        const std::string good = test::readFile(path);
        QVERIFY(good.size() > 40000);
        test::writeFile(path, good.substr(0, good.size() / 2));
        auto r = FeatureStore::open(path, FeatureStore::Mode::kReadOnly);
        QCOMPARE(r.status().code(), StatusCode::kCorruption);
        QVERIFY(mentions(r.status(), path));
        QVERIFY2(r.status().message().find("truncated") != std::string::npos,  // either check
                 r.status().message().c_str());
    }

    void damagedPagesGiveErrorsNotCrashes() {
        const auto dir = test::tempDir();
        const std::string path = (dir / "f.sqlite").string();
        writeStore(path, 400);
        std::string bytes = test::readFile(path);
        std::mt19937 rng(7);
        for (size_t i = 8192; i < bytes.size(); i += 4096)  // scribble over part of every page
            for (size_t k = 100; k < 400 && i + k < bytes.size(); ++k) bytes[i + k] = char(rng());
        test::writeFile(path, bytes);
        auto r = FeatureStore::open(path, FeatureStore::Mode::kReadOnly);
        if (!r.ok()) {
            QVERIFY(mentions(r.status(), path));
            return;
        }
        int errors = 0;
        PageRequest req;
        req.sort = SortKey::kDensity;
        auto page = r->page(req);
        if (!page.ok()) {
            ++errors;
            QVERIFY(mentions(page.status(), path));
        }
        for (int64_t id = 0; id < 400; id += 37) {
            auto rec = r->feature(id);
            if (!rec.ok()) {
                ++errors;
                QVERIFY(mentions(rec.status(), path));
            }
        }
        auto hits = r->search("bridge");
        if (!hits.ok()) ++errors;
        QVERIFY2(errors > 0, "scribbled pages should be noticed");
    }

    void foreignSqliteDatabaseIsRefusedAndUntouched() {
        const auto dir = test::tempDir();
        const std::string path = (dir / "other.db").string();
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
        QCOMPARE(sqlite3_exec(db, "CREATE TABLE features(x); INSERT INTO features VALUES(1);",
                              nullptr, nullptr, nullptr),
                 SQLITE_OK);
        sqlite3_close(db);
        const std::string before = test::readFile(path);
        for (auto mode : {FeatureStore::Mode::kReadOnly, FeatureStore::Mode::kReadWrite}) {
            auto r = FeatureStore::open(path, mode);
            QCOMPARE(r.status().code(), StatusCode::kInvalidArgument);
            QVERIFY(mentions(r.status(), path));
            QVERIFY(r.status().message().find("not a Monoscope feature store") !=
                    std::string::npos);
        }
        QCOMPARE(test::readFile(path), before);
        // Analysis into it fails before doing any work.
        const auto data = test::writeSyntheticStore((dir / "acts").string(), 1, 64, 4, 10, 1);
        const sae::Sae sae = test::randomSae(4, 6, 2);
        auto reader = acts::ActivationStoreReader::open(data.dir);
        AnalysisInputs in;
        in.store = &*reader;
        in.sae = &sae;
        auto res = analyze(in, AnalysisSpec{}, path, Progress{}, StopToken{});
        QVERIFY(!res.ok());
        QVERIFY(mentions(res.status(), path));
        QCOMPARE(test::readFile(path), before);
    }

    void newerSchemaIsUnsupported() {
        const auto dir = test::tempDir();
        const std::string path = (dir / "f.sqlite").string();
        writeStore(path, 3);
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
        QCOMPARE(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
        auto r = FeatureStore::open(path, FeatureStore::Mode::kReadWrite);
        QCOMPARE(r.status().code(), StatusCode::kUnsupported);
        QVERIFY(mentions(r.status(), path));
    }

    void damagedAnalysisStateStartsOver() {
        const auto dir = test::tempDir();
        const auto data = test::writeSyntheticStore((dir / "acts").string(), 2, 64, 4, 10, 3);
        const sae::Sae sae = test::randomSae(4, 6, 4);
        const std::string out = (dir / "f.sqlite").string();
        test::writeFile(out + ".analysis-state", std::string(1000, 'x'));
        auto reader = acts::ActivationStoreReader::open(data.dir);
        AnalysisInputs in;
        in.store = &*reader;
        in.sae = &sae;
        std::string said;
        Progress progress([&](const ProgressUpdate& u) {
            if (said.empty()) said = u.message;
        });
        auto res = analyze(in, AnalysisSpec{}, out, progress, StopToken{});
        MONO_VERIFY_RESULT(res);
        QCOMPARE(res->rowsResumed, int64_t(0));
        QVERIFY2(said.find("analysis-state") != std::string::npos, said.c_str());
        // A cut-short state file is detected by its checksum too.
        const std::string good = test::readFile(out + ".analysis-state");
        test::writeFile(out + ".analysis-state", good.substr(0, good.size() - 5));
        res = analyze(in, AnalysisSpec{}, out, Progress{}, StopToken{});
        MONO_VERIFY_RESULT(res);
        QCOMPARE(res->rowsResumed, int64_t(0));
    }

    void hostileSearchText_data() {
        QTest::addColumn<QString>("text");
        for (const char* t : {"\"",
                              "\"\"",
                              "'",
                              "bridge\"",
                              "\"bridge",
                              "AND",
                              "OR",
                              "NOT",
                              "bridge AND",
                              "OR bridge",
                              "NEAR(bridge the)",
                              "NEAR",
                              "*",
                              "bri*",
                              "-bridge",
                              "^bridge",
                              "bridge -the",
                              "col:bridge",
                              "examples:bridge",
                              "{examples label}: bridge",
                              "(",
                              ")",
                              "bridge)",
                              "+",
                              "; DROP TABLE features; --",
                              "'); DELETE FROM annotations; --",
                              "quote\"s",
                              "\\",
                              "%",
                              "_",
                              "\xff\xfe",
                              "a\0b",
                              "   ",
                              ""}) {
            QTest::newRow(t[0] ? t : "empty") << QString::fromUtf8(t);
        }
    }

    void hostileSearchText() {
        QFETCH(QString, text);
        static std::string path;
        if (path.empty()) {
            path = (test::tempDir() / "f.sqlite").string();
            writeStore(path, 20);
        }
        auto store = FeatureStore::open(path, FeatureStore::Mode::kReadWrite);
        MONO_VERIFY_RESULT(store);
        const std::string t = text.toStdString();
        auto hits = store->search(t);
        MONO_VERIFY_RESULT(hits);
        PageRequest req;
        req.filter.text = t;
        MONO_VERIFY_RESULT(store->page(req));
        MONO_VERIFY_OK(store->setLabel(5, t.empty() ? "x" : t));
        MONO_VERIFY_RESULT(store->search(t));
        // The tables are all still there.
        QCOMPARE(*store->featureCount(), int64_t(20));
        QCOMPARE(store->feature(5)->summary.label, t.empty() ? std::string("x") : t);
    }

    void quotedWordsStillMatch() {
        const std::string path = (test::tempDir() / "f.sqlite").string();
        writeStore(path, 20);
        auto store = FeatureStore::open(path, FeatureStore::Mode::kReadOnly);
        QCOMPARE(store->search("bridge")->size(), size_t(20));
        QCOMPARE(store->search("bri")->size(), size_t(20));       // prefix on the last word
        QCOMPARE(store->search("quote\"s")->size(), size_t(10));  // odd ids only
        QCOMPARE(store->search("\"bridge\" OR nothing")->size(), size_t(0));  // OR is a word here
        QCOMPARE(store->search("the bridge")->size(), size_t(20));
        QCOMPARE(ftsQueryFromUserText("a \"b\" *"), std::string("\"a\" \"\"\"b\"\"\"*"));
    }

    // Found by fuzz_feature_store: a store with one changed integer in its FTS5
    // index made search() ask SQLite for a gigabyte. SQLite's heap is bounded
    // now, so the query fails (or answers) without that allocation.
    void damagedSearchIndexCannotAskForAGigabyte() {
        const auto dir = test::tempDir();
        const std::string path = (dir / "damaged.sqlite").string();
        std::filesystem::copy_file(
            test::sourceDir() / "tests/features/data/fts5_gigabyte_query.sqlite", path);
        auto store = FeatureStore::open(path, FeatureStore::Mode::kReadOnly);
        MONO_VERIFY_RESULT(store);
        sqlite3_memory_highwater(1);
        (void)store->search("once upon", 10);
        QVERIFY2(sqlite3_memory_highwater(0) < (int64_t{512} << 20),
                 qPrintable(QString::number(sqlite3_memory_highwater(0))));
    }
};

QTEST_GUILESS_MAIN(TestFeatureStoreHostile)
#include "test_feature_store_hostile.moc"
