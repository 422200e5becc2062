#pragma once
// Computing a feature store's map from its SAE and writing it into the store:
// what `monoscope-cli feature-map`, `analyze --map` and the GUI's map job do.

#include <string>

#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/features/feature_map.h"

namespace mono::sae {
class Sae;
}

namespace mono::features {

// Lays out `sae`'s decoder rows and stores the layout in the store at
// `storePath`, tagged with the SAE's content hash. The store must hold an
// analysis of this very SAE (same hash, one feature per decoder row), else
// InvalidArgument naming the store and the SAE: a map of another SAE's
// features would place every feature wrongly. Returns the map and its timings.
Result<FeatureMap> writeFeatureMap(const sae::Sae& sae, const std::string& saePath,
                                   const std::string& storePath, const FeatureMapSpec& spec,
                                   const Progress& progress, const StopToken& stop);

}  // namespace mono::features
