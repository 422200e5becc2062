#pragma once
// A read-only memory map of a whole file. Move-only; unmaps on destruction.

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/base/result.h"

namespace mono::io {

class MappedFile {
public:
    // Maps `path` read-only. Errors: NotFound, IoError (naming the path).
    // An empty file maps to size() == 0 and data() == nullptr.
    static Result<MappedFile> open(const std::string& path);

    MappedFile() = default;
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    const uint8_t* data() const { return m_data; }
    size_t size() const { return m_size; }
    const std::string& path() const { return m_path; }

private:
    const uint8_t* m_data = nullptr;
    size_t m_size = 0;
    std::string m_path;
};

// Drops the pages wholly inside [data, data + bytes) from this process's
// resident set (madvise MADV_DONTNEED); a later read faults them back in from
// the page cache or the file, unchanged. Only for memory of a read-only
// MappedFile (on other memory it would discard data): a loader calls it on
// each tensor once copied, so a model's file does not stay counted in the
// resident memory beside the weights made from it.
void releaseMappedPages(const void* data, size_t bytes);

}  // namespace mono::io
