// monoscope-cli steer: clamp SAE features while generating and compare the
// steered continuation with the baseline (same seed and sampler), or sweep one
// feature's value over a range.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/cli/command.h"
#include "app/cli/device_args.h"
#include "app/cli/model_args.h"
#include "app/cli/output_guard.h"
#include "app/cli/progress_bar.h"
#include "app/cli/sae_fit.h"
#include "core/base/file_checks.h"
#include "core/features/analysis.h"
#include "core/features/feature_store.h"
#include "core/sae/sae_io.h"
#include "core/steer/steer_json.h"
#include "core/steer/steer_run.h"
#include "core/workspace/workspace.h"

namespace mono::cli {
namespace {

namespace fs = std::filesystem;

const char* kUsage =
    "usage: monoscope-cli steer MODEL --sae DIR --prompt TEXT --feature ID=VALUE[x] [--feature "
    "...]\n"
    "                           [--mode clamp|cond|add] [--positions prompt|gen|all]\n"
    "                           [--features STORE.sqlite] [--keep-special] [--hook NAME]\n"
    "                           [--device D]\n"
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
    "--positions all; --steps 11. See docs/STEERING.md.\n"
    "--device: the model runs on the CPU (cpu, the default); the CUDA forward pass has no KV "
    "cache\n"
    "yet, so steering refuses a CUDA device.";

constexpr const char* kName = "steer";

// What the command line asks for. Each phase below returns 0 to go on, or the
// exit code of the failure it has reported.
struct SteerCommand {
    std::string modelPath, saePath;
    steer::SteerRunSpec spec;
    std::string referencePath;  // empty: the prompt + baseline continuation
    bool sweeping = false;
    steer::FeatureEdit from, to;  // the sweep's endpoints: "ID=A[x]", "ID=B[x]"
    int steps = 11;
};

int parseGeneration(CliArgs& args, SteerCommand& cmd) {
    steer::SteerRunSpec& spec = cmd.spec;
    model::SamplingOptions& sampling = spec.generate.sampling;
    spec.prompt = args.option("prompt").value_or("");
    spec.generate.maxNewTokens = static_cast<int>(args.intOption("n", 256, 0, 1'000'000));
    sampling.temperature = static_cast<float>(args.doubleOption("temperature", 0.5, 0, 100));
    sampling.topK = static_cast<int>(args.intOption("top-k", 0, 0, INT32_MAX));
    sampling.topP = static_cast<float>(args.doubleOption("top-p", 1.0, 0, 1));
    sampling.frequencyPenalty =
        static_cast<float>(args.doubleOption("frequency-penalty", 1.0, -100, 100));
    sampling.seed = args.seedOption("seed", 0);
    spec.referenceContext = static_cast<int>(args.intOption("ctx", 128, 2, kMaxContext));
    cmd.steps = static_cast<int>(args.intOption("steps", 11, 2, 1000));
    if (args.hasError()) return fail(kName, args.error());
    if (spec.generate.maxNewTokens < 0 || sampling.temperature < 0 || sampling.topK < 0 ||
        !(sampling.topP > 0 && sampling.topP <= 1))
        return fail(kName, "-n, --temperature, --top-k must be >= 0 and --top-p in (0, 1]", 2);
    return 0;
}

int parseEdits(CliArgs& args, steer::SteerSpec& steering) {
    steering.skipSpecial = !args.flag("keep-special");
    if (auto m = args.option("mode")) {
        auto mode = steer::parseSteerMode(*m);
        if (!mode.ok()) return fail(kName, mode.status().message(), 2);
        steering.mode = *mode;
    }
    if (auto p = args.option("positions")) {
        auto positions = steer::parseSteerPositions(*p);
        if (!positions.ok()) return fail(kName, positions.status().message(), 2);
        steering.positions = *positions;
    }
    for (const std::string& f : args.options("feature")) {
        auto e = steer::parseFeatureEdit(f);
        if (!e.ok()) return fail(kName, e.status().message(), 2);
        steering.edits.push_back(*e);
    }
    return 0;
}

// The sweep's endpoints parse like edits: "ID=A[x]".
int parseSweepRange(CliArgs& args, SteerCommand& cmd) {
    const auto a = args.option("from"), b = args.option("to");
    if (!a || !b) return fail(kName, "--sweep needs --from and --to", 2);
    auto from = steer::parseFeatureEdit(*args.option("sweep") + "=" + *a);
    auto to = steer::parseFeatureEdit(*args.option("sweep") + "=" + *b);
    if (!from.ok()) return fail(kName, "--sweep/--from: " + from.status().message(), 2);
    if (!to.ok()) return fail(kName, "--to: " + to.status().message(), 2);
    if (from->relative != to->relative)
        return fail(kName, "--from and --to must both be multiples (x) or both absolute", 2);
    cmd.from = *from;
    cmd.to = *to;
    return 0;
}

int readReference(const std::string& path, steer::SteerRunSpec& spec) {
    if (auto st = requireRegularFile(path); !st.ok()) return fail(kName, st.toString());
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(kName, path + ": cannot read the reference text");
    std::ostringstream text;
    text << in.rdbuf();
    spec.reference = {text.str()};
    return 0;
}

int parseCommand(CliArgs& args, SteerCommand& cmd) {
    const auto saePath = args.option("sae");
    cmd.sweeping = args.option("sweep").has_value();
    if (args.positionals().size() != 1 || !saePath ||
        (args.options("feature").empty() && !cmd.sweeping))
        return fail(
            kName, std::string("MODEL, --sae and --feature (or --sweep) are required\n\n") + kUsage,
            2);
    cmd.modelPath = args.positionals()[0];
    cmd.saePath = *saePath;
    if (auto json = args.option("json")) {
        const auto inputs = inputPaths(args, {"sae", "tokenizer", "reference", "features"});
        if (auto st = checkOutputFiles({*json}, inputs); !st.ok())
            return fail(kName, st.toString());
    }
    if (int rc = parseGeneration(args, cmd)) return rc;
    if (int rc = parseEdits(args, cmd.spec.steer)) return rc;
    if (cmd.sweeping)
        if (int rc = parseSweepRange(args, cmd)) return rc;
    cmd.referencePath = args.option("reference").value_or("");
    if (args.option("reference")) return readReference(cmd.referencePath, cmd.spec);
    return 0;
}

// Loads the SAE and settles the hook it steers: --hook, else the one it records.
int loadSteeringSae(CliArgs& args, SteerCommand& cmd, const model::ModelConfig& model,
                    std::shared_ptr<const sae::Sae>& sae) {
    sae::LoadOptions loadOptions;
    loadOptions.hook = args.option("hook").value_or("");
    auto loaded = sae::loadSae(cmd.saePath, loadOptions);
    if (!loaded.ok()) return fail(kName, loaded.status().toString());
    cmd.spec.steer.hook = args.option("hook").value_or(loaded->config().metadata.hookName);
    if (cmd.spec.steer.hook.empty())
        return fail(kName, cmd.saePath + ": the SAE does not record its hook; pass --hook NAME", 2);
    if (auto st = checkSaeFitsModel(cmd.saePath, *loaded, model, cmd.spec.steer.hook, args);
        !st.ok())
        return fail(kName, st.toString());
    sae = std::make_shared<const sae::Sae>(std::move(*loaded));
    return 0;
}

// The workspace's store for this SAE, when the SAE lies in a workspace that has analysed it.
std::string analysedStoreOf(const std::string& saeDir) {
    const std::string store = ws::featureStoreBesideSae(saeDir);
    std::error_code ec;
    return !store.empty() && fs::exists(store, ec) ? store : "";
}

// A relative value ("10x") is a multiple of the feature's max activation, which
// only the feature store knows. `storeUsed` is left empty when no value is relative.
int resolveRelativeValues(CliArgs& args, SteerCommand& cmd, const sae::Sae& sae,
                          std::string& storeUsed) {
    std::vector<steer::FeatureEdit>& edits = cmd.spec.steer.edits;
    bool needStore = cmd.sweeping && cmd.from.relative;
    for (const auto& e : edits) needStore = needStore || e.relative;
    if (!needStore) return 0;
    const std::string storePath = args.option("features").value_or(analysedStoreOf(cmd.saePath));
    if (storePath.empty())
        return fail(
            kName,
            "a value with x is a multiple of the max activation: give --features STORE.sqlite", 2);
    auto store = features::FeatureStore::open(storePath, features::FeatureStore::Mode::kReadOnly);
    if (!store.ok()) return fail(kName, store.status().toString());
    // Max activations of another SAE's features would scale these edits wrongly.
    if (auto run = store->runInfo();
        run.ok() && !run->saeHash.empty() && run->saeHash != features::saeContentHash(sae))
        return fail(kName, storePath + ": was built for another SAE (" + run->saePath +
                               "), not for " + cmd.saePath +
                               "; give the feature store of this SAE with --features");
    if (cmd.sweeping) edits.push_back(cmd.from);
    if (auto st = steer::resolveFromStore(edits, *store); !st.ok())
        return fail(kName, st.toString());
    if (cmd.sweeping) {
        cmd.from.maxActivation = edits.back().maxActivation;
        edits.pop_back();
    }
    storeUsed = storePath;
    return 0;
}

int writeJsonIfAsked(CliArgs& args, const nlohmann::json& document) {
    const auto path = args.option("json");
    if (!path) return 0;
    if (auto st = steer::writeSteerJson(document, *path); !st.ok())
        return fail(kName, st.toString());
    return 0;
}

// Streams both continuations as they are generated, each after its own header.
class ContinuationPrinter {
public:
    explicit ContinuationPrinter(const std::string& prompt) : m_prompt(prompt) {}

