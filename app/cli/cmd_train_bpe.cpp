// monoscope-cli train-bpe: learns a byte-level BPE vocabulary from text files
// and writes it as a Hugging Face tokenizer.json.

#include <cstdio>

#include "app/cli/command.h"
#include "app/cli/output_guard.h"
#include "app/cli/progress_bar.h"
#include "core/tokenizer/bpe_trainer.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::cli {
namespace {

const char* kUsage =
    "usage: monoscope-cli train-bpe --corpus FILE [--corpus FILE ...] --vocab V --out "
    "tokenizer.json\n"
    "\n"
    "Learns GPT-2-style byte-level BPE merges (GPT-2's pre-tokenizer regex) until the\n"
    "vocabulary has V tokens: the 256 bytes, the merges and <|endoftext|> (the last id).\n"
    "Corpus files are plain text with <|endoftext|> separator lines, or .jsonl with a\n"
    "\"text\" field. The same corpus always gives the same tokenizer.";

int runTrainBpe(CliArgs& args) {
    const std::string name = "train-bpe";
    const auto corpus = args.options("corpus");
    const auto out = args.option("out");
    const long long vocab = args.intOption("vocab", 0, 257, 1 << 20);
    if (args.hasError()) return fail(name, args.error());
    if (corpus.empty() || !out || vocab <= 0)
        return fail(name, std::string("give --corpus, --vocab and --out\n\n") + kUsage, 2);
    if (vocab < 257 || vocab > (1 << 20))
        return fail(name, "--vocab must be between 257 and 1048576, got " + std::to_string(vocab),
                    2);
    if (auto st = checkOutputFiles({*out}, inputPaths(args, {"corpus"})); !st.ok())
        return fail(name, st.toString());
    tok::BpeTrainer trainer;
    {
        ProgressBar bar("counting");
        Progress progress = bar.progress();
        const Status st = trainer.addCorpus(corpus, progress, StopToken());
        bar.finish();
        if (!st.ok()) return fail(name, st.toString());
    }
    std::printf("%lld bytes, %lld distinct pre-tokens\n", (long long)trainer.bytesSeen(),
                (long long)trainer.distinctWords());
    ProgressBar bar("merging");
    Progress progress = bar.progress();
    auto bpe = trainer.train(static_cast<int>(vocab), progress, StopToken());
    bar.finish();
    if (!bpe.ok()) return fail(name, bpe.status().toString());
    if (const Status st = tok::writeTokenizerJson(*bpe, *out); !st.ok())
        return fail(name, st.toString());
    auto check = tok::loadTokenizer(*out);
    if (!check.ok())
        return fail(name, "the written file does not load: " + check.status().toString());
    std::printf("wrote %s: %zu tokens (%zu merges)\n", out->c_str(), bpe->tokens.size(),
                bpe->merges.size());
    return 0;
}

const RegisterCommand kRegister({"train-bpe",
                                 "learn a byte-level BPE tokenizer.json from text files",
                                 kUsage,
                                 {},
                                 {"corpus", "vocab", "out"},
                                 &runTrainBpe});

}  // namespace
}  // namespace mono::cli
