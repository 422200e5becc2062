#include "ui/jobs/compare_job.h"

#include <filesystem>

#include "core/features/feature_store.h"
#include "core/sae/sae_io.h"
#include "core/workspace/workspace.h"

namespace mono::ui {

namespace {

// Label, else top snippet, of every feature of the store beside the SAE;
// empty when it has not been analysed (or its store cannot be read).
std::vector<std::string> describeFeatures(const ws::Workspace& workspace, const std::string& sae,
                                          int64_t features) {
    const std::string path = workspace.featureStorePath(sae);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return {};
    auto store = features::FeatureStore::open(path, features::FeatureStore::Mode::kReadOnly);
    if (!store.ok()) return {};
    features::PageRequest all;
    all.limit = features;
    auto page = store->page(all);
    if (!page.ok()) return {};
    std::vector<std::string> out(static_cast<size_t>(features));
    for (const features::FeatureSummary& s : page->rows)
        if (s.id >= 0 && s.id < features) out[s.id] = s.label.empty() ? s.topSnippet : s.label;
    return out;
}

}  // namespace

Result<CompareJobResult> runCompareJob(const CompareJobSpec& spec, const Progress& progress,
                                       StopToken stop) {
    MONO_ASSIGN_OR_RETURN(ws::Workspace workspace, ws::Workspace::open(spec.workspaceDir));
    progress.report(0.0, "loading " + spec.saeA);
    MONO_ASSIGN_OR_RETURN(sae::Sae a, sae::loadSae(workspace.saeDir(spec.saeA)));
    progress.report(0.1, "loading " + spec.saeB);
    MONO_ASSIGN_OR_RETURN(sae::Sae b, sae::loadSae(workspace.saeDir(spec.saeB)));
    if (stop.stopRequested()) return Status::cancelled("comparison cancelled");
    progress.report(0.2, "matching decoder directions");
    CompareJobResult r;
    r.spec = spec;
    auto matching = compare::matchDecoders(a, b, spec.top);
    if (!matching.ok())
        return Status::invalidArgument(spec.saeA + " and " + spec.saeB + ": " +
                                       matching.status().message());
    r.matching = std::move(*matching);
    if (stop.stopRequested()) return Status::cancelled("comparison cancelled");
    r.counts = compare::countMatches(r.matching, spec.threshold);
    r.parentsInA = a.dSae() <= b.dSae();
    r.families = compare::splitFamilies(r.matching, r.parentsInA, spec.familyThreshold);
    progress.report(0.9, "reading feature labels");
    r.describeA = describeFeatures(workspace, spec.saeA, a.dSae());
    r.describeB = describeFeatures(workspace, spec.saeB, b.dSae());
    progress.report(1.0, "compared");
    return r;
}

}  // namespace mono::ui
