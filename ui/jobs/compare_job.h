#pragma once
// Comparing two SAEs of a workspace, as a job for the GUI's runner: the
// matching of core/compare plus a short description of each feature (its
// label, else its top example's snippet) from each SAE's feature store, when
// it has one. No numerics here; see core/compare/sae_matching.h.

#include <string>
#include <vector>

#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/compare/sae_matching.h"

namespace mono::ui {

struct CompareJobSpec {
    std::string workspaceDir;
    std::string saeA, saeB;  // names under <workspace>/saes/
    float threshold = 0.9f;
    float familyThreshold = 0.7f;
    int top = 3;
};

struct CompareJobResult {
    CompareJobSpec spec;
    compare::SaeMatching matching;
    compare::MatchCounts counts;
    bool parentsInA = true;  // families have their parent in the narrower SAE
    std::vector<compare::SplitFamily> families;
    std::vector<std::string> describeA, describeB;  // per feature; empty when no store
};

Result<CompareJobResult> runCompareJob(const CompareJobSpec& spec, const Progress& progress,
                                       StopToken stop);

}  // namespace mono::ui
