#pragma once
// One writer per workspace. Two captures appending to the same activation
// store, or a training reading a store that a capture is rewriting, would mix
// their data silently; a writing job therefore holds an exclusive advisory lock
// (flock) on <workspace>/.monoscope.lock for as long as it runs. The kernel
// drops the lock when the process dies, so a killed job never leaves the
// workspace locked. The file records who holds it, for the message.

#include <string>

#include "core/base/result.h"

namespace mono::ws {

class WorkspaceLock {
public:
    // Takes the lock without waiting. IoError "<dir>: in use by another
    // Monoscope process (pid P: <what>)" when it is held; IoError naming the
    // lock file when it cannot be created. `what` describes the holder
    // ("capture").
    static Result<WorkspaceLock> acquire(const std::string& dir, const std::string& what);

    WorkspaceLock(WorkspaceLock&& other) noexcept;
    WorkspaceLock& operator=(WorkspaceLock&& other) noexcept;
    WorkspaceLock(const WorkspaceLock&) = delete;
    WorkspaceLock& operator=(const WorkspaceLock&) = delete;
    ~WorkspaceLock();  // releases the lock

private:
    explicit WorkspaceLock(int fd) : m_fd(fd) {}
    int m_fd = -1;
};

// The lock file's name inside a workspace, ".monoscope.lock".
inline constexpr const char* kLockFile = ".monoscope.lock";

}  // namespace mono::ws
