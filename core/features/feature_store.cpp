// The SQLite feature store. Schema and its rationale: docs/FEATURE_STORE.md.

#include "core/features/feature_store.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/base/file_checks.h"
#include "core/base/text.h"
#include "core/base/version.h"
#include "core/features/sqlite_util.h"
#include "core/features/store_codec.h"
#include "core/features/store_schema.h"
#include "core/features/store_v1.h"
#include "core/features/token_texts.h"

namespace mono::features {
namespace {

using sql::Stmt;
using sql::Transaction;

// PRAGMA application_id: "MONO" in ASCII, so foreign databases are recognised.
constexpr int32_t kApplicationId = 0x4D4F4E4F;

Status checkHeader(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::ioError(path + ": cannot be read");
    char head[16] = {};
    in.read(head, sizeof head);
    const auto got = in.gcount();
    if (got == 0) return Status::success();  // empty: a new database
    if (got < 16 || std::memcmp(head, "SQLite format 3", 16) != 0)
        return Status::corruption(path +
                                  ": not an SQLite database (expected the header \"SQLite "
                                  "format 3\", found other bytes)");
    return Status::success();
}

Result<int64_t> pragmaInt(sqlite3* db, const std::string& path, const char* pragma) {
    MONO_ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(db, path, std::string("PRAGMA ") + pragma));
    MONO_ASSIGN_OR_RETURN(bool row, s.step());
    return row ? s.int64(0) : int64_t(0);
}

Result<int64_t> countObjects(sqlite3* db, const std::string& path) {
    MONO_ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(db, path, "SELECT count(*) FROM sqlite_master"));
    MONO_ASSIGN_OR_RETURN(bool row, s.step());
    return row ? s.int64(0) : int64_t(0);
}

std::string joinStrings(const std::vector<std::string>& parts, size_t begin, size_t end) {
    std::string out;
    for (size_t i = begin; i < end && i < parts.size(); ++i) out += parts[i];
    return out;
}

std::string snippetOf(const Example& e) {
    if (e.strings.empty()) return {};
    const size_t t =
        static_cast<size_t>(std::clamp<int>(e.tokenIndex, 0, int(e.strings.size()) - 1));
    const size_t from = t >= 4 ? t - 4 : 0;
    std::string s = joinStrings(e.strings, from, t) + "\u00AB" + e.strings[t] + "\u00BB" +
                    joinStrings(e.strings, t + 1, t + 3);
    for (char& c : s)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    return s;
}

void summaryFromRow(const Stmt& s, FeatureSummary* out) {
    out->id = s.int64(0);
    out->fireCount = s.int64(1);
    out->density = s.real(2);
    out->maxActivation = static_cast<float>(s.real(3));
    out->meanActivation = static_cast<float>(s.real(4));
    out->label = s.isNull(5) ? std::string() : s.text(5);
    out->topSnippet = s.text(6);
}

constexpr const char* kSummaryColumns =
    "f.id, f.fire_count, f.density, f.max_act, f.mean_act, a.label, f.top_snippet";

// Adds feature `id`'s row of search_content to search_fts, or with `remove`
// takes it out (FTS5's 'delete' needs the values it was indexed with). An id
// that search_content does not have is not in the index either.
Status indexSearchRow(sqlite3* db, const std::string& path, int64_t id, bool remove) {
    MONO_ASSIGN_OR_RETURN(Stmt get, Stmt::prepare(db, path,
                                                  "SELECT examples, label, notes FROM "
                                                  "search_content WHERE id = ?"));
    get.bind(1, id);
    MONO_ASSIGN_OR_RETURN(bool row, get.step());
    if (!row) return Status::success();
    MONO_ASSIGN_OR_RETURN(
        Stmt put, Stmt::prepare(db, path,
                                remove ? "INSERT INTO search_fts(search_fts, rowid, examples, "
                                         "label, notes) VALUES('delete', ?, ?, ?, ?)"
                                       : "INSERT INTO search_fts(rowid, examples, label, notes) "
                                         "VALUES(?, ?, ?, ?)"));
    put.bind(1, id);
    for (int c = 0; c < 3; ++c) put.bind(c + 2, std::string_view(get.text(c)));
    return put.run();
}

// ---- the analysis writer ----------------------------------------------------

// A feature's user annotation, which analysis keeps.
struct Annotation {
    std::string label, notes;
};
using Annotations = std::map<int64_t, Annotation>;

// The annotations of features [begin, end).
Result<Annotations> readAnnotations(sqlite3* db, const std::string& path, int64_t begin = 0,
                                    int64_t end = INT64_MAX) {
    Annotations out;
    MONO_ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(db, path,
                                                "SELECT feature, label, notes FROM annotations "
                                                "WHERE feature >= ? AND feature < ?"));
    s.bind(1, begin);
    s.bind(2, end);
    while (true) {
        MONO_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        out[s.int64(0)] = {s.text(1), s.text(2)};
    }
    return out;
}

// Density histogram: 0.1-decade bins from the floor of the smallest log10 density.
nlohmann::json densityHistogramJson(const std::vector<double>& logDensities, int64_t dead) {
    const double width = 0.1;
    double lo = 0;
    std::vector<int64_t> counts;
    if (!logDensities.empty()) {
        lo = std::floor(*std::min_element(logDensities.begin(), logDensities.end()));
        const double hi = *std::max_element(logDensities.begin(), logDensities.end());
        const auto n = static_cast<size_t>(std::floor((hi - lo) / width)) + 1;
        counts.assign(n, 0);
        for (double d : logDensities)
            ++counts[std::min(n - 1, static_cast<size_t>(std::floor((d - lo) / width)))];
    }
    return {{"lo", lo}, {"width", width}, {"counts", counts}, {"dead", dead}};
}

