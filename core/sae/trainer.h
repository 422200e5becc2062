#pragma once
// Trains an SAE on a stream of activation batches (docs/SAE.md, "Training"):
//   standard: L = ||x − x̂||² + λ Σ_i f_i ||W_dec[i]||, λ warmed up from 0.
//   jumprelu: L = ||x − x̂||² + λ Σ_i tanh(c f_i ||W_dec[i]||) (default) or the
//     paper's λ Σ_i H(h_i − θ_i), λ warmed up from 0; per-feature thresholds θ
//     (trained as log θ) through straight-through estimators with a rectangle
//     kernel (train_step_jumprelu.cpp). The tanh form keeps the decoder norms
//     free and starts them at 0.1 as standard does; the step form holds them at 1.
//   topk / batchtopk: no L1; W_enc initialised as W_decᵀ; unit-norm decoder rows
//     (gradient parallel to each row removed, rows renormalised after each step);
//     aux-k loss (1/32) from the top-k_aux dead latents on the residual.
//     batchtopk keeps the k·B largest activations of the batch and is saved as
//     jumprelu with one global threshold (a running mean of the smallest kept value).
//     With Matryoshka prefixes each prefix of the dictionary also reconstructs
//     the input alone and the loss sums their errors (train_step_matryoshka.cpp).
// Adam, linear LR warm-up and linear decay over the last 20%. Inputs are scaled
// so that E||x|| = sqrt(d_in) (estimated from the first batches) and the scale is
// folded into the saved weights, which take raw activations. b_dec starts at the
// data mean. Checkpoints (atomic, in outDir) keep everything a resume needs:
// weights, Adam moments, step, RNG and provider state, dead counters, scale.
//
// trainSae returns Cancelled when stopped (after writing a checkpoint), and an
// error naming the step when the loss or the weights turn NaN/Inf (the last good
// checkpoint is left as it was).

#include <cstdint>
#include <string>
#include <vector>

#include "core/acts/batch_provider.h"
#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/sae/jumprelu_sparsity.h"
#include "core/sae/metrics.h"
#include "core/sae/sae.h"
#include "core/sae/step_engine.h"

namespace mono::sae {

struct TrainSpec {
    Architecture architecture = Architecture::kStandard;
    int64_t dSae = 0;
    int64_t k = 32;   // topk / batchtopk
    double l1 = 5.0;  // λ (standard)
    // jumprelu: λ of the sparsity term, its form and tanh scale c, the initial
    // threshold θ (every latent) and the bandwidth ε of θ's straight-through
    // gradient, in the units of the scaled inputs (E||x|| = sqrt(d_in)). SAELens'
    // defaults except the form (SAELens: step) and c (SAELens and Anthropic: 4);
    // docs/SAE.md, "JumpReLU training", has the measurements behind them.
    double l0 = 1.0;
    JumpReluSparsity jumpReluSparsity = JumpReluSparsity::kTanh;
    double jumpReluTanhScale = 2.0;
    double jumpReluInitThreshold = 0.01;
    double jumpReluBandwidth = 0.05;
    // batchtopk: Matryoshka prefix widths, strictly increasing, the last F (it
    // is added when missing), the first ≥ k; empty: plain BatchTopK.
    // defaultMatryoshkaWidths gives the CLI's default.
    std::vector<int64_t> matryoshkaWidths;
    int64_t totalTokens = 0;  // steps = totalTokens / batchSize (at least 1)
    int64_t batchSize = 4096;
    double lr = 0;  // 0: chosen from F and d_in (default_lr.h); the result says which
    double adamBeta1 = 0.9;
    double adamBeta2 = 0.999;
    double adamEps = 1e-8;
    double lrWarmupFraction = 0.01;
    double lrDecayFraction = 0.2;    // linear decay to 0 over the last 20% of steps
    double l1WarmupFraction = 0.05;  // λ's linear warm-up, L1 (standard) and L0 (jumprelu)
    int64_t kAux = 0;                // 0: d_in / 2
    double auxCoefficient = 1.0 / 32.0;
    int64_t deadTokens = 10'000'000;  // a latent is dead after this many tokens unfired
    int64_t scaleEstimateBatches = 8;
    double decoderInitNorm = 0.1;  // standard: initial ||W_dec[i]||
    uint64_t seed = 42;
    // GEMMs in bf16 with float32 accumulation (weights, gradients and Adam stay
    // float32): about twice the speed where the CPU has AVX-512 BF16, an error
    // if it has not. A resumed run may change it (the checkpoint records the
    // precision of the latest segment).
    bool bf16 = false;

    // Where the steps run: empty for the CPU (the reference); else the factory
    // of a device engine (step_engine.h), called once the run's shapes are
    // known. Checkpoints and the result are the same either way.
    StepEngineFactory stepEngine;

    std::string outDir;   // checkpoint and final SAE; required
    bool resume = false;  // continue from outDir's checkpoint
    double checkpointSeconds = 300;
    int64_t checkpointEverySteps = 0;  // 0: by time only
    int64_t reportEverySteps = 50;

    SaeMetadata metadata;  // copied into the saved SAE (tokens filled in)
};

struct TrainResult {
    Sae sae;  // takes raw activations
    int64_t steps = 0;
    int64_t tokens = 0;
    double scale = 1;  // the input scale used during training
    double finalLoss = 0;
    double finalMse = 0;   // on the scaled inputs, last batch
    double lr = 0;         // the peak learning rate used
    std::string lrReason;  // "given" or the rule that chose it
    double deadPct = 0;
    std::vector<float> log10Density;  // over the tokens of the run, per feature
};

// The default Matryoshka prefixes: F/16, F/8, F/4, F/2 and F (a geometric
// series of doublings, as in Bussmann et al. 2025), leaving out those below k.
std::vector<int64_t> defaultMatryoshkaWidths(int64_t dSae, int64_t k);

// Names of the files inside outDir.
inline constexpr const char* kCheckpointFile = "checkpoint.safetensors";

// Trains, checkpointing into spec.outDir, and saves the final SAE there as a
// SAELens folder. Metrics reported: loss, mse, l0, dead_pct, explained_variance,
// tokens_per_s, step.
Result<TrainResult> trainSae(const TrainSpec& spec, acts::BatchProvider& data, Progress& progress,
                             StopToken stop);

// The final SAE of a checkpoint (scale folded in), e.g. after a failed run.
Result<Sae> loadCheckpointSae(const std::string& checkpointPath);

}  // namespace mono::sae
