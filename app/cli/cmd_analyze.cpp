// monoscope-cli analyze: feature analysis of a workspace's activation store
// with an SAE, into a SQLite feature store.

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "app/cli/command.h"
#include "app/cli/device_args.h"
#include "app/cli/feature_map_args.h"
#include "app/cli/output_guard.h"
#include "app/cli/progress_bar.h"
#include "core/acts/activation_store.h"
#include "core/features/analysis.h"
#include "core/features/feature_store.h"
#include "core/features/map_writer.h"
#include "core/model/model.h"
#include "core/model/model_files.h"
#include "core/sae/sae_io.h"
#include "core/workspace/job_locks.h"
#include "core/workspace/workspace.h"

namespace mono::cli {
namespace {

const char* kUsage =
    "usage: monoscope-cli analyze WORKSPACE --sae DIR [--hook NAME] [--tokens N] [--top-k K]\n"
    "                             [--bins B] [--per-bin P] [--context C] [--out FILE.sqlite]\n"
    "                             [--features A:B] [--neighbours auto|exact|approx]\n"
    "                             [--no-model] [--fresh] [--any-hook] [--map] [--device D]\n"
    "\n"
    "Streams WORKSPACE/activations/<hook>/ through the SAE once and writes, per feature,\n"
    "density, max/mean, an activation histogram, the top-K examples and P examples from\n"
    "each of B equal-width activation bins (with C tokens of context), logit effects\n"
    "(through the workspace's model unless --no-model), decoder neighbours and\n"
    "co-firing features. An interrupted run continues where it stopped, and a run over\n"
    "a grown store extends the previous one (--fresh starts over). Labels are kept.\n"
    "A store built for another SAE, or over more tokens than this run, is replaced only\n"
    "with --fresh; an SAE trained at another hook is used only with --any-hook.\n"
    "--features A:B analyses only features A..B-1 (A: or :B for open ends); a later run\n"
    "with another range over the same tokens adds its features to the store and keeps\n"
    "the others (labels and notes too), so a wide SAE's store can be built in parts.\n"
    "Decoder neighbours are exact up to 32768 features and from an approximate (HNSW)\n"
    "index above; --neighbours exact|approx forces one.\n"
    "--map then lays out the features in 2-D for the browser's map (as feature-map\n"
    "with its defaults).\n"
    "Defaults: --hook from the SAE's cfg.json, else the workspace's first hook;\n"
    "--tokens all --top-k 20 --bins 10 --per-bin 5 --context 24;\n"
    "--out WORKSPACE/features/<sae folder name>.sqlite.\n"
    "--device cuda[:N] encodes the rows on that GPU (the rest of the analysis stays on the\n"
    "CPU); default cpu.";

// A store already at `out` is extended or resumed by the analysis; it is
// replaced only when the user says --fresh if it was built for another SAE
// (its labels describe other features) or covers more tokens than this run
// would (a complete larger analysis would be thrown away).
Status checkReplacingStore(const std::string& out, const sae::Sae& sae, int64_t targetRows) {
    std::error_code ec;
    if (!std::filesystem::exists(out, ec)) return Status::success();
    auto existing = features::FeatureStore::open(out, features::FeatureStore::Mode::kReadOnly);
    if (!existing.ok()) return existing.status();
    auto run = existing->runInfo();
    if (!run.ok() || (run->saeHash.empty() && run->tokensAnalysed == 0)) return Status::success();
    if (!run->saeHash.empty() && run->saeHash != features::saeContentHash(sae))
        return Status::invalidArgument(
            out + ": was built for another SAE (" + run->saePath +
            "), and its labels describe that SAE's features; pass --fresh to replace it, or "
            "give another --out");
    if (run->tokensAnalysed > targetRows)
        return Status::invalidArgument(
            out + ": holds an analysis of " + std::to_string(run->tokensAnalysed) +
            " tokens, and this run would analyse " + std::to_string(targetRows) +
            " and replace it; pass --fresh to replace it, or raise "
            "--tokens");
    return Status::success();
}

// The hook the SAE records is the one it was trained at: another hook (or a
// store of another width) is refused unless --any-hook says it is meant.
Status checkSaeHook(const std::string& saeDir, const sae::Sae& sae, const std::string& hook,
                    const acts::StoreIndex& store, bool anyHook) {
    const std::string& own = sae.config().metadata.hookName;
    if (!anyHook && !own.empty() && own != hook)
        return Status::invalidArgument(saeDir + ": the SAE was trained at " + own +
                                       ", not at --hook " + hook +
                                       "; pass --any-hook to use it there anyway");
    if (store.dim != sae.dIn())
        return Status::invalidArgument(saeDir + ": the SAE reads vectors of width " +
                                       std::to_string(sae.dIn()) + ", but the activations at " +
                                       hook + " have width " + std::to_string(store.dim));
    return Status::success();
}

// "--features A:B" (either end may be left out) into spec's range; false
// with *error set when malformed or outside [0, numFeatures].
bool parseFeatureRange(const std::string& text, int64_t numFeatures, features::AnalysisSpec* spec,
                       std::string* error) {
    const size_t colon = text.find(':');
    auto number = [](const std::string& t, int64_t fallback, int64_t* v) {
        if (t.empty()) {
            *v = fallback;
            return true;
        }
        char* end = nullptr;
        const long long parsed = std::strtoll(t.c_str(), &end, 10);
        *v = parsed;
        return end && *end == 0 && parsed >= 0;
    };
    int64_t a = 0, b = 0;
    if (colon == std::string::npos || !number(text.substr(0, colon), 0, &a) ||
        !number(text.substr(colon + 1), numFeatures, &b) || a >= b || b > numFeatures) {
        *error = "--features " + text + ": expected A:B with 0 ≤ A < B ≤ " +
                 std::to_string(numFeatures) + " (the SAE's features)";
        return false;
    }
    spec->featureBegin = a;
    spec->featureEnd = b;
    return true;
}

bool parseNeighbourMethod(const std::string& text, features::AnalysisSpec* spec) {
    if (text == "auto")
        spec->neighbourMethod = sae::NeighbourMethod::kAuto;
    else if (text == "exact")
        spec->neighbourMethod = sae::NeighbourMethod::kExact;
    else if (text == "approx")
        spec->neighbourMethod = sae::NeighbourMethod::kApproximate;
    else
        return false;
    return true;
}

int runAnalyze(CliArgs& args) {
    const std::string name = "analyze";
    if (args.positionals().size() != 1)
        return fail(name, std::string("expected one WORKSPACE\n\n") + kUsage, 2);
    const auto saeDir = args.option("sae");
    if (!saeDir) return fail(name, std::string("--sae is required\n\n") + kUsage, 2);
    features::AnalysisSpec spec;
    spec.maxTokens = args.intOption("tokens", 0, 0, kMaxTokens);
    spec.topK = static_cast<int>(args.intOption("top-k", 20, 0, 10000));
    spec.bins = static_cast<int>(args.intOption("bins", 10, 0, 1000));
    spec.perBin = static_cast<int>(args.intOption("per-bin", 5, 0, 1000));
    const int context = static_cast<int>(args.intOption("context", 24, 1, 4096));
    spec.fresh = args.flag("fresh");
    if (args.hasError()) return fail(name, args.error());
    if (context < 1 || spec.topK < 0 || spec.bins < 0 || spec.perBin < 0)
        return fail(name, "--context must be ≥ 1 and --top-k, --bins, --per-bin ≥ 0", 2);
    const auto device = deviceOption(args);
    if (!device.ok()) return fail(name, device.status().toString());
    spec.contextLeft = context * 3 / 4;
    spec.contextRight = context - spec.contextLeft - 1;

    auto workspace = ws::Workspace::open(args.positionals()[0]);
    if (!workspace.ok()) return fail(name, workspace.status().toString());
    auto sae = sae::loadSae(*saeDir);
    if (!sae.ok()) return fail(name, sae.status().toString());
    std::string rangeError;
    if (auto range = args.option("features");
        range && !parseFeatureRange(*range, sae->dSae(), &spec, &rangeError))
        return fail(name, rangeError);
    if (auto method = args.option("neighbours"); method && !parseNeighbourMethod(*method, &spec))
        return fail(name, "--neighbours " + *method + ": expected auto, exact or approx");
    std::string hook = args.option("hook").value_or(sae->config().metadata.hookName);
    if (hook.empty() && !workspace->manifest().hooks.empty()) hook = workspace->manifest().hooks[0];
    if (hook.empty())
        return fail(name, "no --hook given and neither the SAE nor the workspace names one", 2);
    auto store = acts::ActivationStoreReader::open(workspace->activationsDir(hook));
    if (!store.ok()) return fail(name, store.status().toString());
    if (auto st = checkSaeHook(*saeDir, *sae, hook, store->index(), args.flag("any-hook"));
        !st.ok())
        return fail(name, st.toString());

    const std::string out =
        args.option("out").value_or(workspace->featureStorePath(ws::saeNameOf(*saeDir)));
    const ws::Manifest& m = workspace->manifest();
    std::vector<std::string> inputs = saeInputFiles(*saeDir);
    inputs.push_back(workspace->activationsDir(hook));
    inputs.push_back(m.modelPath);
    if (auto st = checkOutputFiles({out}, inputs); !st.ok()) return fail(name, st.toString());
    auto lock = ws::lockForSaeJob(workspace->dir(), *saeDir, "analyze");
    if (!lock.ok()) return fail(name, lock.status().toString());
    const int64_t rows = store->index().rows();
    const int64_t target = spec.maxTokens > 0 ? std::min(spec.maxTokens, rows) : rows;
    if (!spec.fresh)
        if (auto st = checkReplacingStore(out, *sae, target); !st.ok())
            return fail(name, st.toString());
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(out).parent_path(), ec);

