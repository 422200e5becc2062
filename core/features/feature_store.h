#pragma once
// The feature store: one SQLite file per SAE with everything a dashboard,
// search or steering experiment reads (schema in docs/FEATURE_STORE.md).
//
//   auto store = FeatureStore::open("features/res6.sqlite", FeatureStore::Mode::kReadOnly);
//   PageRequest req;  req.sort = SortKey::kDensity;  req.descending = true;  req.limit = 50;
//   auto page = store->page(req);          // page->rows, page->total
//   auto rec = store->feature(1234);       // stats, histogram, examples, logits, ...
//   auto hits = store->search("New York");  // FTS5 over example text, labels, notes
//
// Durability: the file is in WAL mode; analysis replaces all computed tables in
// one transaction, so a reader sees either the old or the new analysis, never
// a mix, and a killed analysis leaves the old one intact. Labels and notes live
// in their own table that analysis never writes.
// Thread-safety: one FeatureStore is one SQLite connection; use it from one
// thread at a time. Any number of read-only stores (the UI, one per thread)
// may be open alongside one read-write store on the same file.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/base/result.h"

struct sqlite3;

namespace mono::features {

class TokenTexts;

// PRAGMA user_version written by this build. A version-1 store is read as it
// is and written as version 2 by its next analysis; newer ones are refused
// (Unsupported).
inline constexpr int kSchemaVersion = 2;

// One row of the feature table.
struct FeatureSummary {
    int64_t id = 0;
    int64_t fireCount = 0;     // tokens on which the feature fired (f > 0)
    double density = 0;        // fireCount / tokens analysed
    float maxActivation = 0;   // 0 for a dead feature
    float meanActivation = 0;  // mean over firing tokens
    std::string label;         // the user's label, "" when none
    std::string topSnippet;    // a few tokens around the top example, the max token in «»
};

// Activation histogram with exact counts: bin k covers (k·binWidth, (k+1)·binWidth];
// the counts sum to fireCount. See docs/FEATURE_STORE.md for how bins are chosen.
struct Histogram {
    double binWidth = 0;
    std::vector<int64_t> counts;
};

// One context window around an example token.
struct Example {
    int rank = 0;     // 0-based order: top examples by activation; interval samples in their bin
    int bin = -1;     // interval bin (0 = lowest), -1 for a top example
    int64_t row = 0;  // global row in the activation store
    float activation = 0;  // the feature's activation on the example token
    int tokenIndex = 0;    // index of the example token in tokens/strings/values
    bool uniform = true;   // interval samples: drawn exactly uniformly within the bin
    std::vector<int32_t> tokens;
    // Decoded token text (UTF-8, invalid bytes as U+FFFD); the store keeps
    // the ids and rebuilds the strings from its token_text table.
    std::vector<std::string> strings;
    // The feature's activation on every token. Stored to one byte of the
    // feature's largest window value S (error ≤ S/510, nonzero stays nonzero);
    // the example token's own value is exact (docs/FEATURE_STORE.md).
    std::vector<float> values;
};

// A feature's direct effect on a token's logit: its decoder row through the
// final norm's scale, dotted with the token's unembedding (computeLogitEffects
// in analysis.h). Also the steering report's top tokens (core/steer).
struct LogitEffect {
    int32_t token = 0;
    std::string text;  // the decoded token; empty until the caller fills it in
    float value = 0;
};

// Another feature related to this one: a decoder neighbour or a co-firing feature.
struct RelatedFeature {
    int64_t id = 0;
    float value = 0;    // neighbours: decoder cosine; co-firing: fraction of this feature's firings
    int64_t count = 0;  // co-firing: joint firings in the sample; neighbours: 0
};

struct FeatureRecord {
    FeatureSummary summary;
    Histogram histogram;
    float intervalBinWidth = 0;        // interval bin b covers (b·w, (b+1)·w], w = max / bins
    std::vector<Example> topExamples;  // highest activation first (ties: lower row first)
    std::vector<Example> intervalExamples;    // by bin, then rank
    std::vector<LogitEffect> positiveLogits;  // largest first
    std::vector<LogitEffect> negativeLogits;  // most negative first
    std::vector<RelatedFeature> neighbours;   // decoder cosine, largest first
    std::vector<RelatedFeature> coFiring;     // highest Jaccard in the row sample first
    std::string notes;                        // label is in summary.label
};

// What produced the store.
struct RunInfo {
    std::string model, hook, saePath, saeHash;  // saeHash: hex content hash of the weights
    int64_t dIn = 0, dSae = 0;
    int64_t tokensAnalysed = 0;
    // Features the store holds rows for: dSae after a whole analysis, fewer
    // while it is built a range of features at a time (analyze --features).
    // Filled in by the store when it writes; read back as dSae from stores
    // written before ranges existed.
    int64_t featuresAnalysed = 0;
    std::string settingsJson;  // the AnalysisSpec as a JSON object
    std::string date;          // ISO-8601 UTC of the last write
    std::string version;       // Monoscope version of the last writer
};

// log10(density) of every live feature, in bins of `width` starting at `lo`.
struct DensityHistogram {
    double lo = 0, width = 0;
    std::vector<int64_t> counts;
    int64_t dead = 0;  // features that never fired (no log10)
};

// The feature map of a store: one 2-D position per feature (feature_map.h
// computes it from the SAE's decoder), and what it was computed from.
struct StoredFeatureMap {
    std::vector<float> xy;     // x, y of feature 0, then feature 1, ...
    std::string saeHash;       // RunInfo::saeHash of the SAE it was computed from
    std::string settingsJson;  // FeatureMapSpec::toJson()
    std::string date;          // ISO-8601 UTC; filled in on write when empty
    int64_t size() const { return static_cast<int64_t>(xy.size() / 2); }
    // Laid out from this store's SAE, one position per feature.
    bool matches(const RunInfo& run, int64_t featureCount) const {
        return saeHash == run.saeHash && size() == featureCount;
    }
};

enum class SortKey { kId, kDensity, kMaxActivation, kMeanActivation, kLabel };

struct FeatureFilter {
    std::optional<double> minDensity, maxDensity;        // inclusive
    std::optional<double> minActivation, maxActivation;  // on maxActivation, inclusive
    bool deadOnly = false;                               // fireCount == 0
    bool aliveOnly = false;                              // fireCount > 0
    bool denseOnly = false;                              // density > denseThreshold
    double denseThreshold = 0.1;
    std::optional<bool> hasLabel;
    std::string text;  // plain words, matched like search(); never parsed as SQL or FTS syntax
    // The strongest token of the feature's top example is this text (case
    // folded; a leading space in the token is ignored). Empty: any.
    std::string activatingToken;
    std::vector<int64_t> ids;  // non-empty: only these features
};

struct PageRequest {
    FeatureFilter filter;
    SortKey sort = SortKey::kId;
    bool descending = false;  // ties are always broken by ascending id
    int64_t offset = 0;
    int64_t limit = 100;
};

struct FeaturePage {
    std::vector<FeatureSummary> rows;
    int64_t total = 0;  // rows matching the filter, ignoring offset/limit
};

struct SearchHit {
    int64_t id = 0;
    double score = 0;  // higher is better (negated FTS5 bm25)
    std::string label;
    std::string snippet;  // matching text with the hit in «»
};

class FeatureStore {
public:
    enum class Mode { kReadOnly, kReadWrite };

