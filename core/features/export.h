#pragma once
// Exports of a feature store: JSON in Neuronpedia's feature layout (one
// feature, or the whole store as {"run", "density_histogram", "features": [...]})
// and CSV of the feature table. Field mapping: docs/FEATURE_STORE.md.
// Files are written atomically; errors name the output file.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base/result.h"
#include "core/features/feature_store.h"

namespace mono::features {

// One feature as a Neuronpedia-style object: index, maxActApprox (and
// maxActValue), frac_nonzero, pos_str/pos_values, neg_str/neg_values,
// freq_hist_data_bar_heights/_values, topkCosSimIndices/_Values,
// activations [{tokens, values, maxValue, maxValueTokenIndex, binMin, binMax}],
// explanations [{description}], plus a "monoscope" object with the rest.
nlohmann::json featureToJson(const FeatureRecord& record, const RunInfo& run);

// `id` < 0: every feature. Otherwise one feature (NotFound when absent).
Status exportJson(const FeatureStore& store, const std::string& outPath, int64_t id = -1);
// The features that pass `filter` (a selection: the browser's list), in id order,
// in the layout of the whole-store export.
Status exportJson(const FeatureStore& store, const std::string& outPath,
                  const FeatureFilter& filter);

// id, fire_count, density, log10_density, max_activation, mean_activation, label, top_snippet;
// the features that pass `filter` (default: all), in id order.
Status exportCsv(const FeatureStore& store, const std::string& outPath,
                 const FeatureFilter& filter = {});

}  // namespace mono::features
