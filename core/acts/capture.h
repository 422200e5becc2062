#pragma once
// Activation capture: tokenize a corpus, pack it into context windows that
// start with BOS, run the model only as far as the last requested hook, and
// append each hook's activations to its activation store. Documents are joined
// with BOS as the separator. Several hooks are captured in one pass.
//
// Resumable: every store commits whole windows, so an interrupted capture
// continues after the smallest window count its stores agree on; the corpus
// is re-tokenized deterministically up to that point and skipped.

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/io/tensor.h"
#include "core/model/model.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::acts {

struct CaptureSpec {
    std::vector<std::string> corpus;   // text / .jsonl files
    std::vector<std::string> hooks;    // hook names of the model
    std::vector<std::string> outDirs;  // one store folder per hook
    int64_t tokens = 1'000'000;        // rows to capture per hook (BOS rows excluded)
    int contextSize = 128;             // tokens per window, BOS included
    int batchWindows = 16;             // windows per forward pass
    int64_t shardRows = 65536;         // rows per shard (rounded up to whole forward batches)
    io::DType dtype = io::DType::kF16;
    bool resume = true;     // continue stores that exist; false starts over
    std::string modelName;  // recorded in each store's index
};

struct CaptureSummary {
    int64_t rows = 0;  // per hook, in the stores now
    int64_t windows = 0;
    int64_t resumedWindows = 0;  // windows that were already there
    bool corpusExhausted = false;
    double seconds = 0;
    double tokensPerSecond = 0;  // tokens through the model in this run (BOS included)
};

// Errors: an unknown hook, a corpus or store that cannot be read or written,
// a store that belongs to a different hook, width, context or dtype (resume).
// Cancelled (after committing the windows done) when `stop` is requested.
Result<CaptureSummary> capture(model::Model& model, const tok::Tokenizer& tokenizer,
                               const CaptureSpec& spec, const Progress& progress = {},
                               StopToken stop = {});

}  // namespace mono::acts
