#pragma once
// The decoded text of token ids, read from a feature store's token_text table
// (internal to the store). The store keeps every example as token ids only and
// rebuilds the strings from this table, written once per analysis, so a store
// reads the same without the model or its tokenizer.
//
// The same lookup backs the SQL function monoscope_top_text(examples blob),
// which rebuilds the text that search indexes: the content of search_fts
// (an FTS5 table over the view search_content) is never stored twice.

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/base/result.h"

namespace mono::features {

class TokenTexts {
public:
    TokenTexts(sqlite3* db, std::string path) : m_db(db), m_path(std::move(path)) {}

    // The token's text; "[id]" for a token the table does not have.
    Result<const std::string*> text(int32_t token);
    // After the table changed (a new analysis).
    void clear() { m_cache.clear(); }

    // The text search indexes for a feature's top examples: one window per line.
    Result<std::string> topText(const std::vector<std::vector<int32_t>>& windows);

    // Registers monoscope_top_text(blob) on the connection; `texts` must outlive it.
    static Status registerFunctions(sqlite3* db, const std::string& path, TokenTexts* texts);

private:
    sqlite3* m_db;
    std::string m_path;
    std::unordered_map<int32_t, std::string> m_cache;
};

}  // namespace mono::features
