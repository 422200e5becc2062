#pragma once
// Calibration for W8A8: run the float model over N windows of a corpus and
// keep, for every linear module input, the statistics SmoothQuant needs and
// the quantization panel shows.
//
//   auto windows = tokenWindows(files, *tokenizer, 64, 256);
//   auto calib = calibrate(*model, *windows, {}, progress, stop);
//   saveCalibration(*calib, workspace.calibrationPath());
//
// Linears that share an input (Llama q/k/v, gate/up) have one entry.

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/model/model.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::quant {

// One linear input of a block and the modules that read it.
struct LinearInput {
    int layer = 0;
    model::HookSite site = model::HookSite::kAttnIn;
    std::string hook;                  // "blocks.0.attn.q_proj" (the first module's hook name)
    std::vector<std::string> modules;  // {"attn.q_proj", "attn.k_proj", "attn.v_proj"}
    int channels = 0;                  // width of the input
};

// Every linear input of the model, in forward order (4 per block).
std::vector<LinearInput> linearInputs(const model::ModelConfig& config);

struct InputStats {
    LinearInput input;
    std::vector<float> channelMax;      // [C] max |x_j| over all tokens
    std::vector<float> channelMeanAbs;  // [C] mean |x_j| over all tokens
    std::vector<float> tokenMax;        // [tokens] max_j |x_j| of each token, in corpus order
    std::vector<float> heatmap;         // [heatmapRows, C] |x| of the first tokens
    int heatmapRows = 0;
    // [samples] after sample i: Σ_j |max_j(i) − max_j(i−1)| / Σ_j max_j(i) (1 for the first):
    // how much the maxima still move per added sample.
    std::vector<float> convergence;
    // E[x⁴] / E[x²]² over every value of the input (3 for a Gaussian; large
    // when a few channels carry outliers); 0 in files written before it existed.
    double kurtosis = 0.0;
};

struct Calibration {
    std::string model;  // config().name of the calibrated model
    int samples = 0;
    int64_t tokens = 0;
    std::vector<InputStats> inputs;
    // The entry of an input (layer, site of its first module); null when absent.
    const InputStats* find(int layer, model::HookSite site) const;
};

struct CalibrationOptions {
    int batchSequences = 4;  // windows per forward pass
    int heatmapRows = 64;    // tokens kept for the token × channel view
};

// Runs the model on `windows` (each a token sequence, ≤ maxSeqLen) and collects
// the statistics. Cancelled when `stop` is requested; InvalidArgument on no windows.
Result<Calibration> calibrate(model::Model& model,
                              const std::vector<std::vector<model::TokenId>>& windows,
                              const CalibrationOptions& options = {}, const Progress& progress = {},
                              StopToken stop = {});

// Windows of `seqLen` tokens cut from the corpus's documents, each document
// encoded with BOS first (when the vocabulary has one) and all concatenated;
// `skip` windows are passed over first (a held-out split). Returns fewer than
// `count` when the corpus runs out; InvalidArgument naming the files when it
// yields none.
Result<std::vector<std::vector<model::TokenId>>> tokenWindows(
    const std::vector<std::string>& corpusFiles, const tok::Tokenizer& tokenizer, int count,
    int seqLen, int skip = 0);

// JSON, written atomically. Load errors name the file and the field.
Status saveCalibration(const Calibration& calibration, const std::string& path);
Result<Calibration> loadCalibration(const std::string& path);

}  // namespace mono::quant
