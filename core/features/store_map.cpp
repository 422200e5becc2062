// FeatureStore's feature map: the feature_map and feature_map_info tables,
// which exist only once a map was written (store_schema.h).

#include <cmath>
#include <map>

#include "core/base/text.h"
#include "core/base/version.h"
#include "core/features/feature_store.h"
#include "core/features/sqlite_util.h"
#include "core/features/store_schema.h"

namespace mono::features {
namespace {

Result<bool> hasMapTables(sqlite3* db, const std::string& path) {
    MONO_ASSIGN_OR_RETURN(
        sql::Stmt s, sql::Stmt::prepare(db, path,
                                        "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                        "AND name IN ('feature_map', 'feature_map_info')"));
    MONO_ASSIGN_OR_RETURN(bool row, s.step());
    return row && s.int64(0) == 2;
}

}  // namespace

Result<StoredFeatureMap> FeatureStore::featureMap() const {
    MONO_ASSIGN_OR_RETURN(bool tables, hasMapTables(m_db, m_path));
    if (!tables) return Status::notFound(m_path + ": no feature map (none was computed)");
    StoredFeatureMap map;
    {
        MONO_ASSIGN_OR_RETURN(
            sql::Stmt s,
            sql::Stmt::prepare(m_db, m_path, "SELECT key, value FROM feature_map_info"));
        std::map<std::string, std::string> info;
        while (true) {
            MONO_ASSIGN_OR_RETURN(bool row, s.step());
            if (!row) break;
            info[s.text(0)] = s.text(1);
        }
        map.saeHash = info["sae_hash"];
        map.settingsJson = info["settings"];
        map.date = info["date"];
    }
    MONO_ASSIGN_OR_RETURN(
        sql::Stmt s,
        sql::Stmt::prepare(m_db, m_path, "SELECT feature, x, y FROM feature_map ORDER BY feature"));
    while (true) {
        MONO_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        const int64_t id = s.int64(0);
        const double x = s.real(1), y = s.real(2);
        if (id != map.size())
            return Status::corruption(m_path + ": feature_map: expected feature " +
                                      std::to_string(map.size()) + ", found " + std::to_string(id));
        if (!std::isfinite(x) || !std::isfinite(y))
            return Status::corruption(m_path + ": feature_map: feature " + std::to_string(id) +
                                      " has a non-finite position");
        map.xy.push_back(static_cast<float>(x));
        map.xy.push_back(static_cast<float>(y));
    }
    if (map.xy.empty()) return Status::notFound(m_path + ": no feature map (its table is empty)");
    return map;
}

Status FeatureStore::replaceFeatureMap(const StoredFeatureMap& map) {
    if (m_readOnly)
        return Status::invalidArgument(m_path + ": opened read-only; cannot write a feature map");
    if (map.xy.size() % 2)
        return Status::invalidArgument(m_path + ": feature map: odd number of coordinates");
    for (float v : map.xy)
        if (!std::isfinite(v))
            return Status::invalidArgument(m_path + ": feature map: non-finite position");
    sql::Transaction tx(m_db, m_path);
    MONO_RETURN_IF_ERROR(tx.begin());
    MONO_RETURN_IF_ERROR(schema::createMapTables(m_db, m_path));
    MONO_RETURN_IF_ERROR(
        sql::exec(m_db, m_path, "DELETE FROM feature_map; DELETE FROM feature_map_info;"));
    {
        MONO_ASSIGN_OR_RETURN(
            sql::Stmt ins,
            sql::Stmt::prepare(m_db, m_path,
                               "INSERT INTO feature_map(feature, x, y) VALUES(?, ?, ?)"));
        for (int64_t i = 0; i < map.size(); ++i) {
            ins.bind(1, i);
            ins.bind(2, static_cast<double>(map.xy[2 * i]));
            ins.bind(3, static_cast<double>(map.xy[2 * i + 1]));
            MONO_RETURN_IF_ERROR(ins.run());
        }
        MONO_ASSIGN_OR_RETURN(
            sql::Stmt info,
            sql::Stmt::prepare(m_db, m_path,
                               "INSERT INTO feature_map_info(key, value) VALUES(?, ?)"));
        const std::pair<const char*, std::string> rows[] = {
            {"sae_hash", map.saeHash},
            {"settings", map.settingsJson.empty() ? "{}" : map.settingsJson},
            {"date", map.date.empty() ? isoNowUtc() : map.date},
            {"version", std::string(kVersion)},
        };
        for (const auto& [k, v] : rows) {
            info.bind(1, k);
            info.bind(2, std::string_view(v));
            MONO_RETURN_IF_ERROR(info.run());
        }
    }
    MONO_RETURN_IF_ERROR(tx.commit());
    sqlite3_wal_checkpoint_v2(m_db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return Status::success();
}

}  // namespace mono::features
