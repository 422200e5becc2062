// Version-1 feature stores, read as they are.

#include "core/features/store_v1.h"

#include "core/features/sqlite_util.h"

namespace mono::features::v1 {
namespace {

using sql::Stmt;

constexpr int kKindNeighbour = 0;

Status readHistogram(sqlite3* db, const std::string& path, int64_t id, FeatureRecord* rec) {
    MONO_ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(db, path,
                                                "SELECT hist_width, hist_counts, interval_width "
                                                "FROM features WHERE id = ?"));
    s.bind(1, id);
    MONO_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return Status::success();
    rec->histogram.binWidth = s.real(0);
    if (!s.array(1, &rec->histogram.counts))
        return Status::corruption(path + ": feature " + std::to_string(id) +
                                  ": hist_counts is not an int64 array");
    rec->intervalBinWidth = static_cast<float>(s.real(2));
    return Status::success();
}

Status readExamples(sqlite3* db, const std::string& path, int64_t id, TokenTexts& texts,
                    FeatureRecord* rec) {
    MONO_ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(db, path,
                                                "SELECT bin, rank, row, activation, "
                                                "token_index, uniform, tokens, vals "
                                                "FROM examples WHERE feature = ? "
                                                "ORDER BY bin, rank"));
    s.bind(1, id);
    while (true) {
        MONO_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        Example e;
        e.bin = static_cast<int>(s.int64(0));
        e.rank = static_cast<int>(s.int64(1));
        e.row = s.int64(2);
        e.activation = static_cast<float>(s.real(3));
        e.tokenIndex = static_cast<int>(s.int64(4));
        e.uniform = s.int64(5) != 0;
        if (!s.array(6, &e.tokens) || !s.array(7, &e.values) || e.values.size() != e.tokens.size())
            return Status::corruption(path + ": feature " + std::to_string(id) +
                                      ": example arrays have mismatched lengths");
        for (int32_t t : e.tokens) {
            MONO_ASSIGN_OR_RETURN(const std::string* text, texts.text(t));
            e.strings.push_back(*text);
        }
        (e.bin < 0 ? rec->topExamples : rec->intervalExamples).push_back(std::move(e));
    }
    return Status::success();
}

Status readLogitsAndRelated(sqlite3* db, const std::string& path, int64_t id, FeatureRecord* rec) {
    {
        MONO_ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(db, path,
                                                    "SELECT sign, token, text, value FROM "
                                                    "logit_effects WHERE feature = ? "
                                                    "ORDER BY sign DESC, rank"));
        s.bind(1, id);
        while (true) {
            MONO_ASSIGN_OR_RETURN(bool row, s.step());
            if (!row) break;
            LogitEffect e{static_cast<int32_t>(s.int64(1)), s.text(2),
                          static_cast<float>(s.real(3))};
            (s.int64(0) > 0 ? rec->positiveLogits : rec->negativeLogits).push_back(std::move(e));
        }
    }
    MONO_ASSIGN_OR_RETURN(Stmt s, Stmt::prepare(db, path,
                                                "SELECT kind, other, value, count FROM related "
                                                "WHERE feature = ? ORDER BY kind, rank"));
    s.bind(1, id);
    while (true) {
        MONO_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        RelatedFeature r{s.int64(1), static_cast<float>(s.real(2)), s.int64(3)};
        (s.int64(0) == kKindNeighbour ? rec->neighbours : rec->coFiring).push_back(r);
    }
    return Status::success();
}

}  // namespace

Status readDetail(sqlite3* db, const std::string& path, int64_t id, TokenTexts& texts,
                  FeatureRecord* rec) {
    MONO_RETURN_IF_ERROR(readHistogram(db, path, id, rec));
    MONO_RETURN_IF_ERROR(readExamples(db, path, id, texts, rec));
    return readLogitsAndRelated(db, path, id, rec);
}

Status rewriteSearchRow(sqlite3* db, const std::string& path, int64_t id, const std::string& label,
                        const std::string& notes) {
    std::string examplesText;
    {
        MONO_ASSIGN_OR_RETURN(
            Stmt s, Stmt::prepare(db, path, "SELECT examples FROM search_fts WHERE rowid = ?"));
        s.bind(1, id);
        MONO_ASSIGN_OR_RETURN(bool row, s.step());
        if (row) examplesText = s.text(0);
    }
    MONO_ASSIGN_OR_RETURN(Stmt del,
                          Stmt::prepare(db, path, "DELETE FROM search_fts WHERE rowid = ?"));
    del.bind(1, id);
    MONO_RETURN_IF_ERROR(del.run());
    if (examplesText.empty() && label.empty() && notes.empty()) return Status::success();
    MONO_ASSIGN_OR_RETURN(Stmt ins, Stmt::prepare(db, path,
                                                  "INSERT INTO search_fts(rowid, examples, "
                                                  "label, notes) VALUES(?, ?, ?, ?)"));
    ins.bind(1, id);
    ins.bind(2, std::string_view(examplesText));
    ins.bind(3, std::string_view(label));
    ins.bind(4, std::string_view(notes));
    return ins.run();
}

}  // namespace mono::features::v1
