#include "core/acts/capture.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "core/acts/activation_store.h"
#include "core/io/corpus.h"
#include "core/acts/window_stream.h"

namespace mono::acts {
namespace {

using Clock = std::chrono::steady_clock;

Status checkResumable(const StoreIndex& index, const std::string& dir, const std::string& hook,
                      int64_t dim, const CaptureSpec& spec) {
    if (index.hook != hook || index.dim != dim || index.contextSize != spec.contextSize ||
        index.dtype != spec.dtype)
        return Status::invalidArgument(
            dir + ": holds a capture of " + index.hook + " (d=" + std::to_string(index.dim) +
            ", context " + std::to_string(index.contextSize) + ", " + io::dtypeName(index.dtype) +
            ") which does not match the requested " + hook + " (d=" + std::to_string(dim) +
            ", context " + std::to_string(spec.contextSize) + ", " + io::dtypeName(spec.dtype) +
            "); choose another output folder or start over");
    return Status::success();
}

}  // namespace

Result<CaptureSummary> capture(model::Model& model, const tok::Tokenizer& tokenizer,
                               const CaptureSpec& spec, const Progress& progress, StopToken stop) {
    const model::ModelConfig& cfg = model.config();
    if (spec.hooks.empty()) return Status::invalidArgument("capture: no hook points given");
    if (spec.hooks.size() != spec.outDirs.size())
        return Status::invalidArgument("capture: one output folder per hook is needed");
    if (spec.contextSize < 2 || spec.contextSize > cfg.maxSeqLen)
        return Status::invalidArgument("capture: context size " + std::to_string(spec.contextSize) +
                                       " must be between 2 and the model's " +
                                       std::to_string(cfg.maxSeqLen));
    if (spec.tokens <= 0) return Status::invalidArgument("capture: --tokens must be positive");
    const int32_t bos = tokenizer.bos() >= 0 ? tokenizer.bos() : cfg.bosId;
    if (bos < 0)
        return Status::unsupported("capture: the tokenizer has no BOS token to start windows with");

    // Resume only when every hook's store exists, matches and holds the same
    // number of windows (a crash between two commits can leave them apart);
    // otherwise every store starts over.
    const size_t nHooks = spec.hooks.size();
    std::vector<int64_t> widths(nHooks);
    std::vector<std::unique_ptr<ActivationStoreWriter>> writers(nHooks);
    bool resumable = spec.resume;
    int64_t startWindows = -1;
    for (size_t h = 0; h < nHooks; ++h) {
        MONO_ASSIGN_OR_RETURN(model::HookId id, model::parseHookName(cfg, spec.hooks[h]));
        widths[h] = model::hookWidth(cfg, id);
        auto existing = readStoreIndex(spec.outDirs[h]);
        if (!existing.ok()) {
            if (existing.status().code() != StatusCode::kNotFound) return existing.status();
            resumable = false;
            continue;
        }
        if (spec.resume)
            MONO_RETURN_IF_ERROR(
                checkResumable(*existing, spec.outDirs[h], spec.hooks[h], widths[h], spec));
        if (startWindows >= 0 && existing->windows != startWindows) resumable = false;
        startWindows = existing->windows;
    }
    if (!resumable) startWindows = 0;
    for (size_t h = 0; h < nHooks; ++h) {
        if (resumable) {
            MONO_ASSIGN_OR_RETURN(ActivationStoreWriter w,
                                  ActivationStoreWriter::resume(spec.outDirs[h]));
            writers[h] = std::make_unique<ActivationStoreWriter>(std::move(w));
        } else {
            StoreIndex header;
            header.hook = spec.hooks[h];
            header.dim = widths[h];
            header.dtype = spec.dtype;
            header.contextSize = spec.contextSize;
            header.model = spec.modelName;
            MONO_ASSIGN_OR_RETURN(ActivationStoreWriter w,
                                  ActivationStoreWriter::create(spec.outDirs[h], header));
            writers[h] = std::make_unique<ActivationStoreWriter>(std::move(w));
        }
    }

    const int rowsPerWindow = spec.contextSize - 1;
    const int64_t targetWindows = (spec.tokens + rowsPerWindow - 1) / rowsPerWindow;
    const int64_t windowsPerShard = std::max<int64_t>(1, spec.shardRows / rowsPerWindow);

    CaptureSummary summary;
    summary.resumedWindows = startWindows;
    if (!writers[0]->index().complete || startWindows < targetWindows) {
        MONO_ASSIGN_OR_RETURN(io::CorpusReader reader, io::CorpusReader::open(spec.corpus));
        WindowStream stream(std::move(reader), tokenizer, spec.contextSize, bos);
        Window window;
        for (int64_t w = 0; w < startWindows; ++w) {  // skip what is already stored
            MONO_ASSIGN_OR_RETURN(bool ok, stream.next(window));
            if (!ok)
                return Status::invalidArgument(
                    "capture: the corpus is shorter than the stored capture; it changed since");
        }

        // Hooks copy rows 1.. of every window (BOS rows are not stored).
        std::vector<Window> batchWindows;
        std::vector<int32_t> positions(rowsPerWindow);
        for (int i = 0; i < rowsPerWindow; ++i) positions[i] = i + 1;
        model::Hooks hooks;
        for (size_t h = 0; h < nHooks; ++h) {
            ActivationStoreWriter* writer = writers[h].get();
            hooks.add(
                spec.hooks[h], [writer, &batchWindows, &positions](const model::HookContext& ctx,
                                                                   model::ActivationBlock block) {
                    for (const model::SeqRows& s : *ctx.seqs) {
                        const Window& win = batchWindows[s.seq];
                        writer->append(block.row(s.row0 + 1), s.rows - 1, win.tokens.data() + 1,
                                       win.docs.data() + 1, positions.data());
                    }
                });
        }
        model::ForwardOptions options;
        options.logits = model::LogitsWanted::kNone;
        options.hooks = &hooks;

        int64_t windows = startWindows;
        int64_t sinceCommit = 0;
        const auto start = Clock::now();
        model::Batch batch;
        bool exhausted = false;
        while (windows < targetWindows && !exhausted) {
            batchWindows.clear();
            batch.clear();
            const int64_t want = std::min<int64_t>(spec.batchWindows, targetWindows - windows);
            while (static_cast<int64_t>(batchWindows.size()) < want) {
                MONO_ASSIGN_OR_RETURN(bool ok, stream.next(window));
                if (!ok) {
                    exhausted = true;
                    break;
                }
                batch.add(window.tokens.data(), static_cast<int64_t>(window.tokens.size()));
                batchWindows.push_back(window);
            }
            if (batchWindows.empty()) break;
            MONO_RETURN_IF_ERROR(model.forward(batch, options, nullptr));
            windows += static_cast<int64_t>(batchWindows.size());
            sinceCommit += static_cast<int64_t>(batchWindows.size());
            const bool done = windows >= targetWindows || exhausted;
            const bool stopping = stop.stopRequested();
            if (sinceCommit >= windowsPerShard || done || stopping) {
                for (auto& w : writers) MONO_RETURN_IF_ERROR(w->commit(windows, done));
                sinceCommit = 0;
            }
            const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
            const double tokensPerSecond =
                (windows - startWindows) * spec.contextSize / std::max(seconds, 1e-9);
            ProgressUpdate update;
            update.fraction = static_cast<double>(windows) / targetWindows;
            update.message = "capturing " + std::to_string(windows * rowsPerWindow) + " / " +
                             std::to_string(targetWindows * rowsPerWindow) + " tokens";
            update.metrics = {{"tokens_per_s", tokensPerSecond}, {"windows", double(windows)}};
            progress.report(update);
            if (stopping && !done)
                return Status::cancelled("capture stopped after " + std::to_string(windows) +
                                         " windows");
        }
        if (exhausted && !writers[0]->index().complete)
            for (auto& w : writers) MONO_RETURN_IF_ERROR(w->commit(windows, true));
        summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        summary.tokensPerSecond =
            (windows - startWindows) * spec.contextSize / std::max(summary.seconds, 1e-9);
        summary.corpusExhausted = exhausted;
    }
    summary.windows = writers[0]->index().windows;
    summary.rows = writers[0]->index().rows();
    return summary;
}

}  // namespace mono::acts