// Writes the computed tables of one analysis (schema version 2), feature by
// feature, inside the caller's transaction; the tables that need every
// feature (token texts, run info with the density histogram) are written by
// finish(). search_fts gets a row for every feature and every annotated id,
// with exactly the text search_content rebuilds for it (the token texts here
// are those written to token_text, first one wins), so that annotate() can
// later delete a row by its content.
class AnalysisWriter {
public:
    AnalysisWriter(sqlite3* db, std::string path, Annotations annotations)
        : m_db(db), m_path(std::move(path)), m_annotations(std::move(annotations)) {}

    Status prepare() {
        MONO_ASSIGN_OR_RETURN(m_insFeature,
                              Stmt::prepare(m_db, m_path,
                                            "INSERT INTO features(id, fire_count, density, "
                                            "max_act, mean_act, top_snippet) "
                                            "VALUES(?, ?, ?, ?, ?, ?)"));
        MONO_ASSIGN_OR_RETURN(m_insData,
                              Stmt::prepare(m_db, m_path,
                                            "INSERT INTO feature_data(feature, hist_width, "
                                            "interval_width, hist, logits, related, examples) "
                                            "VALUES(?, ?, ?, ?, ?, ?, ?)"));
        MONO_ASSIGN_OR_RETURN(m_insFts,
                              Stmt::prepare(m_db, m_path,
                                            "INSERT INTO search_fts(rowid, examples, label, "
                                            "notes) VALUES(?, ?, ?, ?)"));
        return Status::success();
    }

    // Extending a store: the token texts already stored win (the kept
    // features' examples read them), and the density histogram counts the
    // kept features too.
    Status loadKept() {
        MONO_ASSIGN_OR_RETURN(Stmt texts,
                              Stmt::prepare(m_db, m_path, "SELECT token, text FROM token_text"));
        while (true) {
            MONO_ASSIGN_OR_RETURN(bool row, texts.step());
            if (!row) break;
            m_texts.emplace(static_cast<int32_t>(texts.int64(0)), texts.text(1));
        }
        MONO_ASSIGN_OR_RETURN(
            Stmt dens, Stmt::prepare(m_db, m_path, "SELECT fire_count, density FROM features"));
        while (true) {
            MONO_ASSIGN_OR_RETURN(bool row, dens.step());
            if (!row) break;
            noteDensity(dens.int64(0), dens.real(1));
        }
        return Status::success();
    }

    Status putFeature(int64_t id, const FeatureRecord& rec) {
        MONO_RETURN_IF_ERROR(putSummary(id, rec));
        std::string topText;  // the top examples' text, for search
        for (const Example& e : rec.topExamples) topText += windowText(e) + '\n';
        for (const Example& e : rec.intervalExamples) noteTexts(e);
        for (const auto* list : {&rec.positiveLogits, &rec.negativeLogits})
            for (const LogitEffect& l : *list) m_texts.emplace(l.token, sanitizeUtf8(l.text));
        const std::string hist = codec::encodeCounts(rec.histogram.counts);
        const std::string logits = codec::encodeLogits(rec.positiveLogits, rec.negativeLogits);
        const std::string related = codec::encodeRelated(rec.neighbours, rec.coFiring);
        const std::string examples = codec::encodeExamples(rec.topExamples, rec.intervalExamples);
        m_insData.bind(1, id);
        m_insData.bind(2, rec.histogram.binWidth);
        m_insData.bind(3, static_cast<double>(rec.intervalBinWidth));
        m_insData.bindBlob(4, hist.data(), hist.size());
        m_insData.bindBlob(5, logits.data(), logits.size());
        m_insData.bindBlob(6, related.data(), related.size());
        m_insData.bindBlob(7, examples.data(), examples.size());
        MONO_RETURN_IF_ERROR(m_insData.run());
        return putSearchText(id, topText);
    }

    // After the last feature.
    Status finish(const RunInfo& run) {
        // Annotations of ids this analysis does not have stay searchable.
        for (const auto& [id, a] : m_annotations)
            MONO_RETURN_IF_ERROR(insertSearchRow(id, "", a.label, a.notes));
        MONO_RETURN_IF_ERROR(putTokenTexts());
        return putRunInfo(run);
    }

private:
    Status putSummary(int64_t id, const FeatureRecord& rec) {
        const FeatureSummary& sm = rec.summary;
        noteDensity(sm.fireCount, sm.density);
        std::string snippet = sm.topSnippet;
        if (snippet.empty() && !rec.topExamples.empty()) snippet = snippetOf(rec.topExamples[0]);
        m_insFeature.bind(1, id);
        m_insFeature.bind(2, sm.fireCount);
        m_insFeature.bind(3, sm.density);
        m_insFeature.bind(4, static_cast<double>(sm.maxActivation));
        m_insFeature.bind(5, static_cast<double>(sm.meanActivation));
        m_insFeature.bind(6, std::string_view(sanitizeUtf8(snippet)));
        return m_insFeature.run();
    }

    void noteDensity(int64_t fireCount, double density) {
        if (fireCount > 0)
            m_logDensities.push_back(std::log10(density));
        else
            ++m_dead;
    }

    // Records the example's token texts (a token without a string keeps the
    // "[id]" that reads give it, so the search text stays what is stored).
    void noteTexts(const Example& e) {
        for (size_t t = 0; t < e.tokens.size(); ++t) {
            if (m_texts.count(e.tokens[t])) continue;
            m_texts.emplace(e.tokens[t],
                            t < e.strings.size()
                                ? sanitizeUtf8(e.strings[t])
                                : std::string("[").append(std::to_string(e.tokens[t])).append("]"));
        }
    }

