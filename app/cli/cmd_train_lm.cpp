// monoscope-cli train-lm: trains a small GPT-2 on text files (learning its BPE
// tokenizer first when needed) and saves it in Hugging Face layout.

#include <omp.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "app/cli/command.h"
#include "app/cli/output_guard.h"
#include "app/cli/progress_bar.h"
#include "core/base/atomic_file.h"
#include "core/lmtrain/lm_data.h"
#include "core/lmtrain/lm_trainer.h"
#include "core/tokenizer/bpe_trainer.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::cli {
namespace {

namespace fs = std::filesystem;

const char* kUsage =
    "usage: monoscope-cli train-lm --corpus FILE [--corpus FILE ...] --out DIR\n"
    "                              [--vocab V] [--layers L] [--d-model D] [--heads H]\n"
    "                              [--ctx C] [--tokens N] [--batch B] [--lr LR] [--seed S]\n"
    "                              [--heldout FILE ...] [--tokenizer FILE] [--threads N]\n"
    "                              [--eval-every STEPS] [--eval-tokens N] [--warmup FRAC]\n"
    "                              [--weight-decay WD] [--grad-clip G] [--checkpoint-every SEC]\n"
    "                              [--f16] [--resume]\n"
    "\n"
    "Trains a GPT-2 (learned positions, LayerNorm, GELU MLP, tied unembedding) with\n"
    "AdamW, linear warm-up and cosine decay, gradient clipping. The tokenizer is\n"
    "--tokenizer FILE, else DIR/tokenizer.json, else a byte-level BPE of V tokens\n"
    "learned from the corpus and written to DIR/tokenizer.json. The held-out loss is\n"
    "measured on --heldout files, else on 2% of the corpus set aside. DIR gets\n"
    "config.json + model.safetensors (Hugging Face GPT-2, --f16 for half the size),\n"
    "training_log.tsv, training.json and lm_checkpoint.safetensors. Ctrl-C stops after\n"
    "writing a checkpoint; --resume continues it exactly.\n"
    "Defaults: --vocab 4096 --layers 4 --d-model 128 --heads 4 --ctx 128\n"
    "--tokens 1000000 --batch 16 --lr 1e-3 --seed 1234 --eval-every 100\n"
    "--eval-tokens 65536 --warmup 0.03 --weight-decay 0.1 --grad-clip 1\n"
    "--checkpoint-every 120.";

StopToken* g_stop = nullptr;
void onInterrupt(int) {
    if (g_stop) g_stop->requestStop();
}

// Makes dir/tokenizer.json: a copy of --tokenizer, the one already there, or a new BPE.
Result<std::shared_ptr<const tok::Tokenizer>> prepareTokenizer(
    const std::vector<std::string>& corpus, const std::optional<std::string>& given,
    const fs::path& dir, int vocab, bool* learned) {
    const fs::path target = dir / "tokenizer.json";
    std::error_code ec;
    *learned = false;
    if (given) {
        if (!fs::exists(*given, ec)) return Status::notFound(*given + ": no such tokenizer file");
        if (!fs::exists(target, ec) || !fs::equivalent(*given, target, ec)) {
            MONO_ASSIGN_OR_RETURN(std::string bytes, readWholeFile(*given));
            MONO_RETURN_IF_ERROR(writeFileAtomic(target.string(), bytes));
        }
    } else if (!fs::exists(target, ec)) {
        std::printf("learning a %d-token BPE from the corpus\n", vocab);
        std::fflush(stdout);
        tok::BpeTrainer trainer;
        {
            ProgressBar bar("bpe: counting");
            Progress progress = bar.progress();
            const Status st = trainer.addCorpus(corpus, progress, *g_stop);
            bar.finish();
            MONO_RETURN_IF_ERROR(st);
        }
        ProgressBar bar("bpe: merging");
        Progress progress = bar.progress();
        auto bpe = trainer.train(vocab, progress, *g_stop);
        bar.finish();
        if (!bpe.ok()) return bpe.status();
        MONO_RETURN_IF_ERROR(tok::writeTokenizerJson(*bpe, target.string()));
        *learned = true;
    }
    return tok::loadTokenizer(target.string());
}

// The options and flags train-lm takes; the run's record repeats the ones given.
const std::set<std::string> kOptions = {"corpus",
                                        "heldout",
                                        "tokenizer",
                                        "vocab",
                                        "layers",
                                        "d-model",
                                        "heads",
                                        "ctx",
                                        "tokens",
                                        "batch",
                                        "lr",
                                        "seed",
                                        "threads",
                                        "eval-every",
                                        "eval-tokens",
                                        "warmup",
                                        "weight-decay",
                                        "grad-clip",
                                        "checkpoint-every",
                                        "out"};
const std::set<std::string> kFlags = {"f16", "resume"};

int runTrainLm(CliArgs& args) {
    const std::string name = "train-lm";
    const auto corpus = args.options("corpus");
    const auto heldout = args.options("heldout");
    const auto out = args.option("out");
    lmtrain::LmTrainSpec spec;
    const int vocab = static_cast<int>(args.intOption("vocab", 4096, 257, 1'000'000));
    spec.shape.layers = static_cast<int>(args.intOption("layers", 4, 1, 256));
    spec.shape.dModel = static_cast<int>(args.intOption("d-model", 128, 1, 65536));
    spec.shape.heads = static_cast<int>(args.intOption("heads", 4, 1, 1024));
    spec.shape.ctx = static_cast<int>(args.intOption("ctx", 128, 2, kMaxContext));
    spec.totalTokens = args.intOption("tokens", 1'000'000, 1, kMaxTokens);
    spec.batchSize = static_cast<int>(args.intOption("batch", 16, 1, 65536));
    spec.lr = args.doubleOption("lr", 1e-3, 1e-12, 10);
    spec.seed = args.seedOption("seed", 1234);
    spec.evalEverySteps = args.intOption("eval-every", 100, 1, kMaxTokens);
    spec.evalTokens = args.intOption("eval-tokens", 65536, 0, kMaxTokens);
    spec.warmupFraction = args.doubleOption("warmup", 0.03, 0, 1);
    spec.adamw.weightDecay = args.doubleOption("weight-decay", 0.1, 0, 10);
    spec.gradClip = args.doubleOption("grad-clip", 1.0, 0, 1e6);
    spec.checkpointSeconds = args.doubleOption("checkpoint-every", 120, 0, 1e9);
    const int threads = static_cast<int>(args.intOption("threads", 0, 0, 4096));
    spec.saveF16 = args.flag("f16");
    spec.resume = args.flag("resume");
    if (args.hasError()) return fail(name, args.error());
    if (corpus.empty() || !out)
        return fail(name, std::string("give --corpus and --out\n\n") + kUsage, 2);
    if (auto st = checkOutputFolder(*out, inputPaths(args, {"corpus", "heldout", "tokenizer"}));
        !st.ok())
        return fail(name, st.toString());
    if (threads > 0) omp_set_num_threads(threads);
    spec.outDir = *out;

    StopToken stop;
    g_stop = &stop;
    std::signal(SIGINT, onInterrupt);
    std::signal(SIGTERM, onInterrupt);

    std::error_code ec;
    fs::create_directories(*out, ec);
    if (ec) return fail(name, *out + ": cannot create folder: " + ec.message());
    bool learned = false;
    auto tokenizer = prepareTokenizer(corpus, args.option("tokenizer"), *out, vocab, &learned);
    if (!tokenizer.ok()) return fail(name, tokenizer.status().toString());
    spec.shape.vocab = (*tokenizer)->vocabSize();
    spec.endOfText = (*tokenizer)->eos();
    if (!learned && args.option("vocab") && spec.shape.vocab != vocab)
        return fail(name, "--vocab " + std::to_string(vocab) + " but the tokenizer in " + *out +
                              " has " + std::to_string(spec.shape.vocab) +
                              " tokens (remove it to learn a new one)");
    if (const Status st = spec.shape.validate(); !st.ok()) return fail(name, st.toString(), 2);

    Result<lmtrain::LmData> data = Status::internal("unset");
    {
        ProgressBar bar("tokenizing");
        Progress progress = bar.progress();
        data = lmtrain::LmData::fromCorpus(corpus, heldout, **tokenizer, spec.shape.ctx, 0.02,
                                           progress, stop);
        bar.finish();
    }
    if (!data.ok()) return fail(name, data.status().toString());
    const double unigram = data->unigramEntropy();
    std::printf("%lld tokens (%lld training, %lld held out); unigram entropy %.3f nats\n",
                (long long)data->totalTokens(), (long long)data->trainTokens(),
                (long long)data->heldOutTokens(), unigram);
    std::printf(
        "model: %d layers, d_model %d, %d heads, context %d, vocabulary %d: %lld "
        "parameters; %d threads\n",
        spec.shape.layers, spec.shape.dModel, spec.shape.heads, spec.shape.ctx, spec.shape.vocab,
        (long long)spec.shape.parameterCount(), omp_get_max_threads());
    std::fflush(stdout);  // before the progress bar on stderr

    // The run's record: what was asked (as options) and, at the end, what came out.
    nlohmann::ordered_json record;
    std::string command = "monoscope-cli train-lm";
    for (const std::string& key : kOptions)
        for (const std::string& v : args.options(key)) command += " --" + key + " " + v;
    for (const std::string& flag : kFlags)
        if (args.flag(flag)) command += " --" + flag;
    record["command"] = command;
    record["seed"] = spec.seed;
    record["parameters"] = spec.shape.parameterCount();
    record["data"] = {{"tokens", data->totalTokens()},
                      {"train_tokens", data->trainTokens()},
                      {"held_out_tokens", data->heldOutTokens()},
                      {"unigram_entropy_nats", unigram}};
    const std::string recordPath = (fs::path(*out) / "training.json").string();

    ProgressBar bar("train-lm");
    Progress progress = bar.progress();
    auto result = lmtrain::trainLm(spec, *data, progress, stop);
    bar.finish();
    if (!result.ok()) {
        if (result.status().code() == StatusCode::kCancelled) {
            std::printf("%s\n", result.status().toString().c_str());
            return 130;
        }
        return fail(name, result.status().toString());
    }
    record["steps"] = result->steps;
    record["tokens_trained"] = result->tokens;
    record["final_train_loss"] = result->trainLoss;
    record["held_out_loss"] = result->heldOutLoss;
    record["held_out_perplexity"] = std::exp(result->heldOutLoss);
    record["tokens_per_second"] = result->tokensPerSecond;
    record["runtime_max_logit_diff"] = result->runtimeMaxLogitDiff;
    if (const Status st = writeFileAtomic(recordPath, record.dump(2) + "\n"); !st.ok())
        return fail(name, st.toString());
    std::printf("trained %lld steps (%lld tokens, %.0f tokens/s)\n", (long long)result->steps,
                (long long)result->tokens, result->tokensPerSecond);
    std::printf("held-out loss %.4f nats (perplexity %.2f); unigram entropy %.3f\n",
                result->heldOutLoss, std::exp(result->heldOutLoss), unigram);
    std::printf("saved to %s; core/model reloads it with logits within %.2g of the trainer's\n",
                out->c_str(), result->runtimeMaxLogitDiff);
    return 0;
}

const RegisterCommand kRegister({"train-lm",
                                 "train a small GPT-2 on text files (BPE, AdamW, checkpoints)",
                                 kUsage, kFlags, kOptions, &runTrainLm});

}  // namespace
}  // namespace mono::cli
