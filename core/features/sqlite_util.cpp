#include "core/features/sqlite_util.h"

namespace mono::features::sql {

Status error(sqlite3* db, int rc, const std::string& file, const std::string& what) {
    const std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    const std::string msg = file + ": " + what + ": " + detail;
    switch (rc & 0xff) {
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            return Status::corruption(msg + " (the file is damaged or truncated)");
        case SQLITE_FULL:
        case SQLITE_NOMEM:
            return Status::resourceExhausted(msg);
        case SQLITE_READONLY:
            return Status::invalidArgument(msg);
        case SQLITE_CANTOPEN:
            return Status::ioError(msg);
        case SQLITE_ERROR:  // our SQL is fixed: a missing table or column means a damaged store
            return Status::corruption(msg);
        default:
            return Status::ioError(msg);
    }
}

Status exec(sqlite3* db, const std::string& file, const char* sqlText) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sqlText, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string detail = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        Status st = error(nullptr, rc, file, "executing SQL");
        return Status(st.code(), file + ": executing SQL: " + detail);
    }
    return Status::success();
}

Stmt& Stmt::operator=(Stmt&& o) noexcept {
    if (this != &o) {
        sqlite3_finalize(m_stmt);
        m_db = o.m_db;
        m_stmt = o.m_stmt;
        m_file = std::move(o.m_file);
        o.m_stmt = nullptr;
    }
    return *this;
}

Result<Stmt> Stmt::prepare(sqlite3* db, const std::string& file, const std::string& sqlText) {
    Stmt s;
    s.m_db = db;
    s.m_file = file;
    const int rc = sqlite3_prepare_v2(db, sqlText.c_str(), static_cast<int>(sqlText.size()),
                                      &s.m_stmt, nullptr);
    if (rc != SQLITE_OK) return error(db, rc, file, "preparing a query");
    return s;
}

Result<bool> Stmt::step() {
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    Status st = error(m_db, rc, m_file, "running a query");
    sqlite3_reset(m_stmt);
    return st;
}

Status Stmt::run() {
    auto r = step();
    sqlite3_reset(m_stmt);
    if (!r.ok()) return r.status();
    return Status::success();
}

}  // namespace mono::features::sql