    // The window's text as the store will rebuild it from token_text.
    std::string windowText(const Example& e) {
        noteTexts(e);
        std::string text;
        for (int32_t t : e.tokens) text += m_texts.at(t);
        return text;
    }

    // The feature's search row: its top examples' text and its annotation, if any.
    Status putSearchText(int64_t id, const std::string& topText) {
        auto ann = m_annotations.find(id);
        if (ann == m_annotations.end()) return insertSearchRow(id, topText, "", "");
        MONO_RETURN_IF_ERROR(insertSearchRow(id, topText, ann->second.label, ann->second.notes));
        m_annotations.erase(ann);
        return Status::success();
    }

    Status insertSearchRow(int64_t id, std::string_view examples, std::string_view label,
                           std::string_view notes) {
        m_insFts.bind(1, id);
        m_insFts.bind(2, examples);
        m_insFts.bind(3, label);
        m_insFts.bind(4, notes);
        return m_insFts.run();
    }

    Status putTokenTexts() {
        MONO_ASSIGN_OR_RETURN(
            Stmt ins, Stmt::prepare(m_db, m_path,
                                    "INSERT OR IGNORE INTO token_text(token, text) VALUES(?, ?)"));
        for (const auto& [token, text] : m_texts) {
            ins.bind(1, static_cast<int64_t>(token));
            ins.bind(2, std::string_view(text));
            MONO_RETURN_IF_ERROR(ins.run());
        }
        return Status::success();
    }

    Status putRunInfo(const RunInfo& run) {
        MONO_ASSIGN_OR_RETURN(
            Stmt ins, Stmt::prepare(m_db, m_path, "INSERT INTO meta(key, value) VALUES(?, ?)"));
        const std::pair<const char*, std::string> meta[] = {
            {"model", run.model},
            {"hook", run.hook},
            {"sae_path", run.saePath},
            {"sae_hash", run.saeHash},
            {"d_in", std::to_string(run.dIn)},
            {"d_sae", std::to_string(run.dSae)},
            {"tokens_analysed", std::to_string(run.tokensAnalysed)},
            {"features_analysed",
             std::to_string(static_cast<int64_t>(m_logDensities.size()) + m_dead)},
            {"settings", run.settingsJson.empty() ? "{}" : run.settingsJson},
            {"date", run.date.empty() ? isoNowUtc() : run.date},
            {"version", run.version.empty() ? std::string(kVersion) : run.version},
            {"density_histogram", densityHistogramJson(m_logDensities, m_dead).dump()},
        };
        for (const auto& [k, v] : meta) {
            ins.bind(1, k);
            ins.bind(2, std::string_view(sanitizeUtf8(v)));
            MONO_RETURN_IF_ERROR(ins.run());
        }
        return Status::success();
    }

    sqlite3* m_db;
    std::string m_path;
    Annotations m_annotations;  // those not yet in search_fts
    Stmt m_insFeature, m_insData, m_insFts;
    std::vector<double> m_logDensities;  // of the live features
    int64_t m_dead = 0;
    // token id → sanitized text, shared by all examples (becomes token_text, in id order)
    std::map<int32_t, std::string> m_texts;
};

}  // namespace

std::string ftsQueryFromUserText(const std::string& text) {
    // Split on whitespace; keep only words with a letter or digit (FTS5's
    // unicode61 tokenizer drops everything else, so a bare "*" or "-" would
    // become an empty phrase). Quoting makes AND/OR/NEAR/^/* literal.
    std::vector<std::string> words;
    std::string cur;
    auto flush = [&] {
        bool searchable = false;
        for (unsigned char c : cur)
            if (std::isalnum(c) || c >= 0x80) searchable = true;
        if (searchable) words.push_back(cur);
        cur.clear();
    };
    for (char c : sanitizeUtf8(text)) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')
            flush();
        else
            cur.push_back(c);
    }
    flush();
    std::string q;
    for (size_t i = 0; i < words.size(); ++i) {
        if (i) q += ' ';
        q += '"';
        for (char c : words[i]) {
            if (c == '"') q += '"';
            q += c;
        }
        q += '"';
        if (i + 1 == words.size()) q += '*';
    }
    return q;
}

// ---- open -------------------------------------------------------------------

// A WAL database needs its -shm file even to be read; in a folder this process
// cannot write (a read-only share, a store handed over with 0444 modes), SQLite
// cannot make one and refuses to open. Such a store, when no -wal file holds
// pages of it, is opened immutable: read without locks, which is right for a
// file nobody here can change.
namespace {
std::string readOnlyUri(const std::string& path) {
    const std::string folder = std::filesystem::path(path).parent_path().string();
    if (::access(path.c_str(), W_OK) == 0 &&
        ::access(folder.empty() ? "." : folder.c_str(), W_OK) == 0)
        return path;
    // Committed pages still in a -wal file would be ignored by an immutable open.
    std::error_code ec;
    if (std::filesystem::file_size(path + "-wal", ec) > 0 && !ec) return path;
    std::string uri = "file:";
    for (const char c : path) {
        if (c == '%' || c == '?' || c == '#') {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
            uri += hex;
        } else {
            uri += c;
        }
    }
    return uri + "?immutable=1";
}
}  // namespace

