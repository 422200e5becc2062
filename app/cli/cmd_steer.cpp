// monoscope-cli steer: clamp SAE features while generating and compare the
// steered continuation with the baseline (same seed and sampler), or sweep one
// feature's value over a range.

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/cli/command.h"
#include "app/cli/model_args.h"
#include "app/cli/progress_bar.h"
#include "core/base/atomic_file.h"
#include "core/features/feature_store.h"
#include "core/sae/sae_io.h"
#include "core/steer/steer_run.h"

namespace mono::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* kUsage =
    "usage: monoscope-cli steer MODEL --sae DIR --prompt TEXT --feature ID=VALUE[x] [--feature "
    "...]\n"
    "                           [--mode clamp|cond|add] [--positions prompt|gen|all]\n"
    "                           [--features STORE.sqlite] [--keep-special] [--hook NAME]\n"
    "                           [-n N] [--seed S] [--temperature T] [--top-k K] [--top-p P]\n"
    "                           [--frequency-penalty F] [--reference FILE] [--ctx L]\n"
    "                           [--tokenizer FILE] [--json OUT]\n"
    "       monoscope-cli steer MODEL --sae DIR --prompt TEXT --sweep ID --from A[x] --to B[x]\n"
    "                           [--steps K] ...\n"
    "\n"
    "Generates the baseline and the steered continuation with the same seed and\n"
    "sampler, streaming both, then prints the steered features' activations, the\n"
    "probability of each feature's top logit tokens after the prompt, and the KL and\n"
    "delta loss of the steered model on reference text (--reference FILE, else the\n"
    "prompt + baseline continuation). VALUE is absolute, or VALUEx a multiple of the\n"
    "feature's max activation from the feature store (--features, else the\n"
    "workspace's features/<sae-name>.sqlite beside saes/<sae-name>). Modes: clamp\n"
    "f_i := v; cond: only where f_i > 0; add: h += v W_dec[i]. BOS/special rows are\n"
    "left alone unless --keep-special. Defaults (Neuronpedia's): -n 256,\n"
    "--temperature 0.5, --frequency-penalty 1.0, --seed 0, --mode clamp,\n"
    "--positions all; --steps 11. See docs/STEERING.md.";

// The feature store of an SAE inside a workspace: <ws>/saes/<name> → <ws>/features/<name>.sqlite.
std::string storeBeside(const std::string& saeDir) {
    fs::path p = fs::path(saeDir).lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
    const fs::path store =
        p.parent_path().parent_path() / "features" / (p.filename().string() + ".sqlite");
    return p.parent_path().filename() == "saes" && fs::exists(store) ? store.string() : "";
}

json continuationJson(const steer::Continuation& c) {
    return {{"text", c.text},
            {"tokens", c.tokens},
            {"pieces", c.pieces},
            {"stopped_at_eos", c.stoppedAtEos},
            {"activations", c.activations}};
}

json fluencyJson(const steer::FluencyReport& f) {
    return {{"ce_baseline", f.ceBaseline},
            {"ce_steered", f.ceSteered},
            {"delta_loss", f.deltaLoss},
            {"kl", f.meanKl},
            {"predicted_tokens", f.predicted}};
}

json shiftJson(const steer::FeatureShift& s) {
    json tokens = json::array();
    for (const auto& t : s.tokens)
        tokens.push_back({{"token", t.token.token},
                          {"text", t.token.text},
                          {"logit_effect", t.token.value},
                          {"p_baseline", t.pBaseline},
                          {"p_steered", t.pSteered}});
    return {{"feature", s.feature},
            {"p_baseline", s.sumBaseline},
            {"p_steered", s.sumSteered},
            {"tokens", tokens}};
}

json editJson(const steer::FeatureEdit& e) {
    return {{"feature", e.feature},
            {"value", e.value},
            {"relative", e.relative},
            {"max_activation", e.maxActivation},
            {"applied", e.absolute()}};
}