    // kReadOnly: the file must exist. kReadWrite: created when missing, migrated
    // when older. Errors name the file: NotFound; Corruption for a non-SQLite or
    // damaged file; InvalidArgument for an SQLite database that is not a feature
    // store (it is never modified); Unsupported for a newer schema.
    static Result<FeatureStore> open(const std::string& path, Mode mode);

    FeatureStore(FeatureStore&& other) noexcept;
    FeatureStore& operator=(FeatureStore&& other) noexcept;
    FeatureStore(const FeatureStore&) = delete;
    FeatureStore& operator=(const FeatureStore&) = delete;
    ~FeatureStore();

    const std::string& path() const { return m_path; }
    bool readOnly() const { return m_readOnly; }

    // NotFound when no analysis was written yet.
    Result<RunInfo> runInfo() const;
    Result<int64_t> featureCount() const;
    Result<DensityHistogram> densityHistogram() const;
    // The same bins, counting only the features that pass `filter` (the
    // browser draws it over the whole: the histogram follows the filter).
    Result<DensityHistogram> densityHistogram(const FeatureFilter& filter) const;

    // A sorted, filtered page of the feature table with the total match count.
    Result<FeaturePage> page(const PageRequest& request) const;
    // Everything about one feature. NotFound when the id is not in the store.
    Result<FeatureRecord> feature(int64_t id) const;
    // Features whose top-example text, label or notes match every word of
    // `text` (the last word also as a prefix), best first (bm25; when over 1000
    // features match, in id order with score 0). Any input is safe:
    // quotes, FTS operators and SQL come back as matches or as an empty list.
    Result<std::vector<SearchHit>> search(const std::string& text, int limit = 50) const;

