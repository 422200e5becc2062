#include "core/model/model_files.h"

#include <filesystem>
#include <vector>

namespace mono::model {
namespace fs = std::filesystem;

Result<std::string> findModelTokenizer(const std::string& modelPath,
                                       const std::string& tokenizerPath) {
    if (!tokenizerPath.empty()) return tokenizerPath;
    std::error_code ec;
    if (fs::is_directory(modelPath, ec) || fs::path(modelPath).extension() == ".gguf")
        return modelPath;
    // A llama2.c checkpoint carries no vocabulary: look beside it.
    std::vector<std::string> candidates;
    const fs::path folder = fs::path(modelPath).parent_path().empty()
                                ? fs::path(".")
                                : fs::path(modelPath).parent_path();
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
        const std::string name = entry.path().filename().string();
        if (entry.is_regular_file() && entry.path().extension() == ".bin" &&
            (name == "tokenizer.bin" || name.rfind("tok", 0) == 0))
            candidates.push_back(entry.path().string());
    }
    if (candidates.size() == 1) return candidates[0];
    return Status::invalidArgument(
        modelPath + ": a llama2.c checkpoint has no vocabulary and " +
        (candidates.empty()
             ? std::string("no tokenizer.bin lies beside it")
             : std::to_string(candidates.size()) + " tokenizer files lie beside it") +
        "; name the tokenizer file explicitly (e.g. --tokenizer tok512.bin)");
}

Result<std::shared_ptr<const tok::Tokenizer>> loadModelTokenizer(const std::string& modelPath,
                                                                 const std::string& tokenizerPath) {
    MONO_ASSIGN_OR_RETURN(std::string path, findModelTokenizer(modelPath, tokenizerPath));
    return tok::loadTokenizer(path);
}

}  // namespace mono::model
