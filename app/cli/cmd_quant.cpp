// monoscope-cli quant: calibrate, smooth, quantize to W8A8 and report the error.

#include <cstdio>
#include <filesystem>

#include "app/cli/command.h"
#include "app/cli/model_args.h"
#include "app/cli/output_guard.h"
#include "core/base/atomic_file.h"
#include "core/quant/calibration.h"
#include "core/quant/planted.h"
#include "core/quant/report.h"
#include "core/quant/rotation.h"
#include "core/workspace/workspace.h"

namespace mono::cli {
namespace {

int runQuant(CliArgs& args) {
    const char* kName = "quant";
    const auto corpus = args.options("corpus");
    const auto reportPath = args.option("report");
    if (corpus.empty()) return fail(kName, "missing --corpus FILE", 2);
    if (!reportPath) return fail(kName, "missing --report OUT.json", 2);
    if (args.option("alpha") && args.flag("auto-alpha"))
        return fail(kName, "--alpha and --auto-alpha exclude each other", 2);
    if (auto st = checkOutputFiles({*reportPath}, inputPaths(args, {"tokenizer", "corpus"}));
        !st.ok())
        return fail(kName, st.toString());
    auto m = loadModelArgs(args, true);
    if (!m.ok()) return fail(kName, m.status().toString());
    if (args.option("plant")) {
        // Outlier channels planted without changing the float function (planted.h).
        quant::PlantSpec plant;
        plant.factor = float(args.doubleOption("plant", 100.0, 1e-3, 1e6));
        if (args.hasError()) return fail(kName, args.error());
        model::ModelWeights w = m->model->weights();
        if (auto st = quant::plantOutlierChannels(w, m->model->config(), plant); !st.ok())
            return fail(kName, st.toString());
        auto planted = model::Model::fromWeights(m->model->config(), std::move(w));
        if (!planted.ok()) return fail(kName, planted.status().toString());
        m->model = *planted;
    }
    model::Model& fp = *m->model;
    const int samples = int(args.intOption("samples", 64, 1, 1'000'000));
    const int evalWindows = int(args.intOption("eval", 16, 1, 1'000'000));
    const int seqLen =
        int(args.intOption("seq-len", std::min(256, fp.config().maxSeqLen), 2, kMaxContext));
    quant::QuantReportSpec spec;
    if (args.option("alpha")) spec.alphas = {float(args.doubleOption("alpha", 0.5, 0, 1))};
    spec.autoAlpha = args.flag("auto-alpha");
    spec.scheme.quantizeAttnInputs = args.flag("attn-inputs");
    spec.w4 = !args.flag("no-w4");
    spec.granularity = args.flag("granularity");
    if (auto r = args.option("rotate")) {
        auto kind = quant::parseRotation(*r);
        if (!kind.ok()) return fail(kName, kind.status().message(), 2);
        spec.rotation = *kind;
        if (auto st = quant::checkRotatable(fp.config());
            !st.ok() && *kind != quant::RotationKind::kNone)
            return fail(kName, st.message());
    }
    if (args.option("rotate-seed"))
        spec.rotationSeed = uint64_t(args.intOption("rotate-seed", 0, 0, INT64_MAX));
    if (args.hasError()) return fail(kName, args.error());
    if (samples <= 0 || evalWindows <= 0 || seqLen < 2 || seqLen > fp.config().maxSeqLen)
        return fail(kName,
                    "--samples and --eval must be positive, --seq-len in [2, " +
                        std::to_string(fp.config().maxSeqLen) + "]",
                    2);
    if (auto s = args.option("scheme")) {
        auto a = quant::parseActScheme(*s);
        if (!a.ok()) return fail(kName, a.status().message(), 2);
        spec.scheme.act = *a;
    }
    if (auto w = args.option("weights")) {
        auto ws = quant::parseWeightScheme(*w);
        if (!ws.ok()) return fail(kName, ws.status().message(), 2);
        spec.scheme.weight = *ws;
    }
    std::optional<ws::Workspace> workspace;
    if (auto dir = args.option("workspace")) {
        auto w = ws::Workspace::open(*dir);
        if (!w.ok()) return fail(kName, w.status().toString());
        workspace = std::move(*w);
    }

    // Calibration windows first, the held-out evaluation windows after them.
    auto calibWindows = quant::tokenWindows(corpus, *m->tokenizer, samples, seqLen);
    if (!calibWindows.ok()) return fail(kName, calibWindows.status().toString());
    auto eval =
        quant::tokenWindows(corpus, *m->tokenizer, evalWindows, seqLen, int(calibWindows->size()));
    if (!eval.ok())
        return fail(kName, "no held-out windows after " + std::to_string(calibWindows->size()) +
                               " calibration windows: " + eval.status().toString());
    std::fprintf(stderr, "calibrating on %zu windows of %d tokens, evaluating on %zu\n",
                 calibWindows->size(), seqLen, eval->size());

    Progress progress([](const ProgressUpdate& u) {
        std::fprintf(stderr, "\r%5.1f%%  %-28s", 100.0 * u.fraction, u.message.c_str());
    });
    auto calib = quant::calibrate(fp, *calibWindows, {}, progress);
    std::fprintf(stderr, "\n");
    if (!calib.ok()) return fail(kName, calib.status().toString());
    if (workspace) {
        std::error_code ec;
        std::filesystem::create_directories(workspace->quantDir(), ec);
        const std::string path = workspace->calibrationPath();
        const Status st = quant::saveCalibration(*calib, path);
        if (!st.ok()) return fail(kName, st.toString());
        std::fprintf(stderr, "calibration saved to %s\n", path.c_str());
    }
    auto rep = quant::buildQuantReport(fp, *calib, *calibWindows, *eval, spec, progress);
    std::fprintf(stderr, "\n");
    if (!rep.ok()) return fail(kName, rep.status().toString());
    const Status st = writeFileAtomic(*reportPath, quant::quantReportJson(*rep));
    if (!st.ok()) return fail(kName, st.toString());

    std::printf("%-26s %10s %10s %10s %10s %8s %8s\n", "config", "ppl", "dPPL", "KL mean",
                "KL p99.9", "top1 %", "RMS dp%");
    for (const auto& c : rep->configs) {
        const auto& e = c.endToEnd;
        std::printf("%-26s %10.4f %10.4f %10.6f %10.6f %8.2f %8.3f\n", c.name.c_str(), e.perplexity,
                    e.deltaPpl, e.klMean, e.klP999, e.sameTop1Pct, e.rmsDpPct);
    }
    std::printf("alpha per group:");
    for (float a : rep->alpha) std::printf(" %.2f", a);
    std::printf("\nint8 kernel %s; report written to %s\n", rep->kernel.c_str(),
                reportPath->c_str());
    return 0;
}

const RegisterCommand kRegister(
    {"quant",
     "SmoothQuant W8A8: calibrate, smooth, quantize and report the error",
     "usage: monoscope-cli quant MODEL --corpus FILE --report OUT.json [--samples N]\n"
     "         [--eval N] [--seq-len T] [--alpha A | --auto-alpha] [--scheme O1|O2|O3]\n"
     "         [--weights per-channel|per-tensor|per-group-128] [--attn-inputs]\n"
     "         [--rotate hadamard|random-hadamard] [--rotate-seed N] [--no-w4] [--granularity]\n"
     "         [--plant FACTOR] [--workspace DIR] [--tokenizer FILE]\n"
     "  calibrates on N windows of T tokens (default 64 × 256), smooths with α (default\n"
     "  per family: GPT-2 0.5, Llama 0.85; --auto-alpha searches per layer), and compares\n"
     "  float, naive W8A8 (per-tensor weights, O2), W8A8 at the scheme (default O1,\n"
     "  per-channel) and SmoothQuant W8A8 on the next --eval windows (default 16),\n"
     "  with W4A8 and W4A4 (per-group 128) columns unless --no-w4. --rotate adds the\n"
     "  columns of a Hadamard-rotated copy (alone and with SmoothQuant); --granularity\n"
     "  adds the weight x activation granularity table; --plant F first plants outlier\n"
     "  channels (x F) that leave the float function unchanged.\n"
     "  The report's JSON is described in docs/QUANT_REPORT.md. With --workspace the\n"
     "  calibration is saved to its quant/calibration.json.",
     {"auto-alpha", "attn-inputs", "no-w4", "granularity"},
     {"corpus", "report", "samples", "eval", "seq-len", "alpha", "scheme", "weights", "workspace",
      "tokenizer", "rotate", "rotate-seed", "plant"},
     &runQuant});

}  // namespace
}  // namespace mono::cli
