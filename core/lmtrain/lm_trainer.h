#pragma once
// Trains the toy GPT on an LmData stream: mean cross-entropy, AdamW, linear
// warm-up + cosine learning rate, global-norm gradient clipping, a held-out
// loss every few steps. Checkpoints (atomic, spec.outDir/lm_checkpoint.safetensors)
// keep weights, Adam moments, the RNG, the step and the loss log, so a resumed
// run continues exactly where the interrupted one stopped (same thread count,
// bit for bit). At the end the model is saved in Hugging Face GPT-2 layout in
// outDir and loaded back through core/model with its tokenizer as a check.
//
// trainLm returns Cancelled when stopped (after writing a checkpoint), and an
// error naming the step when the loss turns NaN/Inf.

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/lmtrain/gpt.h"
#include "core/lmtrain/lm_data.h"
#include "core/lmtrain/optimizer.h"

namespace mono::lmtrain {

struct LmTrainSpec {
    GptShape shape;           // shape.ctx is the training context T
    int batchSize = 16;       // B sequences per step
    int64_t totalTokens = 0;  // steps = totalTokens / (B·T), at least 1
    double lr = 1e-3;
    double minLrFraction = 0.1;    // the cosine ends at lr · this
    double warmupFraction = 0.03;  // of the steps
    train::AdamSettings adamw = kLmAdamW;
    double gradClip = 1.0;  // global L2 norm; 0 disables
    uint64_t seed = 1234;   // initialisation and batch order

    std::string outDir;  // checkpoint, log and final model; required
    bool resume = false;
    double checkpointSeconds = 120;
    int64_t checkpointEverySteps = 0;  // 0: by time only
    int64_t evalEverySteps = 100;      // held-out loss (also at the first and last step)
    int64_t evalTokens = 65536;        // at most this many held-out tokens per evaluation
    int64_t reportEverySteps = 10;
    bool saveF16 = false;    // model.safetensors in F16 (half the size)
    int32_t endOfText = -1;  // saved as bos/eos_token_id in config.json (-1: none)
    // After saving, load outDir with core/model and its tokenizer (outDir must
    // then hold a tokenizer.json) and compare logits with the trainer's.
    bool verifySaved = true;
};

struct LmLogEntry {
    int64_t step = 0;
    int64_t tokens = 0;
    double lr = 0;
    double trainLoss = 0;    // mean over the steps since the previous entry (NaN at step 0)
    double heldOutLoss = 0;  // NaN without held-out data
};

struct LmTrainResult {
    AlignedVector<float> params;  // final weights, paramLayout order
    int64_t steps = 0;
    int64_t tokens = 0;
    double trainLoss = 0;    // last log entry's
    double heldOutLoss = 0;  // final; NaN without held-out data
    double tokensPerSecond = 0;
    std::vector<LmLogEntry> log;
    // Largest |logit| difference between core/model on the saved folder and the
    // trainer's forward on a held-out window (NaN when not verified).
    double runtimeMaxLogitDiff = 0;
};

inline constexpr const char* kLmCheckpointFile = "lm_checkpoint.safetensors";
inline constexpr const char* kLmLogFile = "training_log.tsv";

Result<LmTrainResult> trainLm(const LmTrainSpec& spec, const LmData& data, Progress& progress,
                              StopToken stop);

// Mean held-out cross-entropy of `model` over at most maxTokens held-out tokens
// in batches of B windows of T; NaN when there are none.
double heldOutLoss(Gpt<float>& model, const LmData& data, int B, int T, int64_t maxTokens);

}  // namespace mono::lmtrain
