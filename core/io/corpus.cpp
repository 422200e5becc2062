#include "core/io/corpus.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "core/base/file_checks.h"

namespace mono::io {
namespace fs = std::filesystem;

namespace {
constexpr const char* kSeparator = "<|endoftext|>";
}

Result<CorpusReader> CorpusReader::open(std::vector<std::string> files) {
    if (files.empty()) return Status::invalidArgument("no corpus files given");
    std::error_code ec;
    for (const auto& f : files) {
        MONO_RETURN_IF_ERROR(requireRegularFile(f).withContext("corpus"));
        std::ifstream probe(f, std::ios::binary);
        if (!probe) return Status::ioError(f + ": cannot read the corpus file");
    }
    return CorpusReader(std::move(files));
}

Status CorpusReader::openNextFile() {
    m_stream = std::ifstream(m_files[m_fileIndex], std::ios::binary);
    if (!m_stream) return Status::ioError(m_files[m_fileIndex] + ": cannot read the corpus file");
    m_jsonl = fs::path(m_files[m_fileIndex]).extension() == ".jsonl";
    m_line = 0;
    m_open = true;
    return Status::success();
}

Result<bool> CorpusReader::next(std::string& doc) {
    doc.clear();
    while (m_fileIndex < m_files.size()) {
        if (!m_open) MONO_RETURN_IF_ERROR(openNextFile());
        std::string line;
        bool any = false;
        while (std::getline(m_stream, line)) {
            ++m_line;
            if (m_jsonl) {
                if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
                nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
                if (j.is_discarded() || !j.is_object() || !j.contains("text") ||
                    !j["text"].is_string())
                    return Status::corruption(
                        m_files[m_fileIndex] + ": line " + std::to_string(m_line) +
                        ": expected a JSON object with a string \"text\" field");
                doc = j["text"].get<std::string>();
                ++m_documents;
                return true;
            }
            if (line == kSeparator || line == std::string(kSeparator) + "\r") {
                if (any) {
                    ++m_documents;
                    return true;
                }
                continue;
            }
            doc += line;
            doc += '\n';
            any = true;
        }
        if (m_stream.bad()) return Status::ioError(m_files[m_fileIndex] + ": read failed");
        m_open = false;
        ++m_fileIndex;
        if (any) {
            ++m_documents;
            return true;
        }
    }
    return false;
}

}  // namespace mono::io
