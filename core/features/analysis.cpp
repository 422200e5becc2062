// The feature analysis pass. Legend: B rows in a chunk, D = d_in, F = d_sae,
// V vocabulary, K = topK. Method: docs/FEATURE_STORE.md.

#include "core/features/analysis.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "core/acts/activation_store.h"
#include "core/base/atomic_file.h"
#include "core/base/memory_budget.h"
#include "core/base/text.h"
#include "core/base/version.h"
#include "core/features/analysis_state.h"
#include "core/features/feature_store.h"
#include "core/kernels/sgemm.h"
#include "core/model/model.h"
#include "core/model/weights.h"
#include "core/sae/decoder_cosine.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::features {

using detail::Accumulators;
using detail::FeatureAcc;
using detail::Sampled;
using detail::TopItem;
using json = nlohmann::json;

namespace {

// Rows per SAE call are bounded so that a row within the window and a feature
// within a block of 64 share one 32-bit key in the gathered firings.
constexpr int64_t kMaxChunkRows = int64_t(1) << 25;
// Firings of several chunks are gathered before they are added to the
// accumulators: with a cheap encoder (d=64) a 2048-row chunk holds too little
// bookkeeping to split evenly between the threads, and every split ends at a
// barrier. A window ends after this many rows or firings (16 MiB of them; rows
// offered to a co-firing sample that is still filling come on top).
constexpr int64_t kWindowRows = 16384;
constexpr int64_t kWindowFirings = int64_t(1) << 21;

double now() {
    using Clock = std::chrono::steady_clock;
    return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

// Top n (largest first, ties: lower index) and bottom n (smallest first) of a
// row, each entry made by make(index, value).
template <class T, class Make>
void topBottom(const float* row, int64_t len, int n, const Make& make, std::vector<T>* top,
               std::vector<T>* bottom = nullptr) {
    std::vector<int32_t> idx(static_cast<size_t>(len));
    for (int64_t i = 0; i < len; ++i) idx[i] = static_cast<int32_t>(i);
    const auto m = static_cast<long>(std::min<int64_t>(n, len));
    auto hi = [&](int32_t a, int32_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); };
    auto lo = [&](int32_t a, int32_t b) { return row[a] < row[b] || (row[a] == row[b] && a < b); };
    if (top) {
        std::partial_sort(idx.begin(), idx.begin() + m, idx.end(), hi);
        top->clear();
        for (long k = 0; k < m; ++k) top->push_back(make(idx[k], row[idx[k]]));
    }
    if (bottom) {
        std::partial_sort(idx.begin(), idx.begin() + m, idx.end(), lo);
        bottom->clear();
        for (long k = 0; k < m; ++k) bottom->push_back(make(idx[k], row[idx[k]]));
    }
}

}  // namespace

void computeLogitEffects(const Matrix& wDec, const std::vector<float>& gamma, bool centre,
                         const Matrix& wU, int n, std::vector<std::vector<LogitEffect>>* top,
                         std::vector<std::vector<LogitEffect>>* bottom) {
    const int64_t F = wDec.rows(), D = wDec.cols(), V = wU.rows();
    top->assign(static_cast<size_t>(F), {});
    bottom->assign(static_cast<size_t>(F), {});
    if (wU.cols() != D || V == 0 || n <= 0) return;
    constexpr int64_t kBlock = 256;
    Matrix dirs;    // [b, D] decoder rows through the final norm
    Matrix logits;  // [b, V]
    // The text is left to the caller, which knows the tokenizer.
    auto effect = [](int32_t token, float value) { return LogitEffect{token, {}, value}; };
    for (int64_t f0 = 0; f0 < F; f0 += kBlock) {
        const int64_t b = std::min(kBlock, F - f0);
        dirs = wDec.middleRows(f0, b);
        if (centre) dirs.colwise() -= dirs.rowwise().mean();
        if (static_cast<int64_t>(gamma.size()) == D)
            dirs *= Eigen::Map<const Eigen::VectorXf>(gamma.data(), D).asDiagonal();
        logits.resize(b, V);
        kernels::gemm(dirs, kernels::Op::kN, wU, kernels::Op::kT, logits);
#pragma omp parallel for schedule(dynamic)
        for (int64_t r = 0; r < b; ++r)
            topBottom(logits.row(r).data(), V, n, effect, &(*top)[f0 + r], &(*bottom)[f0 + r]);
    }
}

std::vector<std::vector<RelatedFeature>> decoderNeighbours(const Matrix& wDec, int n, int64_t f0,
                                                           int64_t f1,
                                                           sae::NeighbourMethod method) {
    if (f1 <= 0) f1 = wDec.rows();
    const auto matches = sae::decoderNeighbourSearch(wDec, f0, f1, n, method);
    std::vector<std::vector<RelatedFeature>> out(matches.size());
    for (size_t i = 0; i < matches.size(); ++i)
        for (const sae::CosineMatch& m : matches[i]) out[i].push_back({m.id, m.cosine, 0});
    return out;
}

