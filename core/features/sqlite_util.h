#pragma once
// Small RAII helpers over the SQLite C API for the feature store (internal).
// Every error becomes a Status that names the database file.

#include <sqlite3.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"

namespace mono::features::sql {

// Maps an SQLite result code to a Status: "<file>: <what>: <sqlite message>".
Status error(sqlite3* db, int rc, const std::string& file, const std::string& what);

// Runs one or more statements without results.
Status exec(sqlite3* db, const std::string& file, const char* sqlText);

class Stmt {
public:
    Stmt() = default;
    Stmt(Stmt&& o) noexcept : m_db(o.m_db), m_stmt(o.m_stmt), m_file(std::move(o.m_file)) {
        o.m_stmt = nullptr;
    }
    Stmt& operator=(Stmt&& o) noexcept;
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    ~Stmt() { sqlite3_finalize(m_stmt); }

    static Result<Stmt> prepare(sqlite3* db, const std::string& file, const std::string& sqlText);

    void reset() {
        sqlite3_reset(m_stmt);
        sqlite3_clear_bindings(m_stmt);
    }
    // Binders take 1-based parameter indices, like SQLite. Text and blobs are copied.
    void bind(int i, int64_t v) { sqlite3_bind_int64(m_stmt, i, v); }
    void bind(int i, int v) { sqlite3_bind_int64(m_stmt, i, v); }
    void bind(int i, double v) { sqlite3_bind_double(m_stmt, i, v); }
    void bind(int i, std::string_view text) {
        sqlite3_bind_text(m_stmt, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    }
    void bind(int i, const char* text) { bind(i, std::string_view(text)); }
    void bindBlob(int i, const void* data, size_t bytes) {
        sqlite3_bind_blob(m_stmt, i, bytes ? data : "", static_cast<int>(bytes), SQLITE_TRANSIENT);
    }
    template <class T>
    void bindArray(int i, const std::vector<T>& v) {
        bindBlob(i, v.data(), v.size() * sizeof(T));
    }

    // true with a row, false when done; an error Status otherwise.
    Result<bool> step();
    // step() that expects no row (INSERT/UPDATE/DELETE), then reset().
    Status run();

    int64_t int64(int c) const { return sqlite3_column_int64(m_stmt, c); }
    double real(int c) const { return sqlite3_column_double(m_stmt, c); }
    bool isNull(int c) const { return sqlite3_column_type(m_stmt, c) == SQLITE_NULL; }
    std::string text(int c) const {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, c));
        return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(m_stmt, c)))
                 : std::string();
    }
    // A blob column's bytes, valid until the next step or reset.
    std::string_view blob(int c) const {
        const auto* p = static_cast<const char*>(sqlite3_column_blob(m_stmt, c));
        const auto bytes = static_cast<size_t>(sqlite3_column_bytes(m_stmt, c));
        return p ? std::string_view(p, bytes) : std::string_view();
    }
    // A little-endian array column; false when its size is not a multiple of T.
    template <class T>
    bool array(int c, std::vector<T>* out) const {
        const void* p = sqlite3_column_blob(m_stmt, c);
        const size_t bytes = static_cast<size_t>(sqlite3_column_bytes(m_stmt, c));
        if (bytes % sizeof(T)) return false;
        out->resize(bytes / sizeof(T));
        if (bytes) std::memcpy(out->data(), p, bytes);
        return true;
    }

private:
    sqlite3* m_db = nullptr;
    sqlite3_stmt* m_stmt = nullptr;
    std::string m_file;
};

// A transaction (BEGIN IMMEDIATE) that rolls back unless committed.
class Transaction {
public:
    Transaction(sqlite3* db, std::string path) : m_db(db), m_path(std::move(path)) {}
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction() {
        if (m_open) sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Status begin() {
        MONO_RETURN_IF_ERROR(exec(m_db, m_path, "BEGIN IMMEDIATE"));
        m_open = true;
        return Status::success();
    }
    Status commit() {
        MONO_RETURN_IF_ERROR(exec(m_db, m_path, "COMMIT"));
        m_open = false;
        return Status::success();
    }

private:
    sqlite3* m_db;
    std::string m_path;
    bool m_open = false;
};

}  // namespace mono::features::sql
