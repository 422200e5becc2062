// Capture throughput against the model's bare forward pass over the same
// windows (issue goal: capture ≥ 80% of bare forward). Both run the model up to
// the same hook with no unembedding; capture adds tokenization, the copy of the
// hook's rows, f16 conversion and the shard writes.
//
// Model: GPT-2-shaped, random weights, 6 layers × d 512 (8 heads, d_mlp 2048),
// the GPT-2 tokenizer from ../shared/tokenizers/gpt2, hook blocks.3.hook_resid_post.
// Corpus: the licence texts every Debian machine has (/usr/share/common-licenses).
//
//   bench_capture_throughput [--tokens N] [--shared DIR]

#include <filesystem>
#include <fstream>
#include <string>

#include "bench/bench_common.h"
#include "core/acts/capture.h"
#include "core/acts/window_stream.h"
#include "core/model/model.h"
#include "core/tokenizer/tokenizer.h"

using namespace mono;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
    int64_t tokens = 65536;
    std::string shared = std::string(MONO_SOURCE_DIR) + "/../shared";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--tokens")
            tokens = std::stoll(argv[i + 1]);
        else if (a == "--shared")
            shared = argv[i + 1];
    }
    auto tokenizer = tok::loadTokenizer(shared + "/tokenizers/gpt2");
    if (!tokenizer.ok()) {
        std::fprintf(stderr, "%s\n", tokenizer.status().toString().c_str());
        return 1;
    }
    model::ModelConfig cfg = model::gpt2SmallConfig();
    cfg.nLayers = 6;
    cfg.dModel = 512;
    cfg.nHeads = cfg.nKvHeads = 8;
    cfg.headDim = 64;
    cfg.dMlp = 2048;
    auto model = model::Model::random(cfg, 1);
    if (!model.ok()) {
        std::fprintf(stderr, "%s\n", model.status().toString().c_str());
        return 1;
    }

    const fs::path dir = fs::temp_directory_path() / "monoscope-bench-capture";
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path corpus = dir / "corpus.txt";
    {
        std::ofstream out(corpus, std::ios::binary);
        for (int pass = 0; pass < 4; ++pass)  // enough text for the token budget
            for (const auto& e : fs::directory_iterator("/usr/share/common-licenses"))
                if (e.is_regular_file())
                    out << std::ifstream(e.path(), std::ios::binary).rdbuf() << "\n<|endoftext|>\n";
    }
    const std::string hook = "blocks.3.hook_resid_post";
    const int ctx = 128, batchWindows = 16;

    // Bare forward over the same windows (pre-tokenized, so tokenization is not timed).
    auto reader = io::CorpusReader::open({corpus.string()});
    acts::WindowStream stream(std::move(*reader), **tokenizer, ctx, (*tokenizer)->bos());
    std::vector<model::Batch> batches;
    int64_t windows = 0;
    const int64_t targetWindows = tokens / (ctx - 1);
    acts::Window w;
    while (windows < targetWindows) {
        model::Batch b;
        for (int i = 0; i < batchWindows && windows < targetWindows; ++i, ++windows) {
            auto more = stream.next(w);
            if (!more.ok() || !*more) {
                std::fprintf(stderr, "corpus too short\n");
                return 1;
            }
            b.add(w.tokens.data(), ctx);
        }
        batches.push_back(std::move(b));
    }
    model::Hooks hooks;
    hooks.add(hook, [](const model::HookContext&, model::ActivationBlock) {});
    model::ForwardOptions options;
    options.logits = model::LogitsWanted::kNone;
    options.hooks = &hooks;
    const auto bare = bench::timeRepeated(
        [&] {
            for (const auto& b : batches)
                if (!(*model)->forward(b, options, nullptr).ok()) std::abort();
        },
        1, 3);
    const double bareRate = double(windows * ctx) / bare.median;

    acts::CaptureSpec spec;
    spec.corpus = {corpus.string()};
    spec.hooks = {hook};
    spec.tokens = windows * (ctx - 1);
    spec.contextSize = ctx;
    spec.batchWindows = batchWindows;
    spec.shardRows = 16384;
    spec.resume = false;
    spec.outDirs = {(dir / "store").string()};
    const auto cap = bench::timeRepeated(
        [&] {
            auto s = acts::capture(**model, **tokenizer, spec);
            if (!s.ok()) {
                std::fprintf(stderr, "%s\n", s.status().toString().c_str());
                std::abort();
            }
        },
        0, 3);
    const double captureRate = double(windows * ctx) / cap.median;
    std::printf(
        "model: GPT-2 shape, 6 layers, d 512; hook %s; %lld windows of %d tokens; load %.1f\n",
        hook.c_str(), (long long)windows, ctx, bench::loadAverage());
    std::printf("bare forward to the hook  %10.0f tokens/s  (spread %.0f%%)\n", bareRate,
                100 * bare.spread());
    std::printf("capture (f16 store)       %10.0f tokens/s  (spread %.0f%%)\n", captureRate,
                100 * cap.spread());
    std::printf("capture / bare            %10.2f  (goal >= 0.80)\n", captureRate / bareRate);
    bench::printResult("bare_forward_tokens_per_s", bareRate, "tok/s");
    bench::printResult("capture_tokens_per_s", captureRate, "tok/s");
    bench::printResult("capture_over_bare", captureRate / bareRate, "ratio");
    fs::remove_all(dir);
    return 0;
}