Result<FeatureStore> FeatureStore::open(const std::string& path, Mode mode) {
    namespace fs = std::filesystem;
    const bool readOnly = mode == Mode::kReadOnly;
    std::error_code ec;
    const bool exists = fs::exists(path, ec);
    if (readOnly && !exists) return Status::notFound(path + ": no such feature store");
    if (exists && fs::is_directory(path, ec))
        return Status::invalidArgument(path + ": is a folder, expected a feature store file");
    if (exists) MONO_RETURN_IF_ERROR(requireRegularFile(path));
    if (exists) MONO_RETURN_IF_ERROR(checkHeader(path));

    sqlite3* raw = nullptr;
    int flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    const std::string target = readOnly ? readOnlyUri(path) : path;
    if (target != path) flags |= SQLITE_OPEN_URI;
    int rc = sqlite3_open_v2(target.c_str(), &raw, flags, nullptr);
    FeatureStore store(raw, path, readOnly);  // closes on every return below
    if (rc != SQLITE_OK) return sql::error(raw, rc, path, "opening");
    sqlite3_busy_timeout(raw, 10000);
    sqlite3_extended_result_codes(raw, 1);
    // A damaged store can make SQLite (FTS5 reading a corrupt index) ask for
    // a gigabyte; bound SQLite's heap so that such a query fails with
    // SQLITE_NOMEM instead. Feature stores are the only SQLite users here.
    sqlite3_hard_heap_limit64(int64_t{512} << 20);

    MONO_ASSIGN_OR_RETURN(int64_t appId, pragmaInt(raw, path, "application_id"));
    MONO_ASSIGN_OR_RETURN(int64_t version, pragmaInt(raw, path, "user_version"));
    MONO_ASSIGN_OR_RETURN(int64_t objects, countObjects(raw, path));

    if (appId != kApplicationId) {
        if (objects > 0 || appId != 0)
            return Status::invalidArgument(
                path + ": an SQLite database, but not a Monoscope feature store (application_id " +
                std::to_string(appId) + ", expected " + std::to_string(kApplicationId) + ")");
        if (readOnly)
            return Status::invalidArgument(path +
                                           ": an empty SQLite database, not a feature store");
        version = 0;
    }
    if (readOnly && version < schema::kV1)
        return Status::invalidArgument(path + ": a feature store without tables");
    if (version > kSchemaVersion)
        return Status::unsupported(path + ": feature store schema version " +
                                   std::to_string(version) + " is newer than this Monoscope (" +
                                   std::to_string(kSchemaVersion) + ")");

    // A file cut short still has a valid header; SQLite only notices when it
    // reaches a missing page, so compare the promised size while no WAL holds pages.
    if (exists && !fs::exists(path + "-wal", ec)) {
        MONO_ASSIGN_OR_RETURN(int64_t pages, pragmaInt(raw, path, "page_count"));
        MONO_ASSIGN_OR_RETURN(int64_t pageSize, pragmaInt(raw, path, "page_size"));
        const auto size = static_cast<int64_t>(fs::file_size(path, ec));
        if (!ec && pages * pageSize > size)
            return Status::corruption(path + ": truncated: its header promises " +
                                      std::to_string(pages * pageSize) + " bytes, found " +
                                      std::to_string(size));
    }
    if (!readOnly) {
        MONO_RETURN_IF_ERROR(sql::exec(raw, path, "PRAGMA journal_mode=WAL"));
        MONO_RETURN_IF_ERROR(sql::exec(raw, path, "PRAGMA synchronous=FULL"));
    }
    // A new file gets the current schema. A version-1 store is read as it is
    // (both modes; labels and notes can be edited) and becomes version 2 in
    // the transaction of its next analysis (replaceAnalysis).
    if (version == 0) {
        Transaction tx(raw, path);
        MONO_RETURN_IF_ERROR(tx.begin());
        MONO_RETURN_IF_ERROR(schema::create(raw, path));
        const std::string stamp = "PRAGMA application_id=" + std::to_string(kApplicationId);
        MONO_RETURN_IF_ERROR(sql::exec(raw, path, stamp.c_str()));
        MONO_RETURN_IF_ERROR(tx.commit());
        version = kSchemaVersion;
    }
    store.m_schema = static_cast<int>(version);
    MONO_RETURN_IF_ERROR(TokenTexts::registerFunctions(raw, path, store.m_texts.get()));
    MONO_RETURN_IF_ERROR(sql::exec(raw, path, "PRAGMA foreign_keys=ON"));

    // Touch every table once so damage in the schema shows up here, not later.
    for (const char* table : {"meta", "features", "annotations",
                              version >= schema::kV2 ? "feature_data" : "examples"}) {
        MONO_ASSIGN_OR_RETURN(
            Stmt probe,
            Stmt::prepare(raw, path, std::string("SELECT * FROM ") + table + " LIMIT 1"));
        MONO_RETURN_IF_ERROR(probe.step().status());
    }
    return store;
}

FeatureStore::FeatureStore(sqlite3* db, std::string path, bool readOnly)
    : m_db(db),
      m_path(std::move(path)),
      m_readOnly(readOnly),
      m_texts(std::make_unique<TokenTexts>(db, m_path)) {}

FeatureStore::FeatureStore(FeatureStore&& other) noexcept
    : m_db(other.m_db),
      m_path(std::move(other.m_path)),
      m_readOnly(other.m_readOnly),
      m_schema(other.m_schema),
      m_texts(std::move(other.m_texts)),
      m_dataVersion(other.m_dataVersion) {
    other.m_db = nullptr;
}

