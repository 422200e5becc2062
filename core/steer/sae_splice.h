#pragma once
// The SAE splice of a steering experiment, at the SAE's hook:
//   h' = x̂(f') + (h − x̂(f))          f = encode(h), f' = f with the edits applied
// The error term (h − x̂(f)) keeps whatever the SAE fails to reconstruct, so
// only the edited features change. Because the decoder is affine
// (x̂(f) = f W_dec + b_dec) this equals
//   h' = h + Σ_i (f'_i − f_i) W_dec[i]
// which is what apply() computes: it touches only the edited features, and an
// edit that leaves f_i as it was leaves h bit-for-bit unchanged (the literal
// form would add the rounding of two d_sae-term decodes).
//
// A SaeSplice is immutable after create() and may be used from several
// threads; the SAE is shared, not copied.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/model/hook_points.h"
#include "core/sae/sae.h"
#include "core/steer/steer_spec.h"

namespace mono::steer {

// Which rows of a hook block to edit: (sequence index in the batch, position in it).
using RowFilter = std::function<bool(int seq, int64_t pos)>;

class SaeSplice {
public:
    // Errors (InvalidArgument): a hook the model lacks, an SAE whose d_in differs
    // from the hook's width (naming both), a feature id out of range, a relative
    // edit without its max activation. Edits are applied in order, so a later
    // clamp of the same feature wins and adds accumulate.
    static Result<SaeSplice> create(const model::ModelConfig& config,
                                    std::shared_ptr<const sae::Sae> sae, std::string hook,
                                    std::vector<FeatureEdit> edits, SteerMode mode);

    const std::string& hook() const { return m_hook; }
    const sae::Sae& sae() const { return *m_sae; }
    const std::vector<FeatureEdit>& edits() const { return m_edits; }
    SteerMode mode() const { return m_mode; }

    // Edits `rows` rows of x (row-major [rows, d_in]) in place.
    Status apply(float* x, int64_t rows) const;

    // Registers the splice on `hooks` at hook(): rows for which `filter` (may be
    // empty: every row) returns false are left alone. A hook cannot return an
    // error, so the first one is stored in *error (which must outlive the hooks).
    void install(model::Hooks& hooks, RowFilter filter, Status* error) const;

private:
    SaeSplice() = default;
    std::shared_ptr<const sae::Sae> m_sae;
    std::string m_hook;
    std::vector<FeatureEdit> m_edits;
    SteerMode m_mode = SteerMode::kClamp;
};

// Checks that `hook` exists in the model and is as wide as the SAE's input;
// InvalidArgument naming the hook, the SAE width and the hook width otherwise.
Status checkSaeFitsHook(const model::ModelConfig& config, const sae::Sae& sae,
                        const std::string& hook);

}  // namespace mono::steer
