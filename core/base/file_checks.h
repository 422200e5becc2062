#pragma once
// Questions about a path asked without opening it, and the checks every reader
// and writer shares so that hostile paths fail cleanly:
//   - opening a FIFO for reading blocks until a writer comes, and a device can
//     yield bytes forever, so readers ask requireRegularFile() first;
//   - an output that is one of the inputs (the same inode, whatever the path
//     says), a folder or a block device is refused by checkOutputTarget()
//     before any expensive work starts.
// AtomicFileWriter (atomic_file.h) then writes through symlinks to their
// target and into FIFOs and character devices instead of replacing them.

#include <string>
#include <vector>

#include "core/base/status.h"

namespace mono {

enum class FileKind {
    kMissing,
    kRegular,
    kDirectory,
    kFifo,
    kCharDevice,
    kBlockDevice,
    kSocket,
    kOther
};

// What `path` is after following symlinks (kMissing also for a dangling link
// or a symlink loop). Never opens the path.
FileKind fileKindOf(const std::string& path);
// "a FIFO", "a folder", "a character device", ... for messages.
const char* fileKindName(FileKind kind);

// Ok for a regular file (after symlinks). NotFound naming the path when it is
// missing; InvalidArgument "<path>: is a FIFO, not a regular file" (or a
// folder, a device, a socket; a symlink loop) otherwise. Never opens the path.
Status requireRegularFile(const std::string& path);

// Whether two paths name the same file (same device and inode). False when
// either is missing.
bool sameFile(const std::string& a, const std::string& b);

// Checks an output path before the work that produces it:
//   - InvalidArgument when it is the same file as one of `inputs`, or as a
//     file inside an input that is a folder (compared by inode, so symlinks,
//     hard links and "./x" spellings are caught);
//   - InvalidArgument when it is a folder, a block device or a socket;
//   - IoError when it cannot be written: its folder (or the nearest existing
//     ancestor, for an output whose folders are yet to be made) is not
//     writable, or the file itself is read-only.
// FIFOs and character devices are accepted: they are written through.
Status checkOutputTarget(const std::string& output, const std::vector<std::string>& inputs);

// `path` with a symlink at its end followed to its final target (relative
// links resolved against the link's folder); `path` itself when it is not a
// symlink, or when it leads to a FIFO, device or socket (opened through the
// link, so that /dev/stdout works). InvalidArgument for a symlink loop.
Status resolveOutputSymlink(const std::string& path, std::string* target);

}  // namespace mono
