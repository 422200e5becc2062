// monoscope-cli eval-sae: an SAE's reconstruction metrics and its loss when
// spliced into the model, over held-out text.

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>

#include "app/cli/command.h"
#include "app/cli/output_guard.h"
#include "app/cli/progress_bar.h"
#include "app/cli/sae_fit.h"
#include "core/base/atomic_file.h"
#include "core/model/model.h"
#include "core/model/model_files.h"
#include "core/sae/model_eval.h"
#include "core/sae/quality_eval.h"
#include "core/sae/quality_record.h"
#include "core/sae/sae_io.h"

namespace mono::cli {
namespace {

const char* kUsage =
    "usage: monoscope-cli eval-sae MODEL --sae DIR --corpus FILE [--corpus FILE ...]\n"
    "                              [--tokens N] [--ctx L] [--hook NAME] [--tokenizer FILE] [--json "
    "OUT]\n"
    "                              [--metrics all|NAME,NAME...] [--absorption-words N]\n"
    "\n"
    "Prints L0, MSE, explained variance, cosine, l2 ratio, dead %, dense %, CE loss\n"
    "recovered and delta loss over N held-out tokens (BOS excluded). The hook defaults\n"
    "to the one recorded in the SAE; another hook needs --any-hook, and an SAE Monoscope\n"
    "trained on another model needs --any-model. Defaults: --tokens 50000 --ctx 128.\n"
    "--metrics adds SAEBench quality metrics (shrinkage, alive, decoder-cosine, kl,\n"
    "absorption; docs/SAE.md), prints them and stores them beside the SAE in\n"
    "metrics.json (the GUI shows them). --absorption-words caps the first-letter\n"
    "vocabulary (default 4000).";

void printReport(const std::string& saePath, const std::string& hook,
                 const sae::ModelEvalReport& report) {
    const auto& m = report.metrics;
    std::printf("SAE %s at %s, %lld tokens\n", saePath.c_str(), hook.c_str(), (long long)m.tokens);
    std::printf("  L0                  %10.2f\n", m.l0);
    std::printf("  MSE                 %10.5g\n", m.mse);
    std::printf("  explained variance  %10.4f\n", m.explainedVariance);
    std::printf("  cosine              %10.4f\n", m.cosine);
    std::printf("  l2 ratio            %10.4f\n", m.l2Ratio);
    std::printf("  dead %%              %10.2f\n", m.deadPct);
    std::printf("  dense %%             %10.2f\n", m.densePct);
    std::printf("  CE clean            %10.4f nats\n", report.ceClean);
    std::printf("  CE with SAE         %10.4f nats\n", report.ceSae);
    std::printf("  CE zero-ablation    %10.4f nats\n", report.ceZeroAblation);
    std::printf("  CE loss recovered   %10.4f\n", report.ceLossRecovered);
    std::printf("  delta loss          %10.4f nats\n", report.deltaLoss);
}

// The quality table: every summary entry past the four the report printed.
void printQuality(const sae::QualityResult& q) {
    std::printf("Quality metrics (SAEBench definitions, docs/SAE.md)\n");
    for (size_t i = 4; i < q.record.summary.size(); ++i)
        std::printf("  %-30s %12.6g\n", q.record.summary[i].first.c_str(),
                    q.record.summary[i].second);
    if (!q.absorptionSkipped.empty())
        std::printf("  absorption not measured: %s\n", q.absorptionSkipped.c_str());
    if (q.absorption.letters.empty()) return;
    std::printf("  letter  probe TP  main features  absorption fraction  full absorption\n");
    for (const sae::LetterAbsorption& l : q.absorption.letters) {
        std::string main;
        for (int32_t f : l.mainFeatures) {
            if (!main.empty()) main += ',';
            main += std::to_string(f);
        }
        std::printf("  %c       %8lld  %-13s  %19.4f  %15.4f\n", 'a' + l.letter,
                    (long long)l.probeTruePositives, main.c_str(), l.meanAbsorptionFraction,
                    l.fullAbsorptionRate);
    }
}

int runEvalSae(CliArgs& args) {
    const std::string name = "eval-sae";
    const auto saePath = args.option("sae");
    const auto corpus = args.options("corpus");
    if (args.positionals().size() != 1 || !saePath || corpus.empty())
        return fail(name, std::string("MODEL, --sae and --corpus are required\n\n") + kUsage, 2);
    sae::ModelEvalSpec spec;
    spec.corpus = corpus;
    spec.tokens = args.intOption("tokens", 50'000, 1, kMaxTokens);
    spec.contextSize = static_cast<int>(args.intOption("ctx", 128, 2, kMaxContext));
    sae::QualitySpec quality;
    quality.absorptionWords = args.intOption("absorption-words", 4000, 26, 1'000'000);
    if (args.hasError()) return fail(name, args.error());
    const auto metricsText = args.option("metrics");
    if (metricsText) {
        auto set = sae::parseQualityMetrics(*metricsText);
        if (!set.ok()) return fail(name, "--metrics: " + set.status().message());
        quality.metrics = *set;
    }
    if (auto json = args.option("json")) {
        const auto inputs = inputPaths(args, {"sae", "corpus", "tokenizer"});
        if (auto st = checkOutputFiles({*json}, inputs); !st.ok()) return fail(name, st.toString());
    }

    const std::string modelPath = args.positionals()[0];
    auto model = model::Model::load(modelPath);
    if (!model.ok()) return fail(name, model.status().toString());
    auto tokenizer = model::loadModelTokenizer(modelPath, args.option("tokenizer").value_or(""));
    if (!tokenizer.ok()) return fail(name, tokenizer.status().toString());
    sae::LoadOptions loadOptions;
    loadOptions.hook = args.option("hook").value_or("");
    auto loaded = sae::loadSae(*saePath, loadOptions);
    if (!loaded.ok()) return fail(name, loaded.status().toString());
    spec.hook = args.option("hook").value_or(loaded->config().metadata.hookName);
    if (spec.hook.empty())
        return fail(name, *saePath + ": the SAE does not record its hook; pass --hook NAME", 2);
    if (auto st = checkSaeFitsModel(*saePath, *loaded, (*model)->config(), spec.hook, args);
        !st.ok())
        return fail(name, st.toString());

    ProgressBar bar("eval-sae");
    quality.eval = spec;
    auto run = [&]() -> Result<sae::QualityResult> {
        if (metricsText)
            return sae::evaluateQuality(**model, **tokenizer, *loaded, quality, bar.progress());
        sae::QualityResult r;
        MONO_ASSIGN_OR_RETURN(
            r.eval, sae::evaluateInModel(**model, **tokenizer, *loaded, spec, bar.progress()));
        return r;
    };
    Result<sae::QualityResult> result = run();
    bar.finish();
    if (!result.ok()) return fail(name, result.status().toString());
    const sae::ModelEvalReport* report = &result->eval;
    const auto& m = report->metrics;
    printReport(*saePath, spec.hook, *report);
    if (metricsText) {
        printQuality(*result);
        const std::string stored = sae::qualityRecordPath(*saePath);
        if (auto st = sae::saveQualityRecord(stored, result->record); !st.ok())
            return fail(name, st.toString());
        std::printf("Quality metrics stored in %s\n", stored.c_str());
    }

    if (auto out = args.option("json")) {
        nlohmann::json j = {{"sae", *saePath},
                            {"model", modelPath},
                            {"hook", spec.hook},
                            {"tokens", m.tokens},
                            {"l0", m.l0},
                            {"mse", m.mse},
                            {"explained_variance", m.explainedVariance},
                            {"cosine", m.cosine},
                            {"l2_ratio", m.l2Ratio},
                            {"dead_pct", m.deadPct},
                            {"dense_pct", m.densePct},
                            {"ce_clean", report->ceClean},
                            {"ce_sae", report->ceSae},
                            {"ce_zero_ablation", report->ceZeroAblation},
                            {"ce_loss_recovered", report->ceLossRecovered},
                            {"delta_loss", report->deltaLoss}};
        for (const auto& [key, value] : result->record.summary) j["quality"][key] = value;
        // JSON has no NaN: nlohmann would write null, which no reader takes for a number.
        for (const auto& [key, value] : j.items())
            if (value.is_number_float() && !std::isfinite(value.get<double>()))
                return fail(name, *out + ": not written: " + key + " is " +
                                      std::to_string(value.get<double>()) +
                                      ", and a metrics file holds only finite numbers");
        if (auto st = writeFileAtomic(*out, j.dump(2) + "\n"); !st.ok())
            return fail(name, st.toString());
    }
    return 0;
}

const RegisterCommand kRegister({"eval-sae",
                                 "evaluate an SAE: reconstruction and spliced loss",
                                 kUsage,
                                 {"any-hook", "any-model"},
                                 {"sae", "corpus", "tokens", "ctx", "hook", "tokenizer", "json",
                                  "metrics", "absorption-words"},
                                 &runEvalSae});

}  // namespace
}  // namespace mono::cli
