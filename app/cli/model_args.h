#pragma once
// Shared by the model subcommands: load MODEL (HF folder, .gguf, llama2.c .bin)
// and its tokenizer (--tokenizer FILE, else the folder's or the GGUF's own),
// parse --tokens lists.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/cli/cli_args.h"
#include "core/base/result.h"
#include "core/model/model.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::cli {

struct LoadedModel {
    std::shared_ptr<model::Model> model;
    std::shared_ptr<const tok::Tokenizer> tokenizer;  // null when not asked for
};

// The first positional is MODEL; --precision bf16 runs it in the CPU's bf16
// compute mode (see makeCpuBf16Backend); --weights bf16 holds its weights in
// bf16 only (bf16-resident, half the memory; see model::LoadOptions), with
// either precision. With `needTokenizer`, a llama2.c .bin needs --tokenizer
// unless its tokenizer lies beside it (model::findModelTokenizer).
Result<LoadedModel> loadModelArgs(CliArgs& args, bool needTokenizer);

// "1,2,3" → ids; InvalidArgument naming the bad item.
Result<std::vector<model::TokenId>> parseTokenList(const std::string& text);

// Token ids from --tokens or --text (with BOS first when `bos`); --text needs a tokenizer.
Result<std::vector<model::TokenId>> inputTokens(CliArgs& args, const LoadedModel& m, bool bos);

}  // namespace mono::cli
