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
    const std::string path = (fs::path(dir) / kManifestFile).string();
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
        if (fs::exists(fs::path(dir) / kManifestFile, ec))
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
    std::error_code ec;
    if (fs::exists(fs::path(dir) / kManifestFile, ec)) return open(dir);
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
    return writeFileAtomic((fs::path(m_dir) / kManifestFile).string(), j.dump(2) + "\n");
}

std::string Workspace::activationsDir(const std::string& hook) const {
    return (fs::path(m_dir) / "activations" / hook).string();
}
std::string Workspace::saeDir(const std::string& name) const {
    return (fs::path(m_dir) / "saes" / name).string();
}
std::string Workspace::featureStorePath(const std::string& saeName) const {
    return (fs::path(m_dir) / "features" / (saeName + ".sqlite")).string();
}
std::string Workspace::quantDir() const {
    return (fs::path(m_dir) / "quant").string();
}

std::vector<std::string> Workspace::saeNames() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(fs::path(m_dir) / "saes", ec))
        if (entry.is_directory()) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace mono::ws