    std::shared_ptr<model::Model> model;
    std::shared_ptr<const tok::Tokenizer> tokenizer;
    if (!m.modelPath.empty()) {
        auto t = model::loadModelTokenizer(m.modelPath, m.tokenizerPath);
        if (t.ok())
            tokenizer = *t;
        else
            std::fprintf(stderr, "warning: no token strings: %s\n", t.status().toString().c_str());
        if (!args.flag("no-model")) {
            auto loaded = model::Model::load(m.modelPath);
            if (loaded.ok())
                model = *loaded;
            else
                std::fprintf(stderr, "warning: no logit effects: %s\n",
                             loaded.status().toString().c_str());
        }
    }

    std::printf("analysing %lld rows of %s with features %lld..%lld of %lld into %s\n",
                (long long)target, hook.c_str(), (long long)spec.featureBegin,
                (long long)(features::featureRangeEnd(spec, sae->dSae()) - 1),
                (long long)sae->dSae(), out.c_str());
    features::AnalysisInputs in;
    in.store = &*store;
    in.sae = &*sae;
    in.model = model.get();
    in.tokenizer = tokenizer.get();
    in.saePath = std::filesystem::absolute(*saeDir).string();
    auto encoder = blockEncoderFor(*device, *sae, spec.chunkRows);
    if (!encoder.ok()) return fail(name, encoder.status().toString());
    in.encoder = encoder->get();
    if (in.encoder) std::printf("encoding on %s\n", in.encoder->device().c_str());
    ProgressBar bar("analyze");
    auto result = features::analyze(in, spec, out, bar.progress(), StopToken());
    bar.finish();
    if (!result.ok()) return fail(name, result.status().toString());
    std::printf(
        "%lld rows (%lld from a previous run), %lld features in %.1f s "
        "(pass %.1f s, of which encoding and gathering firings %.1f s; neighbours%s %.1f s; "
        "writing %.1f s); the store holds %lld of %lld features\n",
        (long long)result->rowsAnalysed, (long long)result->rowsResumed,
        (long long)result->features, result->seconds, result->passSeconds, result->encodeSeconds,
        result->approximateNeighbours ? " (approximate)" : "", result->neighbourSeconds,
        result->writeSeconds, (long long)result->featuresInStore, (long long)sae->dSae());
    if (!args.flag("map")) return 0;
    ProgressBar mapBar("feature map");
    auto map = features::writeFeatureMap(*sae, *saeDir, out, features::FeatureMapSpec{},
                                         mapBar.progress(), StopToken());
    mapBar.finish();
    if (!map.ok()) return fail(name, map.status().toString());
    printFeatureMapTimes(*map);
    return 0;
}

const RegisterCommand kRegister({"analyze",
                                 "analyse SAE features into a feature store",
                                 kUsage,
                                 {"no-model", "fresh", "any-hook", "map"},
                                 {"sae", "hook", "tokens", "top-k", "bins", "per-bin", "context",
                                  "out", "device", "features", "neighbours"},
                                 &runAnalyze});

}  // namespace
}  // namespace mono::cli
