// monoscope-cli summary: what a workspace holds — model, activation stores,
// SAEs with their metrics, and a sample of features with their top examples.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "app/cli/example_text.h"
#include "core/acts/activation_store.h"
#include "core/base/atomic_file.h"
#include "core/features/feature_store.h"
#include "core/sae/sae_io.h"
#include "core/workspace/workspace.h"

namespace mono::cli {
namespace {

const char* kUsage =
    "usage: monoscope-cli summary WORKSPACE [--features N] [--examples K] [--sae NAME]\n"
    "\n"
    "Prints the workspace's model and corpus, each activation store, each SAE with\n"
    "its evaluation (WORKSPACE/saes/<name>/eval.json, as written by\n"
    "`eval-sae --json`) and, from each feature store, N live features spread over\n"
    "the density range with their K top examples (the example token in «»).\n"
    "Defaults: --features 12 --examples 3, every SAE.";

namespace fs = std::filesystem;

void printStores(const ws::Workspace& workspace) {
    for (const std::string& hook : workspace.manifest().hooks) {
        auto index = acts::readStoreIndex(workspace.activationsDir(hook));
        if (!index.ok()) {
            std::printf("  %-32s no activations (%s)\n", hook.c_str(),
                        index.status().message().c_str());
            continue;
        }
        std::printf("  %-32s %lld rows × %lld, %s, %zu shards%s\n", hook.c_str(),
                    (long long)index->rows(), (long long)index->dim,
                    index->dtype == io::DType::kF16 ? "f16" : "f32", index->shards.size(),
                    index->complete ? "" : " (capture not finished)");
    }
}

// The SAE's evaluation, when eval-sae --json wrote one. Every metric must be a
// number: eval-sae refuses to write non-finite ones, so a null (or a string) is
// a damaged file, reported by name and key rather than read as a number.
Status printEval(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(path, ec))) return Status::success();
    MONO_ASSIGN_OR_RETURN(const std::string text, readWholeFile(path, 16 << 20));
    const auto eval = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!eval.is_object()) return Status::corruption(path + ": not a JSON object");
    const char* keys[] = {"tokens",     "l0",      "explained_variance", "ce_loss_recovered",
                          "delta_loss", "dead_pct"};
    double v[6];
    for (int i = 0; i < 6; ++i) {
        const auto it = eval.find(keys[i]);
        if (it == eval.end() || !it->is_number())
            return Status::corruption(
                path + ": '" + keys[i] + "' is " +
                (it == eval.end() ? std::string("missing") : std::string(it->type_name())) +
                ", expected a number");
        v[i] = it->get<double>();
    }
    std::printf(
        "    held-out (%.0f tokens): L0 %.1f, explained variance %.3f, CE loss recovered %.3f, "
        "delta loss %.3f nats, dead %.1f%%\n",
        v[0], v[1], v[2], v[3], v[4], v[5]);
    return Status::success();
}

Status printSae(const ws::Workspace& workspace, const std::string& name) {
    const std::string dir = workspace.saeDir(name);
    auto sae = sae::loadSae(dir, {});
    if (!sae.ok()) {
        std::printf("  %s: %s\n", name.c_str(), sae.status().toString().c_str());
        return Status::success();
    }
    const sae::SaeConfig& c = sae->config();
    std::printf("  %s: %s", name.c_str(), sae::architectureName(c.architecture));
    if (c.architecture == sae::Architecture::kTopK ||
        c.architecture == sae::Architecture::kBatchTopK)
        std::printf(" k=%lld", (long long)c.k);
    std::printf(", %lld → %lld latents, hook %s, trained on %lld tokens\n", (long long)c.dIn,
                (long long)c.dSae, c.metadata.hookName.c_str(),
                (long long)c.metadata.trainingTokens);
    return printEval(workspace.saeEvalPath(name));
}

