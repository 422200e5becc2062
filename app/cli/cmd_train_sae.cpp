// monoscope-cli train-sae: trains an SAE on captured activations and saves it
// as a SAELens folder.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "app/cli/command.h"
#include "app/cli/device_args.h"
#include "app/cli/output_guard.h"
#include "app/cli/progress_bar.h"
#include "core/acts/activation_store.h"
#include "core/acts/shuffled_provider.h"
#include "core/base/memory_budget.h"
#include "core/kernels/bf16_gemm.h"
#include "core/sae/default_lr.h"
#include "core/sae/metrics.h"
#include "core/sae/trainer.h"
#include "core/workspace/job_locks.h"
#include "core/workspace/workspace.h"

namespace mono::cli {
namespace {

const char* kUsage =
    "usage: monoscope-cli train-sae (WORKSPACE --hook NAME | --activations FILE.npy|STORE)\n"
    "                               --features F [--out DIR]\n"
    "                               [--arch relu|topk|batchtopk|matryoshka|jumprelu] [--k K]\n"
    "                               [--l1 L] [--l0 L0] [--sparsity-loss tanh|step]\n"
    "                               [--prefixes W1,W2,...] [--tokens N]\n"
    "                               [--batch B] [--lr LR] [--seed S] [--hook NAME]\n"
    "                               [--resume | --force]\n"
    "                               [--precision f32|bf16] [--device cpu|cuda[:N]]\n"
    "\n"
    "With WORKSPACE, trains on its store for --hook and saves to WORKSPACE/saes/<arch>-<F>\n"
    "unless --out is given. Otherwise trains on a 2-D .npy activation matrix [tokens, d_in] (the "
    "last 5%, at most 16384\n"
    "rows, are held out for the final metrics) or on an activation store folder, and\n"
    "writes DIR/cfg.json + sae_weights.safetensors + sparsity.safetensors (SAELens\n"
    "layout) and DIR/checkpoint.safetensors. --resume continues an interrupted run;\n"
    "a DIR that already holds a trained SAE is replaced only with --force.\n"
    "--precision bf16 runs the GEMMs on bf16 operands with float32 sums (weights,\n"
    "gradients and Adam stay float32; needs AVX-512 BF16): about twice as fast.\n"
    "--device cuda[:N] trains relu and topk SAEs on that GPU in float32 (cuBLAS, TF32 off);\n"
    "the other architectures and bf16 train on the CPU (the default, --device cpu).\n"
    "--l0 is jumprelu's sparsity coefficient λ: of λ·Σ tanh(2·f·|W_dec|) (default), or with\n"
    "--sparsity-loss step of the paper's L0. --arch matryoshka is Matryoshka BatchTopK: the\n"
    "nested prefixes --prefixes (default F/16,F/8,F/4,F/2,F, leaving out those below k; F is\n"
    "added when missing) each reconstruct on their own; saved like batchtopk (SAELens jumprelu).\n"
    "Defaults: --arch relu --k 32 --l1 5 --l0 1 --tokens 2000000 --batch 4096 --seed 42; --lr\n"
    "2e-4 * sqrt(16384 / F) * sqrt(768 / d_in) (inputs are scaled to mean norm sqrt(d_in)).";

// Training without --resume starts over and replaces what `out` holds: refused
// for a finished SAE unless the user says --force, because a feature store's
// labels were written for that SAE's features.
Status checkReplacingSae(const std::string& out, bool resume, bool force) {
    std::error_code ec;
    if (resume || force || !std::filesystem::exists(out + "/sae_weights.safetensors", ec))
        return Status::success();
    std::string labelled;
    const std::string store = ws::featureStoreBesideSae(out);
    if (!store.empty() && std::filesystem::exists(store, ec))
        labelled = " (and the feature store " + store + " describes its features)";
    return Status::invalidArgument(out + ": already holds a trained SAE" + labelled +
                                   "; pass --force to replace it, or --resume to continue "
                                   "an interrupted run, or choose another --out");
}

// W_enc, W_dec, their gradients and two Adam moments (6 [d_in, F] matrices),
// plus about three [batch, F] activations: what one training step holds.
double trainingBytes(const sae::TrainSpec& spec, int64_t dIn) {
    const double f = double(spec.dSae);
    return 4.0 * (6.0 * double(dIn) * f + 3.0 * double(spec.batchSize) * f);
}

std::string trainingFootprint(const sae::TrainSpec& spec, int64_t dIn) {
    return "an SAE of --features " + std::to_string(spec.dSae) + " on d_in " + std::to_string(dIn) +
           " in batches of --batch " + std::to_string(spec.batchSize);
}

// "--prefixes 64,128,512": the Matryoshka widths, or an error naming the bad item.
Result<std::vector<int64_t>> parsePrefixes(const std::string& text) {
    std::vector<int64_t> widths;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t comma = std::min(text.find(',', start), text.size());
        const std::string item = text.substr(start, comma - start);
        char* end = nullptr;
        const long long v = std::strtoll(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || v < 1)
            return Status::invalidArgument("--prefixes: '" + item +
                                           "' is not a positive integer (expected e.g. "
                                           "--prefixes 64,256,1024)");
        widths.push_back(v);
        start = comma + 1;
    }
    return widths;
}

// --arch and what depends on it (--features, --k, --prefixes) into spec;
// "matryoshka" is batchtopk with Matryoshka prefixes.
Status architectureOptions(CliArgs& args, const std::string& arch, sae::TrainSpec& spec) {
    const bool matryoshka = arch == "matryoshka";
    if (matryoshka)
        spec.architecture = sae::Architecture::kBatchTopK;
    else if (!sae::parseArchitecture(arch, &spec.architecture))
        return Status::invalidArgument(
            "--arch must be relu, topk, batchtopk, matryoshka or jumprelu, got '" + arch + "'");
    spec.dSae = args.intOption("features", 0, 1, INT32_MAX);
    spec.k = args.intOption("k", 32, 1, INT32_MAX);
    if (auto prefixes = args.option("prefixes")) {
        if (!matryoshka) return Status::invalidArgument("--prefixes needs --arch matryoshka");
        MONO_ASSIGN_OR_RETURN(spec.matryoshkaWidths, parsePrefixes(*prefixes));
    } else if (matryoshka) {
        spec.matryoshkaWidths = sae::defaultMatryoshkaWidths(spec.dSae, spec.k);
    }
    if (auto form = args.option("sparsity-loss")) {
        if (spec.architecture != sae::Architecture::kJumpReLU)
            return Status::invalidArgument("--sparsity-loss needs --arch jumprelu");
        if (!sae::parseJumpReluSparsity(*form, &spec.jumpReluSparsity))
            return Status::invalidArgument("--sparsity-loss must be tanh or step, got '" + *form +
                                           "'");
    }
    return Status::success();
}

int runTrainSae(CliArgs& args) {
    const std::string name = "train-sae";
    auto activations = args.option("activations");
    auto out = args.option("out");
    if (args.positionals().size() == 1) {  // WORKSPACE --hook NAME
        const auto hook = args.option("hook");
        if (!hook || activations)
            return fail(
                name,
                std::string("WORKSPACE needs --hook NAME (and no --activations)\n\n") + kUsage, 2);
        auto workspace = ws::Workspace::open(args.positionals()[0]);
        if (!workspace.ok()) return fail(name, workspace.status().toString());
        activations = workspace->activationsDir(*hook);
        if (!out)
            out = workspace->saeDir(args.option("arch").value_or("relu") + "-" +
                                    args.option("features").value_or("0"));
    } else if (!args.positionals().empty()) {
        return fail(name, std::string("expected at most one WORKSPACE\n\n") + kUsage, 2);
    }
    if (!activations || !out || !args.option("features"))
        return fail(
            name,
            std::string(
                "give WORKSPACE --hook NAME or --activations, and --features and --out\n\n") +
                kUsage,
            2);
    sae::TrainSpec spec;
    const std::string arch = args.option("arch").value_or("relu");
    if (auto st = architectureOptions(args, arch, spec); !st.ok())
        return fail(name, st.message(), 2);
    spec.l1 = args.doubleOption("l1", 5.0, 0, 1e6);
    spec.l0 = args.doubleOption("l0", spec.l0, 0, 1e6);
    spec.totalTokens = args.intOption("tokens", 2'000'000, 1, kMaxTokens);
    spec.batchSize = args.intOption("batch", 4096, 1, 1 << 20);
    // Not given: 0, the automatic rate (core/sae/default_lr.h).
    spec.lr = args.doubleOption("lr", 0.0, 1e-12, 10);
    spec.seed = args.seedOption("seed", 42);
    spec.resume = args.flag("resume");
    const std::string precision = args.option("precision").value_or("f32");
    if (precision != "f32" && precision != "bf16")
        return fail(name, "--precision must be f32 or bf16, got '" + precision + "'", 2);
    spec.bf16 = precision == "bf16";
    if (spec.bf16 && !kernels::bf16Supported())
        return fail(name,
                    "--precision bf16 needs a CPU with AVX-512 BF16 (avx512_bf16); this one has "
                    "none, use --precision f32");
    const auto device = deviceOption(args);
    if (!device.ok()) return fail(name, device.status().toString());
    spec.stepEngine = stepEngineFor(*device);
    spec.outDir = *out;
    spec.metadata.hookName = args.option("hook").value_or("");
    spec.metadata.datasetPath = std::filesystem::absolute(*activations).string();
    if (args.hasError()) return fail(name, args.error());
    if (auto st = checkOutputFolder(*out, {*activations}); !st.ok())
        return fail(name, st.toString());
    if (auto st = checkReplacingSae(*out, spec.resume, args.flag("force")); !st.ok())
        return fail(name, st.toString());

    std::unique_ptr<acts::BatchProvider> data;
    Matrix heldOut;  // [rows, d_in]
    std::error_code ec;
    if (std::filesystem::is_directory(*activations, ec)) {
        auto store = acts::ShuffledStoreProvider::open(*activations, spec.seed);
        if (!store.ok()) return fail(name, store.status().toString());
        data = std::move(store).value();
        // A store is read as a stream; sample a differently-seeded batch for the metrics.
        auto sample = acts::ShuffledStoreProvider::open(*activations, spec.seed + 1);
        if (sample.ok()) {
            heldOut.resize(std::min<int64_t>(spec.batchSize, 8192), (*sample)->dim());
            if (!(*sample)->next(heldOut).ok()) heldOut.resize(0, 0);
        }
    } else {
        auto matrix = acts::readActivationsNpy(*activations);
        if (!matrix.ok()) return fail(name, matrix.status().toString());
        const int64_t rows = matrix->rows();
        const int64_t hold = rows >= 200 ? std::min<int64_t>(rows / 20, 16384) : 0;
        heldOut = matrix->bottomRows(hold);
        Matrix train = matrix->topRows(rows - hold);
        data = std::make_unique<acts::MatrixBatchProvider>(std::move(train), spec.seed);
    }

    if (auto st =
            checkMemoryNeed(trainingFootprint(spec, data->dim()), trainingBytes(spec, data->dim()));
        !st.ok())
        return fail(name, st.toString());
    auto lock = ws::lockForSaeJob(ws::workspaceOfActivations(*activations), *out, name);
    if (!lock.ok()) return fail(name, lock.status().toString());
    if (auto index = acts::readStoreIndex(*activations); index.ok())
        spec.metadata.modelName = index->model;
    std::printf("training a %s SAE: d_in %lld, %lld features, %lld tokens in batches of %lld\n",
                arch.c_str(), (long long)data->dim(), (long long)spec.dSae,
                (long long)spec.totalTokens, (long long)spec.batchSize);
    const sae::LearningRateChoice lr = sae::chooseLearningRate(spec.lr, spec.dSae, data->dim());
    std::printf("lr %.3g (%s), on %s\n", lr.lr, lr.reason.c_str(), device->name().c_str());
    ProgressBar bar("train-sae");
    Progress progress = bar.progress();
    auto result = sae::trainSae(spec, *data, progress, StopToken());
    bar.finish();
    if (!result.ok()) return fail(name, result.status().toString());
    std::printf("trained %lld steps (%lld tokens), input scale %.4g; saved to %s\n",
                (long long)result->steps, (long long)result->tokens, result->scale, out->c_str());
    if (heldOut.rows() > 0) {
        auto m = sae::evaluate(result->sae, heldOut);
        if (!m.ok()) return fail(name, m.status().toString());
        std::printf("held-out metrics over %lld tokens:\n", (long long)m->tokens);
        std::printf("  L0                  %10.2f\n", m->l0);
        std::printf("  MSE                 %10.4g\n", m->mse);
        std::printf("  explained variance  %10.4f\n", m->explainedVariance);
        std::printf("  cosine(x, x_hat)    %10.4f\n", m->cosine);
        std::printf("  l2 ratio            %10.4f\n", m->l2Ratio);
        std::printf("  dead %%              %10.2f\n", m->deadPct);
        std::printf("  dense %%             %10.2f\n", m->densePct);
    }
    std::printf("dead latents over the last window: %.2f%%\n", result->deadPct);
    return 0;
}

const RegisterCommand kRegister({"train-sae",
                                 "train a ReLU/TopK/BatchTopK/Matryoshka/JumpReLU SAE on captured "
                                 "activations",
                                 kUsage,
                                 {"resume", "force"},
                                 {"activations", "arch", "features", "k", "l1", "l0",
                                  "sparsity-loss", "prefixes", "tokens", "batch", "lr", "seed",
                                  "hook", "out", "precision", "device"},
                                 &runTrainSae});

}  // namespace
}  // namespace mono::cli
