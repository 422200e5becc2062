#include "core/acts/capture.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "core/acts/activation_store.h"
#include "core/acts/window_stream.h"
#include "core/base/memory_budget.h"
#include "core/io/corpus.h"
#include "core/model/forward_memory.h"

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

using Writers = std::vector<std::unique_ptr<ActivationStoreWriter>>;

// The checks that need no file. Returns the token that opens every window.
Result<int32_t> checkSpec(const model::ModelConfig& cfg, const tok::Tokenizer& tokenizer,
                          const CaptureSpec& spec) {
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
    return bos;
}

struct ResumePlan {
    std::vector<int64_t> widths;  // per hook
    bool resume = false;
    int64_t startWindows = 0;  // windows already stored, when resuming
};

// Resume only when every hook's store exists, matches and holds the same
// number of windows (a crash between two commits can leave them apart);
// otherwise every store starts over.
Result<ResumePlan> planResume(const model::ModelConfig& cfg, const CaptureSpec& spec) {
    ResumePlan plan;
    plan.resume = spec.resume;
    int64_t startWindows = -1;
    for (size_t h = 0; h < spec.hooks.size(); ++h) {
        MONO_ASSIGN_OR_RETURN(model::HookId id, model::parseHookName(cfg, spec.hooks[h]));
        plan.widths.push_back(model::hookWidth(cfg, id));
        auto existing = readStoreIndex(spec.outDirs[h]);
        if (!existing.ok()) {
            if (existing.status().code() != StatusCode::kNotFound) return existing.status();
            plan.resume = false;
            continue;
        }
        if (spec.resume)
            MONO_RETURN_IF_ERROR(
                checkResumable(*existing, spec.outDirs[h], spec.hooks[h], plan.widths[h], spec));
        if (startWindows >= 0 && existing->windows != startWindows) plan.resume = false;
        startWindows = existing->windows;
    }
    plan.startWindows = plan.resume ? startWindows : 0;
    return plan;
}

Result<Writers> openWriters(const CaptureSpec& spec, const ResumePlan& plan) {
    Writers writers;
    for (size_t h = 0; h < spec.hooks.size(); ++h) {
        if (plan.resume) {
            MONO_ASSIGN_OR_RETURN(ActivationStoreWriter w,
                                  ActivationStoreWriter::resume(spec.outDirs[h]));
            writers.push_back(std::make_unique<ActivationStoreWriter>(std::move(w)));
        } else {
            StoreIndex header;
            header.hook = spec.hooks[h];
            header.dim = plan.widths[h];
            header.dtype = spec.dtype;
            header.contextSize = spec.contextSize;
            header.model = spec.modelName;
            MONO_ASSIGN_OR_RETURN(ActivationStoreWriter w,
                                  ActivationStoreWriter::create(spec.outDirs[h], header));
            writers.push_back(std::make_unique<ActivationStoreWriter>(std::move(w)));
        }
    }
    return writers;
}

// One pass over the rest of the corpus: batches of windows through the model,
// the hooks appending their rows, the stores committed every shard and at the end.
class CapturePass {
public:
    CapturePass(const CaptureSpec& spec, Writers& writers, int64_t startWindows)
        : m_spec(spec),
          m_writers(writers),
          m_rowsPerWindow(spec.contextSize - 1),
          m_targetWindows((spec.tokens + m_rowsPerWindow - 1) / m_rowsPerWindow),
          m_windowsPerShard(std::max<int64_t>(1, spec.shardRows / m_rowsPerWindow)),
          m_startWindows(startWindows),
          m_windows(startWindows),
          m_positions(m_rowsPerWindow) {
        for (int i = 0; i < m_rowsPerWindow; ++i) m_positions[i] = i + 1;
    }

    bool needed() const {
        return !m_writers[0]->index().complete || m_startWindows < m_targetWindows;
    }

    Status run(model::Model& model, WindowStream& stream, const Progress& progress, StopToken stop,
               CaptureSummary* summary) {
        MONO_RETURN_IF_ERROR(skipStoredWindows(stream));
        const model::Hooks hooks = storeHooks();
        model::ForwardOptions options;
        options.logits = model::LogitsWanted::kNone;
        options.hooks = &hooks;
        const auto start = Clock::now();
        bool exhausted = false;
        while (m_windows < m_targetWindows && !exhausted) {
            MONO_ASSIGN_OR_RETURN(exhausted, nextBatch(stream));
            if (m_batchWindows.empty()) break;
            MONO_RETURN_IF_ERROR(model.forward(m_batch, options, nullptr));
            m_windows += static_cast<int64_t>(m_batchWindows.size());
            m_sinceCommit += static_cast<int64_t>(m_batchWindows.size());
            const bool done = m_windows >= m_targetWindows || exhausted;
            const bool stopping = stop.stopRequested();
            if (m_sinceCommit >= m_windowsPerShard || done || stopping) {
                MONO_RETURN_IF_ERROR(commit(done));
                m_sinceCommit = 0;
            }
            report(progress, start);
            if (stopping && !done)
                return Status::cancelled("capture stopped after " + std::to_string(m_windows) +
                                         " windows");
        }
        if (exhausted && !m_writers[0]->index().complete) MONO_RETURN_IF_ERROR(commit(true));
        summary->seconds = secondsSince(start);
        summary->tokensPerSecond = tokensPerSecond(summary->seconds);
        summary->corpusExhausted = exhausted;
        return Status::success();
    }

private:
    Status skipStoredWindows(WindowStream& stream) {
        for (int64_t w = 0; w < m_startWindows; ++w) {
            MONO_ASSIGN_OR_RETURN(bool ok, stream.next(m_window));
            if (!ok)
                return Status::invalidArgument(
                    "capture: the corpus is shorter than the stored capture; it changed since");
        }
        return Status::success();
    }

