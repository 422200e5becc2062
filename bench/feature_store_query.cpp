// Feature store benchmark.
//  1. Store size per feature (goal ≤ 8 KB) and query latency on a synthetic
//     store of 32768 features with realistic example rows (20 top examples +
//     10 bins × 5 interval samples, 24 tokens each, English-like token
//     strings): a sorted, filtered page; one feature's full record; a text
//     search. Goal: median < 20 ms each.
//  2. Analysis throughput (rows/s of the streaming pass, and end to end)
//     against the SAE's encode-only throughput on the same rows. Goal ≥ 70%.
//     Synthetic stores and ReLU SAEs at each d x F of --shapes (default
//     768x8192, with --rows rows each), or a real store and SAE (--store,
//     --sae; the store is only read, the output goes to the bench folder).
//
//   bench_feature_store_query [--features N] [--rows R] [--shapes DxF,...] [--keep DIR]
//                             [--store ACTS_DIR --sae SAE_DIR]
//   (--d D --sae-features F is the same as --shapes DxF)

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "core/acts/activation_store.h"
#include "core/features/analysis.h"
#include "core/features/feature_store.h"
#include "core/sae/sae_io.h"

using namespace mono;
namespace fs = std::filesystem;

namespace {

// A Zipf-distributed vocabulary: function words and punctuation most frequent,
// then 8000 filler words, with content words placed at ranks 300, 340, ...
// (as rare as real content words), so searches match realistic subsets.
struct Vocabulary {
    std::vector<std::string> words;
    std::discrete_distribution<int> dist;
    Vocabulary() {
        const char* common[] = {" the", " of", " and", " to",  " in",   " a",  " is", " that",
                                " for", " it", " as",  " was", " with", " be", ".",   ",",
                                "\n",   "(",   ")",    " \"",  "'s",    "ing", "ed"};
        const char* content[] = {" bridge", " river",  " code",      " golden", " gate",   " city",
                                 " water",  " python", " function",  " return", " music",  " song",
                                 " king",   " queen",  " France",    " Paris",  " London", " war",
                                 " money",  " bank",   " loan",      " rate",   " market", " New",
                                 " York",   " San",    " Francisco", " dog",    " cat",    " bird"};
        for (const char* w : common) words.push_back(w);
        size_t next = 0;
        for (int k = 0; k < 8000; ++k) {
            if (words.size() >= 300 && next < sizeof(content) / sizeof(content[0]) &&
                (words.size() - 300) % 40 == 0)
                words.push_back(content[next++]);
            words.push_back(" w" + std::to_string(k));
        }
        std::vector<double> weights;
        for (size_t k = 0; k < words.size(); ++k) weights.push_back(1.0 / double(k + 1));
        dist = std::discrete_distribution<int>(weights.begin(), weights.end());
    }
};

double arg(int argc, char** argv, const char* name, double fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (!std::strcmp(argv[i], name)) return std::atof(argv[i + 1]);
    return fallback;
}

std::string argStr(int argc, char** argv, const char* name) {
    for (int i = 1; i + 1 < argc; ++i)
        if (!std::strcmp(argv[i], name)) return argv[i + 1];
    return {};
}

void check(const Status& st, const char* what) {
    if (!st.ok()) {
        std::fprintf(stderr, "%s: %s\n", what, st.toString().c_str());
        std::exit(1);
    }
}

// Part 1: a store written through the public write path, then timed queries.
void queryBench(const std::string& path, int64_t numFeatures) {
    std::error_code ec;
    fs::remove(path, ec);
    auto store = features::FeatureStore::open(path, features::FeatureStore::Mode::kReadWrite);
    check(store.status(), "open");
    features::RunInfo run;
    run.model = "synthetic";
    run.hook = "blocks.6.hook_resid_post";
    run.saeHash = "0";
    run.dIn = 768;
    run.dSae = numFeatures;
    run.tokensAnalysed = 10'000'000;
    std::mt19937_64 rng(1);
    Vocabulary vocab;
    auto word = [&](std::mt19937_64& g) { return vocab.dist(g); };
    std::uniform_real_distribution<double> unit(0, 1);
    const int ctx = 24, top = 20, bins = 10, perBin = 5;
    const double t0 = bench::nowSeconds();
    auto st = store->replaceAnalysis(run, numFeatures, [&](int64_t id, features::FeatureRecord* r) {
        const double logDensity = -6.0 + 5.5 * unit(rng);
        r->summary.density = std::pow(10.0, logDensity);
        r->summary.fireCount = static_cast<int64_t>(r->summary.density * 1e7);
        r->summary.maxActivation = static_cast<float>(1 + 20 * unit(rng));
        r->summary.meanActivation = r->summary.maxActivation / 4;
        r->histogram.binWidth = r->summary.maxActivation / 100.0;
        r->histogram.counts.assign(100, 0);
        for (auto& c : r->histogram.counts) c = static_cast<int64_t>(1000 * unit(rng));
        r->intervalBinWidth = r->summary.maxActivation / bins;
        auto makeExample = [&](int bin, int rank) {
            features::Example e;
            e.bin = bin;
            e.rank = rank;
            e.row = static_cast<int64_t>(unit(rng) * 1e7);
            e.tokenIndex = 18;
            for (int t = 0; t < ctx; ++t) {
                const int w = word(rng);
                e.tokens.push_back(w);
                e.strings.push_back(vocab.words[w]);
                e.values.push_back(t == 18 ? 3.f : (unit(rng) < 0.2 ? float(unit(rng)) : 0.f));
            }
            e.activation = 3.f;
            return e;
        };
        for (int k = 0; k < top; ++k) r->topExamples.push_back(makeExample(-1, k));
        for (int b = 0; b < bins; ++b)
            for (int k = 0; k < perBin; ++k) r->intervalExamples.push_back(makeExample(b, k));
        for (int k = 0; k < 10; ++k) {
            const int p = word(rng), n = word(rng);
            r->positiveLogits.push_back({p, vocab.words[p], float(unit(rng))});
            r->negativeLogits.push_back({n, vocab.words[n], -float(unit(rng))});
            r->neighbours.push_back({(id + k + 1) % numFeatures, float(unit(rng)), 0});
            r->coFiring.push_back({(id + 7 * k + 3) % numFeatures, float(unit(rng)), 10});
        }
        return Status::success();
    });
    check(st, "replaceAnalysis");
    const double writeSeconds = bench::nowSeconds() - t0;
    for (int64_t id = 0; id < numFeatures; id += 97)
        check(store->setLabel(id, "label " + std::to_string(id) + " bridge"), "label");
    const double bytes = double(fs::file_size(path));
    std::printf("store: %lld features, %.1f MB (%.0f bytes per feature), written in %.1f s\n",
                (long long)numFeatures, bytes / 1e6, bytes / double(numFeatures), writeSeconds);
    bench::printResult("feature_store_write_s", writeSeconds, "s");
    bench::printResult("feature_store_mb", bytes / 1e6, "MB");
    bench::printResult("feature_store_bytes_per_feature", bytes / double(numFeatures), "B");

    auto ro = features::FeatureStore::open(path, features::FeatureStore::Mode::kReadOnly);
    check(ro.status(), "open read-only");
    std::uniform_int_distribution<int64_t> anyId(0, numFeatures - 1);
    features::PageRequest req;
    req.sort = features::SortKey::kDensity;
    req.descending = true;
    req.filter.minDensity = 1e-5;
    req.filter.maxDensity = 1e-2;
    req.offset = 1000;
    req.limit = 100;
    int64_t sink = 0;
    auto page = bench::timeRepeated([&] { sink += ro->page(req)->total; }, 3, 31);
    features::PageRequest byMax;
    byMax.sort = features::SortKey::kMaxActivation;
    byMax.filter.aliveOnly = true;
    byMax.offset = 20000;
    byMax.limit = 100;
    auto pageMax = bench::timeRepeated([&] { sink += ro->page(byMax)->total; }, 3, 31);
    features::PageRequest byLabel;
    byLabel.sort = features::SortKey::kLabel;
    byLabel.filter.hasLabel = true;
    auto pageLabel = bench::timeRepeated([&] { sink += ro->page(byLabel)->total; }, 3, 31);
    auto record =
        bench::timeRepeated([&] { sink += ro->feature(anyId(rng))->topExamples.size(); }, 5, 101);
    const char* queries[] = {"golden gate", "New York", "python function", "bridge",
                             "bank loan rate"};
    int q = 0;
    auto search =
        bench::timeRepeated([&] { sink += ro->search(queries[q++ % 5], 50)->size(); }, 5, 51);
    size_t commonHits = 0;
    auto searchCommon =
        bench::timeRepeated([&] { commonHits = ro->search("the", 50)->size(); }, 2, 11);
    int64_t goldenMatches = 0;
    {
        features::PageRequest count;
        count.filter.text = "golden gate";
        count.limit = 0;
        goldenMatches = ro->page(count)->total;
    }
    features::PageRequest textPage;
    textPage.filter.text = "san francisco";
    textPage.sort = features::SortKey::kDensity;
    textPage.descending = true;
    auto textFilter = bench::timeRepeated([&] { sink += ro->page(textPage)->total; }, 3, 21);
    std::printf("page (density, filtered, offset 1000): median %.2f ms (min %.2f, max %.2f)\n",
                page.median * 1e3, page.min * 1e3, page.max * 1e3);
    std::printf("page (max activation, offset 20000):  median %.2f ms\n", pageMax.median * 1e3);
    std::printf("page (labelled, by label):             median %.2f ms\n", pageLabel.median * 1e3);
    std::printf("feature record:                        median %.2f ms (max %.2f)\n",
                record.median * 1e3, record.max * 1e3);
    std::printf("text search (50 hits):                 median %.2f ms (max %.2f)\n",
                search.median * 1e3, search.max * 1e3);
    std::printf("  (\"golden gate\" matches %lld features)\n", (long long)goldenMatches);
    std::printf("text search \"the\" (matches all):      median %.2f ms (%zu hits)\n",
                searchCommon.median * 1e3, commonHits);
    std::printf("page with text filter:                 median %.2f ms\n", textFilter.median * 1e3);
    bench::printResult("search_common_word_ms", searchCommon.median * 1e3, "ms");
    bench::printResult("page_ms", page.median * 1e3, "ms");
    bench::printResult("page_by_max_ms", pageMax.median * 1e3, "ms");
    bench::printResult("page_by_label_ms", pageLabel.median * 1e3, "ms");
    bench::printResult("feature_record_ms", record.median * 1e3, "ms");
    bench::printResult("search_ms", search.median * 1e3, "ms");
    bench::printResult("page_text_filter_ms", textFilter.median * 1e3, "ms");
    if (sink == 42) std::printf(" ");
}

int64_t g_chunkRows = 0;  // --chunk-rows: rows per SAE call (0: AnalysisSpec's default)

// Part 2: analysis pass vs encode-only on the same rows.
void measureAnalysis(const std::string& dir, const acts::ActivationStoreReader& reader,
                     const sae::Sae& sae, const std::string& label);

// A synthetic store of `rows` rows of width d and a ReLU SAE with f features.
void analysisBench(const std::string& dir, int64_t rows, int64_t d, int64_t f) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    std::mt19937_64 rng(2);
    std::normal_distribution<float> normal(0.f, 1.f);
    std::uniform_real_distribution<float> unit(0.f, 1.f);
    acts::StoreIndex header;
    header.hook = "blocks.6.hook_resid_post";
    header.dim = d;
    header.dtype = io::DType::kF16;
    header.contextSize = 128;
    auto writer = acts::ActivationStoreWriter::create(dir + "/acts", header);
    check(writer.status(), "store");
    const int64_t shardRows = 127 * 64;
    std::vector<float> buf;
    std::vector<int32_t> tokens, docs, pos;
    for (int64_t r0 = 0; r0 < rows; r0 += shardRows) {
        const int64_t n = std::min(shardRows, rows - r0);
        buf.resize(n * d);
        for (auto& v : buf) v = normal(rng);
        tokens.resize(n);
        docs.resize(n);
        pos.resize(n);
        for (int64_t r = 0; r < n; ++r) {
            tokens[r] = static_cast<int32_t>((r0 + r) * 7919 % 50257);
            docs[r] = static_cast<int32_t>((r0 + r) / 127);
            pos[r] = static_cast<int32_t>((r0 + r) % 127 + 1);
        }
        writer->append(buf.data(), n, tokens.data(), docs.data(), pos.data());
        check(writer->commit((r0 + n) / 127, r0 + n >= rows), "commit");
    }
    // Sparse codes: h ~ N(0, 1) per feature, biases from -1.5 to -4 give densities
    // from ~7% down to ~0.003% (L0 around 60 of 8192).
    Matrix wEnc(d, f), wDec(f, d);
    for (int64_t i = 0; i < wEnc.size(); ++i) wEnc.data()[i] = normal(rng) / std::sqrt(float(d));
    for (int64_t i = 0; i < wDec.size(); ++i) wDec.data()[i] = normal(rng) / std::sqrt(float(d));
    Vector bEnc(f), bDec = Vector::Zero(d);
    for (int64_t i = 0; i < f; ++i) bEnc(i) = -1.5f - 2.5f * unit(rng);
    sae::SaeConfig cfg;
    cfg.dIn = d;
    cfg.dSae = f;
    auto sae = sae::Sae::create(cfg, wEnc, wDec, bEnc, bDec);
    check(sae.status(), "sae");

