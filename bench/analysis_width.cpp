// Feature analysis at real SAE width: the time of `analyze` on a synthetic
// TopK SAE, split into encode / bookkeeping / neighbours / the rest of the
// per-feature results / writing, beside an encode-only pass over the same rows
// measured in the same run, and the recall@10 of the decoder neighbours it
// stored against the exact answer on a sample of features.
//
// The synthetic SAE fires sparsely like a trained one: decoder rows come in
// families of 8 around a shared direction (so they have real near
// neighbours), W_enc = W_decᵀ, TopK with k = 64; each activation row is a sum
// of 32 decoder rows drawn from a Zipf(1) law over the features (so densities
// spread over decades, as in real SAEs) with random scales, plus noise,
// stored as f16 in windows of 128 tokens.
//
// usage: bench_analysis_width [--d 2304] [--features 131072] [--tokens 65536]
//        [--encode-tokens 16384] [--neighbours auto|exact|approx] [--recall-sample 500]
//        [--first N] [--dir /tmp/mono_analysis_width] [--keep]
// --first N analyses only the first N features (the pass still encodes all of
// them, and the neighbour index still holds all of them; the per-feature
// results and the store cover N).
// The acceptance run of issue #19 (1 M tokens at 131,072 × 2304) is
// --tokens 1048576; docs/BENCHMARKS.md ("Analysis at width") has the figures.

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "core/acts/activation_store.h"
#include "core/features/analysis.h"
#include "core/features/feature_store.h"
#include "core/sae/decoder_cosine.h"
#include "core/sae/sae.h"

using namespace mono;

namespace {

struct Options {
    int64_t d = 2304, features = 131072, tokens = 65536, encodeTokens = 16384;
    int64_t recallSample = 500;
    int64_t first = 0;  // analyse only features [0, first) (0: all), as analyze --features 0:N
    std::string neighbours = "auto";
    std::string dir = "/tmp/mono_analysis_width";
    bool keep = false;
};

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "bench_analysis_width: %s\n", what.c_str());
    std::exit(1);
}

void check(const Status& st, const char* what) {
    if (!st.ok()) die(std::string(what) + ": " + st.toString());
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) die(a + " needs a value");
            return argv[++i];
        };
        if (a == "--d")
            o.d = std::stoll(next());
        else if (a == "--features")
            o.features = std::stoll(next());
        else if (a == "--tokens")
            o.tokens = std::stoll(next());
        else if (a == "--encode-tokens")
            o.encodeTokens = std::stoll(next());
        else if (a == "--recall-sample")
            o.recallSample = std::stoll(next());
        else if (a == "--first")
            o.first = std::stoll(next());
        else if (a == "--neighbours")
            o.neighbours = next();
        else if (a == "--dir")
            o.dir = next();
        else if (a == "--keep")
            o.keep = true;
        else
            die("unknown option " + a);
    }
    o.encodeTokens = std::min(o.encodeTokens, o.tokens);
    return o;
}

// Unit decoder rows in families of 8 around shared directions.
Matrix familyDecoder(int64_t f, int64_t d, uint64_t seed) {
    const int64_t families = std::max<int64_t>(1, f / 8);
    Matrix centres(families, d), w(f, d);
#pragma omp parallel
    {
        std::mt19937_64 rng(seed + 977 * static_cast<uint64_t>(omp_get_thread_num()));
        std::normal_distribution<float> normal(0.f, 1.f);
#pragma omp for schedule(static)
        for (int64_t c = 0; c < families; ++c)
            for (int64_t k = 0; k < d; ++k) centres(c, k) = normal(rng);
#pragma omp for schedule(static)
        for (int64_t i = 0; i < f; ++i) {
            for (int64_t k = 0; k < d; ++k) w(i, k) = centres(i % families, k) + normal(rng);
            w.row(i).normalize();
        }
    }
    return w;
}

sae::Sae syntheticSae(const Options& o) {
    Matrix wDec = familyDecoder(o.features, o.d, 11);
    Matrix wEnc = wDec.transpose();
    sae::SaeConfig cfg;
    cfg.dIn = o.d;
    cfg.dSae = o.features;
    cfg.architecture = sae::Architecture::kTopK;
    cfg.k = 64;
    auto s = sae::Sae::create(cfg, std::move(wEnc), std::move(wDec), Vector::Zero(o.features),
                              Vector::Zero(o.d));
    if (!s.ok()) die(s.status().toString());
    return std::move(*s);
}

