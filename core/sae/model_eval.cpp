#include "core/sae/model_eval.h"

#include <cmath>

#include "core/acts/window_stream.h"
#include "core/model/generate.h"
#include "core/sae/quality_metrics.h"

namespace mono::sae {
namespace {

// Σ −log p(next token) over every position of every window but the last.
double sumNll(const model::Logits& logits, const model::Batch& batch, std::vector<float>& row) {
    double total = 0;
    for (int s = 0; s < batch.numSeqs(); ++s) {
        for (int64_t t = batch.offsets[s]; t + 1 < batch.offsets[s + 1]; ++t) {
            row.assign(logits.row(t), logits.row(t) + logits.vocab);
            model::logSoftmax(row.data(), static_cast<int>(logits.vocab));
            total -= row[batch.tokens[t + 1]];
        }
    }
    return total;
}

// Σ KL(clean ‖ spliced) over every row but each window's first (BOS, untouched).
double sumKl(const model::Logits& clean, const model::Logits& spliced, const model::Batch& batch) {
    double total = 0;
    for (int s = 0; s < batch.numSeqs(); ++s) {
        const int64_t first = batch.offsets[s] + 1, rows = batch.offsets[s + 1] - first;
        if (rows > 0)
            total += sumKlDivergence(clean.row(first), spliced.row(first), rows, clean.vocab);
    }
    return total;
}

enum class Splice { kNone, kReconstruction, kZero };

}  // namespace

Result<ModelEvalReport> evaluateInModel(model::Model& model, const tok::Tokenizer& tokenizer,
                                        const Sae& sae, const ModelEvalSpec& spec,
                                        const Progress& progress, StopToken stop) {
    const model::ModelConfig& cfg = model.config();
    MONO_ASSIGN_OR_RETURN(model::HookId id, model::parseHookName(cfg, spec.hook));
    const int width = model::hookWidth(cfg, id);
    if (sae.dIn() != width)
        return Status::invalidArgument("the SAE reads " + std::to_string(sae.dIn()) +
                                       "-wide activations but " + spec.hook + " is " +
                                       std::to_string(width) + " wide");
    if (spec.contextSize < 2 || spec.contextSize > cfg.maxSeqLen)
        return Status::invalidArgument("context size " + std::to_string(spec.contextSize) +
                                       " must be between 2 and " + std::to_string(cfg.maxSeqLen));
    const int32_t bos = tokenizer.bos() >= 0 ? tokenizer.bos() : cfg.bosId;
    if (bos < 0) return Status::unsupported("the tokenizer has no BOS token to start windows with");

    MONO_ASSIGN_OR_RETURN(io::CorpusReader reader, io::CorpusReader::open(spec.corpus));
    acts::WindowStream stream(std::move(reader), tokenizer, spec.contextSize, bos);

    const int rowsPerWindow = spec.contextSize - 1;
    const int64_t targetWindows =
        std::max<int64_t>(1, (spec.tokens + rowsPerWindow - 1) / rowsPerWindow);
    Matrix collected(targetWindows * rowsPerWindow, width);  // x of every non-BOS row
    int64_t collectedRows = 0;

    Splice splice = Splice::kNone;
    Status hookStatus;
    model::Hooks hooks;
    hooks.add(spec.hook, [&](const model::HookContext& ctx, model::ActivationBlock block) {
        for (const model::SeqRows& s : *ctx.seqs) {
            float* first = block.row(s.row0 + 1);
            const int64_t rows = s.rows - 1;
            if (splice == Splice::kNone) {
                for (int64_t r = 0; r < rows; ++r)
                    collected.row(collectedRows + r) =
                        Eigen::Map<const Vector>(first + r * width, width);
                collectedRows += rows;
            } else if (splice == Splice::kZero) {
                std::fill(first, first + rows * width, 0.0f);
            } else if (auto st = sae.reconstructInPlace(first, rows, width); !st.ok()) {
                hookStatus = st;
            }
        }
    });
    model::ForwardOptions options;
    options.hooks = &hooks;
    options.logits = model::LogitsWanted::kAll;

    double nll[3] = {0, 0, 0};
    double kl[3] = {0, 0, 0};
    int64_t predicted = 0, klRows = 0;
    int64_t windows = 0;
    model::Batch batch;
    model::Logits logits, clean;
    std::vector<float> row;
    acts::Window window;
    while (windows < targetWindows) {
        batch.clear();
        while (batch.numSeqs() < spec.batchWindows && windows + batch.numSeqs() < targetWindows) {
            MONO_ASSIGN_OR_RETURN(bool more, stream.next(window));
            if (!more) break;
            batch.add(window.tokens.data(), static_cast<int64_t>(window.tokens.size()));
        }
        if (batch.numSeqs() == 0) break;
        for (Splice mode : {Splice::kNone, Splice::kReconstruction, Splice::kZero}) {
            splice = mode;
            MONO_RETURN_IF_ERROR(model.forward(batch, options, &logits));
            MONO_RETURN_IF_ERROR(hookStatus);
            nll[static_cast<int>(mode)] += sumNll(logits, batch, row);
            if (mode == Splice::kNone)
                std::swap(clean, logits);
            else
                kl[static_cast<int>(mode)] += sumKl(clean, logits, batch);
        }
        predicted += batch.numTokens() - batch.numSeqs();
        klRows += batch.numTokens() - batch.numSeqs();
        windows += batch.numSeqs();
        progress.report(static_cast<double>(windows) / targetWindows,
                        "evaluating " + std::to_string(windows * rowsPerWindow) + " tokens");
        if (stop.stopRequested()) return Status::cancelled("evaluation stopped");
    }
    if (windows == 0)
        return Status::invalidArgument("the corpus is shorter than one window of " +
                                       std::to_string(spec.contextSize) + " tokens");

    ModelEvalReport report;
    MONO_ASSIGN_OR_RETURN(report.metrics, evaluate(sae, collected.topRows(collectedRows)));
    report.predictedTokens = predicted;
    if (spec.keepActivations) report.activations = collected.topRows(collectedRows);
    report.ceClean = nll[0] / predicted;
    report.ceSae = nll[1] / predicted;
    report.ceZeroAblation = nll[2] / predicted;
    report.deltaLoss = report.ceSae - report.ceClean;
    const double span = report.ceZeroAblation - report.ceClean;
    report.ceLossRecovered =
        std::abs(span) > 1e-12 ? (report.ceZeroAblation - report.ceSae) / span : 0.0;
    report.klSae = kl[1] / static_cast<double>(klRows);
    report.klZeroAblation = kl[2] / static_cast<double>(klRows);
    report.klFidelity = klFidelity(report.klSae, report.klZeroAblation);
    return report;
}

}  // namespace mono::sae
