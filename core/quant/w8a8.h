#pragma once
// A W8A8 copy of a float model: smoothing (optional) folded into its weights,
// every block linear's weights quantized to int8, and its activations
// quantized on the way into each linear. Two ways to run it, which agree up
// to float rounding:
//   fake  float forward over the dequantized weights; hooks fake-quantize the
//         linear inputs (forwardOptions(false))
//   int8  each block linear runs the int8 GEMM on the quantized input and
//         weights with int32 accumulation, then rescales (forwardOptions(true))
// The embeddings, norms, attention and lm_head stay in float. With
// quantizeAttnInputs, the q, k and v outputs are also fake-quantized per token
// (before RoPE: the forward pass has no hook after it).

#include <map>
#include <memory>
#include <vector>

#include "core/base/result.h"
#include "core/kernels/int8_gemm.h"
#include "core/model/model.h"
#include "core/quant/calibration.h"
#include "core/quant/fake_quant.h"
#include "core/quant/smoothing.h"

namespace mono::quant {

// The name says W8A8; the bit widths make it W4A8 or W4A4 as well.
struct W8A8Scheme {
    ActScheme act = ActScheme::kPerToken;
    WeightScheme weight = WeightScheme::kPerChannel;
    bool quantizeAttnInputs = false;
    int weightBits = 8;            // 8 or 4
    int actBits = 8;               // 8 or 4
    std::string describe() const;  // "W8A8 O1, weights per-channel"
    // The int8 GEMM takes one scale per input row and per weight row: no per-group scheme.
    bool int8Capable() const {
        return weight != WeightScheme::kPerGroup && act != ActScheme::kPerTokenGroup;
    }
};

// The hook site of module `index` of a linear input (q, k, v → kAttnIn, kKIn, kVIn).
model::HookSite moduleSite(const LinearInput& input, size_t index);

// Fake-quantizes a [rows, cols] block (row stride ld) as `act` says: per row (O1),
// per sequence of `seqs` (O2; the whole block when seqs is null), with
// `staticScale` (O3), or per group of kGroupSize channels of each row (O1-g128).
void fakeQuantizeActivations(float* x, int64_t rows, int64_t cols, int64_t ld, ActScheme act,
                             const std::vector<model::SeqRows>* seqs, float staticScale,
                             float levels = kInt8Levels);

// Quantizes W [out, in] (contiguous) in place to its dequantized values;
// `q` gets the integer levels and `scales` one scale per row (the same value in
// every row for per-tensor), or for per-group one per group of each row
// ([out, ceil(in / kGroupSize)]).
void quantizeWeights(float* w, int64_t out, int64_t in, WeightScheme scheme, std::vector<int8_t>* q,
                     std::vector<float>* scales, float levels = kInt8Levels);

class W8A8Model {
public:
    // Copies fp's weights, folds `plan` (null: no smoothing), quantizes the
    // weights. O3's static scales come from `calibration` (divided by s).
    static Result<std::unique_ptr<W8A8Model>> build(const model::Model& fp,
                                                    const Calibration& calibration,
                                                    const SmoothingPlan* plan,
                                                    const W8A8Scheme& scheme);
    W8A8Model(const W8A8Model&) = delete;
    W8A8Model& operator=(const W8A8Model&) = delete;

    model::Model& model() { return *m_model; }
    const W8A8Scheme& scheme() const { return m_scheme; }
    const SmoothingPlan* plan() const { return m_hasPlan ? &m_plan : nullptr; }
    // O3's scale of a module's input (after smoothing).
    float staticScale(int layer, model::HookSite site) const;

    // Options for model().forward(): the fake path (false) or the int8 kernels
    // (true; schemes that are not int8Capable() take the fake path).
    model::ForwardOptions forwardOptions(bool int8) const;

private:
    W8A8Model() = default;
    struct Module {
        kernels::PackedInt8 w;
        std::vector<float> wScale;  // [out]
        std::vector<float> bias;    // [out] or empty
        float staticScale = 1.0f;
    };
    bool runInt8(const model::LinearCall& call);
    bool runAttnFake(const model::LinearCall& call) const;
    void quantizeAttnOutput(const model::LinearCall& call) const;
    static int key(int layer, model::HookSite site) {
        return layer * model::kHookSitesPerLayer + int(site);
    }

    std::shared_ptr<model::Model> m_model;
    W8A8Scheme m_scheme;
    SmoothingPlan m_plan;
    bool m_hasPlan = false;
    bool m_fusedQkv = false;
    std::map<int, Module> m_modules;
    model::Hooks m_hooks;
    model::LinearFn m_int8Fn, m_attnFn;
    std::vector<int8_t> m_a;        // [rows, in] quantized input
    std::vector<float> m_rowScale;  // [rows]
    std::vector<int32_t> m_acc;     // [rows, out]
};

}  // namespace mono::quant
