#pragma once
// The quality metrics of one SAE as stored beside it (eval-sae --metrics writes
// it, the GUI's sidebar and dashboard read it): "<SAE folder>/metrics.json", or
// "<file>.metrics.json" for an SAE given as a file. docs/FORMATS.md has the layout.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/base/result.h"

namespace mono::sae {

struct QualityRecord {
    std::string model;
    std::string hook;
    // Per-SAE numbers in the order they were computed ("l0", "kl_fidelity", ...).
    std::vector<std::pair<std::string, double>> summary;
    // Per feature, each empty when not computed, else [d_sae] long.
    std::vector<float> maxDecoderCosine;
    std::vector<int32_t> absorbedCount;  // full absorptions where f was the absorber
    std::vector<int8_t> absorbedLetter;  // 0..25, −1 none
    std::vector<int8_t> mainLetter;      // 0..25, −1 none

    const double* find(const std::string& name) const;
};

std::string qualityRecordPath(const std::string& saePath);

// Written atomically. InvalidArgument for a non-finite summary value (JSON has
// no NaN), IoError naming the path.
Status saveQualityRecord(const std::string& path, const QualityRecord& record);

// NotFound when absent; InvalidArgument naming the file and the key for a
// malformed one.
Result<QualityRecord> loadQualityRecord(const std::string& path);

}  // namespace mono::sae