FeatureStore& FeatureStore::operator=(FeatureStore&& other) noexcept {
    if (this != &other) {
        sqlite3_close_v2(m_db);
        m_db = other.m_db;
        m_path = std::move(other.m_path);
        m_readOnly = other.m_readOnly;
        m_schema = other.m_schema;
        m_texts = std::move(other.m_texts);
        m_dataVersion = other.m_dataVersion;
        other.m_db = nullptr;
    }
    return *this;
}

FeatureStore::~FeatureStore() {
    sqlite3_close_v2(m_db);  // before m_texts, which its SQL function uses
}

// ---- reads ------------------------------------------------------------------

Status FeatureStore::refreshCaches() const {
    // data_version changes when another connection commits (e.g. a re-analysis,
    // which may also have turned a version-1 store into version 2).
    MONO_ASSIGN_OR_RETURN(int64_t version, pragmaInt(m_db, m_path, "data_version"));
    if (version != m_dataVersion) {
        m_texts->clear();
        MONO_ASSIGN_OR_RETURN(int64_t schemaVersion, pragmaInt(m_db, m_path, "user_version"));
        m_schema = static_cast<int>(schemaVersion);
        m_dataVersion = version;
    }
    return Status::success();
}

Result<RunInfo> FeatureStore::runInfo() const {
    MONO_ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db, m_path, "SELECT key, value FROM meta"));
    std::map<std::string, std::string> kv;
    while (true) {
        MONO_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        kv[s.text(0)] = s.text(1);
    }
    if (!kv.count("sae_hash"))
        return Status::notFound(m_path + ": no analysis has been written yet");
    RunInfo r;
    r.model = kv["model"];
    r.hook = kv["hook"];
    r.saePath = kv["sae_path"];
    r.saeHash = kv["sae_hash"];
    r.dIn = std::atoll(kv["d_in"].c_str());
    r.dSae = std::atoll(kv["d_sae"].c_str());
    r.tokensAnalysed = std::atoll(kv["tokens_analysed"].c_str());
    r.featuresAnalysed =
        kv.count("features_analysed") ? std::atoll(kv["features_analysed"].c_str()) : r.dSae;
    r.settingsJson = kv["settings"];
    r.date = kv["date"];
    r.version = kv["version"];
    return r;
}

Result<int64_t> FeatureStore::featureCount() const {
    MONO_ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db, m_path, "SELECT count(*) FROM features"));
    MONO_ASSIGN_OR_RETURN(bool row, s.step());
    return row ? s.int64(0) : int64_t(0);
}

Result<DensityHistogram> FeatureStore::densityHistogram() const {
    MONO_ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db, m_path,
                                                "SELECT value FROM meta WHERE key = "
                                                "'density_histogram'"));
    MONO_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return Status::notFound(m_path + ": no analysis has been written yet");
    auto j = nlohmann::json::parse(s.text(0), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j["counts"].is_array())
        return Status::corruption(m_path + ": meta 'density_histogram': expected a JSON object");
    DensityHistogram h;
    h.lo = j.value("lo", 0.0);
    h.width = j.value("width", 0.0);
    h.dead = j.value("dead", int64_t(0));
    for (const auto& c : j["counts"]) h.counts.push_back(c.is_number() ? c.get<int64_t>() : 0);
    return h;
}

Result<DensityHistogram> FeatureStore::densityHistogram(const FeatureFilter& filter) const {
    MONO_ASSIGN_OR_RETURN(DensityHistogram h, densityHistogram());
    std::fill(h.counts.begin(), h.counts.end(), int64_t(0));
    h.dead = 0;
    PageRequest req;
    req.filter = filter;
    req.limit = 50'000;
    for (;;) {
        MONO_ASSIGN_OR_RETURN(FeaturePage page, this->page(req));
        for (const FeatureSummary& row : page.rows) {
            if (row.fireCount == 0 || !(row.density > 0)) {
                ++h.dead;
                continue;
            }
            if (h.counts.empty() || !(h.width > 0)) continue;
            // The binning of densityHistogramJson, clamped to the stored range.
            const double bin = std::floor((std::log10(row.density) - h.lo) / h.width);
            const double last = static_cast<double>(h.counts.size() - 1);
            ++h.counts[static_cast<size_t>(std::clamp(bin, 0.0, last))];
        }
        req.offset += req.limit;
        if (page.rows.empty() || req.offset >= page.total) break;
    }
    return h;
}

