#pragma once
// The GUI's feature map job: lays out the features of an open feature store
// from the SAE its analysis names (RunInfo::saePath) and writes the map into
// the store. Safe on a worker thread: it opens its own connections.

#include <string>

#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/features/feature_map.h"

namespace mono::ui {

Result<features::FeatureMap> runFeatureMapJob(const std::string& storePath,
                                              const Progress& progress, StopToken stop);

}  // namespace mono::ui
