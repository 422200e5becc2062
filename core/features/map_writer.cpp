#include "core/features/map_writer.h"

#include <filesystem>

#include "core/features/analysis.h"
#include "core/features/feature_store.h"
#include "core/sae/sae.h"

namespace mono::features {

Result<FeatureMap> writeFeatureMap(const sae::Sae& sae, const std::string& saePath,
                                   const std::string& storePath, const FeatureMapSpec& spec,
                                   const Progress& progress, const StopToken& stop) {
    // Opening read-write would create a missing file: refuse it instead.
    std::error_code ec;
    if (!std::filesystem::exists(storePath, ec))
        return Status::notFound(storePath + ": no such feature store");
    MONO_ASSIGN_OR_RETURN(FeatureStore store,
                          FeatureStore::open(storePath, FeatureStore::Mode::kReadWrite));
    auto run = store.runInfo();
    if (!run.ok())
        return Status::invalidArgument(
            storePath + ": holds no analysis yet; analyse the SAE first, then map it");
    const std::string hash = saeContentHash(sae);
    if (!run->saeHash.empty() && run->saeHash != hash)
        return Status::invalidArgument(storePath + ": was analysed with another SAE (" +
                                       run->saePath + "), not " + saePath);
    MONO_ASSIGN_OR_RETURN(int64_t features, store.featureCount());
    if (features != sae.dSae())
        return Status::invalidArgument(storePath + ": holds " + std::to_string(features) +
                                       " features, the SAE at " + saePath + " has " +
                                       std::to_string(sae.dSae()));
    MONO_ASSIGN_OR_RETURN(FeatureMap map, computeFeatureMap(sae.wDec(), spec, progress, stop));
    StoredFeatureMap stored;
    stored.xy = map.xy;
    stored.saeHash = run->saeHash.empty() ? hash : run->saeHash;
    stored.settingsJson = spec.toJson();
    MONO_RETURN_IF_ERROR(store.replaceFeatureMap(stored));
    return map;
}

}  // namespace mono::features