    auto reader = acts::ActivationStoreReader::open(dir + "/acts");
    check(reader.status(), "reader");
    measureAnalysis(dir, *reader, *sae, "synthetic_" + std::to_string(d) + "x" + std::to_string(f));
}

void measureAnalysis(const std::string& dir, const acts::ActivationStoreReader& reader,
                     const sae::Sae& sae, const std::string& label) {
    const int64_t rows = reader.index().rows(), d = sae.dIn(), f = sae.dSae();
    features::AnalysisSpec spec;
    if (g_chunkRows > 0) spec.chunkRows = g_chunkRows;
    spec.checkpointSeconds = 1e9;
    // Encode-only: the same rows, in the same chunks, already in memory; dense
    // codes (Sae::encode) and sparse codes (Sae::encodeSparse), and the faster
    // of the two is the reference.
    std::vector<Matrix> shards;
    for (int s = 0; s < reader.numShards(); ++s) shards.push_back(reader.readShard(s)->acts);
    auto forEachChunk = [&](const auto& fn) {
        for (const auto& shard : shards)
            for (int64_t c0 = 0; c0 < shard.rows(); c0 += spec.chunkRows)
                fn(Matrix(shard.middleRows(c0, std::min(spec.chunkRows, shard.rows() - c0))));
    };
    const auto dense = bench::timeRepeated(
        [&] { forEachChunk([&](const Matrix& x) { check(sae.encode(x).status(), "encode"); }); }, 1,
        3);
    int64_t nnz = 0;
    const auto sparse = bench::timeRepeated(
        [&] {
            nnz = 0;
            forEachChunk([&](const Matrix& x) {
                auto codes = sae.encodeSparse(x);
                check(codes.status(), "encodeSparse");
                nnz += static_cast<int64_t>(codes->indices.size());
            });
        },
        1, 3);
    const auto& encode = sparse.median < dense.median ? sparse : dense;
    const double l0 = double(nnz) / double(rows);
    features::AnalysisInputs in;
    in.store = &reader;
    in.sae = &sae;
    std::vector<features::AnalysisSummary> runs;
    auto full = bench::timeRepeated(
        [&] {
            spec.fresh = true;
            auto r = features::analyze(in, spec, dir + "/f.sqlite", Progress{}, StopToken{});
            check(r.status(), "analyze");
            runs.push_back(*r);
        },
        0, 3);
    const double encodeRate = double(rows) / encode.median;
    // The run with the median pass time (each run's pass is timed inside analyze()).
    std::sort(runs.begin(), runs.end(),
              [](const auto& a, const auto& b) { return a.passSeconds < b.passSeconds; });
    const features::AnalysisSummary& summary = runs[runs.size() / 2];
    const double passRate = double(rows) / summary.passSeconds;
    const double fullRate = double(rows) / full.median;
    std::printf("analysis %s: %lld rows, d_in %lld, %lld features (%s), L0 %.1f, %d threads\n",
                label.c_str(), (long long)rows, (long long)d, (long long)f,
                sae::architectureName(sae.config().architecture), l0, omp_get_max_threads());
    std::printf(
        "  encode only      %9.0f rows/s  (median %.2f s; dense codes %.2f s, sparse %.2f s)\n",
        encodeRate, encode.median, dense.median, sparse.median);
    std::printf(
        "  analysis pass    %9.0f rows/s  (%.0f%% of encode-only; pass %.2f s incl. "
        "reading shards, of which encoding and gathering the firings %.2f s)\n",
        passRate, 100 * passRate / encodeRate, summary.passSeconds, summary.encodeSeconds);
    std::printf(
        "  analysis total   %9.0f rows/s  (%.0f%%; %.2f s with neighbours, contexts, "
        "co-firing and the SQLite write)\n",
        fullRate, 100 * fullRate / encodeRate, full.median);
    bench::printResult(label + "_encode_rows_per_s", encodeRate, "rows/s");
    bench::printResult(label + "_analysis_pass_rows_per_s", passRate, "rows/s");
    bench::printResult(label + "_analysis_pass_vs_encode", passRate / encodeRate, "ratio");
    bench::printResult(label + "_analysis_total_rows_per_s", fullRate, "rows/s");
    bench::printResult(label + "_analysis_total_vs_encode", fullRate / encodeRate, "ratio");
}

}  // namespace

