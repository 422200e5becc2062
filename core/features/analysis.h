#pragma once
// Feature analysis: one streaming pass over an activation store that encodes
// every row with the SAE and gathers, for each feature, what a dashboard shows
// (density, max/mean, histogram, top-k and interval examples), then the
// context windows of the chosen examples, logit effects, decoder neighbours
// and co-firing, all written to a feature store (feature_store.h) in one
// transaction. Method and guarantees: docs/FEATURE_STORE.md.
//
// Resumption and merging: the per-feature accumulators are checkpointed to
// "<out>.analysis-state" (atomically, after shards). A run that finds a state
// file from the same SAE (content hash), settings and activation store
// continues after the rows it covers: after an interruption, or when the store
// has grown (a "merge": the accumulators are extended with the new rows, and
// the computed tables are rewritten; labels and notes are kept).

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/features/feature_store.h"
#include "core/sae/block_encoder.h"
#include "core/sae/decoder_cosine.h"
#include "core/sae/sae.h"

namespace mono::acts {
class ActivationStoreReader;
}
namespace mono::model {
class Model;
}
namespace mono::tok {
class Tokenizer;
}

namespace mono::features {

struct AnalysisSpec {
    int topK = 20;          // top-activating examples per feature
    int bins = 10;          // interval bins: equal width on (0, max]
    int perBin = 5;         // examples drawn per interval bin
    int contextLeft = 18;   // tokens shown before an example token (same window only)
    int contextRight = 5;   // and after it
    int64_t maxTokens = 0;  // rows of the store to analyse from the start; 0 = all
    int logitEffects = 10;  // top and bottom output tokens
    int neighbours = 10;
    int coFiring = 10;
    int64_t coFiringSampleRows = 16384;  // co-firing is counted over this many sampled rows
    int64_t chunkRows = 2048;            // rows encoded per SAE call
    double checkpointSeconds = 30;       // at most this long between state saves (0: every shard)
    bool fresh = false;                  // ignore an existing state file
    // Analyse only the features [featureBegin, featureEnd) (featureEnd 0: to
    // the last). Their accumulators and results are all that is held per
    // feature; encoding, co-firing partners and decoder neighbours still range
    // over every feature. Into a store that holds other features of the same
    // analysis (same SAE, same tokens) the range is added, and those features
    // are kept (see analyze()).
    int64_t featureBegin = 0;
    int64_t featureEnd = 0;
    sae::NeighbourMethod neighbourMethod = sae::NeighbourMethod::kAuto;
};

struct AnalysisInputs {
    const acts::ActivationStoreReader* store = nullptr;  // required
    const sae::Sae* sae = nullptr;                       // required; d_in must match the store
    model::Model* model = nullptr;              // optional: logit effects (needs d_in == d_model)
    const tok::Tokenizer* tokenizer = nullptr;  // optional: token strings
    std::string saePath;                        // recorded in the run info
    // Encodes the streaming pass on a device (block_encoder.h); null: the
    // SAE's own CPU encoder. The context windows are always encoded on the CPU.
    const sae::BlockEncoder* encoder = nullptr;
};

struct AnalysisSummary {
    int64_t rowsAnalysed = 0;  // rows covered by the store now
    int64_t rowsResumed = 0;   // of which came from a state file (resume or merge)
    int64_t features = 0;
    double seconds = 0;
    double passSeconds = 0;                    // the streaming pass alone
    double encodeSeconds = 0;                  // of which SAE encoding and gathering its firings
    double resultsSeconds = 0;                 // examples, logit effects, neighbours, co-firing
    double neighbourSeconds = 0;               // of which decoder neighbours
    double writeSeconds = 0;                   // reading contexts back and writing the store
    bool approximateNeighbours = false;        // the HNSW index was used
    int64_t featureBegin = 0, featureEnd = 0;  // the range analysed by this run
    int64_t featuresInStore = 0;               // rows the store holds now
};

// Analyses `inputs.store` with `inputs.sae` into the feature store at `outPath`
// (created when missing). Cancelled when `stop` is requested: the state file
// then holds the rows done so far and the store is unchanged.
//
// A feature range (spec.featureBegin/End short of all features) has its own
// state file, "<out>.analysis-state.<begin>-<end>", and is written with
// FeatureStore::writeAnalysis(keepOthers) when the store holds features of this
// SAE over the same tokens (those stay, with labels and notes); a store of
// this SAE over other tokens is refused (InvalidArgument: analyse the range
// over the same tokens, or everything with --fresh); any other store is
// replaced. A run over all features replaces the computed tables as before.
Result<AnalysisSummary> analyze(const AnalysisInputs& inputs, const AnalysisSpec& spec,
                                const std::string& outPath, const Progress& progress,
                                StopToken stop);

// The most memory analyze() holds for an SAE of `numFeatures` latents reading
// width `dIn` (`vocab`: the model's vocabulary for logit effects, 0 without a
// model), in bytes: every reservoir full, the per-feature results, and the
// largest block of each later step. The per-feature parts count only the
// features of spec's range; co-firing and neighbours range over all of them. analyze() refuses up
// front ("needs about N GiB") when this exceeds what the process may use.
double analysisMemoryBytes(int64_t numFeatures, int64_t dIn, int64_t vocab,
                           const AnalysisSpec& spec);

// ---- pieces, public for tests and benchmarks --------------------------------

// Logit effects e_i = (c(W_dec[i]) ⊙ gamma) W_Uᵀ of every feature, where c()
// subtracts the mean over d when `centre` (a LayerNorm removes that component).
// wU is [V, d]; gamma [d] (empty: all ones). Fills top (largest first) and
// bottom (smallest first) n per feature; ties go to the lower token id. The
// effects' text is left empty for the caller, which knows the tokenizer.
void computeLogitEffects(const Matrix& wDec, const std::vector<float>& gamma, bool centre,
                         const Matrix& wU, int n, std::vector<std::vector<LogitEffect>>* top,
                         std::vector<std::vector<LogitEffect>>* bottom);

// The n nearest other features by cosine of decoder rows, largest first (ties:
// lower id); their count is 0. Of rows [f0, f1) (f1 0: all), by `method`.
std::vector<std::vector<RelatedFeature>> decoderNeighbours(
    const Matrix& wDec, int n, int64_t f0 = 0, int64_t f1 = 0,
    sae::NeighbourMethod method = sae::NeighbourMethod::kAuto);

// The end of spec's feature range for an SAE of numFeatures latents.
inline int64_t featureRangeEnd(const AnalysisSpec& spec, int64_t numFeatures) {
    return spec.featureEnd > 0 ? spec.featureEnd : numFeatures;
}

// Content hash of the SAE's weights and architecture (hex), the state file's key.
std::string saeContentHash(const sae::Sae& sae);

// The deterministic priorities behind the samples: interval examples of a bin
// are the perBin (feature, row) pairs of lowest samplePriority(feature, row);
// the co-firing sample is the rows of lowest samplePriority(-1, row).
uint64_t samplePriority(int64_t feature, int64_t row);

}  // namespace mono::features
