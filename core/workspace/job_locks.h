#pragma once
// Which jobs may run at once, for the CLI and the GUI alike. A capture rewrites
// activation stores and the manifest, so it holds its workspace alone. A
// training, analysis or evaluation reads the captured activations and writes
// into one SAE's folder (weights, eval.json) or that SAE's feature store: these
// share the workspace with each other, exclude a capture, and hold their SAE
// alone, so two jobs never write one SAE or its store at once.

#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/workspace/workspace_lock.h"

namespace mono::ws {

// Released together when destroyed.
struct JobLocks {
    std::vector<WorkspaceLock> held;
};

Result<JobLocks> lockForCapture(const std::string& workspaceDir);

// `workspaceDir` may be empty (an SAE trained from a .npy file). The SAE folder
// is made when missing. An SAE folder this user cannot write (a read-only
// download) is not locked: no job of ours can change it.
Result<JobLocks> lockForSaeJob(const std::string& workspaceDir, const std::string& saeDir,
                               const std::string& what);

// The workspace whose activation store `activationsDir` is
// (<workspace>/activations/<hook>), or empty.
std::string workspaceOfActivations(const std::string& activationsDir);

}  // namespace mono::ws