int main(int argc, char** argv) {
    const int64_t numFeatures = static_cast<int64_t>(arg(argc, argv, "--features", 32768));
    const int64_t rows = static_cast<int64_t>(arg(argc, argv, "--rows", 32768));
    const int64_t d = static_cast<int64_t>(arg(argc, argv, "--d", 768));
    const int64_t saeFeatures = static_cast<int64_t>(arg(argc, argv, "--sae-features", 8192));
    std::string shapes = argStr(argc, argv, "--shapes");
    if (shapes.empty()) shapes = std::to_string(d) + "x" + std::to_string(saeFeatures);
    g_chunkRows = static_cast<int64_t>(arg(argc, argv, "--chunk-rows", 0));
    const std::string storeDir = argStr(argc, argv, "--store");
    const std::string saeDir = argStr(argc, argv, "--sae");
    std::string dir = argStr(argc, argv, "--keep");
    const bool keep = !dir.empty();
    if (!keep)
        dir = (fs::temp_directory_path() / ("monoscope-bench-features-" + std::to_string(getpid())))
                  .string();
    fs::create_directories(dir);
    std::printf("load average %.2f\n", bench::loadAverage());
    if (numFeatures > 0) queryBench(dir + "/query.sqlite", numFeatures);
    if (!storeDir.empty()) {
        auto reader = acts::ActivationStoreReader::open(storeDir);
        check(reader.status(), "store");
        auto sae = sae::loadSae(saeDir);
        check(sae.status(), "sae");
        const std::string out = dir + "/analysis-real";
        fs::create_directories(out);
        measureAnalysis(out, *reader, *sae, "real");
    } else if (rows > 0) {
        // "768x8192,64x1024": one synthetic store and SAE per shape.
        size_t pos = 0;
        while (pos < shapes.size()) {
            const size_t comma = std::min(shapes.find(',', pos), shapes.size());
            const std::string shape = shapes.substr(pos, comma - pos);
            pos = comma + 1;
            const size_t x = shape.find('x');
            if (x == std::string::npos) continue;
            analysisBench(dir + "/analysis-" + shape, rows, std::atoll(shape.c_str()),
                          std::atoll(shape.c_str() + x + 1));
        }
    }
    std::printf("load average %.2f\n", bench::loadAverage());
    std::error_code ec;
    if (!keep) fs::remove_all(dir, ec);
    return 0;
}
