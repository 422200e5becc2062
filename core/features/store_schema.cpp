// The feature store's schema, version 2.

#include "core/features/store_schema.h"

#include "core/features/sqlite_util.h"

namespace mono::features::schema {
namespace {

// Tables that analysis never replaces and whose layout is the same in versions 1 and 2.
constexpr const char* kKeptTables = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE token_text(token INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE annotations(
  feature INTEGER PRIMARY KEY,
  label TEXT NOT NULL DEFAULT '',
  notes TEXT NOT NULL DEFAULT '',
  updated TEXT NOT NULL);
CREATE INDEX annotations_by_label ON annotations(label COLLATE NOCASE);
)sql";

// The computed tables of version 2. features stays narrow (what pages sort
// and filter on); the rest of a feature is one feature_data row. search_fts
// indexes every feature and every annotated id, exactly the rows of
// search_content, whose text monoscope_top_text rebuilds from the blobs
// (registered on every connection by FeatureStore::open).
constexpr const char* kComputedTablesV2 = R"sql(
CREATE TABLE features(
  id INTEGER PRIMARY KEY,
  fire_count INTEGER NOT NULL,
  density REAL NOT NULL,
  max_act REAL NOT NULL,
  mean_act REAL NOT NULL,
  top_snippet TEXT NOT NULL);
CREATE INDEX features_by_density ON features(density, id, fire_count, max_act);
CREATE INDEX features_by_max ON features(max_act, id, fire_count, density);
CREATE INDEX features_by_mean ON features(mean_act, id);
CREATE TABLE feature_data(
  feature INTEGER PRIMARY KEY,
  hist_width REAL NOT NULL,
  interval_width REAL NOT NULL,
  hist BLOB NOT NULL,
  logits BLOB NOT NULL,
  related BLOB NOT NULL,
  examples BLOB NOT NULL);
CREATE VIEW search_content(id, examples, label, notes) AS
  SELECT f.id, monoscope_top_text(d.examples), coalesce(a.label, ''), coalesce(a.notes, '')
    FROM features f LEFT JOIN feature_data d ON d.feature = f.id
    LEFT JOIN annotations a ON a.feature = f.id
  UNION ALL
  SELECT a.feature, '', a.label, a.notes FROM annotations a
    WHERE NOT EXISTS (SELECT 1 FROM features f WHERE f.id = a.feature);
CREATE VIRTUAL TABLE search_fts USING fts5(examples, label, notes,
  content = 'search_content', content_rowid = 'id',
  tokenize = 'unicode61 remove_diacritics 2');
)sql";

// The computed tables of version 1 (its indexes go with them).
constexpr const char* kDropV1 = R"sql(
DROP TABLE search_fts;
DROP TABLE examples;
DROP TABLE logit_effects;
DROP TABLE related;
DROP TABLE features;
)sql";

// Not part of either version's required tables: a store may lack them.
// feature_map_info holds what the layout was computed from (sae_hash,
// settings, date); analysis never touches either table.
constexpr const char* kMapTables = R"sql(
CREATE TABLE IF NOT EXISTS feature_map(
  feature INTEGER PRIMARY KEY,
  x REAL NOT NULL,
  y REAL NOT NULL);
CREATE TABLE IF NOT EXISTS feature_map_info(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
)sql";

Status stampV2(sqlite3* db, const std::string& path) {
    const std::string pragma = "PRAGMA user_version = " + std::to_string(kV2);
    return sql::exec(db, path, pragma.c_str());
}

}  // namespace

Status create(sqlite3* db, const std::string& path) {
    MONO_RETURN_IF_ERROR(sql::exec(db, path, kKeptTables));
    MONO_RETURN_IF_ERROR(sql::exec(db, path, kComputedTablesV2));
    return stampV2(db, path);
}

Status convertV1(sqlite3* db, const std::string& path) {
    MONO_RETURN_IF_ERROR(sql::exec(db, path, kDropV1));
    MONO_RETURN_IF_ERROR(sql::exec(db, path, kComputedTablesV2));
    return stampV2(db, path);
}

Status createMapTables(sqlite3* db, const std::string& path) {
    return sql::exec(db, path, kMapTables);
}

}  // namespace mono::features::schema