// Rows of 32 Zipf-drawn decoder directions with random scales, plus noise.
void writeStore(const Options& o, const sae::Sae& sae, const std::string& dir) {
    std::vector<double> cdf(static_cast<size_t>(o.features));
    double total = 0;
    for (int64_t i = 0; i < o.features; ++i) cdf[i] = (total += 1.0 / double(i + 1));
    // Zipf ranks map to scattered feature ids, so no id range is all dense.
    std::vector<int32_t> featureOfRank(static_cast<size_t>(o.features));
    for (int64_t i = 0; i < o.features; ++i) featureOfRank[i] = static_cast<int32_t>(i);
    std::shuffle(featureOfRank.begin(), featureOfRank.end(), std::mt19937_64(5));
    acts::StoreIndex header;
    header.hook = "blocks.12.hook_resid_post";
    header.dim = o.d;
    header.dtype = io::DType::kF16;
    header.contextSize = 129;  // 128 stored rows per window
    header.model = "synthetic";
    auto writer = acts::ActivationStoreWriter::create(dir, header);
    check(writer.status(), "creating the activation store");
    constexpr int64_t kShard = 8192, kWindow = 128;
    Matrix x(kShard, o.d);
    std::vector<int32_t> tokens(kShard), docs(kShard), pos(kShard);
    for (int64_t s0 = 0; s0 < o.tokens; s0 += kShard) {
        const int64_t n = std::min(kShard, o.tokens - s0);
#pragma omp parallel
        {
            std::mt19937_64 rng(1000 + s0 + 31 * static_cast<uint64_t>(omp_get_thread_num()));
            std::uniform_real_distribution<double> u(0, total);
            std::uniform_real_distribution<float> scale(0.5f, 4.f);
            std::normal_distribution<float> normal(0.f, 0.05f);
#pragma omp for schedule(static)
            for (int64_t r = 0; r < n; ++r) {
                for (int64_t k = 0; k < o.d; ++k) x(r, k) = normal(rng);
                for (int j = 0; j < 32; ++j) {
                    const auto rank =
                        std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin();
                    x.row(r) += scale(rng) * sae.wDec().row(featureOfRank[rank]);
                }
                const int64_t g = s0 + r;
                tokens[r] = static_cast<int32_t>(g * 2654435761u % 50000);
                docs[r] = static_cast<int32_t>(g / kWindow);
                pos[r] = static_cast<int32_t>(g % kWindow + 1);
            }
        }
        writer->append(x.data(), n, tokens.data(), docs.data(), pos.data());
        check(writer->commit((s0 + n) / kWindow, s0 + n >= o.tokens), "writing a shard");
    }
}

// The encoder alone over the first `rows` stored rows, in the pass's chunks,
// counting firings (the least any consumer of the codes does).
double encodeOnlySeconds(const sae::Sae& sae, const acts::ActivationStoreReader& store,
                         int64_t rows, int64_t* firings) {
    double seconds = 0;
    int64_t done = 0;
    std::vector<int64_t> perThread(static_cast<size_t>(omp_get_max_threads()), 0);
    for (int s = 0; s < store.numShards() && done < rows; ++s) {
        auto shard = store.readShard(s);
        check(shard.status(), "reading a shard");
        const int64_t n = std::min(shard->rows(), rows - done);
        const double t0 = bench::nowSeconds();
        for (int64_t c = 0; c < n; c += 2048) {
            const auto x = shard->acts.middleRows(c, std::min<int64_t>(2048, n - c));
            check(sae.encodeInBlocks(x,
                                     [&](const sae::Sae::SparseBlock& b, int t) {
                                         perThread[static_cast<size_t>(t)] += b.rowStart[b.rows];
                                     }),
                  "encoding");
        }
        seconds += bench::nowSeconds() - t0;
        done += n;
    }
    *firings = 0;
    for (int64_t f : perThread) *firings += f;
    return seconds;
}

sae::NeighbourMethod methodOf(const std::string& name) {
    if (name == "exact") return sae::NeighbourMethod::kExact;
    if (name == "approx") return sae::NeighbourMethod::kApproximate;
    if (name != "auto") die("--neighbours: auto, exact or approx");
    return sae::NeighbourMethod::kAuto;
}

