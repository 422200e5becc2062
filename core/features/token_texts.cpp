// Token strings of a feature store and the SQL function that rebuilds search text.

#include "core/features/token_texts.h"

#include "core/features/sqlite_util.h"
#include "core/features/store_codec.h"

namespace mono::features {

Result<const std::string*> TokenTexts::text(int32_t token) {
    auto it = m_cache.find(token);
    if (it != m_cache.end()) return &it->second;
    MONO_ASSIGN_OR_RETURN(sql::Stmt s, sql::Stmt::prepare(m_db, m_path,
                                                          "SELECT text FROM token_text WHERE "
                                                          "token = ?"));
    s.bind(1, static_cast<int64_t>(token));
    MONO_ASSIGN_OR_RETURN(bool row, s.step());
    std::string text = row ? s.text(0) : std::string("[").append(std::to_string(token)).append("]");
    return &m_cache.emplace(token, std::move(text)).first->second;
}

Result<std::string> TokenTexts::topText(const std::vector<std::vector<int32_t>>& windows) {
    std::string out;
    for (const auto& window : windows) {
        for (int32_t t : window) {
            MONO_ASSIGN_OR_RETURN(const std::string* s, text(t));
            out += *s;
        }
        out += '\n';
    }
    return out;
}

namespace {

// monoscope_top_text(examples): the search text of an examples blob ('' for NULL).
void topTextFunction(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    auto* texts = static_cast<TokenTexts*>(sqlite3_user_data(ctx));
    if (argc != 1 || sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_text(ctx, "", 0, SQLITE_STATIC);
        return;
    }
    const auto* p = static_cast<const char*>(sqlite3_value_blob(argv[0]));
    const auto n = static_cast<size_t>(sqlite3_value_bytes(argv[0]));
    std::vector<std::vector<int32_t>> windows;
    if (!codec::decodeTopTokens(std::string_view(p ? p : "", p ? n : 0), &windows)) {
        sqlite3_result_error(ctx, "monoscope_top_text: damaged examples blob", -1);
        return;
    }
    auto text = texts->topText(windows);
    if (!text.ok()) {
        sqlite3_result_error(ctx, text.status().message().c_str(), -1);
        return;
    }
    sqlite3_result_text64(ctx, text->data(), text->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

}  // namespace

Status TokenTexts::registerFunctions(sqlite3* db, const std::string& path, TokenTexts* texts) {
    // Innocuous: it only reads token_text, so the schema's view may use it
    // even where trusted_schema is off.
    const int rc =
        sqlite3_create_function_v2(db, "monoscope_top_text", 1, SQLITE_UTF8 | SQLITE_INNOCUOUS,
                                   texts, topTextFunction, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return sql::error(db, rc, path, "registering monoscope_top_text");
    return Status::success();
}

}  // namespace mono::features
