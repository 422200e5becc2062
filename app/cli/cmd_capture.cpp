// monoscope-cli capture: activations of a model at hook points over a corpus,
// into a workspace's activation stores.

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "app/cli/command.h"
#include "app/cli/device_args.h"
#include "app/cli/output_guard.h"
#include "app/cli/progress_bar.h"
#include "core/acts/activation_store.h"
#include "core/acts/capture.h"
#include "core/model/model.h"
#include "core/model/model_files.h"
#include "core/workspace/job_locks.h"
#include "core/workspace/workspace.h"

namespace mono::cli {
namespace {

const char* kUsage =
    "usage: monoscope-cli capture MODEL --corpus FILE [--corpus FILE ...] --hook NAME [--hook NAME "
    "...]\n"
    "                             --out WORKSPACE [--tokens N] [--ctx L] [--batch B]\n"
    "                             [--dtype f16|f32] [--tokenizer FILE] [--restart] [--device D]\n"
    "\n"
    "Tokenizes the corpus (plain text, or .jsonl with a \"text\" field), packs it into\n"
    "windows of L tokens that start with BOS, runs the model up to the last hook and\n"
    "stores N activations per hook (BOS rows excluded) in WORKSPACE/activations/<hook>/.\n"
    "An interrupted capture resumes where it stopped; --restart discards it. A resume\n"
    "must read the same corpus, and one WORKSPACE takes one capture at a time.\n"
    "Defaults: --tokens 1000000 --ctx 128 --batch 16 --dtype f16.\n"
    "--device cuda[:N] runs the model on that GPU (float32, cuBLAS); default cpu.";

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return "[" + out + "]";
}

// A resume appends to the stores that are there, so it must continue the same
// capture: the same corpus, and hooks whose stores agree on where they stopped
// (the core would otherwise start every store over, silently). Anything else
// needs --restart, which discards the requested hooks' stores.
Status checkResumeProvenance(const ws::Workspace& workspace, const ws::Manifest& next) {
    int64_t windows = -1;
    std::string first;
    for (const auto& hook : next.hooks) {
        auto index = acts::readStoreIndex(workspace.activationsDir(hook));
        const int64_t w = index.ok() ? index->windows : 0;
        if (w > 0 && workspace.manifest().corpus != next.corpus)
            return Status::invalidArgument(
                workspace.dir() + ": its activations at " + hook + " were captured from " +
                joined(workspace.manifest().corpus) + ", and this run reads " +
                joined(next.corpus) +
                "; resuming would mix two corpora in one store. Pass --restart to discard "
                "the captured activations of these hooks, or capture into a new workspace");
        if (windows >= 0 && w != windows)
            return Status::invalidArgument(
                workspace.dir() + ": the store of " + hook + " holds " + std::to_string(w) +
                " windows and that of " + first + " " + std::to_string(windows) +
                "; capturing them together would start both over. Capture the new hook on "
                "its own, or pass --restart to discard both");
        windows = w;
        first = hook;
    }
    return Status::success();
}

// The hooks the workspace knows: those it had, then the new ones.
std::vector<std::string> unionOfHooks(std::vector<std::string> had,
                                      const std::vector<std::string>& added) {
    for (const auto& h : added)
        if (std::find(had.begin(), had.end(), h) == had.end()) had.push_back(h);
    return had;
}

int runCapture(CliArgs& args) {
    const std::string name = "capture";
    if (args.positionals().size() != 1)
        return fail(name, std::string("expected one MODEL\n\n") + kUsage, 2);
    const auto device = deviceOption(args);
    if (!device.ok()) return fail(name, device.status().toString());
    const auto out = args.option("out");
    const auto corpus = args.options("corpus");
    const auto hooks = args.options("hook");
    if (!out || corpus.empty() || hooks.empty())
        return fail(name, std::string("--out, --corpus and --hook are required\n\n") + kUsage, 2);
    acts::CaptureSpec spec;
    spec.corpus = corpus;
    spec.hooks = hooks;
    spec.tokens = args.intOption("tokens", 1'000'000, 1, kMaxTokens);
    spec.contextSize = static_cast<int>(args.intOption("ctx", 128, 2, kMaxContext));
    spec.batchWindows = static_cast<int>(args.intOption("batch", 16, 1, 4096));
    spec.resume = !args.flag("restart");
    const std::string dtype = args.option("dtype").value_or("f16");
    if (dtype != "f16" && dtype != "f32") return fail(name, "--dtype must be f16 or f32", 2);
    spec.dtype = dtype == "f16" ? io::DType::kF16 : io::DType::kF32;
    if (args.hasError()) return fail(name, args.error());

    if (auto st = checkOutputFolder(*out, inputPaths(args, {"corpus", "tokenizer"})); !st.ok())
        return fail(name, st.toString());
    const std::string modelPath = std::filesystem::absolute(args.positionals()[0]).string();
    const std::string tokenizerOption = args.option("tokenizer").value_or("");
    auto model = model::Model::load(modelPath);
    if (!model.ok()) return fail(name, model.status().toString());
    auto backend = forwardBackendFor(*device);
    if (!backend.ok()) return fail(name, backend.status().toString());
    if (*backend) (*model)->setBackend(std::move(*backend));
    auto tokenizerPath = model::findModelTokenizer(modelPath, tokenizerOption);
    if (!tokenizerPath.ok()) return fail(name, tokenizerPath.status().toString());
    auto tokenizer = tok::loadTokenizer(*tokenizerPath);
    if (!tokenizer.ok()) return fail(name, tokenizer.status().toString());

    ws::Manifest manifest;
    manifest.modelPath = modelPath;
    manifest.tokenizerPath = std::filesystem::absolute(*tokenizerPath).string();
    for (const auto& c : corpus) manifest.corpus.push_back(std::filesystem::absolute(c).string());
    manifest.hooks = hooks;
    manifest.contextSize = spec.contextSize;
    auto workspace = ws::Workspace::openOrCreate(*out, manifest);
    if (!workspace.ok()) return fail(name, workspace.status().toString());
    auto lock = ws::lockForCapture(*out);
    if (!lock.ok()) return fail(name, lock.status().toString());
    workspace = ws::Workspace::open(*out);  // as it is now that no other writer can change it
    if (!workspace.ok()) return fail(name, workspace.status().toString());
    if (workspace->manifest().modelPath != modelPath)
        return fail(name, *out + ": this workspace belongs to " + workspace->manifest().modelPath +
                              "; capture into a new workspace for " + modelPath);
    if (spec.resume)
        if (auto st = checkResumeProvenance(*workspace, manifest); !st.ok())
            return fail(name, st.toString());
    manifest.hooks = unionOfHooks(workspace->manifest().hooks, hooks);
    if (auto st = workspace->setManifest(manifest); !st.ok()) return fail(name, st.toString());
    for (const auto& hook : hooks) spec.outDirs.push_back(workspace->activationsDir(hook));
    spec.modelName = (*model)->config().name;

    ProgressBar bar("capture");
    auto summary = acts::capture(**model, **tokenizer, spec, bar.progress());
    bar.finish();
    if (!summary.ok()) return fail(name, summary.status().toString());
    if (summary->rows == 0)
        return fail(name, joined(corpus) + ": the corpus gave no tokens to capture (is it empty?)");
    if (summary->resumedWindows > 0)
        std::printf("resumed after %lld windows already stored\n",
                    (long long)summary->resumedWindows);
    std::printf("captured %lld tokens per hook (%lld windows of %d) into %s\n",
                (long long)summary->rows, (long long)summary->windows, spec.contextSize,
                out->c_str());
    if (summary->seconds > 0)
        std::printf("%.0f tokens/s through the model (%.1f s)\n", summary->tokensPerSecond,
                    summary->seconds);
    if (summary->corpusExhausted)
        std::printf("note: the corpus ran out before %lld tokens\n", (long long)spec.tokens);
    return 0;
}

const RegisterCommand kRegister({"capture",
                                 "capture activations at hook points into a workspace",
                                 kUsage,
                                 {"restart"},
                                 {"corpus", "hook", "out", "tokens", "ctx", "batch", "dtype",
                                  "tokenizer", "device"},
                                 &runCapture});

}  // namespace
}  // namespace mono::cli
