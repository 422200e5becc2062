#pragma once
// The long jobs of a workspace — capture, train, analyse, evaluate — as plain
// functions that wire a workspace's folders to the core job they run. They hold
// no numerics: each one opens what the core function needs, calls it with the
// caller's Progress and StopToken, and returns its summary. The GUI runs them on
// a JobRunner worker; the GUI tests call them directly to build a workspace.
//
// Every function is safe to call on a worker thread; specs are copied in.

#include <cstdint>
#include <string>
#include <vector>

#include "core/acts/capture.h"
#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/features/analysis.h"
#include "core/sae/model_eval.h"
#include "core/sae/trainer.h"

namespace mono::ui {

struct CaptureJobSpec {
    std::string workspaceDir;
    std::string hook;          // empty: the manifest's first hook
    int64_t tokens = 200'000;  // rows to capture
    bool restart = false;      // discard a partial store instead of resuming it
};

struct TrainJobSpec {
    std::string workspaceDir;
    std::string hook;     // empty: the manifest's first hook
    std::string saeName;  // saved to <workspace>/saes/<saeName> unless outDir is set
    std::string outDir;   // optional: a folder outside the workspace
    sae::Architecture architecture = sae::Architecture::kTopK;
    int64_t features = 1024;
    int64_t k = 16;
    double l1 = 5.0;
    int64_t tokens = 2'000'000;
    int64_t batchSize = 1024;
    double lr = 4e-4;
    bool resume = false;  // continue from the checkpoint in the output folder
    int64_t reportEverySteps = 10;
};

struct AnalyseJobSpec {
    std::string workspaceDir;
    std::string saeName;    // <workspace>/saes/<saeName> → features/<saeName>.sqlite
    int64_t tokens = 0;     // rows to analyse; 0 = all
    bool fresh = false;     // ignore a saved partial analysis
    bool withModel = true;  // logit effects and token strings need the model
};

struct EvalJobSpec {
    std::string workspaceDir;
    std::string saeName;
    int64_t tokens = 20'000;
};

// The hook an SAE or a job applies to: `hook` when given, else the manifest's first.
Result<std::string> resolveHook(const std::string& workspaceDir, const std::string& hook);

// Rows (tokens) captured for `hook` in the workspace; 0 when none or unknown.
int64_t capturedRows(const std::string& workspaceDir, const std::string& hook);

// True when <outDir>/checkpoint.safetensors exists (a training that can resume).
bool hasTrainingCheckpoint(const std::string& saeDir);

Result<acts::CaptureSummary> runCaptureJob(const CaptureJobSpec& spec, const Progress& progress,
                                           StopToken stop);

// The summary of a finished training (the SAE itself stays on disk).
struct TrainJobSummary {
    std::string saeDir;
    int64_t steps = 0;
    int64_t tokens = 0;
    double finalLoss = 0;
    double deadPct = 0;
};
Result<TrainJobSummary> runTrainJob(const TrainJobSpec& spec, const Progress& progress,
                                    StopToken stop);

Result<features::AnalysisSummary> runAnalyseJob(const AnalyseJobSpec& spec,
                                                const Progress& progress, StopToken stop);

// Also writes the report to <workspace>/saes/<name>/eval.json (as `eval-sae --json` does).
Result<sae::ModelEvalReport> runEvalJob(const EvalJobSpec& spec, const Progress& progress,
                                        StopToken stop);

// Checks that an SAE reads the width the workspace's hook has: InvalidArgument
// naming both widths when not. Uses the activation store's width when one was
// captured for `hook`; the check passes when the width cannot be known.
Status checkSaeWidth(const std::string& workspaceDir, const std::string& hook, int64_t saeDIn);

}  // namespace mono::ui