std::string saeContentHash(const sae::Sae& s) {
    uint64_t h = 0x84222325cbf29ce4ull;
    auto mix = [&](const void* data, size_t bytes) {
        const auto* p = static_cast<const unsigned char*>(data);
        size_t i = 0;
        for (; i + 8 <= bytes; i += 8) {
            uint64_t w;
            std::memcpy(&w, p + i, 8);
            h ^= w * 0x87c37b91114253d5ull;
            h = ((h << 31) | (h >> 33)) * 0x4cf5ad432745937full;
        }
        for (; i < bytes; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
        h ^= bytes;
    };
    const auto& c = s.config();
    const std::string arch = std::string(sae::architectureName(c.architecture)) + "/" +
                             std::to_string(c.k) + "/" + (c.applyBDecToInput ? "1" : "0");
    mix(arch.data(), arch.size());
    mix(s.wEnc().data(), sizeof(float) * s.wEnc().size());
    mix(s.wDec().data(), sizeof(float) * s.wDec().size());
    mix(s.bEnc().data(), sizeof(float) * s.bEnc().size());
    mix(s.bDec().data(), sizeof(float) * s.bDec().size());
    mix(s.threshold().data(), sizeof(float) * s.threshold().size());
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

namespace {

// The selections of one feature, before their contexts are filled in.
struct Selection {
    std::vector<Example> top;
    std::vector<Example> interval;
    float intervalWidth = 0;
};

Selection selectExamples(const FeatureAcc& a, const AnalysisSpec& spec, int coarseBins,
                         int resPerBin) {
    Selection sel;
    std::vector<TopItem> top = a.top;
    std::sort(top.begin(), top.end(), detail::better);
    for (size_t r = 0; r < top.size(); ++r) {
        Example e;
        e.rank = static_cast<int>(r);
        e.bin = -1;
        e.row = top[r].row;
        e.activation = top[r].act;
        sel.top.push_back(std::move(e));
    }
    if (a.count == 0 || spec.bins <= 0 || spec.perBin <= 0) return sel;
    const double maxV = a.max;
    const int bins = spec.bins;
    sel.intervalWidth = static_cast<float>(maxV / bins);
    // Candidates per final bin (j·w, (j+1)·w], w = max / bins.
    std::vector<std::vector<Sampled>> cand(bins);
    for (const Sampled& s : a.res) {
        const int j = std::clamp(static_cast<int>(std::ceil(s.act * bins / maxV)) - 1, 0, bins - 1);
        cand[j].push_back(s);
    }
    const double cw = a.scale / coarseBins;
    for (int j = 0; j < bins; ++j) {
        auto& c = cand[j];
        std::sort(c.begin(), c.end(), detail::lowerPriority);
        // Every item of bin j with priority ≤ T is among the kept ones, where T is the
        // lowest "worst kept" priority of the full coarse bins that overlap bin j.
        const double lo = j * maxV / bins, hi = (j + 1) * maxV / bins;
        uint64_t T = ~uint64_t(0);
        bool anyFull = false;
        for (int cb = 0; cb < coarseBins; ++cb) {
            if (cb * cw >= hi || (cb + 1) * cw <= lo) continue;
            if (a.resCount[cb] >= resPerBin) {
                anyFull = true;
                T = std::min(T, a.resWorst[cb]);
            }
        }
        const size_t take = std::min<size_t>(c.size(), static_cast<size_t>(spec.perBin));
        bool exact;
        if (take < static_cast<size_t>(spec.perBin))
            exact = !anyFull;  // fewer than perBin exist only if nothing was dropped
        else
            exact = !anyFull || c[take - 1].prio <= T;
        for (size_t r = 0; r < take; ++r) {
            Example e;
            e.rank = static_cast<int>(r);
            e.bin = j;
            e.row = c[r].row;
            e.activation = c[r].act;
            e.uniform = exact;
            sel.interval.push_back(std::move(e));
        }
    }
    return sel;
}

// Where each shard's rows start in the global row index.
class RowSource {
public:
    explicit RowSource(const acts::ActivationStoreReader& store) {
        int64_t start = 0;
        for (const auto& s : store.index().shards) {
            m_starts.push_back(start);
            start += s.rows;
        }
        m_starts.push_back(start);
    }
    int64_t rows() const { return m_starts.back(); }
    int numShards() const { return static_cast<int>(m_starts.size()) - 1; }
    int64_t shardStart(int s) const { return m_starts[s]; }
    int64_t shardEnd(int s) const { return m_starts[s + 1]; }

private:
    std::vector<int64_t> m_starts;
};

class TokenText {
public:
    explicit TokenText(const tok::Tokenizer* t) : m_tok(t) {}
    const std::string& operator()(int32_t id) {
        auto it = m_cache.find(id);
        if (it != m_cache.end()) return it->second;
        std::string s =
            m_tok ? sanitizeUtf8(m_tok->tokenBytes(id)) : "[" + std::to_string(id) + "]";
        return m_cache.emplace(id, std::move(s)).first->second;
    }

private:
    const tok::Tokenizer* m_tok;
    std::map<int32_t, std::string> m_cache;
};

// One example's context window to read back: stored rows [a, b] around it.
struct ContextJob {
    int64_t a, b;
    int64_t feature;
    Example* ex;
    std::vector<int32_t> positions;  // as stored, to find the example's own window
};

// The context jobs of the examples of selections [f0, f1), sorted by first
// row; selection s is feature base + s. Windows are rowsPerWindow stored rows;
// the example's position in its window is inferred here and checked against
// the stored positions later.
std::vector<ContextJob> contextJobs(const AnalysisSpec& spec, int64_t rows, int rowsPerWindow,
                                    int64_t f0, int64_t f1, int64_t base,
                                    std::vector<Selection>& sels) {
    std::vector<ContextJob> jobs;
    for (int64_t f = f0; f < f1; ++f) {
        for (auto* list : {&sels[f].top, &sels[f].interval}) {
            for (Example& e : *list) {
                const int64_t p = e.row % rowsPerWindow + 1;  // expected position, checked later
                const int64_t left = std::min<int64_t>(spec.contextLeft, p - 1);
                const int64_t right = std::min<int64_t>(spec.contextRight, rowsPerWindow - p);
                const int64_t a = std::max<int64_t>(0, e.row - left);
                const int64_t b = std::min<int64_t>(rows - 1, e.row + right);
                ContextJob j{a, b, base + f, &e, {}};
                e.tokens.assign(b - a + 1, -1);
                e.values.assign(b - a + 1, 0.f);
                j.positions.assign(b - a + 1, -1);
                e.tokenIndex = static_cast<int>(e.row - a);
                jobs.push_back(std::move(j));
            }
        }
    }
    std::sort(jobs.begin(), jobs.end(),
              [](const ContextJob& x, const ContextJob& y) { return x.a < y.a; });
    return jobs;
}

// The SAE's activations of the features [f0, f1) on stored rows, the values
// the streaming pass saw (to float rounding: a dot product here, a GEMM
// there). TopK: a feature's value depends on the whole row, through the row's
// floor (Accumulators::rowFloor): the pre-activation is kept when it reaches
// the smallest code the row kept, within 1e-5 of it (rounding; a latent that
// close to the k-th is shown as firing).
class GroupEncoder {
public:
    GroupEncoder(const sae::Sae& sae, int64_t f0, int64_t f1, const std::vector<float>& rowFloor)
        : m_sae(sae),
          m_f0(f0),
          m_topk(sae.config().architecture == sae::Architecture::kTopK),
          m_jump(sae.config().architecture == sae::Architecture::kJumpReLU ||
                 sae.config().architecture == sae::Architecture::kBatchTopK),
          m_rowFloor(rowFloor) {
        // Encoder columns of this feature group as rows [n, D], and their biases.
        m_wT = sae.wEnc().middleCols(f0, f1 - f0).transpose();
        m_bias.resize(f1 - f0);
        for (int64_t f = f0; f < f1; ++f) {
            float b = sae.bEnc()(f);
            if (sae.config().applyBDecToInput) b -= sae.bDec().dot(m_wT.row(f - f0));
            m_bias(f - f0) = b;
        }
    }

    // The activation of `feature` on global row q, stored at shard row `local`.
    float value(const acts::Shard& shard, int64_t q, int64_t local, int64_t feature) const {
        const float h =
            shard.acts.row(local).dot(m_wT.row(feature - m_f0)) + m_bias(feature - m_f0);
        if (m_topk) {
            const float floor = m_rowFloor[static_cast<size_t>(q)];
            return floor == 0.f ? std::max(h, 0.f)
                                : (h >= floor - 1e-5f * std::abs(floor) ? h : 0.f);
        }
        return m_jump ? ((h > m_sae.threshold()(feature) && h > 0.f) ? h : 0.f) : std::max(h, 0.f);
    }

private:
    const sae::Sae& m_sae;
    int64_t m_f0;
    bool m_topk, m_jump;
    const std::vector<float>& m_rowFloor;
    Matrix m_wT;
    Eigen::VectorXf m_bias;
};

// The floor of a TopK row from its sparse codes: the smallest kept code, or 0
// when fewer than k latents were kept (a zero among the k: any positive
// pre-activation is then kept).
inline float rowFloorOf(const float* values, int64_t n, int64_t k) {
    if (n < k || n == 0) return 0.f;
    return *std::min_element(values, values + n);
}

// Fills the tokens, positions and activations of the jobs in [first, last)
// from the rows [s0, s1) of one shard.
template <class It>
void fillFromShard(const acts::Shard& shard, int64_t s0, int64_t s1, It first, It last,
                   const GroupEncoder& encoder) {
    std::vector<ContextJob*> todo;
    for (auto it = first; it != last; ++it)
        if (it->b >= s0) todo.push_back(&*it);
#pragma omp parallel for schedule(dynamic, 64)
    for (size_t t = 0; t < todo.size(); ++t) {
        ContextJob& j = *todo[t];
        for (int64_t q = std::max(j.a, s0); q <= std::min(j.b, s1 - 1); ++q) {
            const int64_t local = q - s0, k = q - j.a;
            j.ex->tokens[k] = shard.tokens[local];
            j.positions[k] = shard.positions[local];
            j.ex->values[k] = encoder.value(shard, q, local, j.feature);
        }
    }
}

// Keeps the stretch of the example's own window: positions must step by one
// through the example token.
void clipToOwnWindow(ContextJob& j, TokenText& text) {
    Example& e = *j.ex;
    const int t = e.tokenIndex;
    const int32_t p = j.positions[t];
    int lo = t, hi = t;
    while (lo > 0 && p >= 0 && j.positions[lo - 1] == p - (t - lo + 1)) --lo;
    while (hi + 1 < static_cast<int>(j.positions.size()) && p >= 0 &&
           j.positions[hi + 1] == p + (hi + 1 - t))
        ++hi;
    e.tokens = std::vector<int32_t>(e.tokens.begin() + lo, e.tokens.begin() + hi + 1);
    e.values = std::vector<float>(e.values.begin() + lo, e.values.begin() + hi + 1);
    e.tokenIndex = t - lo;
    e.strings.clear();
    for (int32_t id : e.tokens) e.strings.push_back(text(id));
}

// Fills tokens, strings and per-token activations of the examples of
// selections [f0, f1) (features base + f0 ...) by reading the rows of their
// windows back from the store and re-encoding them. Windows are contextSize − 1
// stored rows (BOS not stored); positions read back confirm the layout and
// clip the context.
Status fillContexts(const acts::ActivationStoreReader& store, const sae::Sae& sae,
                    const AnalysisSpec& spec, int64_t f0, int64_t f1, int64_t base,
                    const std::vector<float>& rowFloor, std::vector<Selection>& sels,
                    TokenText& text, const StopToken& stop) {
    const int64_t D = sae.dIn();
    const int rpw = std::max(1, store.index().contextSize - 1);
    RowSource src(store);
    std::vector<ContextJob> jobs = contextJobs(spec, src.rows(), rpw, f0, f1, base, sels);
    const int64_t maxSpan = spec.contextLeft + spec.contextRight + 1;
    const GroupEncoder encoder(sae, base + f0, base + f1, rowFloor);
    auto startsBefore = [](const ContextJob& j, int64_t v) { return j.a < v; };
    for (int s = 0; s < src.numShards() && !jobs.empty(); ++s) {
        if (stop.stopRequested()) return Status::cancelled("feature analysis cancelled");
        const int64_t s0 = src.shardStart(s), s1 = src.shardEnd(s);
        auto first = std::lower_bound(jobs.begin(), jobs.end(), s0 - maxSpan, startsBefore);
        auto last = std::lower_bound(first, jobs.end(), s1, startsBefore);
        bool any = false;
        for (auto it = first; it != last && !any; ++it) any = it->b >= s0;
        if (!any) continue;
        MONO_ASSIGN_OR_RETURN(acts::Shard shard, store.readShard(s));
        if (shard.acts.cols() != D)
            return Status::corruption(store.dir() + ": shard " + std::to_string(s) + " has width " +
                                      std::to_string(shard.acts.cols()) + ", the SAE expects " +
                                      std::to_string(D));
        fillFromShard(shard, s0, s1, first, last, encoder);
    }
    for (ContextJob& j : jobs) clipToOwnWindow(j, text);
    return Status::success();
}

json specJson(const AnalysisSpec& s) {
    return {{"top_k", s.topK},
            {"bins", s.bins},
            {"per_bin", s.perBin},
            {"context_left", s.contextLeft},
            {"context_right", s.contextRight},
            {"max_tokens", s.maxTokens},
            {"logit_effects", s.logitEffects},
            {"neighbours", s.neighbours},
            {"co_firing", s.coFiring},
            {"co_firing_sample_rows", s.coFiringSampleRows},
            {"histogram_bins", detail::kHistBins},
            {"feature_begin", s.featureBegin},
            {"feature_end", s.featureEnd}};
}

// What a state file must agree on to be continued.
json stateIdentity(const acts::ActivationStoreReader& store, const sae::Sae& sae,
                   const std::string& saeHash, const AnalysisSpec& spec) {
    return {{"sae_hash", saeHash},
            {"d_sae", sae.dSae()},
            {"hook", store.index().hook},
            {"d", store.index().dim},
            {"context_size", store.index().contextSize},
            {"top_k", spec.topK},
            {"bins", spec.bins},
            {"per_bin", spec.perBin},
            {"co_firing_sample_rows", spec.coFiringSampleRows},
            {"feature_begin", spec.featureBegin},
            {"feature_end", featureRangeEnd(spec, sae.dSae())}};
}

json shardsJson(const acts::StoreIndex& index, int64_t rowsDone) {
    json shards = json::array();
    int64_t start = 0;
    for (const auto& s : index.shards) {
        if (start >= rowsDone) break;
        shards.push_back({{"name", s.name}, {"rows", s.rows}});
        start += s.rows;
    }
    return shards;
}

// ---- inputs and the state file ----------------------------------------------

Status validateInputs(const AnalysisInputs& in, const AnalysisSpec& spec) {
    if (!in.store || !in.sae)
        return Status::invalidArgument("analysis: no activation store or SAE given");
    const acts::ActivationStoreReader& store = *in.store;
    const sae::Sae& sae = *in.sae;
    if (store.index().dim != sae.dIn())
        return Status::invalidArgument(store.dir() + ": activations have width " +
                                       std::to_string(store.index().dim) +
                                       ", the SAE expects d_in=" + std::to_string(sae.dIn()));
    if (spec.topK < 0 || spec.bins < 0 || spec.perBin < 0 || spec.contextLeft < 0 ||
        spec.contextRight < 0 || spec.chunkRows <= 0)
        return Status::invalidArgument(
            "analysis: negative settings (top-k, bins, per-bin, context)");
    const int64_t end = featureRangeEnd(spec, sae.dSae());
    if (spec.featureBegin < 0 || spec.featureEnd < 0 || end > sae.dSae() ||
        spec.featureBegin >= end)
        return Status::invalidArgument("analysis: feature range [" +
                                       std::to_string(spec.featureBegin) + ", " +
                                       std::to_string(end) + ") is not within the SAE's " +
                                       std::to_string(sae.dSae()) + " features");
    if (spec.chunkRows > kMaxChunkRows)
        return Status::invalidArgument("analysis: at most " + std::to_string(kMaxChunkRows) +
                                       " rows per chunk");
    return Status::success();
}

// The checkpoint of the accumulators, "<out>.analysis-state".
struct StateFile {
    std::string path;
    json identity;  // stateIdentity() of this run
    const acts::StoreIndex& index;

    // Settles the accumulators of the first rowsDone rows and writes them atomically.
    Status save(Accumulators& acc, int64_t rowsDone) const {
        json header = {{"identity", identity}, {"shards", shardsJson(index, rowsDone)}};
        acc.settle();
        return writeFileAtomic(path, detail::serializeState(header.dump(), rowsDone, acc));
    }

    // Moves the saved accumulators into *acc when the file belongs to this run
    // (same identity, over the same leading shards, no further than target)
    // and returns the rows they cover; 0 when there is nothing to continue.
    int64_t resume(int64_t numFeatures, int64_t target, const Progress& progress,
                   Accumulators* acc) const {
        std::error_code ec;
        if (!std::filesystem::exists(path, ec)) return 0;
        auto bytes = readWholeFile(path, size_t(1) << 36);
        std::string header;
        int64_t done = 0;
        Accumulators loaded;
        Status st = bytes.ok() ? detail::deserializeState(*bytes, path, &header, &done, &loaded)
                               : bytes.status();
        json h = st.ok() ? json::parse(header, nullptr, false) : json();
        const bool compatible = st.ok() && h.is_object() && h["identity"] == identity &&
                                h["shards"] == shardsJson(index, done) && done <= target &&
                                static_cast<int64_t>(loaded.features.size()) == numFeatures;
        if (!compatible) {
            progress.report(0.0, st.ok() ? "the saved analysis state does not match; starting over"
                                         : st.message() + "; starting over");
            return 0;
        }
        *acc = std::move(loaded);
        progress.report(double(done) / std::max<int64_t>(1, target),
                        "continuing the analysis after " + std::to_string(done) + " rows");
        return done;
    }
};

// ---- the streaming pass -----------------------------------------------------

// Firings are gathered while the encoder's blocks are in cache, per thread
// and per block of 64 features, over a window of chunks (rows ascending
// within a thread's chunk; each chunk's lists end a segment, so that the
// window reads back in row order: chunk by chunk, thread by thread). Then
// each feature block, balanced dynamically over the threads, splits its
// firings by feature in a small scratch that stays in L1 and adds them
// feature by feature: the block's accumulators stay in cache too.
// (Gathering straight into one list per feature scattered the writes over
// 2F lists and cost more than the encoding.)
constexpr int64_t kFeatureBlock = 64;
constexpr uint32_t kBlockShift = 6;  // log2(kFeatureBlock)
static_assert(kFeatureBlock == int64_t(1) << kBlockShift);
static_assert(kWindowRows + kMaxChunkRows <= int64_t(1) << (32 - kBlockShift));

struct Firing {
    uint32_t key;  // row within the window << kBlockShift | feature within the block
    float value;
};

// One thread's firings of the current window.
struct Gather {
    std::vector<std::vector<Firing>> byBlock;      // [nBlocks]
    std::vector<std::vector<size_t>> segmentEnds;  // [nBlocks][chunks of the window]
    std::vector<detail::CoRow> coCandidates;       // rows the co-firing sample may take
    std::vector<size_t> coSegmentEnds;             // [chunks of the window]
    int64_t firings = 0;                           // gathered in this window
    // Scratch of a block: its firings sorted by feature (a counting sort).
    std::vector<float> values;
    std::vector<int64_t> rows;
};

// Rows [begin, end) of the store, encoded in `chunks` chunks.
struct Window {
    int64_t begin = 0, end = 0, chunks = 0;
};

// Encodes the store's rows [rowsDone, target) and adds their firings to the
// accumulators, saving the state at most checkpointSeconds apart.
class StreamingPass {
public:
    StreamingPass(const acts::ActivationStoreReader& store, const sae::Sae& sae,
                  const AnalysisSpec& spec, const StateFile& state, int64_t target,
                  Accumulators& acc, int64_t& rowsDone, const Progress& progress,
                  const StopToken& stop)
        : m_store(store),
          m_sae(sae),
          m_spec(spec),
          m_state(state),
          m_target(target),
          m_acc(acc),
          m_rowsDone(rowsDone),
          m_progress(progress),
          m_stop(stop),
          m_passStart(now()),
          m_lastSave(now()),
          m_resumedAt(rowsDone),
          m_f0(spec.featureBegin),
          m_f1(featureRangeEnd(spec, sae.dSae())),
          m_topk(sae.config().architecture == sae::Architecture::kTopK),
          m_nBlocks((m_f1 - m_f0 + kFeatureBlock - 1) / kFeatureBlock),
          m_gathers(static_cast<size_t>(omp_get_max_threads())) {
        for (Gather& g : m_gathers) {
            g.byBlock.resize(static_cast<size_t>(m_nBlocks));
            g.segmentEnds.resize(static_cast<size_t>(m_nBlocks));
        }
    }

    // Cancelled, with the state saved, when a stop is requested.
    Status run() {
        // Shards are read on this thread and converted to float by all threads
        // (io::toFloatInto). A helper thread reading ahead cost more than it hid:
        // on two cores its time is taken from one of the encoding threads, and the
        // other then waits for that one at every barrier.
        const RowSource src(m_store);
        for (int s = 0; s < src.numShards() && m_rowsDone < m_target; ++s) {
            if (src.shardEnd(s) <= m_rowsDone) continue;
            MONO_RETURN_IF_ERROR(passShard(s, src.shardStart(s), src.shardEnd(s)));
            if (m_rowsDone < m_target && now() - m_lastSave >= m_spec.checkpointSeconds) {
                MONO_RETURN_IF_ERROR(m_state.save(m_acc, m_rowsDone));
                m_lastSave = now();
            }
        }
        return Status::success();
    }

    double seconds() const { return now() - m_passStart; }
    double encodeSeconds() const { return m_encodeSeconds; }
    // Encodes on `encoder` (a device) instead of the SAE's CPU path; null: the CPU.
    void useEncoder(const sae::BlockEncoder* encoder) { m_encoder = encoder; }

private:
    // The rows [s0, s1) of shard s.
    Status passShard(int s, int64_t s0, int64_t s1) {
        Result<acts::Shard> read = m_store.readShard(s);
        MONO_RETURN_IF_ERROR(read.status());
        acts::Shard shard = std::move(*read);
        if (shard.acts.cols() != m_sae.dIn() || shard.rows() != s1 - s0)
            return Status::corruption(m_store.dir() + ": shard " + m_store.index().shards[s].name +
                                      " does not match its index entry");
        const int64_t end = std::min(s1, m_target);
        while (m_rowsDone < end) {
            if (m_stop.stopRequested()) {
                MONO_RETURN_IF_ERROR(m_state.save(m_acc, m_rowsDone));
                return Status::cancelled("feature analysis cancelled after " +
                                         std::to_string(m_rowsDone) + " rows (state saved)");
            }
            MONO_ASSIGN_OR_RETURN(const Window w, encodeWindow(shard, s0, end));
            addWindow(w);
            m_rowsDone = w.end;
        }
        return Status::success();
    }

    // Encodes chunk after chunk from m_rowsDone (before `end`, within the
    // shard starting at global row s0) until the window is full.
    Result<Window> encodeWindow(const acts::Shard& shard, int64_t s0, int64_t end) {
        Window w{m_rowsDone, m_rowsDone, 0};
        int64_t windowFirings = 0;
        const double te = now();
        do {
            const int64_t rows = std::min(m_spec.chunkRows, end - w.end);
            MONO_RETURN_IF_ERROR(gatherChunk(shard, w.end - s0, rows, w));
            windowFirings += endChunk();
            ++w.chunks;
            w.end += rows;
            reportEncoded(w.end);
        } while (w.end < end && w.end - w.begin < kWindowRows && windowFirings < kWindowFirings &&
                 !m_stop.stopRequested());
        m_encodeSeconds += now() - te;
        return w;
    }

    // Encodes `rows` rows of the shard from `local` on, the next chunk of the
    // window w, into the threads' gathers.
    Status gatherChunk(const acts::Shard& shard, int64_t local, int64_t rows, const Window& w) {
        const auto x = shard.acts.middleRows(local, rows);  // no copy
        const int64_t offset = w.end - w.begin;             // of the chunk in the window
        const int64_t w0 = w.begin;
        const bool all = m_f0 == 0 && m_f1 == m_sae.dSae();
        const auto visit = [&](const sae::Sae::SparseBlock& blk, int thread) {
            Gather& g = m_gathers[static_cast<size_t>(thread)];
            if (all) g.firings += blk.rowStart[blk.rows];
            for (int64_t r = 0; r < blk.rows; ++r) {
                const int32_t j0 = blk.rowStart[r], j1 = blk.rowStart[r + 1];
                const auto inWindow = static_cast<uint32_t>(offset + blk.firstRow + r);
                if (m_topk)
                    m_acc.rowFloor[static_cast<size_t>(w0 + inWindow)] =
                        rowFloorOf(blk.values + j0, j1 - j0, m_sae.config().k);
                for (int32_t j = j0; j < j1; ++j) {
                    const int64_t f = blk.indices[j];
                    if (!all && (f < m_f0 || f >= m_f1)) continue;
                    const auto i = static_cast<uint32_t>(f - m_f0);
                    if (!all) ++g.firings;
                    g.byBlock[i >> kBlockShift].push_back(Firing{
                        inWindow << kBlockShift | (i & ((1u << kBlockShift) - 1)), blk.values[j]});
                }
                // The sample only gets stricter as rows are added, so a row
                // it does not want now it would not want later either.
                const int64_t global = w0 + inWindow;
                const uint64_t p = samplePriority(-1, global);
                if (!m_acc.wantsCoRow(p, global)) continue;
                g.coCandidates.push_back(detail::CoRow{
                    p, global, std::vector<int32_t>(blk.indices + j0, blk.indices + j1)});
            }
        };
        return m_encoder ? m_encoder->encodeInBlocks(x, visit) : m_sae.encodeInBlocks(x, visit);
    }

    // Ends the chunk's segment in every gather; returns the firings it added.
    int64_t endChunk() {
        int64_t firings = 0;
        for (Gather& g : m_gathers) {
            for (int64_t b = 0; b < m_nBlocks; ++b) g.segmentEnds[b].push_back(g.byBlock[b].size());
            g.coSegmentEnds.push_back(g.coCandidates.size());
            firings += g.firings;
            g.firings = 0;
        }
        return firings;
    }

    // Rows encoded so far; their bookkeeping follows at the end of the window,
    // before any state is saved.
    void reportEncoded(int64_t rows) const {
        const double el = now() - m_passStart;
        m_progress.report(
            ProgressUpdate{0.9 * double(rows) / std::max<int64_t>(1, m_target),
                           "analysing " + m_store.index().hook,
                           {{"rows", double(rows)},
                            {"rows_per_s", el > 0 ? double(rows - m_resumedAt) / el : 0.0}}});
    }

    // Feature blocks are independent: each thread owns its features'
    // accumulators, and a feature's firings are added in row order.
    // Iteration −1 offers the candidate rows to the co-firing sample in row
    // order; it touches no feature accumulator, so it runs beside the blocks.
    void addWindow(const Window& w) {
#pragma omp parallel for schedule(dynamic, 1)
        for (int64_t blk = -1; blk < m_nBlocks; ++blk) {
            if (blk < 0)
                offerCoRows(w.chunks);
            else
                addFeatureBlock(blk, w);
        }
    }

    void offerCoRows(int64_t chunks) {
        for (int64_t k = 0; k < chunks; ++k)  // chunk by chunk, thread by thread
            for (Gather& g : m_gathers)
                for (size_t e = k > 0 ? g.coSegmentEnds[k - 1] : 0; e < g.coSegmentEnds[k]; ++e) {
                    detail::CoRow& c = g.coCandidates[e];
                    if (m_acc.wantsCoRow(c.prio, c.row))
                        m_acc.addCoRow(c.prio, c.row, std::move(c.features));
                }
        for (Gather& g : m_gathers) {
            g.coCandidates.clear();
            g.coSegmentEnds.clear();
        }
    }

    // Counting-sorts the window's firings of feature block `blk` by feature,
    // in the scratch of this thread, and adds each feature's run.
    void addFeatureBlock(int64_t blk, const Window& w) {
        Gather& scratch = m_gathers[static_cast<size_t>(omp_get_thread_num())];
        const auto b = static_cast<size_t>(blk);
        std::array<int64_t, kFeatureBlock + 1> start{};
        for (const Gather& g : m_gathers)
            for (const Firing& fi : g.byBlock[b]) ++start[(fi.key & (kFeatureBlock - 1)) + 1];
        for (int64_t k = 0; k < kFeatureBlock; ++k) start[k + 1] += start[k];
        scratch.values.resize(static_cast<size_t>(start[kFeatureBlock]));
        scratch.rows.resize(static_cast<size_t>(start[kFeatureBlock]));
        std::array<int64_t, kFeatureBlock> at{};
        std::copy(start.begin(), start.end() - 1, at.begin());
        for (int64_t k = 0; k < w.chunks; ++k) {
            for (const Gather& g : m_gathers) {
                const std::vector<Firing>& list = g.byBlock[b];
                const size_t from = k > 0 ? g.segmentEnds[b][k - 1] : 0;
                const size_t to = g.segmentEnds[b][k];
                for (size_t e = from; e < to; ++e) {
                    const Firing& fi = list[e];
                    const int64_t slot = at[fi.key & (kFeatureBlock - 1)]++;
                    scratch.values[static_cast<size_t>(slot)] = fi.value;
                    scratch.rows[static_cast<size_t>(slot)] = w.begin + (fi.key >> kBlockShift);
                }
            }
        }
        for (Gather& g : m_gathers) {
            g.byBlock[b].clear();
            g.segmentEnds[b].clear();
        }
        const int64_t i0 = blk * kFeatureBlock;
        for (int64_t k = 0; k < kFeatureBlock; ++k)
            if (start[k + 1] > start[k])
                m_acc.addRun(i0 + k, scratch.values.data() + start[k],
                             scratch.rows.data() + start[k], start[k + 1] - start[k]);
    }

    const acts::ActivationStoreReader& m_store;
    const sae::Sae& m_sae;
    const sae::BlockEncoder* m_encoder = nullptr;
    const AnalysisSpec& m_spec;
    const StateFile& m_state;
    const int64_t m_target;
    Accumulators& m_acc;
    int64_t& m_rowsDone;
    const Progress& m_progress;
    const StopToken& m_stop;
    const double m_passStart;
    double m_lastSave;
    double m_encodeSeconds = 0;
    const int64_t m_resumedAt;
    const int64_t m_f0, m_f1;  // the features analysed; accumulator i is feature m_f0 + i
    const bool m_topk;         // rows' floors are recorded (Accumulators::rowFloor)
    const int64_t m_nBlocks;
    std::vector<Gather> m_gathers;  // [threads]
};

// ---- per-feature results ----------------------------------------------------

// What the store gets besides the accumulators, per feature of the range
// (index i is feature begin + i).
struct FeatureResults {
    int64_t begin = 0;
    double neighbourSeconds = 0;
    bool approximate = false;
    std::vector<Selection> selections;
    std::vector<std::vector<LogitEffect>> positiveLogits, negativeLogits;  // empty without a model
    std::vector<std::vector<RelatedFeature>> neighbours, coFiring;
};

std::vector<Selection> selectAllExamples(const Accumulators& acc, const AnalysisSpec& spec,
                                         int64_t numFeatures) {
    std::vector<Selection> sels(static_cast<size_t>(numFeatures));
#pragma omp parallel for schedule(dynamic, 64)
    for (int64_t i = 0; i < numFeatures; ++i)
        sels[i] = selectExamples(acc.features[i], spec, acc.coarseBins, acc.resPerBin);
    return sels;
}

// Logit effects through the model's final norm and unembedding, when there is
// a model of the SAE's width.
void computeModelLogitEffects(const AnalysisInputs& in, const AnalysisSpec& spec,
                              const Progress& progress, FeatureResults* r) {
    if (!in.model || spec.logitEffects <= 0) return;
    const model::ModelConfig& mc = in.model->config();
    if (mc.dModel != in.sae->dIn()) return;
    // A bf16-resident model has no float32 unembedding to read: the analysis
    // goes on without logit effects (as it does without a model).
    if (in.model->weightStorage() == model::WeightStorage::kBf16) return;
    progress.report(0.92, "computing logit effects");
    const model::ModelWeights& w = in.model->weights();
    std::vector<float> gamma(w.lnFinal.weight.data(),
                             w.lnFinal.weight.data() + w.lnFinal.weight.size());
    const int64_t end = featureRangeEnd(spec, in.sae->dSae());
    const Matrix rows = in.sae->wDec().middleRows(spec.featureBegin, end - spec.featureBegin);
    computeLogitEffects(rows, gamma, mc.layerNorm(), w.unembed(), spec.logitEffects,
                        &r->positiveLogits, &r->negativeLogits);
}

// Per feature i, the n features j with the highest Jaccard index over the row
// sample, c_ij / (n_i + n_j − c_ij) (c: joint rows, n: a feature's rows), so a
// dense feature that fires on nearly every row does not top every list. Each
// keeps its share of i's rows (c_ij / n_i) and the joint count. Ranks compare
// the integer cross products, exact and deterministic; ties: more joint rows,
// then lower id. Of the features [f0, f1) (out[i − f0]); partners range over all.
std::vector<std::vector<RelatedFeature>> countCoFiring(const std::vector<detail::CoRow>& sample,
                                                       int64_t numFeatures, int n, int64_t f0,
                                                       int64_t f1) {
    const int64_t F = numFeatures;
    std::vector<std::vector<RelatedFeature>> coFiring(static_cast<size_t>(f1 - f0));
    if (n <= 0 || sample.empty()) return coFiring;
    std::vector<std::vector<int32_t>> rowsOf(static_cast<size_t>(F));
    for (size_t r = 0; r < sample.size(); ++r)
        for (int32_t i : sample[r].features) rowsOf[i].push_back(static_cast<int32_t>(r));
#pragma omp parallel
    {
        std::vector<int64_t> counts(static_cast<size_t>(F), 0);
        std::vector<int32_t> touched;
#pragma omp for schedule(dynamic, 64)
        for (int64_t i = f0; i < f1; ++i) {
            touched.clear();
            for (int32_t r : rowsOf[i])
                for (int32_t j : sample[r].features) {
                    if (j == i) continue;
                    if (counts[j]++ == 0) touched.push_back(j);
                }
            const int64_t ni = static_cast<int64_t>(rowsOf[i].size());
            auto unionOf = [&](int32_t j) {
                return ni + static_cast<int64_t>(rowsOf[j].size()) - counts[j];
            };
            // Counts and unions are below 2^31 (sample rows are int32), so the
            // cross products fit in int64.
            auto higher = [&](int32_t a, int32_t b) {
                const int64_t lhs = counts[a] * unionOf(b);
                const int64_t rhs = counts[b] * unionOf(a);
                if (lhs != rhs) return lhs > rhs;
                return counts[a] > counts[b] || (counts[a] == counts[b] && a < b);
            };
            const size_t m = std::min<size_t>(touched.size(), static_cast<size_t>(n));
            std::partial_sort(touched.begin(), touched.begin() + static_cast<std::ptrdiff_t>(m),
                              touched.end(), higher);
            for (size_t k = 0; k < m; ++k)
                coFiring[i - f0].push_back({touched[k],
                                            float(double(counts[touched[k]]) / double(ni)),
                                            counts[touched[k]]});
            for (int32_t j : touched) counts[j] = 0;
        }
    }
    return coFiring;
}

Result<FeatureResults> computeFeatureResults(const AnalysisInputs& in, const AnalysisSpec& spec,
                                             const Accumulators& acc, const Progress& progress,
                                             const StopToken& stop) {
    const int64_t F = in.sae->dSae();
    const int64_t f0 = spec.featureBegin, f1 = featureRangeEnd(spec, F);
    FeatureResults r;
    r.begin = f0;
    progress.report(0.9, "selecting examples");
    r.selections = selectAllExamples(acc, spec, f1 - f0);
    computeModelLogitEffects(in, spec, progress, &r);
    r.approximate =
        sae::resolveNeighbourMethod(spec.neighbourMethod, F) == sae::NeighbourMethod::kApproximate;
    progress.report(0.94, r.approximate ? "finding decoder neighbours (approximate index)"
                                        : "finding decoder neighbours");
    const double tn = now();
    r.neighbours = decoderNeighbours(in.sae->wDec(), spec.neighbours, f0, f1, spec.neighbourMethod);
    r.neighbourSeconds = now() - tn;
    if (stop.stopRequested()) return Status::cancelled("feature analysis cancelled (state saved)");
    // Co-firing over the row sample: per feature, the rows of the sample where it fires.
    progress.report(0.95, "counting co-firing");
    r.coFiring = countCoFiring(acc.coSample, F, spec.coFiring, f0, f1);
    return r;
}

// ---- writing the store ------------------------------------------------------

RunInfo runInfoOf(const AnalysisInputs& in, const AnalysisSpec& spec, const std::string& saeHash,
                  int64_t rowsDone) {
    RunInfo run;
    run.model = in.store->index().model;
    if (in.model && !in.model->path().empty()) run.model = in.model->path();
    run.hook = in.store->index().hook;
    run.saePath = in.saePath;
    run.saeHash = saeHash;
    run.dIn = in.sae->dIn();
    run.dSae = in.sae->dSae();
    run.tokensAnalysed = rowsDone;
    run.settingsJson = specJson(spec).dump();
    run.date = isoNowUtc();
    run.version = kVersion;
    return run;
}

FeatureSummary summaryOf(int64_t id, const FeatureAcc& a, int64_t rowsDone) {
    FeatureSummary sm;
    sm.id = id;
    sm.fireCount = a.count;
    sm.density = rowsDone > 0 ? double(a.count) / double(rowsDone) : 0.0;
    sm.maxActivation = a.max;
    sm.meanActivation = a.count ? float(a.sum / double(a.count)) : 0.f;
    return sm;
}

// The accumulated histogram up to the bin of the maximum.
Histogram histogramOf(const FeatureAcc& a) {
    Histogram h;
    if (a.count == 0) return h;
    h.binWidth = a.scale / detail::kHistBins;
    const int last =
        std::clamp(static_cast<int>(std::ceil(double(a.max) * detail::kHistBins / a.scale)) - 1, 0,
                   detail::kHistBins - 1);
    h.counts.assign(a.hist.begin(), a.hist.begin() + last + 1);
    return h;
}

// Moves feature id's results into its record (its contexts already filled).
void fillRecord(int64_t id, const FeatureAcc& a, int64_t rowsDone, FeatureResults& r,
                TokenText& text, FeatureRecord* rec) {
    rec->summary = summaryOf(id, a, rowsDone);
    rec->histogram = histogramOf(a);
    const int64_t i = id - r.begin;  // index in the range's results
    Selection& sel = r.selections[i];
    rec->intervalBinWidth = sel.intervalWidth;
    rec->topExamples = std::move(sel.top);
    rec->intervalExamples = std::move(sel.interval);
    if (static_cast<size_t>(i) < r.positiveLogits.size()) {
        rec->positiveLogits = std::move(r.positiveLogits[i]);
        rec->negativeLogits = std::move(r.negativeLogits[i]);
        for (LogitEffect& e : rec->positiveLogits) e.text = text(e.token);
        for (LogitEffect& e : rec->negativeLogits) e.text = text(e.token);
    }
    rec->neighbours = std::move(r.neighbours[i]);
    rec->coFiring = std::move(r.coFiring[i]);
}

// TopK: the floors of every row a context window may cover: those of the
// analysed rows, and of the up to contextRight rows after them (a window of
// the last examples reaches past the analysed rows), encoded here.
Result<std::vector<float>> contextRowFloors(const acts::ActivationStoreReader& store,
                                            const sae::Sae& sae, const AnalysisSpec& spec,
                                            const Accumulators& acc, int64_t rowsDone) {
    std::vector<float> floors(
        acc.rowFloor.begin(),
        acc.rowFloor.begin() + std::min<int64_t>(rowsDone, int64_t(acc.rowFloor.size())));
    const RowSource src(store);
    const int64_t end = std::min(src.rows(), rowsDone + spec.contextRight);
    floors.resize(static_cast<size_t>(std::max(end, rowsDone)), 0.f);
    for (int s = 0; s < src.numShards() && rowsDone < end; ++s) {
        const int64_t s0 = src.shardStart(s), s1 = src.shardEnd(s);
        if (s1 <= rowsDone || s0 >= end) continue;
        MONO_ASSIGN_OR_RETURN(acts::Shard shard, store.readShard(s));
        const int64_t a = std::max(s0, rowsDone), b = std::min(s1, end);
        const Matrix x = shard.acts.middleRows(a - s0, b - a);
        MONO_ASSIGN_OR_RETURN(sae::SparseCodes codes, sae.encodeSparse(x));
        for (int64_t r = 0; r < b - a; ++r) {
            const int64_t j0 = codes.rowStart[r], j1 = codes.rowStart[r + 1];
            floors[static_cast<size_t>(a + r)] =
                rowFloorOf(codes.values.data() + j0, j1 - j0, sae.config().k);
        }
    }
    return floors;
}

// Writes the range's features in one transaction (`extend`: keeping the
// store's other features); the example contexts are read back group by group,
// in groups of about 256 MiB of context.
Status writeStore(FeatureStore& out, bool extend, const AnalysisInputs& in,
                  const AnalysisSpec& spec, const RunInfo& run, const Accumulators& acc,
                  FeatureResults& results, const Progress& progress, const StopToken& stop) {
    const int64_t f0 = spec.featureBegin, f1 = featureRangeEnd(spec, run.dSae);
    const int64_t n = f1 - f0;
    const int64_t perFeatureBytes = int64_t(spec.topK + spec.bins * spec.perBin) *
                                        (spec.contextLeft + spec.contextRight + 1) * 16 +
                                    1;
    const int64_t group = std::max<int64_t>(1, (int64_t(256) << 20) / perFeatureBytes);
    TokenText text(in.tokenizer);
    std::vector<float> rowFloor;
    if (in.sae->config().architecture == sae::Architecture::kTopK) {
        MONO_ASSIGN_OR_RETURN(rowFloor,
                              contextRowFloors(*in.store, *in.sae, spec, acc, run.tokensAnalysed));
    }
    auto produce = [&](int64_t id, FeatureRecord* rec) -> Status {
        const int64_t i = id - f0;
        if (i % group == 0) {
            progress.report(0.96 + 0.04 * double(i) / double(n), "reading example contexts");
            MONO_RETURN_IF_ERROR(fillContexts(*in.store, *in.sae, spec, i, std::min(n, i + group),
                                              f0, rowFloor, results.selections, text, stop));
        }
        fillRecord(id, acc.features[i], run.tokensAnalysed, results, text, rec);
        return Status::success();
    };
    return out.writeAnalysis(run, f0, f1, extend, produce);
}

// The state file of spec's feature range: one per range, so that building a
// store range by range keeps each range's resumable state.
std::string statePath(const std::string& outPath, const AnalysisSpec& spec, int64_t F) {
    const int64_t end = featureRangeEnd(spec, F);
    if (spec.featureBegin == 0 && end == F) return outPath + ".analysis-state";
    return outPath + ".analysis-state." + std::to_string(spec.featureBegin) + "-" +
           std::to_string(end);
}

// Whether the range is added to the store's other features (extend) or the
// store is replaced. A range is added to a store of the same SAE over the
// same tokens; a store of this SAE over other tokens would mix densities of
// two analyses and is refused unless spec.fresh (then it is replaced).
Result<bool> extendsStore(const FeatureStore& out, const AnalysisSpec& spec, int64_t F,
                          const std::string& saeHash, int64_t rowsDone) {
    if (spec.featureBegin == 0 && featureRangeEnd(spec, F) == F) return false;
    auto run = out.runInfo();
    if (!run.ok() || run->saeHash != saeHash || run->featuresAnalysed == 0) return false;
    if (run->tokensAnalysed == rowsDone) return true;
    if (spec.fresh) return false;
    return Status::invalidArgument(
        out.path() + ": holds " + std::to_string(run->featuresAnalysed) +
        " features of this SAE analysed over " + std::to_string(run->tokensAnalysed) +
        " tokens, and this range covers " + std::to_string(rowsDone) +
        "; analyse the range over the same tokens (--tokens " +
        std::to_string(run->tokensAnalysed) + "), or start the store over with --fresh");
}

Result<AnalysisSummary> analyzeUnguarded(const AnalysisInputs& in, const AnalysisSpec& spec,
                                         const std::string& outPath, const Progress& progress,
                                         StopToken stop) {
    const double t0 = now();
    MONO_RETURN_IF_ERROR(validateInputs(in, spec));
    const acts::ActivationStoreReader& store = *in.store;
    const sae::Sae& sae = *in.sae;
    const int64_t F = sae.dSae();
    const int64_t f0 = spec.featureBegin, f1 = featureRangeEnd(spec, F);
    const int64_t vocab = in.model ? in.model->config().vocabSize : 0;
    const std::string what = f1 - f0 == F ? std::to_string(F) + " features"
                                          : "features " + std::to_string(f0) + ".." +
                                                std::to_string(f1 - 1) + " of " + std::to_string(F);
    MONO_RETURN_IF_ERROR(checkMemoryNeed(
        "analysing " + what + " (top-k " + std::to_string(spec.topK) + ", " +
            std::to_string(spec.bins) + " bins × " + std::to_string(spec.perBin) + " samples)",
        analysisMemoryBytes(F, sae.dIn(), vocab, spec)));
    const std::string saeHash = saeContentHash(sae);
    const StateFile state{statePath(outPath, spec, F), stateIdentity(store, sae, saeHash, spec),
                          store.index()};
    const int64_t storeRows = RowSource(store).rows();
    const int64_t target = spec.maxTokens > 0 ? std::min(spec.maxTokens, storeRows) : storeRows;

    // Open the store first: a foreign or damaged file fails before any work.
    MONO_ASSIGN_OR_RETURN(FeatureStore out,
                          FeatureStore::open(outPath, FeatureStore::Mode::kReadWrite));

    // Whether a range joins the store's features: decided before any work.
    MONO_ASSIGN_OR_RETURN(const bool extend, extendsStore(out, spec, F, saeHash, target));

    AnalysisSummary summary;
    Accumulators acc;
    int64_t rowsDone = spec.fresh ? 0 : state.resume(f1 - f0, target, progress, &acc);
    summary.rowsResumed = rowsDone;
    if (rowsDone == 0)
        acc.init(f1 - f0, spec.topK, spec.bins, spec.perBin, spec.coFiringSampleRows);
    acc.firstFeature = f0;
    if (sae.config().architecture == sae::Architecture::kTopK)
        acc.rowFloor.resize(static_cast<size_t>(target), 0.f);

    StreamingPass pass(store, sae, spec, state, target, acc, rowsDone, progress, stop);
    pass.useEncoder(in.encoder);
    MONO_RETURN_IF_ERROR(pass.run());
    summary.passSeconds = pass.seconds();
    summary.encodeSeconds = pass.encodeSeconds();
    MONO_RETURN_IF_ERROR(
        state.save(acc, rowsDone));  // the complete state: what a later merge extends

    const double tr = now();
    MONO_ASSIGN_OR_RETURN(FeatureResults results,
                          computeFeatureResults(in, spec, acc, progress, stop));
    summary.resultsSeconds = now() - tr;
    summary.neighbourSeconds = results.neighbourSeconds;
    summary.approximateNeighbours = results.approximate;
    const double tw = now();
    MONO_RETURN_IF_ERROR(writeStore(out, extend, in, spec, runInfoOf(in, spec, saeHash, rowsDone),
                                    acc, results, progress, stop));
    summary.writeSeconds = now() - tw;
    MONO_ASSIGN_OR_RETURN(summary.featuresInStore, out.featureCount());
    summary.rowsAnalysed = rowsDone;
    summary.features = f1 - f0;
    summary.featureBegin = f0;
    summary.featureEnd = f1;
    summary.seconds = now() - t0;
    progress.report(1.0, "analysis written to " + outPath);
    return summary;
}

}  // namespace

// An estimate can miss (a denser SAE than assumed, other processes' memory):
// running out is still an error that names the analysis, never an abort, and
// the state saved so far stays resumable.
Result<AnalysisSummary> analyze(const AnalysisInputs& in, const AnalysisSpec& spec,
                                const std::string& outPath, const Progress& progress,
                                StopToken stop) {
    try {
        return analyzeUnguarded(in, spec, outPath, progress, std::move(stop));
    } catch (const std::bad_alloc&) {
        return Status::resourceExhausted(
            outPath + ": analysing " + std::to_string(in.sae ? in.sae->dSae() : 0) +
            " features ran out of memory; the rows done are kept in " + outPath +
            ".analysis-state and a rerun resumes from them; free memory or lower the "
            "examples kept per feature (top-k, bins, per-bin)");
    }
}

}  // namespace mono::features