// Recall@10 of the stored neighbours of features [0, sample) against the
// exact ones, and the exact search's time for them.
void measureRecall(const Options& o, const sae::Sae& sae, const std::string& storePath) {
    const int64_t sample = std::min(o.recallSample, o.first > 0 ? o.first : o.features);
    if (sample <= 0) return;
    auto store = features::FeatureStore::open(storePath, features::FeatureStore::Mode::kReadOnly);
    check(store.status(), "opening the feature store");
    const double t0 = bench::nowSeconds();
    const auto exact = sae::exactNeighbours(sae.wDec(), 0, sample, 10);
    const double exactSeconds = bench::nowSeconds() - t0;
    std::vector<std::vector<sae::CosineMatch>> stored(static_cast<size_t>(sample));
    for (int64_t i = 0; i < sample; ++i) {
        auto rec = store->feature(i);
        check(rec.status(), "reading a feature");
        for (const auto& n : rec->neighbours)
            stored[i].push_back({static_cast<int32_t>(n.id), n.value});
    }
    bench::printResult("neighbour_recall_at_10", sae::neighbourRecall(exact, stored), "");
    bench::printResult("exact_neighbours_extrapolated_s",
                       exactSeconds * double(o.features) / double(sample), "s");
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    std::filesystem::remove_all(o.dir);
    std::filesystem::create_directories(o.dir);
    std::printf(
        "analysis at width: d=%lld F=%lld tokens=%lld (encode-only over %lld), %d threads\n",
        (long long)o.d, (long long)o.features, (long long)o.tokens, (long long)o.encodeTokens,
        omp_get_max_threads());
    double t0 = bench::nowSeconds();
    const sae::Sae sae = syntheticSae(o);
    const std::string actsDir = o.dir + "/acts";
    writeStore(o, sae, actsDir);
    std::printf("synthetic SAE and %lld rows written in %.1f s\n", (long long)o.tokens,
                bench::nowSeconds() - t0);
    auto store = acts::ActivationStoreReader::open(actsDir);
    check(store.status(), "opening the activation store");

    int64_t firings = 0;
    const double encodeOnly = encodeOnlySeconds(sae, *store, o.encodeTokens, &firings);
    const double encodeOnlyRate = double(o.encodeTokens) / encodeOnly;
    const double flop = 2.0 * double(o.d) * double(o.features);
    bench::printResult("encode_only_tokens_per_s", encodeOnlyRate, "tok/s");
    bench::printResult("encode_only_gflops", encodeOnlyRate * flop / 1e9, "GFLOP/s");
    bench::printResult("l0", double(firings) / double(o.encodeTokens), "latents/token");

    features::AnalysisSpec spec;
    spec.neighbourMethod = methodOf(o.neighbours);
    spec.featureEnd = o.first;
    spec.checkpointSeconds = 1e9;  // one state save at the end, as in a run without interruptions
    bench::printResult("memory_estimate_gib",
                       features::analysisMemoryBytes(o.features, o.d, 0, spec) / double(1 << 30),
                       "GiB");
    features::AnalysisInputs in;
    in.store = &*store;
    in.sae = &sae;
    in.saePath = "synthetic";
    const std::string out = o.dir + "/features.sqlite";
    // Each step's start, so a slow one shows where the time went.
    std::string lastMessage;
    const double ta = bench::nowSeconds();
    const Progress steps([&](const ProgressUpdate& u) {
        if (u.message == lastMessage && u.message.rfind("analysing", 0) == 0) return;
        lastMessage = u.message;
        std::printf("  %8.1f s  %s\n", bench::nowSeconds() - ta, u.message.c_str());
        std::fflush(stdout);
    });
    auto summary = features::analyze(in, spec, out, steps, {});
    check(summary.status(), "analysis");
    const auto& s = *summary;
    const double bookkeeping = s.passSeconds - s.encodeSeconds;
    const double otherResults = s.resultsSeconds - s.neighbourSeconds;
    const double passRate = double(s.rowsAnalysed) / s.passSeconds;
    std::printf(
        "analysis: %.1f s = pass %.1f (encode %.1f + bookkeeping %.1f) + neighbours "
        "%.1f%s + other results %.1f + writing %.1f + rest %.1f\n",
        s.seconds, s.passSeconds, s.encodeSeconds, bookkeeping, s.neighbourSeconds,
        s.approximateNeighbours ? " (HNSW)" : " (exact)", otherResults, s.writeSeconds,
        s.seconds - s.passSeconds - s.resultsSeconds - s.writeSeconds);
    bench::printResult("analysis_s", s.seconds, "s");
    bench::printResult("encode_s", s.encodeSeconds, "s");
    bench::printResult("bookkeeping_s", bookkeeping, "s");
    bench::printResult("neighbours_s", s.neighbourSeconds, "s");
    bench::printResult("other_results_s", otherResults, "s");
    bench::printResult("writing_s", s.writeSeconds, "s");
    bench::printResult("pass_tokens_per_s", passRate, "tok/s");
    bench::printResult("pass_vs_encode_only", passRate / encodeOnlyRate, "");
    bench::printResult("neighbours_share", s.neighbourSeconds / s.seconds, "");
    bench::printResult("store_mib", double(std::filesystem::file_size(out)) / double(1 << 20),
                       "MiB");
    measureRecall(o, sae, out);
    if (!o.keep) std::filesystem::remove_all(o.dir);
    return 0;
}