// Live features from the common to the rare end, evenly spaced, so the sample
// is not all from one corner of the density histogram.
std::vector<features::FeatureSummary> sampleFeatures(const features::FeatureStore& store,
                                                     int count) {
    features::PageRequest request;
    request.filter.aliveOnly = true;
    request.filter.minDensity = 1e-4;
    request.filter.maxDensity = 0.05;
    request.sort = features::SortKey::kDensity;
    request.descending = true;
    request.limit = 1'000'000;
    auto page = store.page(request);
    if (!page.ok() || page->rows.empty()) return {};
    std::vector<features::FeatureSummary> picked;
    const size_t n = page->rows.size();
    const size_t want = std::min<size_t>(static_cast<size_t>(count), n);
    for (size_t i = 0; i < want; ++i) picked.push_back(page->rows[i * n / want]);
    return picked;
}

void printFeatures(const std::string& path, int count, int examples) {
    auto store = features::FeatureStore::open(path, features::FeatureStore::Mode::kReadOnly);
    if (!store.ok()) {
        std::printf("  %s\n", store.status().toString().c_str());
        return;
    }
    auto run = store->runInfo();
    auto total = store->featureCount();
    auto histogram = store->densityHistogram();
    if (!run.ok() || !total.ok() || !histogram.ok()) {
        std::printf("  %s: no analysis yet\n", path.c_str());
        return;
    }
    std::printf("\nfeatures in %s: %lld (%lld dead), %lld tokens analysed\n", path.c_str(),
                (long long)*total, (long long)histogram->dead, (long long)run->tokensAnalysed);
    for (const auto& f : sampleFeatures(*store, count)) {
        auto record = store->feature(f.id);
        if (!record.ok()) continue;
        std::printf("\n  feature %lld  density %.2e  max %.3g%s%s\n", (long long)f.id, f.density,
                    double(f.maxActivation), f.label.empty() ? "" : "  — ", f.label.c_str());
        const int shown = std::min<int>(examples, static_cast<int>(record->topExamples.size()));
        for (int i = 0; i < shown; ++i) {
            const auto& e = record->topExamples[static_cast<size_t>(i)];
            std::printf("    %7.3g  %s\n", double(e.activation), renderExample(e, 8).c_str());
        }
        if (!record->positiveLogits.empty()) {
            std::printf("    promotes:");
            for (size_t i = 0; i < std::min<size_t>(5, record->positiveLogits.size()); ++i)
                std::printf(" \u2039%s\u203A", visibleText(record->positiveLogits[i].text).c_str());
            std::printf("\n");
        }
    }
}

int runSummary(CliArgs& args) {
    const std::string name = "summary";
    if (args.positionals().size() != 1)
        return fail(name, std::string("expected one WORKSPACE\n\n") + kUsage, 2);
    const int count = static_cast<int>(args.intOption("features", 12, 1, 1'000'000));
    const int examples = static_cast<int>(args.intOption("examples", 3, 0, 1000));
    if (args.hasError()) return fail(name, args.error());
    auto workspace = ws::Workspace::open(args.positionals()[0]);
    if (!workspace.ok()) return fail(name, workspace.status().toString());
    const ws::Manifest& m = workspace->manifest();

    std::printf("workspace %s\n", workspace->dir().c_str());
    std::printf("  model      %s\n", m.modelPath.c_str());
    for (const auto& c : m.corpus) std::printf("  corpus     %s\n", c.c_str());
    std::printf("\nactivations\n");
    printStores(*workspace);

    std::vector<std::string> saes = workspace->saeNames();
    if (auto only = args.option("sae")) {
        if (std::find(saes.begin(), saes.end(), *only) == saes.end())
            return fail(name, "no SAE named '" + *only + "' in " + workspace->saesDir());
        saes = {*only};
    }
    std::printf("\nSAEs\n");
    std::error_code ec;
    if (saes.empty()) std::printf("  none yet\n");
    Status damaged;  // the first damaged evaluation; the rest of the summary still prints
    for (const auto& sae : saes)
        if (Status st = printSae(*workspace, sae); !st.ok() && damaged.ok()) damaged = st;
    for (const auto& sae : saes) {
        const std::string path = workspace->featureStorePath(sae);
        if (fs::exists(path, ec)) printFeatures(path, count, examples);
    }
    if (!damaged.ok()) return fail(name, damaged.toString());
    return 0;
}

const RegisterCommand kRegister({"summary",
                                 "what a workspace holds: model, SAEs, sample features",
                                 kUsage,
                                 {},
                                 {"features", "examples", "sae"},
                                 &runSummary});

}  // namespace
}  // namespace mono::cli
