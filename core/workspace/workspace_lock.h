#pragma once
// Advisory locks (flock) on <dir>/.monoscope.lock that keep two jobs from
// mixing their data: two captures appending to one activation store, or a
// training reading a store that a capture is rewriting. Who takes which is in
// job_locks.h. The kernel drops a lock when its process dies, so a killed job
// never leaves anything locked. The file records its last holder, for the
// message.

#include <string>

#include "core/base/result.h"

namespace mono::ws {

// Many shared holders at once, or one exclusive holder.
enum class LockMode { kExclusive, kShared };

class WorkspaceLock {
public:
    // Takes the lock without waiting. IoError "<dir>: in use by another
    // Monoscope process (pid P: <what>)" when it is held in a conflicting mode;
    // IoError naming the lock file when it cannot be created. `what` describes
    // the holder ("capture").
    static Result<WorkspaceLock> acquire(const std::string& dir, const std::string& what,
                                         LockMode mode = LockMode::kExclusive);

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
