// bench_big_model: a real-size checkpoint held bf16-resident — load time,
// peak resident memory against the weight bytes, prefill tokens/s in bf16
// and float32 compute, decode tokens/s against the memory-bandwidth limit,
// all in one process. bench/big_model.sh writes the random Gemma-2-shaped
// checkpoints it runs on and the PyTorch reference beside it.
//
//   bench_big_model MODEL_DIR [--prompt T] [--steps S] [--no-f32] [--no-bandwidth]
//
//   bandwidth  read bandwidth of the machine (bench_common's sum over a 1 GiB
//              buffer, all threads), measured first; the peak-RSS mark is then
//              reset (/proc/self/clear_refs 5), so the buffer does not count
//   load       Model::load with WeightStorage::kBf16: seconds, weight bytes,
//              VmHWM after load
//   prefill    one T-token sequence, logits of its last position (kLast), in
//              bf16 compute (makeCpuBf16Backend) and float32 compute (the
//              bf16 weights converted by tiles); 3 warm-up passes (the
//              backend's thread tuner tries both choices), then the median of 2
//   decode     bf16 compute with a KV cache: a 4-token prompt, then S single
//              tokens; median step → tokens/s; the limit is read bandwidth ÷
//              weight bytes (every linear and the tied unembedding are read
//              once per token)
//   peak       VmHWM at the end against the weight bytes (goal ≤ 1.25×)
//
// Prints `RESULT <name> <value> <unit>` lines and a short table.

#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "core/model/model.h"

namespace {

using mono::bench::nowSeconds;
using mono::bench::printResult;
using namespace mono::model;

struct Options {
    std::string dir;
    int prompt = 64;
    int steps = 12;
    bool f32 = true;
    bool bandwidth = true;
};

// A /proc/self/status value in bytes ("VmHWM:", "VmRSS:").
double statusBytes(const char* key) {
    std::ifstream status("/proc/self/status");
    std::string k;
    while (status >> k) {
        if (k == key) {
            double kb = 0;
            status >> kb;
            return kb * 1024.0;
        }
        status.ignore(1 << 12, '\n');
    }
    return 0;
}

bool resetPeak() {
    std::ofstream f("/proc/self/clear_refs");
    f << "5";
    return bool(f);
}

double gib(double bytes) {
    return bytes / double(1 << 30);
}

std::vector<TokenId> tokens(int n, int vocab) {
    std::vector<TokenId> ids;
    for (int i = 0; i < n; ++i) ids.push_back(TokenId(2 + (i * 7919) % (vocab - 2)));
    return ids;
}

// Median seconds of one kLast forward of `ids`, after 3 warm-up passes.
double prefillSeconds(Model& m, const std::vector<TokenId>& ids) {
    ForwardOptions opt;
    opt.logits = LogitsWanted::kLast;
    Logits out;
    std::vector<double> t;
    for (int i = 0; i < 5; ++i) {
        const double t0 = nowSeconds();
        if (!m.forward(Batch::single(ids), opt, &out).ok()) std::exit(1);
        if (i >= 3) t.push_back(nowSeconds() - t0);
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

// Median seconds of a decode step (greedy), after a 4-token prompt; the first
// 3 steps are the thread tuner's trials and not counted (unless there are no
// others: the 9B run makes one step).
double decodeSeconds(Model& m, int steps) {
    KvCache cache = m.newKvCache(1, 4 + steps);
    ForwardOptions opt;
    opt.logits = LogitsWanted::kLast;
    opt.cache = &cache;
    Logits out;
    if (!m.forward(Batch::single(tokens(4, m.config().vocabSize)), opt, &out).ok()) std::exit(1);
    std::vector<double> t;
    for (int s = 0; s < steps; ++s) {
        const TokenId next =
            TokenId(std::max_element(out.row(0), out.row(0) + out.vocab) - out.row(0));
        const double t0 = nowSeconds();
        if (!m.forward(Batch::single({next}), opt, &out).ok()) std::exit(1);
        if (s >= 3 || steps < 4) t.push_back(nowSeconds() - t0);
    }
    if (t.empty()) return 0;
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

bool parseArgs(int argc, char** argv, Options* o) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--prompt" && i + 1 < argc) {
            o->prompt = std::atoi(argv[++i]);
        } else if (a == "--steps" && i + 1 < argc) {
            o->steps = std::atoi(argv[++i]);
        } else if (a == "--no-f32") {
            o->f32 = false;
        } else if (a == "--no-bandwidth") {
            o->bandwidth = false;
        } else if (o->dir.empty() && a[0] != '-') {
            o->dir = a;
        } else {
            return false;
        }
    }
    return !o->dir.empty() && o->prompt > 0 && o->steps >= 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (!parseArgs(argc, argv, &o)) {
        std::fprintf(stderr,
                     "usage: bench_big_model MODEL_DIR [--prompt T] [--steps S] [--no-f32] "
                     "[--no-bandwidth]\n");
        return 2;
    }
    double readGBs = 0;
    if (o.bandwidth) {
        readGBs = mono::bench::measureBandwidth().read;
        printResult("read_bandwidth", readGBs, "GB/s");
    }
    const bool reset = resetPeak();
    std::printf("threads %d, peak-RSS mark reset: %s\n", omp_get_max_threads(),
                reset ? "yes" : "no (the peak may include the bandwidth buffers)");

    LoadOptions lo;
    lo.storage = WeightStorage::kBf16;
    double t0 = nowSeconds();
    auto loaded = Model::load(o.dir, lo);
    if (!loaded.ok()) {
        std::fprintf(stderr, "%s\n", loaded.status().toString().c_str());
        return 1;
    }
    Model& m = **loaded;
    const double weightBytes = double(m.weightBytes());
    printResult("load_seconds", nowSeconds() - t0, "s");
    printResult("weight_bytes", gib(weightBytes), "GiB");
    printResult("peak_rss_after_load", gib(statusBytes("VmHWM:")), "GiB");

    const auto ids = tokens(o.prompt, m.config().vocabSize);
    auto bf16 = makeCpuBf16Backend();
    if (bf16.ok()) {
        m.setBackend(std::move(*bf16));
        printResult("prefill_bf16", o.prompt / prefillSeconds(m, ids), "tok/s");
        if (o.steps > 0) {
            const double step = decodeSeconds(m, o.steps);
            const double tps = step > 0 ? 1.0 / step : 0;
            printResult("decode_bf16", tps, "tok/s");
            printResult("decode_bytes_per_s", tps * weightBytes / 1e9, "GB/s");
            if (readGBs > 0)
                printResult("decode_of_bandwidth_limit", tps * weightBytes / 1e9 / readGBs,
                            "fraction");
        }
    } else {
        std::printf("bf16 compute unavailable: %s\n", bf16.status().toString().c_str());
    }
    if (o.f32) {
        m.setBackend(makeCpuBackend());
        printResult("prefill_f32", o.prompt / prefillSeconds(m, ids), "tok/s");
    }
    const double peak = statusBytes("VmHWM:");
    printResult("peak_rss", gib(peak), "GiB");
    printResult("peak_rss_over_weights", peak / weightBytes, "ratio");
    return 0;
}
