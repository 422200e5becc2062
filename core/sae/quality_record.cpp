#include "core/sae/quality_record.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/base/atomic_file.h"

namespace mono::sae {
namespace {

constexpr int kVersion = 1;

template <typename T>
Status readArray(const nlohmann::json& perFeature, const char* key, std::vector<T>* out,
                 const std::string& path) {
    if (!perFeature.contains(key)) return Status::success();
    const auto& a = perFeature[key];
    if (!a.is_array())
        return Status::invalidArgument(path + ": per_feature." + key + " is not an array");
    out->reserve(a.size());
    for (const auto& v : a) {
        if (!v.is_number())
            return Status::invalidArgument(path + ": per_feature." + key + " holds a non-number");
        out->push_back(static_cast<T>(v.get<double>()));
    }
    return Status::success();
}

}  // namespace

const double* QualityRecord::find(const std::string& name) const {
    for (const auto& [key, value] : summary)
        if (key == name) return &value;
    return nullptr;
}

std::string qualityRecordPath(const std::string& saePath) {
    std::error_code ec;
    if (std::filesystem::is_directory(saePath, ec))
        return (std::filesystem::path(saePath) / "metrics.json").string();
    return saePath + ".metrics.json";
}

Status saveQualityRecord(const std::string& path, const QualityRecord& r) {
    nlohmann::json summary = nlohmann::json::array();
    for (const auto& [key, value] : r.summary) {
        if (!std::isfinite(value))
            return Status::invalidArgument(path + ": not written: " + key + " is " +
                                           std::to_string(value) +
                                           ", and a metrics file holds only finite numbers");
        summary.push_back({{"name", key}, {"value", value}});
    }
    nlohmann::json perFeature = nlohmann::json::object();
    if (!r.maxDecoderCosine.empty()) perFeature["max_decoder_cosine"] = r.maxDecoderCosine;
    if (!r.absorbedCount.empty()) perFeature["absorbed_count"] = r.absorbedCount;
    if (!r.absorbedLetter.empty()) perFeature["absorbed_letter"] = r.absorbedLetter;
    if (!r.mainLetter.empty()) perFeature["main_letter"] = r.mainLetter;
    const nlohmann::json j = {{"version", kVersion},
                              {"model", r.model},
                              {"hook", r.hook},
                              {"summary", summary},
                              {"per_feature", perFeature}};
    return writeFileAtomic(path, j.dump() + "\n");
}

Result<QualityRecord> loadQualityRecord(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::notFound(path + ": no metrics file");
    std::stringstream text;
    text << in.rdbuf();
    const nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return Status::invalidArgument(path + ": not a JSON object");
    if (j.value("version", 0) != kVersion)
        return Status::invalidArgument(path + ": version is not " + std::to_string(kVersion));
    QualityRecord r;
    r.model = j.value("model", "");
    r.hook = j.value("hook", "");
    if (!j.contains("summary") || !j["summary"].is_array())
        return Status::invalidArgument(path + ": summary is missing or not an array");
    for (const auto& e : j["summary"]) {
        if (!e.is_object() || !e.contains("name") || !e["name"].is_string() ||
            !e.contains("value") || !e["value"].is_number())
            return Status::invalidArgument(path +
                                           ": a summary entry lacks a name or a numeric value");
        r.summary.emplace_back(e["name"].get<std::string>(), e["value"].get<double>());
    }
    const nlohmann::json perFeature = j.value("per_feature", nlohmann::json::object());
    if (!perFeature.is_object())
        return Status::invalidArgument(path + ": per_feature is not an object");
    MONO_RETURN_IF_ERROR(readArray(perFeature, "max_decoder_cosine", &r.maxDecoderCosine, path));
    MONO_RETURN_IF_ERROR(readArray(perFeature, "absorbed_count", &r.absorbedCount, path));
    MONO_RETURN_IF_ERROR(readArray(perFeature, "absorbed_letter", &r.absorbedLetter, path));
    MONO_RETURN_IF_ERROR(readArray(perFeature, "main_letter", &r.mainLetter, path));
    return r;
}

}  // namespace mono::sae
