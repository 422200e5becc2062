// monoscope-cli sample-corpus: a text corpus sampled from a model.

#include <cstdio>

#include "app/cli/command.h"
#include "app/cli/output_guard.h"
#include "app/cli/progress_bar.h"
#include "core/model/corpus_sampler.h"
#include "core/model/model_files.h"

namespace mono::cli {
namespace {

const char* kUsage =
    "usage: monoscope-cli sample-corpus MODEL --out FILE [--tokens N] [--parallel P]\n"
    "                                   [--temperature T] [--top-p P] [--max-length L]\n"
    "                                   [--seed S] [--tokenizer FILE]\n"
    "\n"
    "Generates documents from BOS until EOS (or L tokens), P at a time, until N tokens,\n"
    "and writes them separated by <|endoftext|> lines. Defaults: --tokens 1000000\n"
    "--parallel 1 --temperature 1 --seed 1.";

int runSampleCorpus(CliArgs& args) {
    const std::string name = "sample-corpus";
    const auto out = args.option("out");
    if (args.positionals().size() != 1 || !out)
        return fail(name, std::string("MODEL and --out are required\n\n") + kUsage, 2);
    if (auto st = checkOutputFiles({*out}, inputPaths(args, {"tokenizer"})); !st.ok())
        return fail(name, st.toString());
    model::CorpusSampleSpec spec;
    spec.outPath = *out;
    spec.tokens = args.intOption("tokens", 1'000'000, 1, kMaxTokens);
    spec.parallel = static_cast<int>(args.intOption("parallel", 1, 1, 4096));
    spec.maxLength = static_cast<int>(args.intOption("max-length", 0, 0, kMaxContext));
    spec.sampling.temperature = static_cast<float>(args.doubleOption("temperature", 1.0, 0, 100));
    spec.sampling.topP = static_cast<float>(args.doubleOption("top-p", 1.0, 0, 1));
    spec.sampling.seed = args.seedOption("seed", 1);
    if (args.hasError()) return fail(name, args.error());
    const std::string modelPath = args.positionals()[0];
    auto model = model::Model::load(modelPath);
    if (!model.ok()) return fail(name, model.status().toString());
    auto tokenizer = model::loadModelTokenizer(modelPath, args.option("tokenizer").value_or(""));
    if (!tokenizer.ok()) return fail(name, tokenizer.status().toString());
    ProgressBar bar(name);
    auto summary = model::sampleCorpus(**model, **tokenizer, spec, bar.progress());
    bar.finish();
    if (!summary.ok()) return fail(name, summary.status().toString());
    std::printf("wrote %lld tokens in %lld documents to %s (%.1f s, %.0f tokens/s)\n",
                (long long)summary->tokens, (long long)summary->documents, out->c_str(),
                summary->seconds, summary->tokens / std::max(summary->seconds, 1e-9));
    return 0;
}

const RegisterCommand kRegister({"sample-corpus",
                                 "sample a text corpus from a model",
                                 kUsage,
                                 {},
                                 {"out", "tokens", "parallel", "max-length", "temperature", "top-p",
                                  "seed", "tokenizer"},
                                 &runSampleCorpus});

}  // namespace
}  // namespace mono::cli
