#pragma once
// Reads a text corpus as a sequence of documents, one at a time, so corpora
// larger than memory stream through. Formats, by file extension:
//   .jsonl  one JSON object per line; its "text" field is a document
//   other   plain UTF-8 text; a line holding only "<|endoftext|>" separates
//           documents, otherwise the whole file is one document

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "core/base/result.h"

namespace mono::io {

class CorpusReader {
public:
    // Checks that every file exists and is readable. NotFound naming the file.
    static Result<CorpusReader> open(std::vector<std::string> files);

    // The next document in `doc`; false at the end of the corpus. Errors name
    // the file and line (a JSONL line that does not parse or has no "text").
    Result<bool> next(std::string& doc);
    int64_t documentsRead() const { return m_documents; }

private:
    explicit CorpusReader(std::vector<std::string> files) : m_files(std::move(files)) {}
    Status openNextFile();

    std::vector<std::string> m_files;
    size_t m_fileIndex = 0;
    std::ifstream m_stream;
    bool m_open = false;
    bool m_jsonl = false;
    int64_t m_line = 0;
    int64_t m_documents = 0;
};

}  // namespace mono::io
