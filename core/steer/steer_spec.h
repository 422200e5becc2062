#pragma once
// What a steering experiment changes: which SAE features, how, and where.
//
// Every modification is an edit of the SAE code f of a hook row h:
//   clamp  f_i := c                    at every steered position
//   cond   f_i := c where f_i > 0      (conditional clamp: only where it fires)
//   add    f_i := f_i + α              i.e. h += α · W_dec[i]
// A value is absolute, or (relative) a multiple of the feature's maximum
// activation, as the feature store records it ("10x").

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/result.h"

namespace mono::features {
class FeatureStore;
}

namespace mono::steer {

enum class SteerMode { kClamp, kConditionalClamp, kAdd };
enum class SteerPositions { kPrompt, kGenerated, kAll };

struct FeatureEdit {
    int64_t feature = 0;
    double value = 0;          // c or α; a multiple of the max activation when relative
    bool relative = false;     // "ID=10x"
    double maxActivation = 0;  // filled by resolve*(); the scale of a relative value
    // The value the splice uses: value × maxActivation when relative.
    double absolute() const { return relative ? value * maxActivation : value; }
};

struct SteerSpec {
    std::string hook;  // where the SAE reads and the splice writes
    std::vector<FeatureEdit> edits;
    SteerMode mode = SteerMode::kClamp;
    SteerPositions positions = SteerPositions::kAll;
    bool skipSpecial = true;  // leave BOS/EOS/other special tokens' rows untouched
};

// "123=4.5" (absolute) or "123=10x" (10 × max activation). InvalidArgument naming the text.
Result<FeatureEdit> parseFeatureEdit(const std::string& text);
// "clamp" | "cond" | "add" and "prompt" | "gen" | "all"; InvalidArgument otherwise.
Result<SteerMode> parseSteerMode(const std::string& text);
Result<SteerPositions> parseSteerPositions(const std::string& text);
const char* steerModeName(SteerMode mode);
const char* steerPositionsName(SteerPositions positions);

// Fills maxActivation of every relative edit from the feature store. NotFound
// naming the store when a feature is absent; InvalidArgument when a relative
// edit names a dead feature (max 0: the multiple would be meaningless).
Status resolveFromStore(std::vector<FeatureEdit>& edits, const features::FeatureStore& store);
// The same from a table of max activations indexed by feature id.
Status resolveFromTable(std::vector<FeatureEdit>& edits, const std::vector<float>& maxActivation,
                        const std::string& source);

// Every feature's max activation, indexed by id, from the store at `path`
// (opened read-only). Errors name the file.
Result<std::vector<float>> loadMaxActivations(const std::string& path);

// Checks feature ids against the SAE width and that relative edits were resolved.
Status validateEdits(const std::vector<FeatureEdit>& edits, int64_t dSae);

}  // namespace mono::steer
