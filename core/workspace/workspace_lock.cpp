#include "core/workspace/workspace_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

namespace mono::ws {

namespace {

std::string readHolder(int fd) {
    char buffer[256] = {};
    const ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
    std::string text(buffer, n > 0 ? size_t(n) : 0);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
    return text;
}

}  // namespace

Result<WorkspaceLock> WorkspaceLock::acquire(const std::string& dir, const std::string& what,
                                             LockMode mode) {
    const std::string path = (std::filesystem::path(dir) / kLockFile).string();
    // O_NOFOLLOW: the lock file is ours; a symlink planted there is not followed.
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return Status::ioError(path +
                               ": cannot create the workspace lock: " + std::strerror(errno));
    if (::flock(fd, (mode == LockMode::kShared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
        const int err = errno;
        const std::string holder = readHolder(fd);
        ::close(fd);
        if (err == EWOULDBLOCK)
            return Status::ioError(dir + ": in use by another Monoscope process (" +
                                   (holder.empty() ? std::string("unknown") : holder) +
                                   "); wait for it to finish");
        return Status::ioError(path + ": cannot lock: " + std::strerror(err));
    }
    const std::string holder = "pid " + std::to_string(::getpid()) + ": " + what + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, holder.data(), holder.size(), 0) < 0) {
        // Only the message would suffer; the lock itself is held.
    }
    return WorkspaceLock(fd);
}

WorkspaceLock::WorkspaceLock(WorkspaceLock&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)) {}

WorkspaceLock& WorkspaceLock::operator=(WorkspaceLock&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = std::exchange(other.m_fd, -1);
    }
    return *this;
}

WorkspaceLock::~WorkspaceLock() {
    if (m_fd >= 0) ::close(m_fd);  // closing the descriptor releases the flock
}

}  // namespace mono::ws
