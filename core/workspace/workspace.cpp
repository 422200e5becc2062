#include "core/workspace/workspace.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>

#include "core/base/atomic_file.h"
#include "core/base/text.h"
#include "core/base/version.h"

namespace mono::ws {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kFormat = "monoscope-workspace";
constexpr int kFormatVersion = 1;

constexpr const char* kActivationsFolder = "activations";
constexpr const char* kSaesFolder = "saes";
constexpr const char* kSaeEvalFile = "eval.json";
constexpr const char* kJobHistoryFile = "jobs.jsonl";
constexpr const char* kFeaturesFolder = "features";
constexpr const char* kFeatureStoreSuffix = ".sqlite";
constexpr const char* kQuantFolder = "quant";
constexpr const char* kCalibrationFile = "calibration.json";

fs::path manifestPathIn(const fs::path& dir) {
    return dir / kManifestFile;
}

fs::path featureStoreIn(const fs::path& dir, const std::string& saeName) {
    return dir / kFeaturesFolder / (saeName + kFeatureStoreSuffix);
}

// "a/b/" → "a/b", so that filename() and parent_path() see the last folder.
fs::path withoutTrailingSeparator(const std::string& dir) {
    fs::path p = fs::path(dir).lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
    return p;
}

Result<Manifest> parseManifest(const std::string& text, const std::string& path) {
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return Status::corruption(path + ": not a JSON object");
    if (j.value("format", std::string()) != kFormat)
        return Status::corruption(path + ": 'format' is not \"" + kFormat + "\"");
    if (!j.contains("version") || !j["version"].is_number_integer())
        return Status::corruption(path + ": 'version' missing or not an integer");
    if (j["version"].get<int>() > kFormatVersion)
        return Status::unsupported(
            path + ": workspace format version " + std::to_string(j["version"].get<int>()) +
            " is newer than this Monoscope understands (" + std::to_string(kFormatVersion) + ")");
    Manifest m;
    try {
        m.modelPath = j.value("model", std::string());
        m.tokenizerPath = j.value("tokenizer", std::string());
        m.corpus = j.value("corpus", std::vector<std::string>());
        m.hooks = j.value("hooks", std::vector<std::string>());
        m.contextSize = j.value("context_size", 128);
        m.created = j.value("created", std::string());
        m.monoscopeVersion = j.value("monoscope_version", std::string());
    } catch (const json::exception& e) {
        return Status::corruption(path + ": a field has the wrong type (" + e.what() + ")");
    }
    return m;
}

}  // namespace

Result<Workspace> Workspace::open(const std::string& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return Status::notFound(dir + ": no such folder");
    const std::string path = manifestPathIn(dir).string();
    if (!fs::exists(path, ec))
        return Status::invalidArgument(dir + ": not a Monoscope workspace (no " +
                                       std::string(kManifestFile) + ")");
    MONO_ASSIGN_OR_RETURN(std::string text, readWholeFile(path, 16 << 20));
    MONO_ASSIGN_OR_RETURN(Manifest manifest, parseManifest(text, path));
    return Workspace(dir, std::move(manifest));
}

Result<Workspace> Workspace::create(const std::string& dir, Manifest manifest) {
    std::error_code ec;
    if (fs::exists(dir, ec)) {
        if (!fs::is_directory(dir, ec))
            return Status::invalidArgument(dir + ": exists and is not a folder");
        if (isWorkspace(dir))
            return Status::invalidArgument(dir + ": already a Monoscope workspace");
        if (!fs::is_empty(dir, ec))
            return Status::invalidArgument(dir +
                                           ": folder is not empty and not a Monoscope workspace; "
                                           "choose an empty or new folder");
    }
    fs::create_directories(dir, ec);
    if (ec) return Status::ioError(dir + ": cannot create the folder: " + ec.message());
    if (manifest.created.empty()) manifest.created = isoNowUtc();
    Workspace ws(dir, std::move(manifest));
    MONO_RETURN_IF_ERROR(ws.save());
    return ws;
}

Result<Workspace> Workspace::openOrCreate(const std::string& dir, Manifest manifest) {
    if (isWorkspace(dir)) return open(dir);
    return create(dir, std::move(manifest));
}

Status Workspace::setManifest(Manifest manifest) {
    if (manifest.created.empty()) manifest.created = m_manifest.created;
    m_manifest = std::move(manifest);
    return save();
}

Status Workspace::save() const {
    json j;
    j["format"] = kFormat;
    j["version"] = kFormatVersion;
    j["model"] = m_manifest.modelPath;
    j["tokenizer"] = m_manifest.tokenizerPath;
    j["corpus"] = m_manifest.corpus;
    j["hooks"] = m_manifest.hooks;
    j["context_size"] = m_manifest.contextSize;
    j["created"] = m_manifest.created;
    j["monoscope_version"] = kVersion;
    return writeFileAtomic(manifestPathIn(m_dir).string(), j.dump(2) + "\n");
}

std::string Workspace::activationsDir(const std::string& hook) const {
    return (fs::path(m_dir) / kActivationsFolder / hook).string();
}
std::string Workspace::saesDir() const {
    return (fs::path(m_dir) / kSaesFolder).string();
}
std::string Workspace::saeDir(const std::string& name) const {
    return (fs::path(m_dir) / kSaesFolder / name).string();
}
std::string Workspace::saeEvalPath(const std::string& name) const {
    return (fs::path(m_dir) / kSaesFolder / name / kSaeEvalFile).string();
}
std::string Workspace::featureStorePath(const std::string& saeName) const {
    return featureStoreIn(m_dir, saeName).string();
}
std::string Workspace::quantDir() const {
    return (fs::path(m_dir) / kQuantFolder).string();
}
std::string Workspace::jobHistoryPath() const {
    return (fs::path(m_dir) / kJobHistoryFile).string();
}
std::string Workspace::calibrationPath() const {
    return (fs::path(m_dir) / kQuantFolder / kCalibrationFile).string();
}

std::vector<std::string> Workspace::saeNames() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(saesDir(), ec))
        if (entry.is_directory()) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

bool isWorkspace(const std::string& dir) {
    std::error_code ec;
    return fs::is_directory(dir, ec) && fs::exists(manifestPathIn(dir), ec);
}

std::string saeNameOf(const std::string& saeDir) {
    return withoutTrailingSeparator(saeDir).filename().string();
}

std::string featureStoreBesideSae(const std::string& saeDir) {
    const fs::path sae = withoutTrailingSeparator(saeDir);
    if (sae.parent_path().filename() != kSaesFolder) return "";
    return featureStoreIn(sae.parent_path().parent_path(), sae.filename().string()).string();
}

}  // namespace mono::ws