    // Hooks copy rows 1.. of every window (BOS rows are not stored).
    model::Hooks storeHooks() {
        model::Hooks hooks;
        for (size_t h = 0; h < m_writers.size(); ++h) {
            ActivationStoreWriter* writer = m_writers[h].get();
            hooks.add(m_spec.hooks[h], [this, writer](const model::HookContext& ctx,
                                                      model::ActivationBlock block) {
                for (const model::SeqRows& s : *ctx.seqs) {
                    const Window& win = m_batchWindows[s.seq];
                    writer->append(block.row(s.row0 + 1), s.rows - 1, win.tokens.data() + 1,
                                   win.docs.data() + 1, m_positions.data());
                }
            });
        }
        return hooks;
    }

    // Fills the batch with up to a forward pass's worth of windows. Returns
    // whether the corpus ran out first.
    Result<bool> nextBatch(WindowStream& stream) {
        m_batchWindows.clear();
        m_batch.clear();
        const int64_t want = std::min<int64_t>(m_spec.batchWindows, m_targetWindows - m_windows);
        while (static_cast<int64_t>(m_batchWindows.size()) < want) {
            MONO_ASSIGN_OR_RETURN(bool ok, stream.next(m_window));
            if (!ok) return true;
            m_batch.add(m_window.tokens.data(), static_cast<int64_t>(m_window.tokens.size()));
            m_batchWindows.push_back(m_window);
        }
        return false;
    }

    Status commit(bool complete) {
        for (auto& w : m_writers) MONO_RETURN_IF_ERROR(w->commit(m_windows, complete));
        return Status::success();
    }

    static double secondsSince(Clock::time_point start) {
        return std::chrono::duration<double>(Clock::now() - start).count();
    }
    // Tokens through the model in this run, BOS included.
    double tokensPerSecond(double seconds) const {
        return (m_windows - m_startWindows) * m_spec.contextSize / std::max(seconds, 1e-9);
    }

    void report(const Progress& progress, Clock::time_point start) const {
        ProgressUpdate update;
        update.fraction = static_cast<double>(m_windows) / m_targetWindows;
        update.message = "capturing " + std::to_string(m_windows * m_rowsPerWindow) + " / " +
                         std::to_string(m_targetWindows * m_rowsPerWindow) + " tokens";
        update.metrics = {{"tokens_per_s", tokensPerSecond(secondsSince(start))},
                          {"windows", double(m_windows)}};
        progress.report(update);
    }

    const CaptureSpec& m_spec;
    Writers& m_writers;
    const int m_rowsPerWindow;
    const int64_t m_targetWindows;
    const int64_t m_windowsPerShard;
    const int64_t m_startWindows;
    int64_t m_windows;
    int64_t m_sinceCommit = 0;
    std::vector<int32_t> m_positions;  // of rows 1.. in their window, the same for every window
    Window m_window;
    std::vector<Window> m_batchWindows;
    model::Batch m_batch;
};

}  // namespace

Result<CaptureSummary> capture(model::Model& model, const tok::Tokenizer& tokenizer,
                               const CaptureSpec& spec, const Progress& progress, StopToken stop) {
    MONO_ASSIGN_OR_RETURN(const int32_t bos, checkSpec(model.config(), tokenizer, spec));
    MONO_RETURN_IF_ERROR(checkMemoryNeed(
        "capturing batches of " + std::to_string(spec.batchWindows) + " windows of " +
            std::to_string(spec.contextSize) + " tokens",
        model::forwardMemoryBytes(model.config(), int64_t(spec.batchWindows) * spec.contextSize,
                                  spec.contextSize, false)));
    MONO_ASSIGN_OR_RETURN(const ResumePlan plan, planResume(model.config(), spec));
    MONO_ASSIGN_OR_RETURN(Writers writers, openWriters(spec, plan));
    CaptureSummary summary;
    summary.resumedWindows = plan.startWindows;
    CapturePass pass(spec, writers, plan.startWindows);
    if (pass.needed()) {
        MONO_ASSIGN_OR_RETURN(io::CorpusReader reader, io::CorpusReader::open(spec.corpus));
        WindowStream stream(std::move(reader), tokenizer, spec.contextSize, bos);
        MONO_RETURN_IF_ERROR(pass.run(model, stream, progress, stop, &summary));
    }
    summary.windows = writers[0]->index().windows;
    summary.rows = writers[0]->index().rows();
    return summary;
}

}  // namespace mono::acts
