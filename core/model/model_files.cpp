#include "core/model/model_files.h"

#include <algorithm>
#include <filesystem>
#include <vector>

namespace mono::model {
namespace fs = std::filesystem;

std::string findTokenizerBeside(const std::string& checkpointPath) {
    const fs::path model(checkpointPath);
    const fs::path folder = model.parent_path().empty() ? fs::path(".") : model.parent_path();
    const std::string self = model.filename().string();
    std::error_code ec;
    if (self != "tokenizer.bin" && fs::is_regular_file(folder / "tokenizer.bin", ec))
        return (folder / "tokenizer.bin").string();
    std::vector<std::string> candidates;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
        const std::string name = entry.path().filename().string();
        if (name != self && name.rfind("tok", 0) == 0 && entry.path().extension() == ".bin" &&
            entry.is_regular_file(ec))
            candidates.push_back(name);
    }
    if (candidates.empty()) return {};
    std::sort(candidates.begin(), candidates.end());
    return (folder / candidates.front()).string();
}

Result<std::string> findModelTokenizer(const std::string& modelPath,
                                       const std::string& tokenizerPath) {
    if (!tokenizerPath.empty()) return tokenizerPath;
    std::error_code ec;
    if (fs::is_directory(modelPath, ec) || fs::path(modelPath).extension() == ".gguf")
        return modelPath;
    // A llama2.c checkpoint carries no vocabulary: look beside it.
    std::string beside = findTokenizerBeside(modelPath);
    if (!beside.empty()) return beside;
    return Status::invalidArgument(
        modelPath +
        ": a llama2.c checkpoint has no vocabulary and no tokenizer.bin or "
        "tok*.bin lies beside it; name the tokenizer file explicitly "
        "(e.g. --tokenizer tok512.bin)");
}

Result<std::shared_ptr<const tok::Tokenizer>> loadModelTokenizer(const std::string& modelPath,
                                                                 const std::string& tokenizerPath) {
    MONO_ASSIGN_OR_RETURN(std::string path, findModelTokenizer(modelPath, tokenizerPath));
    return tok::loadTokenizer(path);
}

}  // namespace mono::model