    // User annotations; never touched by analysis. An empty label and notes
    // remove the annotation. InvalidArgument on a read-only store.
    Status setLabel(int64_t id, const std::string& label);
    Status setNotes(int64_t id, const std::string& notes);

    // Replaces every computed table (features, examples, logits, neighbours,
    // co-firing, run info, density histogram) in ONE transaction: `produce` is
    // called for ids 0..numFeatures-1 in order and fills the record (labels and
    // notes in it are ignored). On any error, or when `produce` fails, the
    // transaction is rolled back and the previous contents stay.
    Status replaceAnalysis(const RunInfo& run, int64_t numFeatures,
                           const std::function<Status(int64_t id, FeatureRecord* out)>& produce);

    // The stored feature map. NotFound when none was written (a store from
    // before feature maps has no map tables); Corruption when rows are
    // missing or not finite. A map outlives a new analysis: check matches().
    Result<StoredFeatureMap> featureMap() const;
    // Replaces the map (creating its tables on first use) in one transaction.
    // InvalidArgument on a read-only store or a non-finite position.
    Status replaceFeatureMap(const StoredFeatureMap& map);
    // Writes the features [begin, end) of an analysis in ONE transaction, as
    // replaceAnalysis does (which is writeAnalysis(run, 0, n, false, ...)).
    // With keepOthers, the rows of every other feature already in the store
    // stay (examples, histograms, relations, the token texts they use); the
    // caller checks that they come from the same analysis (same SAE and
    // tokens: analyze() does). Without, the store then holds only [begin, end).
    // The run info and the density histogram describe all rows held. A
    // version-1 store is converted and keeps only [begin, end).
    Status writeAnalysis(const RunInfo& run, int64_t begin, int64_t end, bool keepOthers,
                         const std::function<Status(int64_t id, FeatureRecord* out)>& produce);

private:
    FeatureStore(sqlite3* db, std::string path, bool readOnly);
    Status annotate(int64_t id, const std::string* label, const std::string* notes);
    Status refreshCaches() const;

    sqlite3* m_db = nullptr;
    std::string m_path;
    bool m_readOnly = true;
    mutable int m_schema = kSchemaVersion;  // PRAGMA user_version: 1 or 2
    // token_text cache, also behind the connection's monoscope_top_text()
    std::unique_ptr<TokenTexts> m_texts;
    mutable int64_t m_dataVersion = -1;
};

// The FTS5 query for user text: each word quoted as a phrase (so operators and
// punctuation are literal), the last one as a prefix; "" when nothing searchable.
std::string ftsQueryFromUserText(const std::string& text);

}  // namespace mono::features
