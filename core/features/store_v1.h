#pragma once
// Reading a version-1 feature store as it is (internal). Version 1 kept one
// row per example (int32 token ids, float32 values), logit effects and related
// features in tables of their own, the histogram in the features row, and the
// search text stored in search_fts itself. Such a store stays readable and
// annotatable; its next analysis writes version 2 (store_schema.h).

#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "core/base/result.h"
#include "core/features/feature_store.h"
#include "core/features/token_texts.h"

namespace mono::features::v1 {

// Histogram, interval width, examples, logit effects and related features of
// feature `id` (its summary and notes are read like version 2's).
Status readDetail(sqlite3* db, const std::string& path, int64_t id, TokenTexts& texts,
                  FeatureRecord* rec);

// Rewrites feature `id`'s search row with its stored example text and the
// given annotation (dropping the row when all three are empty).
Status rewriteSearchRow(sqlite3* db, const std::string& path, int64_t id, const std::string& label,
                        const std::string& notes);

}  // namespace mono::features::v1