Result<FeaturePage> FeatureStore::page(const PageRequest& req) const {
    std::string where = " WHERE 1";
    const FeatureFilter& f = req.filter;
    std::vector<std::function<void(Stmt&, int)>> binds;
    auto addReal = [&](const char* cond, double v) {
        where += cond;
        binds.push_back([v](Stmt& s, int i) { s.bind(i, v); });
    };
    if (f.minDensity) addReal(" AND f.density >= ?", *f.minDensity);
    if (f.maxDensity) addReal(" AND f.density <= ?", *f.maxDensity);
    if (f.minActivation) addReal(" AND f.max_act >= ?", *f.minActivation);
    if (f.maxActivation) addReal(" AND f.max_act <= ?", *f.maxActivation);
    if (f.denseOnly) addReal(" AND f.density > ?", f.denseThreshold);
    if (f.deadOnly) where += " AND f.fire_count = 0";
    if (f.aliveOnly) where += " AND f.fire_count > 0";
    if (f.hasLabel)
        where +=
            *f.hasLabel ? " AND coalesce(a.label, '') <> ''" : " AND coalesce(a.label, '') = ''";
    if (!f.text.empty()) {
        const std::string q = ftsQueryFromUserText(f.text);
        if (q.empty()) return FeaturePage{};
        where += " AND f.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH ?)";
        binds.push_back([q](Stmt& s, int i) { s.bind(i, std::string_view(q)); });
    }
    if (!f.activatingToken.empty()) {
        // The top snippet marks its strongest token as «token».
        where +=
            " AND (instr(lower(f.top_snippet), lower('«' || ? || '»')) > 0"
            " OR instr(lower(f.top_snippet), lower('« ' || ? || '»')) > 0)";
        for (int k = 0; k < 2; ++k)
            binds.push_back(
                [t = f.activatingToken](Stmt& s, int i) { s.bind(i, std::string_view(t)); });
    }
    if (!f.ids.empty()) {
        // One JSON array parameter, not one parameter per id: a lasso on the
        // feature map can hold more ids than SQLite allows parameters (32766).
        std::string list = "[";
        for (size_t k = 0; k < f.ids.size(); ++k) {
            if (k) list += ',';
            list += std::to_string(f.ids[k]);
        }
        list += ']';
        where += " AND f.id IN (SELECT value FROM json_each(?))";
        binds.push_back(
            [list = std::move(list)](Stmt& s, int i) { s.bind(i, std::string_view(list)); });
    }
    const char* dir = req.descending ? " DESC" : " ASC";
    std::string order;
    switch (req.sort) {
        case SortKey::kId:
            order = std::string(" ORDER BY f.id") + dir;
            break;
        case SortKey::kDensity:
            order = std::string(" ORDER BY f.density") + dir + ", f.id";
            break;
        case SortKey::kMaxActivation:
            order = std::string(" ORDER BY f.max_act") + dir + ", f.id";
            break;
        case SortKey::kMeanActivation:
            order = std::string(" ORDER BY f.mean_act") + dir + ", f.id";
            break;
        case SortKey::kLabel:
            // Unlabelled features last in either direction.
            order = std::string(" ORDER BY coalesce(a.label, '') = '', a.label COLLATE NOCASE") +
                    dir + ", f.id";
            break;
    }
    // Only labelled features can pass hasLabel = true: an inner join lets SQLite
    // start from the (small) annotations table. The count needs no join unless
    // the filter looks at labels.
    const bool labelled = f.hasLabel && *f.hasLabel;
    const std::string from = labelled
                                 ? " FROM annotations a JOIN features f ON a.feature = f.id"
                                 : " FROM features f LEFT JOIN annotations a ON a.feature = f.id";
    const std::string countFrom = f.hasLabel ? from : std::string(" FROM features f");
    FeaturePage page;
    {
        MONO_ASSIGN_OR_RETURN(Stmt s,
                              Stmt::prepare(m_db, m_path, "SELECT count(*)" + countFrom + where));
        for (size_t i = 0; i < binds.size(); ++i) binds[i](s, static_cast<int>(i) + 1);
        MONO_ASSIGN_OR_RETURN(bool row, s.step());
        page.total = row ? s.int64(0) : 0;
    }
    MONO_ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db, m_path,
                                                std::string("SELECT ") + kSummaryColumns + from +
                                                    where + order + " LIMIT ? OFFSET ?"));
    int n = 0;
    for (; n < static_cast<int>(binds.size()); ++n) binds[n](s, n + 1);
    s.bind(n + 1, std::max<int64_t>(0, req.limit));
    s.bind(n + 2, std::max<int64_t>(0, req.offset));
    while (true) {
        MONO_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        summaryFromRow(s, &page.rows.emplace_back());
    }
    return page;
}

Result<FeatureRecord> FeatureStore::feature(int64_t id) const {
    MONO_RETURN_IF_ERROR(refreshCaches());
    FeatureRecord rec;
    const bool v1 = m_schema < schema::kV2;
    MONO_ASSIGN_OR_RETURN(
        Stmt s, Stmt::prepare(m_db, m_path,
                              std::string("SELECT ") + kSummaryColumns +
                                  (v1 ? ", a.notes FROM features f "
                                      : ", a.notes, d.hist_width, d.interval_width, d.hist, "
                                        "d.logits, d.related, d.examples FROM features f "
                                        "LEFT JOIN feature_data d ON d.feature = f.id ") +
                                  "LEFT JOIN annotations a ON a.feature = f.id WHERE f.id = ?"));
    s.bind(1, id);
    MONO_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row)
        return Status::notFound(m_path + ": feature " + std::to_string(id) +
                                " is not in the store");
    summaryFromRow(s, &rec.summary);
    rec.notes = s.isNull(7) ? std::string() : s.text(7);
    if (v1) {
        MONO_RETURN_IF_ERROR(v1::readDetail(m_db, m_path, id, *m_texts, &rec));
        return rec;
    }
    const auto damaged = [&](const char* what) {
        return Status::corruption(m_path + ": feature " + std::to_string(id) + ": " + what +
                                  " is damaged");
    };
    if (s.isNull(8)) return damaged("feature_data row");
    rec.histogram.binWidth = s.real(8);
    rec.intervalBinWidth = static_cast<float>(s.real(9));
    if (!codec::decodeCounts(s.blob(10), &rec.histogram.counts)) return damaged("histogram");
    if (!codec::decodeLogits(s.blob(11), &rec.positiveLogits, &rec.negativeLogits))
        return damaged("logit effects blob");
    if (!codec::decodeRelated(s.blob(12), &rec.neighbours, &rec.coFiring))
        return damaged("related features blob");
    if (!codec::decodeExamples(s.blob(13), &rec.topExamples, &rec.intervalExamples))
        return damaged("examples blob");
    for (auto* list : {&rec.positiveLogits, &rec.negativeLogits})
        for (LogitEffect& e : *list) {
            MONO_ASSIGN_OR_RETURN(const std::string* text, m_texts->text(e.token));
            e.text = *text;
        }
    for (auto* list : {&rec.topExamples, &rec.intervalExamples})
        for (Example& e : *list) {
            e.strings.reserve(e.tokens.size());
            for (int32_t t : e.tokens) {
                MONO_ASSIGN_OR_RETURN(const std::string* text, m_texts->text(t));
                e.strings.push_back(*text);
            }
        }
    return rec;
}

