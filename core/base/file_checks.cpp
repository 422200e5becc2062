#include "core/base/file_checks.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace mono {
namespace fs = std::filesystem;

namespace {

FileKind kindOfMode(mode_t mode) {
    if (S_ISREG(mode)) return FileKind::kRegular;
    if (S_ISDIR(mode)) return FileKind::kDirectory;
    if (S_ISFIFO(mode)) return FileKind::kFifo;
    if (S_ISCHR(mode)) return FileKind::kCharDevice;
    if (S_ISBLK(mode)) return FileKind::kBlockDevice;
    if (S_ISSOCK(mode)) return FileKind::kSocket;
    return FileKind::kOther;
}

// A walk over an input folder stops here: a workspace has a few thousand files.
constexpr int kMaxFolderEntries = 200'000;

bool folderHolds(const std::string& folder, const struct stat& target, std::string* found) {
    std::error_code ec;
    fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied, ec);
    int seen = 0;
    for (; !ec && it != fs::recursive_directory_iterator() && seen < kMaxFolderEntries;
         it.increment(ec), ++seen) {
        struct stat st {};
        if (::stat(it->path().c_str(), &st) == 0 && st.st_dev == target.st_dev &&
            st.st_ino == target.st_ino) {
            *found = it->path().string();
            return true;
        }
    }
    return false;
}

// The nearest existing folder that would hold `path` (its parent, or the
// parent's nearest existing ancestor when folders are still to be made).
std::string nearestExistingFolder(const std::string& path) {
    fs::path p = fs::path(path).parent_path();
    if (p.empty()) p = ".";
    std::error_code ec;
    while (!fs::exists(p, ec) && p.has_parent_path() && p != p.parent_path()) p = p.parent_path();
    return p.string();
}

}  // namespace

FileKind fileKindOf(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return FileKind::kMissing;
    return kindOfMode(st.st_mode);
}

const char* fileKindName(FileKind kind) {
    switch (kind) {
        case FileKind::kMissing:
            return "missing";
        case FileKind::kRegular:
            return "a regular file";
        case FileKind::kDirectory:
            return "a folder";
        case FileKind::kFifo:
            return "a FIFO (named pipe)";
        case FileKind::kCharDevice:
            return "a character device";
        case FileKind::kBlockDevice:
            return "a block device";
        case FileKind::kSocket:
            return "a socket";
        case FileKind::kOther:
            return "not a regular file";
    }
    return "not a regular file";
}

Status requireRegularFile(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        const int err = errno;
        if (err == ELOOP) return Status::invalidArgument(path + ": a symlink loop");
        if (err == ENOENT) return Status::notFound(path + ": no such file");
        return Status::ioError(path + ": cannot examine: " + std::strerror(err));
    }
    const FileKind kind = kindOfMode(st.st_mode);
    if (kind == FileKind::kRegular) return Status::success();
    return Status::invalidArgument(path + ": is " + fileKindName(kind) +
                                   ", not a regular file; Monoscope reads only regular files");
}

bool sameFile(const std::string& a, const std::string& b) {
    struct stat sa {
    }, sb{};
    return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

Status resolveOutputSymlink(const std::string& path, std::string* target) {
    fs::path p(path);
    std::error_code ec;
    // A link to a FIFO, device or socket is opened as it is: the kernel follows
    // it, including /proc's magic links (/dev/stdout → "pipe:[123]") that
    // name no path.
    struct stat st {};
    const bool special =
        ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
    for (int hops = 0; !special && fs::is_symlink(fs::symlink_status(p, ec)); ++hops) {
        if (hops >= 40) return Status::invalidArgument(path + ": a symlink loop");
        fs::path next = fs::read_symlink(p, ec);
        if (ec) return Status::ioError(path + ": cannot read the symlink: " + ec.message());
        p = next.is_absolute() ? next : p.parent_path() / next;
    }
    *target = p.string();
    return Status::success();
}

Status checkOutputTarget(const std::string& output, const std::vector<std::string>& inputs) {
    std::string target;
    MONO_RETURN_IF_ERROR(resolveOutputSymlink(output, &target));
    struct stat st {};
    if (::stat(target.c_str(), &st) == 0) {
        const FileKind kind = kindOfMode(st.st_mode);
        if (kind == FileKind::kDirectory || kind == FileKind::kBlockDevice ||
            kind == FileKind::kSocket || kind == FileKind::kOther)
            return Status::invalidArgument(output + ": is " + fileKindName(kind) +
                                           "; an output must be a file (or a FIFO or character "
                                           "device to write through)");
        for (const auto& in : inputs) {
            std::string inside;
            const bool same = sameFile(in, target);
            if (same || (fileKindOf(in) == FileKind::kDirectory && folderHolds(in, st, &inside)))
                return Status::invalidArgument(
                    output + ": is the same file as the input " + (same ? in : inside) +
                    "; writing it would destroy the input, so choose another output path");
        }
        if (::access(target.c_str(), W_OK) != 0)
            return Status::ioError(output + ": cannot be written: " + std::strerror(errno));
        if (kind != FileKind::kRegular) return Status::success();  // written through, in place
    }
    const std::string folder = nearestExistingFolder(target);
    if (::access(folder.c_str(), W_OK | X_OK) != 0)
        return Status::ioError(output + ": its folder " + folder +
                               " is not writable: " + std::strerror(errno));
    return Status::success();
}

}  // namespace mono
