#include "core/workspace/job_locks.h"

#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "core/workspace/workspace.h"

namespace mono::ws {

namespace fs = std::filesystem;

Result<JobLocks> lockForCapture(const std::string& workspaceDir) {
    JobLocks locks;
    MONO_ASSIGN_OR_RETURN(WorkspaceLock lock,
                          WorkspaceLock::acquire(workspaceDir, "capture", LockMode::kExclusive));
    locks.held.push_back(std::move(lock));
    return locks;
}

Result<JobLocks> lockForSaeJob(const std::string& workspaceDir, const std::string& saeDir,
                               const std::string& what) {
    JobLocks locks;
    if (!workspaceDir.empty()) {
        MONO_ASSIGN_OR_RETURN(WorkspaceLock lock,
                              WorkspaceLock::acquire(workspaceDir, what, LockMode::kShared));
        locks.held.push_back(std::move(lock));
    }
    std::error_code ec;
    fs::create_directories(saeDir, ec);
    if (::access(saeDir.c_str(), W_OK) != 0 && (errno == EACCES || errno == EROFS)) return locks;
    MONO_ASSIGN_OR_RETURN(WorkspaceLock lock,
                          WorkspaceLock::acquire(saeDir, what, LockMode::kExclusive));
    locks.held.push_back(std::move(lock));
    return locks;
}

std::string workspaceOfActivations(const std::string& activationsDir) {
    const fs::path store = fs::absolute(fs::path(activationsDir).lexically_normal());
    const fs::path parent = (store.has_filename() ? store : store.parent_path()).parent_path();
    if (parent.filename() != "activations") return {};
    const std::string dir = parent.parent_path().string();
    return isWorkspace(dir) ? dir : std::string();
}

}  // namespace mono::ws