Result<std::vector<SearchHit>> FeatureStore::search(const std::string& text, int limit) const {
    std::vector<SearchHit> hits;
    const std::string q = ftsQueryFromUserText(text);
    if (q.empty() || limit <= 0) return hits;
    MONO_RETURN_IF_ERROR(refreshCaches());  // snippets rebuild text from token_text
    // bm25 costs a lookup per matching document, so a word found in most
    // features (" the") would take far too long to rank and its ranking would
    // say little: above kMaxRanked matches, hits come in feature order, score 0.
    // Snippets are built for the hits only (snippet() tokenizes a whole document).
    constexpr int kMaxRanked = 1000;
    int64_t matches = 0;
    {
        MONO_ASSIGN_OR_RETURN(Stmt s,
                              Stmt::prepare(m_db, m_path,
                                            "SELECT count(*) FROM (SELECT rowid FROM "
                                            "search_fts WHERE search_fts MATCH ? LIMIT ?)"));
        s.bind(1, std::string_view(q));
        s.bind(2, kMaxRanked + 1);
        MONO_ASSIGN_OR_RETURN(bool row, s.step());
        matches = row ? s.int64(0) : 0;
    }
    {
        MONO_ASSIGN_OR_RETURN(
            Stmt s, Stmt::prepare(m_db, m_path,
                                  matches > kMaxRanked
                                      ? "SELECT rowid, 0.0 FROM search_fts WHERE search_fts MATCH "
                                        "? ORDER BY rowid LIMIT ?"
                                      : "SELECT rowid, -rank FROM search_fts WHERE search_fts "
                                        "MATCH ? ORDER BY rank, rowid LIMIT ?"));
        s.bind(1, std::string_view(q));
        s.bind(2, limit);
        while (true) {
            MONO_ASSIGN_OR_RETURN(bool row, s.step());
            if (!row) break;
            hits.push_back(SearchHit{s.int64(0), s.real(1), {}, {}});
        }
    }
    if (hits.empty()) return hits;
    // One more pass over the match for the snippets of the hits only (a rowid
    // constraint per hit would walk the whole match once per hit).
    std::string ids;
    std::map<int64_t, SearchHit*> byId;
    for (SearchHit& h : hits) {
        if (!ids.empty()) ids += ',';
        ids += std::to_string(h.id);
        byId[h.id] = &h;
    }
    // snippet() scores every occurrence in a document: for a word found in most
    // features that is slow and says little, so those hits show the top example.
    const std::string snipSql =
        matches > kMaxRanked
            ? "SELECT id, top_snippet FROM features WHERE ? <> '' AND id IN (" + ids + ")"
            : "SELECT rowid, snippet(search_fts, -1, '\u00AB', '\u00BB', '\u2026', 10) FROM "
              "search_fts WHERE search_fts MATCH ? AND rowid IN (" +
                  ids + ")";
    MONO_ASSIGN_OR_RETURN(Stmt snip, Stmt::prepare(m_db, m_path, snipSql));
    snip.bind(1, std::string_view(q));
    while (true) {
        MONO_ASSIGN_OR_RETURN(bool row, snip.step());
        if (!row) break;
        if (auto it = byId.find(snip.int64(0)); it != byId.end())
            it->second->snippet = snip.text(1);
    }
    MONO_ASSIGN_OR_RETURN(
        Stmt label, Stmt::prepare(m_db, m_path, "SELECT label FROM annotations WHERE feature = ?"));
    for (SearchHit& h : hits) {
        label.bind(1, h.id);
        MONO_ASSIGN_OR_RETURN(bool lrow, label.step());
        if (lrow) h.label = label.text(0);
        label.reset();
    }
    return hits;
}

// ---- writes -----------------------------------------------------------------

Status FeatureStore::setLabel(int64_t id, const std::string& label) {
    return annotate(id, &label, nullptr);
}

Status FeatureStore::setNotes(int64_t id, const std::string& notes) {
    return annotate(id, nullptr, &notes);
}

Status FeatureStore::annotate(int64_t id, const std::string* label, const std::string* notes) {
    if (m_readOnly)
        return Status::invalidArgument(m_path +
                                       ": opened read-only; labels need a read-write store");
    Transaction tx(m_db, m_path);
    MONO_RETURN_IF_ERROR(tx.begin());
    MONO_RETURN_IF_ERROR(refreshCaches());  // another writer may have converted a v1 store
    const bool v1 = m_schema < schema::kV2;
    std::string curLabel, curNotes;
    {
        MONO_ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(m_db, m_path,
                                                    "SELECT label, notes FROM annotations WHERE "
                                                    "feature = ?"));
        s.bind(1, id);
        MONO_ASSIGN_OR_RETURN(bool row, s.step());
        if (row) {
            curLabel = s.text(0);
            curNotes = s.text(1);
        }
    }
    // Version 2's index has external content: take the row out with the
    // content it was indexed with, before that content changes.
    if (!v1) MONO_RETURN_IF_ERROR(indexSearchRow(m_db, m_path, id, true));
    if (label) curLabel = sanitizeUtf8(*label);
    if (notes) curNotes = sanitizeUtf8(*notes);
    if (curLabel.empty() && curNotes.empty()) {
        MONO_ASSIGN_OR_RETURN(
            Stmt del, Stmt::prepare(m_db, m_path, "DELETE FROM annotations WHERE feature = ?"));
        del.bind(1, id);
        MONO_RETURN_IF_ERROR(del.run());
    } else {
        MONO_ASSIGN_OR_RETURN(Stmt up, Stmt::prepare(m_db, m_path,
                                                     "INSERT OR REPLACE INTO annotations(feature, "
                                                     "label, notes, updated) VALUES(?, ?, ?, ?)"));
        up.bind(1, id);
        up.bind(2, std::string_view(curLabel));
        up.bind(3, std::string_view(curNotes));
        up.bind(4, std::string_view(isoNowUtc()));
        MONO_RETURN_IF_ERROR(up.run());
    }
    if (v1)
        MONO_RETURN_IF_ERROR(v1::rewriteSearchRow(m_db, m_path, id, curLabel, curNotes));
    else
        MONO_RETURN_IF_ERROR(indexSearchRow(m_db, m_path, id, false));
    return tx.commit();
}

