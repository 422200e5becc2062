#pragma once
// Atomic file replacement: bytes go to a temporary file beside the target, are
// synced, then renamed over it. A crash or an error at any point leaves the
// previous file intact; the temporary is removed on failure.
//
// The one way every output is written, so what it does with special paths holds
// for all of them: a symlink is written through (its final target is replaced,
// the link stays); a FIFO or character device (/dev/stdout, a pipe a reader
// waits on) is written into directly, never replaced; a FIFO that nobody reads
// is an error, not a hang; a folder, block device or socket is refused.

#include <cstdio>
#include <string>
#include <string_view>

#include "core/base/result.h"

namespace mono {

class AtomicFileWriter {
public:
    // Creates "<target>.tmp-<pid>-<n>" in the target's folder (the target is
    // `path` with symlinks at its end followed), or opens a FIFO or character
    // device for writing in place. IoError naming the path.
    static Result<AtomicFileWriter> create(const std::string& path);

    AtomicFileWriter(AtomicFileWriter&& other) noexcept;
    AtomicFileWriter& operator=(AtomicFileWriter&& other) noexcept;
    AtomicFileWriter(const AtomicFileWriter&) = delete;
    AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
    ~AtomicFileWriter();  // discards the temporary unless commit() succeeded

    // IoError (e.g. a full disk) naming the target.
    Status write(const void* data, size_t bytes);
    Status write(std::string_view text) { return write(text.data(), text.size()); }
    // fsync, close, rename over the target, fsync the folder.
    Status commit();

    const std::string& path() const { return m_path; }

private:
    AtomicFileWriter(std::string path, std::string tempPath, std::FILE* file);
    static Result<AtomicFileWriter> openInPlace(const std::string& path);
    void discard();

    std::string m_path;      // the target: symlinks at the end of the given path followed
    std::string m_tempPath;  // empty when writing in place (FIFO, character device)
    std::FILE* m_file = nullptr;
};

// Replaces `path` with `bytes` atomically.
Status writeFileAtomic(const std::string& path, std::string_view bytes);

// Reads a whole file. NotFound / IoError naming the path; ResourceExhausted
// above `maxBytes`.
Result<std::string> readWholeFile(const std::string& path, size_t maxBytes = size_t(1) << 30);

}  // namespace mono