void printShift(const steer::FeatureShift& s) {
    std::printf("  feature %lld: top logit tokens p %.4f -> %.4f  (", (long long)s.feature,
                s.sumBaseline, s.sumSteered);
    for (size_t k = 0; k < s.tokens.size() && k < 5; ++k)
        std::printf("%s'%s' %.3f->%.3f", k ? ", " : "",
                    tok::escapeBytes(s.tokens[k].token.text).c_str(), s.tokens[k].pBaseline,
                    s.tokens[k].pSteered);
    std::printf(")\n");
}

int runSteer(CliArgs& args) {
    const std::string name = "steer";
    const auto saePath = args.option("sae");
    const auto featureArgs = args.options("feature");
    const bool sweeping = args.option("sweep").has_value();
    if (args.positionals().size() != 1 || !saePath || (featureArgs.empty() && !sweeping))
        return fail(
            name, std::string("MODEL, --sae and --feature (or --sweep) are required\n\n") + kUsage,
            2);

    steer::SteerRunSpec spec;
    spec.prompt = args.option("prompt").value_or("");
    spec.generate.maxNewTokens = static_cast<int>(args.intOption("n", 256));
    spec.generate.sampling.temperature = static_cast<float>(args.doubleOption("temperature", 0.5));
    spec.generate.sampling.topK = static_cast<int>(args.intOption("top-k", 0));
    spec.generate.sampling.topP = static_cast<float>(args.doubleOption("top-p", 1.0));
    spec.generate.sampling.frequencyPenalty =
        static_cast<float>(args.doubleOption("frequency-penalty", 1.0));
    spec.generate.sampling.seed = static_cast<uint64_t>(args.intOption("seed", 0));
    spec.referenceContext = static_cast<int>(args.intOption("ctx", 128));
    const int steps = static_cast<int>(args.intOption("steps", 11));
    if (args.hasError()) return fail(name, args.error(), 2);
    if (spec.generate.maxNewTokens < 0 || spec.generate.sampling.temperature < 0 ||
        spec.generate.sampling.topK < 0 ||
        !(spec.generate.sampling.topP > 0 && spec.generate.sampling.topP <= 1))
        return fail(name, "-n, --temperature, --top-k must be >= 0 and --top-p in (0, 1]", 2);
    spec.steer.skipSpecial = !args.flag("keep-special");
    if (auto m = args.option("mode")) {
        auto mode = steer::parseSteerMode(*m);
        if (!mode.ok()) return fail(name, mode.status().message(), 2);
        spec.steer.mode = *mode;
    }
    if (auto p = args.option("positions")) {
        auto pos = steer::parseSteerPositions(*p);
        if (!pos.ok()) return fail(name, pos.status().message(), 2);
        spec.steer.positions = *pos;
    }
    for (const std::string& f : featureArgs) {
        auto e = steer::parseFeatureEdit(f);
        if (!e.ok()) return fail(name, e.status().message(), 2);
        spec.steer.edits.push_back(*e);
    }
    // The sweep's endpoints parse like edits: "ID=A[x]".
    steer::FeatureEdit from, to;
    if (sweeping) {
        const auto a = args.option("from"), b = args.option("to");
        if (!a || !b) return fail(name, "--sweep needs --from and --to", 2);
        auto ea = steer::parseFeatureEdit(*args.option("sweep") + "=" + *a);
        auto eb = steer::parseFeatureEdit(*args.option("sweep") + "=" + *b);
        if (!ea.ok()) return fail(name, "--sweep/--from: " + ea.status().message(), 2);
        if (!eb.ok()) return fail(name, "--to: " + eb.status().message(), 2);
        if (ea->relative != eb->relative)
            return fail(name, "--from and --to must both be multiples (x) or both absolute", 2);
        from = *ea;
        to = *eb;
    }
    if (auto ref = args.option("reference")) {
        std::ifstream in(*ref, std::ios::binary);
        if (!in) return fail(name, *ref + ": cannot read the reference text");
        std::ostringstream text;
        text << in.rdbuf();
        spec.reference = {text.str()};
    }

    auto m = loadModelArgs(args, true);
    if (!m.ok()) return fail(name, m.status().toString());
    sae::LoadOptions loadOptions;
    loadOptions.hook = args.option("hook").value_or("");
    auto loaded = sae::loadSae(*saePath, loadOptions);
    if (!loaded.ok()) return fail(name, loaded.status().toString());
    spec.steer.hook = args.option("hook").value_or(loaded->config().metadata.hookName);
    if (spec.steer.hook.empty())
        return fail(name, *saePath + ": the SAE does not record its hook; pass --hook NAME", 2);
    auto sae = std::make_shared<const sae::Sae>(std::move(*loaded));

    // Relative values need the feature store's max activations.
    std::string storePath = args.option("features").value_or(storeBeside(*saePath));
    bool needStore = sweeping && from.relative;
    for (const auto& e : spec.steer.edits) needStore = needStore || e.relative;
    if (needStore) {
        if (storePath.empty())
            return fail(
                name,
                "a value with x is a multiple of the max activation: give --features STORE.sqlite",
                2);
        auto store =
            features::FeatureStore::open(storePath, features::FeatureStore::Mode::kReadOnly);
        if (!store.ok()) return fail(name, store.status().toString());
        std::vector<steer::FeatureEdit> all = spec.steer.edits;
        if (sweeping) all.push_back(from);
        if (auto st = steer::resolveFromStore(all, *store); !st.ok())
            return fail(name, st.toString());
        if (sweeping) {
            from.maxActivation = all.back().maxActivation;
            all.pop_back();
        }
        spec.steer.edits = all;
    }

    const tok::Tokenizer& tokenizer = *m->tokenizer;
    json settings = {{"model", args.positionals()[0]},
                     {"sae", *saePath},
                     {"hook", spec.steer.hook},
                     {"features_store", needStore ? storePath : ""},
                     {"prompt", spec.prompt},
                     {"mode", steer::steerModeName(spec.steer.mode)},
                     {"positions", steer::steerPositionsName(spec.steer.positions)},
                     {"skip_special", spec.steer.skipSpecial},
                     {"n", spec.generate.maxNewTokens},
                     {"seed", spec.generate.sampling.seed},
                     {"temperature", spec.generate.sampling.temperature},
                     {"top_k", spec.generate.sampling.topK},
                     {"top_p", spec.generate.sampling.topP},
                     {"frequency_penalty", spec.generate.sampling.frequencyPenalty},
                     {"reference", args.option("reference").value_or("prompt + baseline")}};
    json out;

    if (sweeping) {
        steer::SweepSpec sw;
        sw.feature = from.feature;
        sw.from = from.value;
        sw.to = to.value;
        sw.steps = steps;
        sw.relative = from.relative;
        sw.maxActivation = from.maxActivation;
        ProgressBar bar("steer sweep");
        auto rep = steer::runSweep(*m->model, tokenizer, sae, spec, sw, bar.progress());
        bar.finish();
        if (!rep.ok()) return fail(name, rep.status().toString());
        std::printf("baseline: %s%s\n\n", spec.prompt.c_str(), rep->baseline.text.c_str());
        std::printf("%10s %10s %10s %10s %10s  text\n", "value", "applied", "p(top)", "KL",
                    "dloss");
        json points = json::array();
        for (const auto& p : rep->points) {
            std::string oneLine = p.steered.text.substr(0, 80);
            for (char& c : oneLine)
                if (c == '\n') c = ' ';
            std::printf("%9.3g%s %10.3f %10.4f %10.4f %+10.4f  %s\n", p.edit.value,
                        sw.relative ? "x" : " ", p.edit.absolute(), p.shift.sumSteered,
                        p.fluency.meanKl, p.fluency.deltaLoss, oneLine.c_str());
            points.push_back({{"edit", editJson(p.edit)},
                              {"steered", continuationJson(p.steered)},
                              {"shift", shiftJson(p.shift)},
                              {"fluency", fluencyJson(p.fluency)}});
        }
        settings["sweep"] = {{"feature", sw.feature},
                             {"from", sw.from},
                             {"to", sw.to},
                             {"steps", sw.steps},
                             {"relative", sw.relative},
                             {"max_activation", sw.maxActivation}};
        out = {{"settings", settings},
               {"prompt_tokens", rep->promptTokens},
               {"baseline", continuationJson(rep->baseline)},
               {"points", points}};
    } else {
        steer::Stream current = steer::Stream::kSteered;
        bool started = false;
        auto onToken = [&](steer::Stream s, model::TokenId, const std::string& text) {
            if (!started || s != current) {
                std::printf("%s%s: %s", started ? "\n\n" : "",
                            s == steer::Stream::kBaseline ? "baseline" : "steered",
                            spec.prompt.c_str());
                started = true;
                current = s;
            }
            std::fwrite(text.data(), 1, text.size(), stdout);
            std::fflush(stdout);
            return true;
        };
        auto rep = steer::runSteering(*m->model, tokenizer, sae, spec, onToken);
        if (started) std::printf("\n\n");
        if (!rep.ok()) return fail(name, rep.status().toString());
        for (size_t j = 0; j < rep->features.size(); ++j) {
            double mb = 0, ms = 0;
            for (const auto& a : rep->baseline.activations) mb += a[j];
            for (const auto& a : rep->steered.activations) ms += a[j];
            if (!rep->baseline.activations.empty()) mb /= double(rep->baseline.activations.size());
            if (!rep->steered.activations.empty()) ms /= double(rep->steered.activations.size());
            std::printf(
                "  feature %lld: mean activation on generated tokens %.3f (baseline) "
                "%.3f (steered)\n",
                (long long)rep->features[j], mb, ms);
        }
        for (const auto& s : rep->shifts) printShift(s);
        const auto& f = rep->fluency;
        std::printf("  reference (%lld tokens): CE %.4f -> %.4f nats, delta loss %+.4f, KL %.4f\n",
                    (long long)f.predicted, f.ceBaseline, f.ceSteered, f.deltaLoss, f.meanKl);
        json edits = json::array(), shifts = json::array();
        for (const auto& e : rep->edits) edits.push_back(editJson(e));
        for (const auto& s : rep->shifts) shifts.push_back(shiftJson(s));
        settings["edits"] = edits;
        out = {{"settings", settings},
               {"prompt_tokens", rep->promptTokens},
               {"features", rep->features},
               {"baseline", continuationJson(rep->baseline)},
               {"steered", continuationJson(rep->steered)},
               {"shifts", shifts},
               {"fluency", fluencyJson(rep->fluency)}};
    }
    if (auto path = args.option("json")) {
        if (auto st = writeFileAtomic(*path, out.dump(2, ' ', false, json::error_handler_t::replace) + "\n"); !st.ok())
            return fail(name, st.toString());
    }
    return 0;
}

const RegisterCommand kRegister({"steer",
                                 "steer generation by clamping SAE features; baseline vs steered",
                                 kUsage,
                                 {"keep-special"},
                                 {"sae",
                                  "prompt",
                                  "feature",
                                  "mode",
                                  "positions",
                                  "features",
                                  "hook",
                                  "n",
                                  "seed",
                                  "temperature",
                                  "top-k",
                                  "top-p",
                                  "frequency-penalty",
                                  "reference",
                                  "ctx",
                                  "tokenizer",
                                  "json",
                                  "sweep",
                                  "from",
                                  "to",
                                  "steps"},
                                 &runSteer});

}  // namespace
}  // namespace mono::cli