Status FeatureStore::replaceAnalysis(
    const RunInfo& run, int64_t numFeatures,
    const std::function<Status(int64_t id, FeatureRecord* out)>& produce) {
    return writeAnalysis(run, 0, numFeatures, false, produce);
}

namespace {

// Takes the features [begin, end) out of a version-2 store's computed tables
// and its search index (their annotations stay in theirs).
Status dropFeatureRange(sqlite3* db, const std::string& path, int64_t begin, int64_t end) {
    std::vector<int64_t> ids;
    {
        MONO_ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(db, path,
                                                    "SELECT id FROM features WHERE id >= ?1 AND "
                                                    "id < ?2 UNION SELECT feature FROM "
                                                    "annotations WHERE feature >= ?1 AND "
                                                    "feature < ?2"));
        s.bind(1, begin);
        s.bind(2, end);
        while (true) {
            MONO_ASSIGN_OR_RETURN(bool row, s.step());
            if (!row) break;
            ids.push_back(s.int64(0));
        }
    }
    for (int64_t id : ids) MONO_RETURN_IF_ERROR(indexSearchRow(db, path, id, true));
    for (const char* sqlText : {"DELETE FROM feature_data WHERE feature >= ? AND feature < ?",
                                "DELETE FROM features WHERE id >= ? AND id < ?"}) {
        MONO_ASSIGN_OR_RETURN(Stmt del, Stmt::prepare(db, path, sqlText));
        del.bind(1, begin);
        del.bind(2, end);
        MONO_RETURN_IF_ERROR(del.run());
    }
    return Status::success();
}

}  // namespace

Status FeatureStore::writeAnalysis(
    const RunInfo& run, int64_t begin, int64_t end, bool keepOthers,
    const std::function<Status(int64_t id, FeatureRecord* out)>& produce) {
    if (m_readOnly)
        return Status::invalidArgument(m_path +
                                       ": opened read-only; analysis needs a read-write store");
    if (begin < 0 || end < begin)
        return Status::invalidArgument(m_path + ": invalid feature range [" +
                                       std::to_string(begin) + ", " + std::to_string(end) + ")");
    Transaction tx(m_db, m_path);
    MONO_RETURN_IF_ERROR(tx.begin());
    MONO_RETURN_IF_ERROR(refreshCaches());
    // A version-1 store gets the version-2 tables in this same transaction:
    // if the analysis fails or is killed, the old tables are all still there.
    const bool converting = m_schema < schema::kV2;
    keepOthers = keepOthers && !converting;
    if (converting)
        MONO_RETURN_IF_ERROR(schema::convertV1(m_db, m_path));
    else if (keepOthers)
        MONO_RETURN_IF_ERROR(dropFeatureRange(m_db, m_path, begin, end));
    else
        MONO_RETURN_IF_ERROR(sql::exec(m_db, m_path,
                                       "INSERT INTO search_fts(search_fts) VALUES('delete-all'); "
                                       "DELETE FROM feature_data; DELETE FROM features;"));
    // Kept features keep their search rows and annotations: only the range's
    // annotations go through the writer.
    MONO_ASSIGN_OR_RETURN(Annotations annotations, keepOthers
                                                       ? readAnnotations(m_db, m_path, begin, end)
                                                       : readAnnotations(m_db, m_path));
    AnalysisWriter writer(m_db, m_path, std::move(annotations));
    MONO_RETURN_IF_ERROR(writer.prepare());
    if (keepOthers) MONO_RETURN_IF_ERROR(writer.loadKept());
    MONO_RETURN_IF_ERROR(
        sql::exec(m_db, m_path,
                  keepOthers ? "DELETE FROM meta;" : "DELETE FROM meta; DELETE FROM token_text;"));
    FeatureRecord rec;
    for (int64_t id = begin; id < end; ++id) {
        rec = FeatureRecord{};
        MONO_RETURN_IF_ERROR(produce(id, &rec));
        MONO_RETURN_IF_ERROR(writer.putFeature(id, rec));
    }
    MONO_RETURN_IF_ERROR(writer.finish(run));
    MONO_RETURN_IF_ERROR(tx.commit());
    m_schema = schema::kV2;
    m_texts->clear();
    // The version-1 tables left free pages behind: give them back to the file
    // system once. Keep the WAL small for readers that open the file later.
    // Both may fail (a reader holding the file) without harm.
    if (converting) sqlite3_exec(m_db, "VACUUM", nullptr, nullptr, nullptr);
    sqlite3_wal_checkpoint_v2(m_db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return Status::success();
}

}  // namespace mono::features
