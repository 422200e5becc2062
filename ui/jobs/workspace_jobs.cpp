#include "ui/jobs/workspace_jobs.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/acts/activation_store.h"
#include "core/acts/shuffled_provider.h"
#include "core/base/atomic_file.h"
#include "core/model/model.h"
#include "core/model/model_files.h"
#include "core/sae/quality_eval.h"
#include "core/sae/sae_io.h"
#include "core/workspace/job_locks.h"
#include "core/workspace/workspace.h"

namespace mono::ui {

namespace fs = std::filesystem;

Result<std::string> resolveHook(const std::string& workspaceDir, const std::string& hook) {
    if (!hook.empty()) return hook;
    MONO_ASSIGN_OR_RETURN(ws::Workspace workspace, ws::Workspace::open(workspaceDir));
    if (workspace.manifest().hooks.empty())
        return Status::invalidArgument("workspace " + workspaceDir + " names no hook point");
    return workspace.manifest().hooks.front();
}

int64_t capturedRows(const std::string& workspaceDir, const std::string& hook) {
    auto resolved = resolveHook(workspaceDir, hook);
    if (!resolved.ok()) return 0;
    auto workspace = ws::Workspace::open(workspaceDir);
    if (!workspace.ok()) return 0;
    auto index = acts::readStoreIndex(workspace->activationsDir(*resolved));
    return index.ok() ? index->rows() : 0;
}

bool hasTrainingCheckpoint(const std::string& saeDir) {
    std::error_code ec;
    return !saeDir.empty() && fs::exists(fs::path(saeDir) / sae::kCheckpointFile, ec);
}

Result<acts::CaptureSummary> runCaptureJob(const CaptureJobSpec& spec, const Progress& progress,
                                           StopToken stop) {
    MONO_ASSIGN_OR_RETURN(ws::Workspace workspace, ws::Workspace::open(spec.workspaceDir));
    MONO_ASSIGN_OR_RETURN(ws::JobLocks locks, ws::lockForCapture(spec.workspaceDir));
    const ws::Manifest& m = workspace.manifest();
    MONO_ASSIGN_OR_RETURN(std::string hook, resolveHook(spec.workspaceDir, spec.hook));
    if (m.corpus.empty())
        return Status::invalidArgument("workspace " + spec.workspaceDir + " lists no corpus file");
    MONO_ASSIGN_OR_RETURN(auto model, model::Model::load(m.modelPath));
    MONO_ASSIGN_OR_RETURN(auto tokenizer, model::loadModelTokenizer(m.modelPath, m.tokenizerPath));
    acts::CaptureSpec capture;
    capture.corpus = m.corpus;
    capture.hooks = {hook};
    capture.outDirs = {workspace.activationsDir(hook)};
    capture.tokens = spec.tokens;
    capture.contextSize = m.contextSize;
    capture.resume = !spec.restart;
    capture.modelName = fs::path(m.modelPath).filename().string();
    return acts::capture(*model, *tokenizer, capture, progress, std::move(stop));
}

Result<TrainJobSummary> runTrainJob(const TrainJobSpec& spec, const Progress& progress,
                                    StopToken stop) {
    MONO_ASSIGN_OR_RETURN(ws::Workspace workspace, ws::Workspace::open(spec.workspaceDir));
    MONO_ASSIGN_OR_RETURN(std::string hook, resolveHook(spec.workspaceDir, spec.hook));
    if (spec.saeName.empty() && spec.outDir.empty())
        return Status::invalidArgument("give the SAE a name");
    sae::TrainSpec train;
    train.architecture = spec.architecture;
    train.dSae = spec.features;
    train.k = spec.k;
    train.l1 = spec.l1;
    train.totalTokens = spec.tokens;
    train.batchSize = spec.batchSize;
    train.lr = spec.lr;
    train.resume = spec.resume;
    train.reportEverySteps = spec.reportEverySteps;
    train.checkpointSeconds = 30;
    train.outDir = spec.outDir.empty() ? workspace.saeDir(spec.saeName) : spec.outDir;
    MONO_ASSIGN_OR_RETURN(ws::JobLocks locks,
                          ws::lockForSaeJob(spec.workspaceDir, train.outDir, "train"));
    train.metadata.hookName = hook;
    train.metadata.modelName = fs::path(workspace.manifest().modelPath).filename().string();
    train.metadata.datasetPath = workspace.activationsDir(hook);
    if (spec.resume && !hasTrainingCheckpoint(train.outDir))
        return Status::notFound("no checkpoint to resume in " + train.outDir);
    MONO_ASSIGN_OR_RETURN(auto data,
                          acts::ShuffledStoreProvider::open(workspace.activationsDir(hook), 42));
    Progress sink = progress;  // trainSae takes a mutable Progress
    MONO_ASSIGN_OR_RETURN(sae::TrainResult result,
                          sae::trainSae(train, *data, sink, std::move(stop)));
    TrainJobSummary summary;
    summary.saeDir = train.outDir;
    summary.steps = result.steps;
    summary.tokens = result.tokens;
    summary.finalLoss = result.finalLoss;
    summary.deadPct = result.deadPct;
    return summary;
}

Result<features::AnalysisSummary> runAnalyseJob(const AnalyseJobSpec& spec,
                                                const Progress& progress, StopToken stop) {
    MONO_ASSIGN_OR_RETURN(ws::Workspace workspace, ws::Workspace::open(spec.workspaceDir));
    const std::string saeDir = workspace.saeDir(spec.saeName);
    MONO_ASSIGN_OR_RETURN(ws::JobLocks locks,
                          ws::lockForSaeJob(spec.workspaceDir, saeDir, "analyse"));
    MONO_ASSIGN_OR_RETURN(sae::Sae sae, sae::loadSae(saeDir));
    MONO_ASSIGN_OR_RETURN(std::string hook,
                          resolveHook(spec.workspaceDir, sae.config().metadata.hookName));
    MONO_ASSIGN_OR_RETURN(acts::ActivationStoreReader store,
                          acts::ActivationStoreReader::open(workspace.activationsDir(hook)));
    if (store.index().dim != sae.dIn())
        return Status::invalidArgument("SAE " + spec.saeName + " reads d_in " +
                                       std::to_string(sae.dIn()) + " but the activations of " +
                                       hook + " have width " + std::to_string(store.index().dim));
    std::shared_ptr<model::Model> model;
    std::shared_ptr<const tok::Tokenizer> tokenizer;
    const ws::Manifest& m = workspace.manifest();
    if (spec.withModel && !m.modelPath.empty()) {
        MONO_ASSIGN_OR_RETURN(tokenizer, model::loadModelTokenizer(m.modelPath, m.tokenizerPath));
        MONO_ASSIGN_OR_RETURN(model, model::Model::load(m.modelPath));
    }
    features::AnalysisSpec analysis;
    analysis.maxTokens = spec.tokens;
    analysis.fresh = spec.fresh;
    features::AnalysisInputs in;
    in.store = &store;
    in.sae = &sae;
    in.model = model.get();
    in.tokenizer = tokenizer.get();
    in.saePath = fs::absolute(saeDir).string();
    const std::string out = workspace.featureStorePath(spec.saeName);
    std::error_code ec;
    fs::create_directories(fs::path(out).parent_path(), ec);
    return features::analyze(in, analysis, out, progress, std::move(stop));
}

Result<sae::ModelEvalReport> runEvalJob(const EvalJobSpec& spec, const Progress& progress,
                                        StopToken stop) {
    MONO_ASSIGN_OR_RETURN(ws::Workspace workspace, ws::Workspace::open(spec.workspaceDir));
    const ws::Manifest& m = workspace.manifest();
    MONO_ASSIGN_OR_RETURN(
        ws::JobLocks locks,
        ws::lockForSaeJob(spec.workspaceDir, workspace.saeDir(spec.saeName), "evaluate"));
    MONO_ASSIGN_OR_RETURN(sae::Sae sae, sae::loadSae(workspace.saeDir(spec.saeName)));
    MONO_ASSIGN_OR_RETURN(std::string hook,
                          resolveHook(spec.workspaceDir, sae.config().metadata.hookName));
    MONO_ASSIGN_OR_RETURN(auto model, model::Model::load(m.modelPath));
    MONO_ASSIGN_OR_RETURN(auto tokenizer, model::loadModelTokenizer(m.modelPath, m.tokenizerPath));
    sae::ModelEvalSpec eval;
    eval.hook = hook;
    eval.corpus = m.corpus;
    eval.tokens = spec.tokens;
    eval.contextSize = m.contextSize;
    // The SAEBench quality metrics too (metrics.json, as eval-sae --metrics all
    // writes it): the sidebar and the dashboard show them.
    sae::QualitySpec quality;
    quality.eval = eval;
    MONO_ASSIGN_OR_RETURN(
        sae::QualityResult result,
        sae::evaluateQuality(*model, *tokenizer, sae, quality, progress, std::move(stop)));
    MONO_RETURN_IF_ERROR(sae::saveQualityRecord(
        sae::qualityRecordPath(workspace.saeDir(spec.saeName)), result.record));
    const sae::ModelEvalReport& report = result.eval;
    // The same file `monoscope-cli eval-sae --json` writes: the sidebar shows it from now on.
    const sae::SaeMetrics& s = report.metrics;
    const nlohmann::json j = {{"sae", workspace.saeDir(spec.saeName)},
                              {"model", m.modelPath},
                              {"hook", hook},
                              {"tokens", s.tokens},
                              {"l0", s.l0},
                              {"mse", s.mse},
                              {"explained_variance", s.explainedVariance},
                              {"cosine", s.cosine},
                              {"l2_ratio", s.l2Ratio},
                              {"dead_pct", s.deadPct},
                              {"dense_pct", s.densePct},
                              {"ce_clean", report.ceClean},
                              {"ce_sae", report.ceSae},
                              {"ce_zero_ablation", report.ceZeroAblation},
                              {"ce_loss_recovered", report.ceLossRecovered},
                              {"delta_loss", report.deltaLoss}};
    MONO_RETURN_IF_ERROR(writeFileAtomic(workspace.saeEvalPath(spec.saeName), j.dump(2) + "\n"));
    return report;
}

Status checkSaeWidth(const std::string& workspaceDir, const std::string& hook, int64_t saeDIn) {
    auto workspace = ws::Workspace::open(workspaceDir);
    if (!workspace.ok()) return workspace.status();
    auto index = acts::readStoreIndex(workspace->activationsDir(hook));
    if (!index.ok()) return Status::success();  // nothing captured: the width is not known here
    if (index->dim != saeDIn)
        return Status::invalidArgument("the SAE reads vectors of width " + std::to_string(saeDIn) +
                                       " but hook " + hook + " has width " +
                                       std::to_string(index->dim));
    return Status::success();
}

}  // namespace mono::ui
