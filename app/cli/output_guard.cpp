#include "app/cli/output_guard.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/base/file_checks.h"

namespace mono::cli {

std::vector<std::string> saeInputFiles(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_directory(path, ec)) return {path};
    std::vector<std::string> files;
    for (const char* name : {"cfg.json", "sae_weights.safetensors", "sparsity.safetensors",
                             "params.npz", "sae.safetensors", "checkpoint.safetensors"})
        files.push_back((std::filesystem::path(path) / name).string());
    return files;
}

std::vector<std::string> inputPaths(const CliArgs& args,
                                    std::initializer_list<const char*> inputOptions) {
    std::vector<std::string> paths = args.positionals();
    for (const char* name : inputOptions)
        for (const auto& value : args.options(name)) {
            if (std::string(name) != "sae") {
                paths.push_back(value);
                continue;
            }
            for (auto& file : saeInputFiles(value)) paths.push_back(std::move(file));
        }
    return paths;
}

Status checkOutputFiles(const std::vector<std::string>& outputs,
                        const std::vector<std::string>& inputs) {
    for (const auto& out : outputs) MONO_RETURN_IF_ERROR(checkOutputTarget(out, inputs));
    return Status::success();
}

Status checkOutputFolder(const std::string& folder, const std::vector<std::string>& inputs) {
    namespace fs = std::filesystem;
    for (const auto& in : inputs)
        if (sameFile(folder, in))
            return Status::invalidArgument(folder + ": is the input " + in +
                                           "; writing into it would mix outputs with the input, "
                                           "so choose another output folder");
    const FileKind kind = fileKindOf(folder);
    if (kind == FileKind::kMissing) {
        // Made later; what matters now is that its nearest existing ancestor is writable.
        fs::path p = fs::path(folder).parent_path();
        std::error_code ec;
        while (!p.empty() && !fs::exists(p, ec) && p != p.parent_path()) p = p.parent_path();
        if (p.empty()) p = ".";
        if (::access(p.c_str(), W_OK | X_OK) != 0)
            return Status::ioError(folder + ": cannot be created: " + p.string() +
                                   " is not writable (" + std::strerror(errno) + ")");
        return Status::success();
    }
    if (kind != FileKind::kDirectory)
        return Status::invalidArgument(folder + ": is " + std::string(fileKindName(kind)) +
                                       ", where an output folder was expected");
    if (::access(folder.c_str(), W_OK | X_OK) != 0)
        return Status::ioError(folder + ": is not writable: " + std::strerror(errno));
    return Status::success();
}

}  // namespace mono::cli
