#include "core/base/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/base/file_checks.h"

namespace mono {
namespace {

std::string errnoText() {
    return std::strerror(errno);
}

void syncFolderOf(const std::string& path) {
    std::filesystem::path folder = std::filesystem::path(path).parent_path();
    if (folder.empty()) folder = ".";
    int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::string path, std::string tempPath, std::FILE* file)
    : m_path(std::move(path)), m_tempPath(std::move(tempPath)), m_file(file) {}

Result<AtomicFileWriter> AtomicFileWriter::create(const std::string& given) {
    static std::atomic<int> counter{0};
    std::string path;
    MONO_RETURN_IF_ERROR(resolveOutputSymlink(given, &path));
    const FileKind kind = fileKindOf(path);
    if (kind == FileKind::kFifo || kind == FileKind::kCharDevice) return openInPlace(path);
    if (kind != FileKind::kMissing && kind != FileKind::kRegular)
        return Status::ioError(path + ": is " + std::string(fileKindName(kind)) +
                               "; it cannot be replaced by a file");
    std::string temp =
        path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
    std::FILE* file = std::fopen(temp.c_str(), "wb");
    if (!file) return Status::ioError(path + ": cannot create a temporary file: " + errnoText());
    return AtomicFileWriter(path, temp, file);
}

// O_NONBLOCK so that a FIFO without a reader fails (ENXIO) instead of waiting
// forever; blocking writes are restored once it is open.
Result<AtomicFileWriter> AtomicFileWriter::openInPlace(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENXIO)
            return Status::ioError(path +
                                   ": a FIFO that no process is reading; start the "
                                   "reader first or write to a file");
        return Status::ioError(path + ": cannot open for writing: " + errnoText());
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    std::FILE* file = ::fdopen(fd, "wb");
    if (!file) {
        ::close(fd);
        return Status::ioError(path + ": cannot open for writing: " + errnoText());
    }
    return AtomicFileWriter(path, std::string(), file);
}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& other) noexcept
    : m_path(std::move(other.m_path)),
      m_tempPath(std::move(other.m_tempPath)),
      m_file(other.m_file) {
    other.m_file = nullptr;
    other.m_tempPath.clear();
}

AtomicFileWriter& AtomicFileWriter::operator=(AtomicFileWriter&& other) noexcept {
    if (this != &other) {
        discard();
        m_path = std::move(other.m_path);
        m_tempPath = std::move(other.m_tempPath);
        m_file = other.m_file;
        other.m_file = nullptr;
        other.m_tempPath.clear();
    }
    return *this;
}

AtomicFileWriter::~AtomicFileWriter() {
    discard();
}

void AtomicFileWriter::discard() {
    if (m_file) {
        std::fclose(m_file);
        m_file = nullptr;
    }
    if (!m_tempPath.empty()) {
        std::remove(m_tempPath.c_str());
        m_tempPath.clear();
    }
}

Status AtomicFileWriter::write(const void* data, size_t bytes) {
    if (!m_file) return Status::internal(m_path + ": write after commit or failure");
    if (bytes && std::fwrite(data, 1, bytes, m_file) != bytes) {
        Status s = Status::ioError(m_path + ": write failed: " + errnoText());
        discard();
        return s;
    }
    return Status::success();
}

Status AtomicFileWriter::commit() {
    if (!m_file) return Status::internal(m_path + ": commit after failure");
    if (m_tempPath.empty()) {  // in place: a FIFO or device has nothing to sync or rename
        const bool ok = std::fflush(m_file) == 0;
        const std::string why = errnoText();
        std::fclose(m_file);
        m_file = nullptr;
        if (!ok) return Status::ioError(m_path + ": write failed: " + why);
        return Status::success();
    }
    bool ok = std::fflush(m_file) == 0 && ::fsync(::fileno(m_file)) == 0;
    std::string why = ok ? "" : errnoText();
    ok = (std::fclose(m_file) == 0) && ok;
    m_file = nullptr;
    if (!ok) {
        discard();
        return Status::ioError(m_path +
                               ": cannot flush to disk: " + (why.empty() ? errnoText() : why));
    }
    if (std::rename(m_tempPath.c_str(), m_path.c_str()) != 0) {
        Status s = Status::ioError(m_path + ": cannot replace the file: " + errnoText());
        discard();
        return s;
    }
    m_tempPath.clear();
    syncFolderOf(m_path);
    return Status::success();
}

Status writeFileAtomic(const std::string& path, std::string_view bytes) {
    MONO_ASSIGN_OR_RETURN(AtomicFileWriter writer, AtomicFileWriter::create(path));
    MONO_RETURN_IF_ERROR(writer.write(bytes));
    return writer.commit();
}

Result<std::string> readWholeFile(const std::string& path, size_t maxBytes) {
    MONO_RETURN_IF_ERROR(requireRegularFile(path));
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (!file) {
        if (errno == ENOENT) return Status::notFound(path + ": no such file");
        return Status::ioError(path + ": cannot open: " + errnoText());
    }
    std::string out;
    char buffer[1 << 16];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
        if (out.size() + n > maxBytes) {
            std::fclose(file);
            return Status::resourceExhausted(path + ": larger than the " +
                                             std::to_string(maxBytes) + "-byte limit");
        }
        out.append(buffer, n);
    }
    bool failed = std::ferror(file);
    std::fclose(file);
    if (failed) return Status::ioError(path + ": read failed");
    return out;
}

}  // namespace mono
