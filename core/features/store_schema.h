#pragma once
// The feature store's SQL schema (internal; documented in docs/FEATURE_STORE.md).
//
// Version 2 keeps a feature's examples, histogram, logit effects and related
// features as compact blobs (store_codec.h) in one feature_data row, and the
// search index's text is rebuilt from those blobs (search_fts is an FTS5
// table with external content). Version 1 kept one row per example with int32
// ids and float32 values and stored the search text twice; such a store is
// read as it is, and its computed tables become version 2 in the transaction
// of its next analysis (annotations, meta and token_text are the same in both).

#include <sqlite3.h>

#include <string>

#include "core/base/result.h"

namespace mono::features::schema {

inline constexpr int kV1 = 1;
inline constexpr int kV2 = 2;

// Every table of version 2, on an empty database.
Status create(sqlite3* db, const std::string& path);
// Replaces the computed tables of a version-1 store by empty version-2 ones
// and stamps version 2, inside the caller's transaction.
Status convertV1(sqlite3* db, const std::string& path);

// The feature map's tables (docs/FEATURE_STORE.md), created on demand by the
// first map written: any store of version 1 or 2 without them stays valid
// and simply has no map. Idempotent.
Status createMapTables(sqlite3* db, const std::string& path);

}  // namespace mono::features::schema
