#include "ui/jobs/feature_map_job.h"

#include "core/features/feature_store.h"
#include "core/features/map_writer.h"
#include "core/sae/sae_io.h"

namespace mono::ui {

Result<features::FeatureMap> runFeatureMapJob(const std::string& storePath,
                                              const Progress& progress, StopToken stop) {
    std::string saePath;
    {
        MONO_ASSIGN_OR_RETURN(
            features::FeatureStore store,
            features::FeatureStore::open(storePath, features::FeatureStore::Mode::kReadOnly));
        MONO_ASSIGN_OR_RETURN(features::RunInfo run, store.runInfo());
        saePath = run.saePath;
    }
    if (saePath.empty())
        return Status::invalidArgument(storePath + ": does not name the SAE it was analysed with");
    progress.report(0.0, "loading the SAE");
    MONO_ASSIGN_OR_RETURN(sae::Sae sae, sae::loadSae(saePath));
    return features::writeFeatureMap(sae, saePath, storePath, features::FeatureMapSpec{}, progress,
                                     stop);
}

}  // namespace mono::ui