    bool onToken(steer::Stream stream, const std::string& text) {
        if (!m_started || stream != m_current) {
            std::printf("%s%s: %s", m_started ? "\n\n" : "",
                        stream == steer::Stream::kBaseline ? "baseline" : "steered",
                        m_prompt.c_str());
            m_started = true;
            m_current = stream;
        }
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
        return true;
    }
    void finish() const {
        if (m_started) std::printf("\n\n");
    }

private:
    const std::string& m_prompt;
    steer::Stream m_current = steer::Stream::kSteered;
    bool m_started = false;
};

double meanOfFeature(const std::vector<std::vector<float>>& activations, size_t feature) {
    double sum = 0;
    for (const auto& a : activations) sum += a[feature];
    return activations.empty() ? sum : sum / double(activations.size());
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

void printSteerReport(const steer::SteerReport& report) {
    for (size_t j = 0; j < report.features.size(); ++j)
        std::printf(
            "  feature %lld: mean activation on generated tokens %.3f (baseline) "
            "%.3f (steered)\n",
            (long long)report.features[j], meanOfFeature(report.baseline.activations, j),
            meanOfFeature(report.steered.activations, j));
    for (const auto& s : report.shifts) printShift(s);
    const auto& f = report.fluency;
    std::printf("  reference (%lld tokens): CE %.4f -> %.4f nats, delta loss %+.4f, KL %.4f\n",
                (long long)f.predicted, f.ceBaseline, f.ceSteered, f.deltaLoss, f.meanKl);
}

void printSweepReport(const steer::SweepReport& report, const std::string& prompt, bool relative) {
    std::printf("baseline: %s%s\n\n", prompt.c_str(), report.baseline.text.c_str());
    std::printf("%10s %10s %10s %10s %10s  text\n", "value", "applied", "p(top)", "KL", "dloss");
    for (const auto& p : report.points) {
        std::string oneLine = p.steered.text.substr(0, 80);
        for (char& c : oneLine)
            if (c == '\n') c = ' ';
        std::printf("%9.3g%s %10.3f %10.4f %10.4f %+10.4f  %s\n", p.edit.value,
                    relative ? "x" : " ", p.edit.absolute(), p.shift.sumSteered, p.fluency.meanKl,
                    p.fluency.deltaLoss, oneLine.c_str());
    }
}

int steerOnce(CliArgs& args, const LoadedModel& m, const SteerCommand& cmd,
              std::shared_ptr<const sae::Sae> sae, const steer::SteerSources& sources) {
    ContinuationPrinter printer(cmd.spec.prompt);
    auto onToken = [&](steer::Stream s, model::TokenId, const std::string& text) {
        return printer.onToken(s, text);
    };
    auto report = steer::runSteering(*m.model, *m.tokenizer, std::move(sae), cmd.spec, onToken);
    printer.finish();
    if (!report.ok()) return fail(kName, report.status().toString());
    printSteerReport(*report);
    return writeJsonIfAsked(args, steer::steerJson(sources, cmd.spec, *report));
}

int sweepOneFeature(CliArgs& args, const LoadedModel& m, const SteerCommand& cmd,
                    std::shared_ptr<const sae::Sae> sae, const steer::SteerSources& sources) {
    steer::SweepSpec sw;
    sw.feature = cmd.from.feature;
    sw.from = cmd.from.value;
    sw.to = cmd.to.value;
    sw.steps = cmd.steps;
    sw.relative = cmd.from.relative;
    sw.maxActivation = cmd.from.maxActivation;
    ProgressBar bar("steer sweep");
    auto report =
        steer::runSweep(*m.model, *m.tokenizer, std::move(sae), cmd.spec, sw, bar.progress());
    bar.finish();
    if (!report.ok()) return fail(kName, report.status().toString());
    printSweepReport(*report, cmd.spec.prompt, sw.relative);
    return writeJsonIfAsked(args, steer::sweepJson(sources, cmd.spec, sw, *report));
}

int runSteer(CliArgs& args) {
    SteerCommand cmd;
    if (int rc = parseCommand(args, cmd)) return rc;
    if (Status st = cachedForwardDevice(args, kName); !st.ok()) return fail(kName, st.toString());
    auto m = loadModelArgs(args, true);
    if (!m.ok()) return fail(kName, m.status().toString());
    std::shared_ptr<const sae::Sae> sae;
    if (int rc = loadSteeringSae(args, cmd, m->model->config(), sae)) return rc;
    steer::SteerSources sources{cmd.modelPath, cmd.saePath, "", cmd.referencePath};
    if (int rc = resolveRelativeValues(args, cmd, *sae, sources.featureStore)) return rc;
    return cmd.sweeping ? sweepOneFeature(args, *m, cmd, std::move(sae), sources)
                        : steerOnce(args, *m, cmd, std::move(sae), sources);
}

const RegisterCommand kRegister({"steer",
                                 "steer generation by clamping SAE features; baseline vs steered",
                                 kUsage,
                                 {"keep-special", "any-hook", "any-model"},
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
                                  "device",
                                  "sweep",
                                  "from",
                                  "to",
                                  "steps"},
                                 &runSteer});

}  // namespace
}  // namespace mono::cli
