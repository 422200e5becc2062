#pragma once
// Samples a text corpus from a model: many stories generated side by side
// (one KV-cache slot each), every one from BOS until EOS or the context limit,
// written one document after another separated by "<|endoftext|>" lines (the
// separator core/io/corpus.h understands). Small models trained on one
// domain (TinyStories) know only that domain; text sampled from them at
// temperature 1 is a fair stand-in for their training data.

#include <cstdint>
#include <string>

#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/model/generate.h"
#include "core/model/model.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::model {

struct CorpusSampleSpec {
    int64_t tokens = 1'000'000;  // generated tokens in total (BOS not counted)
    int parallel = 1;            // sequences decoded together (one is fastest on the CPU today)
    int maxLength = 0;           // per document, BOS included; 0: the model's context
    SamplingOptions sampling{1.0f, 0, 1.0f, 0.0f, 1};
    std::string outPath;  // written atomically when done
};

struct CorpusSampleSummary {
    int64_t tokens = 0;
    int64_t documents = 0;
    double seconds = 0;
};

// Deterministic for a seed and `parallel`. Cancelled when `stop` is requested
// (nothing is written then).
Result<CorpusSampleSummary> sampleCorpus(Model& model, const tok::Tokenizer& tokenizer,
                                         const CorpusSampleSpec& spec,
                                         const Progress& progress = {}, StopToken stop = {});

}  // namespace mono::model
