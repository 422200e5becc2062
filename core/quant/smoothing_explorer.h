#pragma once
// What the quantization panel shows while α moves, computed here so the UI
// only draws: per smoothing group, the activation and weight maxima before
// and after smoothing and the scales; and the W8A8 output error of every
// group with and without smoothing at that α, on float inputs captured once.
//
// Thread-safety: view() and errors() are const and may run on any thread,
// also concurrently (they only read; the model's weights must not change).

#include <memory>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/model/model.h"
#include "core/quant/calibration.h"
#include "core/quant/smoothing.h"
#include "core/quant/w8a8.h"

namespace mono::quant {

struct SmoothingView {
    std::vector<float> actMax;             // [C] calibrated max |X_j|
    std::vector<float> actMaxSmoothed;     // [C] max |X_j| / s_j
    std::vector<float> weightMax;          // [C] max_i |W_ij| over the group's linears
    std::vector<float> weightMaxSmoothed;  // [C] max |W_j| · s_j
    std::vector<float> scales;             // [C] s_j
};

struct GroupErrorRow {
    std::string group;           // "blocks.0.attn"
    double plainError = 0.0;     // W8A8 relative output error without smoothing
    double smoothedError = 0.0;  // ... with smoothing at α
};

class SmoothingExplorer {
public:
    // Runs `windows` (a few) through the float model once to capture every
    // group's input. InvalidArgument when the calibration does not fit the model.
    static Result<std::shared_ptr<SmoothingExplorer>> create(
        std::shared_ptr<model::Model> model, Calibration calibration,
        const std::vector<std::vector<model::TokenId>>& windows, W8A8Scheme scheme);

    const std::vector<SmoothGroup>& groups() const { return m_groups; }
    const Calibration& calibration() const { return m_calibration; }
    int channels(size_t group) const;

    // InvalidArgument for a group out of range or α outside [0, 1].
    Result<SmoothingView> view(size_t group, float alpha) const;
    Result<std::vector<GroupErrorRow>> errors(float alpha) const;
    // The same under another `scheme` (O1/O2/O3, weight granularity, bits) with
    // one α per group. InvalidArgument when alphas has not one value per group
    // in [0, 1]. The unsmoothed error is recomputed when the scheme is not the
    // explorer's own.
    Result<std::vector<GroupErrorRow>> errors(const std::vector<float>& alphas,
                                              const W8A8Scheme& scheme) const;
    // Each group's α on `grid` with the smallest smoothed error under `scheme`
    // (ties: the smaller α): the automatic α, on the captured inputs.
    Result<std::vector<float>> bestAlphas(const W8A8Scheme& scheme,
                                          const std::vector<float>& grid) const;

private:
    SmoothingExplorer() = default;
    std::shared_ptr<model::Model> m_model;
    Calibration m_calibration;
    W8A8Scheme m_scheme;
    std::vector<SmoothGroup> m_groups;
    std::vector<const InputStats*> m_stats;       // [group], into m_calibration
    std::vector<std::vector<float>> m_weightMax;  // [group][C]
    std::vector<std::vector<float>> m_inputs;     // [group][rows · C]
    std::vector<std::vector<model::SeqRows>> m_seqs;
    std::vector<double> m_plainError;  // [group] without smoothing: α-independent, computed once
};

}  // namespace mono::quant
