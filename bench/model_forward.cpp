// bench_model_forward: throughput of the CPU transformer runtime on a
// GPT-2-small-shaped model with random weights (Model::random), next to the
// machine's f32 GEMM rate and memory copy bandwidth measured in the same run.
//
//   prefill  B sequences × T tokens in one forward, logits for every position
//            (kAll; what bench/reference/gpt2_torch_bench.py computes) and
//            without the unembedding (kNone), tokens/s, achieved GFLOP/s and
//            its fraction of the GEMM rate
//   decode   one sequence with a KV cache: a P-token prompt (kLast), then S
//            greedy single-token steps (kLast), tokens/s of the steps, and
//            its fraction of the bandwidth limit
//              max tokens/s = copy bandwidth ÷ bytes of weights read per token
//            (every linear weight and the unembedding matrix, f32)
//   --profile  also times the stages between hook points, in each mode (a callback that only
//            reads the clock at every hook) and prints where a forward spends
//            its time
//   --gemm auto|eigen|openblas  the f32 GEMM library (kernels::sgemm; default
//            its own choice), to time both end to end with one build
//
// Prints `RESULT <name> <value> <unit>` lines (bench/run_model_bench.sh parses
// them) and a readable table. Legend: B batch, T tokens per sequence, C d_model,
// F d_mlp, V vocab, L layers, H heads.

#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "core/model/config.h"
#include "core/model/hook_points.h"
#include "core/model/model.h"

namespace {

using mono::bench::printResult;
using mono::bench::Timing;
using namespace mono::model;

struct Options {
    int batch = 8;
    int seq = 128;
    int prompt = 128;
    int steps = 128;
    int reps = 5;
    bool profile = false;
    bool skipMachine = false;  // no GEMM / bandwidth measurement (quicker runs while profiling)
    bool f32Only = false;      // skip the bf16 compute mode
};

bool parseArgs(int argc, char** argv, Options* o) {
    for (int i = 1; i < argc; ++i) {
        auto intArg = [&](int* out) {
            if (i + 1 >= argc) return false;
            *out = std::atoi(argv[++i]);
            return *out > 0;
        };
        const char* a = argv[i];
        bool ok = true;
        if (!std::strcmp(a, "--batch"))
            ok = intArg(&o->batch);
        else if (!std::strcmp(a, "--seq"))
            ok = intArg(&o->seq);
        else if (!std::strcmp(a, "--prompt"))
            ok = intArg(&o->prompt);
        else if (!std::strcmp(a, "--steps"))
            ok = intArg(&o->steps);
        else if (!std::strcmp(a, "--reps"))
            ok = intArg(&o->reps);
        else if (!std::strcmp(a, "--profile"))
            o->profile = true;
        else if (!std::strcmp(a, "--f32-only"))
            o->f32Only = true;
        else if (!std::strcmp(a, "--gemm"))
            ok = i + 1 < argc && mono::bench::useGemmLibrary(argv[++i]);
        else if (!std::strcmp(a, "--skip-machine"))
            o->skipMachine = true;
        else
            ok = false;
        if (!ok) {
            std::fprintf(stderr,
                         "usage: bench_model_forward [--batch B] [--seq T] [--prompt P] "
                         "[--steps S] [--reps N] [--profile] [--skip-machine] [--f32-only] "
                         "[--gemm auto|eigen|openblas]\n");
            return false;
        }
    }
    return true;
}

// Weights of all linears of the blocks (qkv, attention out, MLP up and down).
int64_t blockLinearParams(const ModelConfig& c) {
    const int64_t C = c.dModel, hd = c.headDim;
    const int64_t up = c.activation == Activation::kSilu ? 2 * int64_t(c.dMlp) : c.dMlp;
    const int64_t qkv = (c.nHeads + 2 * int64_t(c.nKvHeads)) * hd * C;
    return int64_t(c.nLayers) * (qkv + int64_t(c.nHeads) * hd * C + up * C + c.dMlp * C);
}

// FLOPs of a prefill of `batch` sequences of `seq` tokens: 2 per multiply-add.
struct PrefillFlops {
    double linears = 0;    // 2 · block linear params · tokens
    double attention = 0;  // scores q·k and weighted sum of v, causal pairs only
    double unembed = 0;    // 2 · V · C · tokens (kAll)
};

PrefillFlops prefillFlops(const ModelConfig& c, int batch, int seq) {
    const double tokens = double(batch) * seq;
    const double pairs = double(batch) * seq * (seq + 1) / 2.0;  // (query, key) with key ≤ query
    PrefillFlops f;
    f.linears = 2.0 * double(blockLinearParams(c)) * tokens;
    f.attention = 2.0 * 2.0 * pairs * double(c.nHeads) * c.headDim * c.nLayers;
    f.unembed = 2.0 * double(c.vocabSize) * c.dModel * tokens;
    return f;
}

// Bytes of weights one decode step reads: block linears and the unembedding, f32.
double decodeWeightBytes(const ModelConfig& c) {
    return 4.0 * (double(blockLinearParams(c)) + double(c.vocabSize) * c.dModel);
}

TokenId argmax(const float* logits, int64_t vocab) {
    return TokenId(std::max_element(logits, logits + vocab) - logits);
}

std::vector<TokenId> randomTokens(std::mt19937& rng, int n, int vocab) {
    std::uniform_int_distribution<TokenId> dist(0, vocab - 1);
    std::vector<TokenId> out(n);
    for (auto& t : out) t = dist(rng);
    return out;
}

void check(const mono::Status& s, const char* what) {
    if (s.ok()) return;
    std::fprintf(stderr, "bench_model_forward: %s: %s\n", what, s.toString().c_str());
    std::exit(1);
}

// ---- decode ----------------------------------------------------------------

struct DecodeTiming {
    Timing prompt;  // seconds per prompt forward
    Timing steps;   // seconds for all single-token steps
};

// One sequence: the prompt with kLast, then `steps` greedy single-token steps.
DecodeTiming timeDecode(Model& model, const std::vector<TokenId>& prompt, int steps, int reps,
                        const Hooks* hooks = nullptr) {
    KvCache cache = model.newKvCache(1, int(prompt.size()) + steps);
    ForwardOptions opt;
    opt.logits = LogitsWanted::kLast;
    opt.cache = &cache;
    opt.hooks = hooks;
    Logits out;
    Batch batch;
    std::vector<double> promptSeconds, stepSeconds;
    for (int rep = 0; rep <= reps; ++rep) {  // rep 0 is a warm-up
        cache.resetAll();
        batch = Batch::single(prompt);
        const double t0 = mono::bench::nowSeconds();
        check(model.forward(batch, opt, &out), "decode prompt");
        const double t1 = mono::bench::nowSeconds();
        TokenId next = argmax(out.row(0), out.vocab);
        for (int s = 0; s < steps; ++s) {
            batch.clear();
            batch.add(&next, 1);
            check(model.forward(batch, opt, &out), "decode step");
            next = argmax(out.row(0), out.vocab);
        }
        const double t2 = mono::bench::nowSeconds();
        if (rep > 0) {
            promptSeconds.push_back(t1 - t0);
            stepSeconds.push_back(t2 - t1);
        }
    }
    return {mono::bench::summarize(promptSeconds), mono::bench::summarize(stepSeconds)};
}

// ---- profile: time between consecutive hook points ---------------------------

// Reads the clock at every hook point of the model and adds the time since the
// previous point to the stage that ends there ("blocks.L." stripped, so the
// layers add up). The stage "(unembedding)" runs from ln_final to the return.
class StageClock {
public:
    explicit StageClock(const ModelConfig& config) {
        for (const std::string& name : listHookNames(config)) {
            m_hooks.add(name, [this](const HookContext& ctx, ActivationBlock) {
                const double now = mono::bench::nowSeconds();
                addStage(stageName(ctx.name), now - m_last);
                m_last = mono::bench::nowSeconds();  // exclude the bookkeeping
            });
        }
    }
    const Hooks& hooks() const { return m_hooks; }
    void start() { m_last = mono::bench::nowSeconds(); }
    void finish() { addStage("(unembedding, logits)", mono::bench::nowSeconds() - m_last); }
    void clear() {
        m_seconds.clear();
        m_order.clear();
    }

    void print(const char* title, int passes) const {
        double total = 0;
        for (const auto& [name, s] : m_seconds) total += s;
        std::printf("\n%s: %.2f ms per forward, by the stage that ends at each hook\n", title,
                    1e3 * total / passes);
        for (const std::string& name : m_order) {
            const double s = m_seconds.at(name);
            std::printf("  %-34s %9.3f ms  %5.1f%%  %s\n", name.c_str(), 1e3 * s / passes,
                        100 * s / total, describe(name));
        }
    }

private:
    static std::string stageName(std::string_view hook) {
        if (hook.rfind("blocks.", 0) == 0) {
            const size_t dot = hook.find('.', 7);
            return std::string(hook.substr(dot + 1));
        }
        return std::string(hook);
    }
    static const char* describe(const std::string& stage) {
        static const std::map<std::string, const char*> kWhat = {
            {"hook_resid_pre", "embedding (layer 0), hand-over between blocks"},
            {"attn.c_attn", "ln_1"},
            {"attn.c_proj", "qkv linear + attention (scores, softmax, ·V)"},
            {"hook_attn_out", "attention out projection"},
            {"hook_resid_mid", "residual add"},
            {"mlp.c_fc", "ln_2"},
            {"mlp.hook_post", "MLP up linear + GELU"},
            {"mlp.c_proj", "(same buffer as mlp.hook_post)"},
            {"hook_mlp_out", "MLP down linear"},
            {"hook_resid_post", "residual add"},
            {"ln_final.hook_normalized", "final LayerNorm"},
            {"(unembedding, logits)", "unembedding and copy-out of the logits"},
        };
        auto it = kWhat.find(stage);
        return it == kWhat.end() ? "" : it->second;
    }
    void addStage(const std::string& name, double seconds) {
        auto [it, inserted] = m_seconds.try_emplace(name, 0.0);
        if (inserted) m_order.push_back(name);
        it->second += seconds;
    }

    Hooks m_hooks;
    double m_last = 0;
    std::map<std::string, double> m_seconds;
    std::vector<std::string> m_order;  // stages in the order first seen
};

void profile(Model& model, const Batch& prefill, const std::vector<TokenId>& prompt,
             const Options& o, const std::string& mode) {
    const ModelConfig& c = model.config();
    StageClock clock(c);
    ForwardOptions opt;
    opt.hooks = &clock.hooks();
    opt.logits = LogitsWanted::kAll;
    Logits out;
    const int passes = 3;
    for (int i = 0; i <= passes; ++i) {
        if (i == 1) clock.clear();  // the first pass is a warm-up
        clock.start();
        check(model.forward(prefill, opt, &out), "profile prefill");
        clock.finish();
    }
    clock.print((mode + " prefill profile (kAll, hooks on every point)").c_str(), passes);

    KvCache cache = model.newKvCache(1, int(prompt.size()) + o.steps);
    opt.cache = &cache;
    opt.logits = LogitsWanted::kLast;
    check(model.forward(Batch::single(prompt), opt, &out), "profile prompt");
    clock.clear();
    TokenId next = argmax(out.row(0), out.vocab);
    Batch step;
    for (int s = 0; s < o.steps; ++s) {
        step.clear();
        step.add(&next, 1);
        clock.start();
        check(model.forward(step, opt, &out), "profile decode step");
        clock.finish();
        next = argmax(out.row(0), out.vocab);
    }
    clock.print((mode + " decode-step profile (kLast, KV cache, hooks on every point)").c_str(),
                o.steps);
    std::printf("  weights read per step: %.1f MB\n", decodeWeightBytes(c) / 1e6);
}

// ---- prefill and decode of one compute mode ----------------------------------
struct Measured {
    bool valid = false;
    double prefillAll = 0, prefillNone = 0, gflopsAll = 0, prompt = 0, decode = 0, limit = 0;
    double spreadAll = 0, spreadNone = 0, spreadPrompt = 0, spreadDecode = 0;
};

// Prints RESULT lines named `prefix` + the f32 names.
Measured measure(Model& model, const Batch& prefill, const PrefillFlops& flops, std::mt19937 rng,
                 const Options& o, double copyGBps, double gemmGflops, const std::string& prefix) {
    const ModelConfig& config = model.config();
    const double prefillTokens = double(prefill.numTokens());
    auto result = [&](const std::string& name, double v, const char* unit) {
        printResult((prefix + name).c_str(), v, unit);
    };
    Logits out;
    ForwardOptions all;
    all.logits = LogitsWanted::kAll;
    const Timing tAll = mono::bench::timeRepeated(
        [&] { check(model.forward(prefill, all, &out), "prefill kAll"); }, 1, o.reps);
    ForwardOptions none;
    none.logits = LogitsWanted::kNone;
    none.stopAfterLastHook = false;
    const Timing tNone = mono::bench::timeRepeated(
        [&] { check(model.forward(prefill, none, nullptr), "prefill kNone"); }, 1, o.reps);

    Measured m;
    m.valid = true;
    m.prefillAll = prefillTokens / tAll.median;
    m.prefillNone = prefillTokens / tNone.median;
    m.gflopsAll = (flops.linears + flops.attention + flops.unembed) / tAll.median / 1e9;
    const double gflopsNone = (flops.linears + flops.attention) / tNone.median / 1e9;
    m.spreadAll = tAll.spread();
    m.spreadNone = tNone.spread();
    result("prefill_logits_tok_per_s", m.prefillAll, "tok/s");
    result("prefill_nologits_tok_per_s", m.prefillNone, "tok/s");
    result("prefill_logits_gflops", m.gflopsAll, "GFLOP/s");
    result("prefill_nologits_gflops", gflopsNone, "GFLOP/s");
    if (gemmGflops > 0) {
        result("prefill_logits_gemm_fraction", m.gflopsAll / gemmGflops, "ratio");
        result("prefill_nologits_gemm_fraction", gflopsNone / gemmGflops, "ratio");
    }

    const std::vector<TokenId> prompt = randomTokens(rng, o.prompt, config.vocabSize);
    const DecodeTiming dec = timeDecode(model, prompt, o.steps, std::max(1, o.reps - 2));
    m.prompt = o.prompt / dec.prompt.median;
    m.decode = o.steps / dec.steps.median;
    m.spreadPrompt = dec.prompt.spread();
    m.spreadDecode = dec.steps.spread();
    // bf16 weights are half the bytes per decode step.
    const double weightBytes = decodeWeightBytes(config) / (prefix.empty() ? 1.0 : 2.0);
    result("prompt_tok_per_s", m.prompt, "tok/s");
    result("decode_tok_per_s", m.decode, "tok/s");
    result("decode_weight_bytes", weightBytes, "B");
    if (copyGBps > 0) {
        m.limit = copyGBps * 1e9 / weightBytes;
        result("decode_bandwidth_limit_tok_per_s", m.limit, "tok/s");
        result("decode_bandwidth_fraction", m.decode / m.limit, "ratio");
    }
    return m;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (!parseArgs(argc, argv, &o)) return 2;
    std::printf("bench_model_forward: threads %d (OpenMP), Eigen %d, load average %.2f\n",
                omp_get_max_threads(), Eigen::nbThreads(), mono::bench::loadAverage());

    // ---- the machine, measured first (the model is not allocated yet)
    mono::bench::GemmReport gemm;
    mono::bench::BandwidthReport bw;
    if (!o.skipMachine) {
        gemm = mono::bench::measureGemm();
        for (const auto& s : gemm.shapes)
            std::printf("gemm %dx%dx%d: %.1f GFLOP/s (spread %.0f%%)\n", s.shape.m, s.shape.k,
                        s.shape.n, s.gflops, 100 * s.timing.spread());
        printResult("gemm_gflops", gemm.best, "GFLOP/s");
        bw = mono::bench::measureBandwidth();
        std::printf(
            "bandwidth over %.0f MiB buffers: copy %.1f GB/s (spread %.0f%%), read %.1f GB/s\n",
            bw.bytes / 1048576.0, bw.copy, 100 * bw.copyTiming.spread(), bw.read);
        printResult("copy_gbps", bw.copy, "GB/s");
        printResult("read_gbps", bw.read, "GB/s");
    }

    // ---- the model
    const ModelConfig config = gpt2SmallConfig();
    const double t0 = mono::bench::nowSeconds();
    auto created = Model::random(config, /*seed=*/0);
    check(created.status(), "Model::random");
    Model& model = **created;
    std::printf("model: %s, %lld parameters, random weights in %.1f s, backend %s\n",
                config.name.c_str(), static_cast<long long>(config.parameterCount()),
                mono::bench::nowSeconds() - t0, model.backend().name());

    std::mt19937 rng(1);
    Batch prefill;
    for (int i = 0; i < o.batch; ++i) {
        const std::vector<TokenId> seq = randomTokens(rng, o.seq, config.vocabSize);
        prefill.add(seq.data(), int64_t(seq.size()));
    }
    const PrefillFlops flops = prefillFlops(config, o.batch, o.seq);

    const Measured f32 = measure(model, prefill, flops, rng, o, bw.copy, gemm.best, "");
    Measured bf16;
    auto bf16Backend = makeCpuBf16Backend();
    if (bf16Backend.ok() && !o.f32Only) {
        // Same weights, rounded to bf16 when first used; same inputs.
        model.setBackend(std::move(*bf16Backend));
        bf16 = measure(model, prefill, flops, rng, o, bw.copy, gemm.best, "bf16_");
        if (o.profile)
            profile(model, prefill, randomTokens(rng, o.prompt, config.vocabSize), o, "bf16");
        model.setBackend(makeCpuBackend());
    } else if (!o.f32Only) {
        std::printf("bf16: %s\n", bf16Backend.status().toString().c_str());
    }

    // ---- the readable table
    std::printf("\n%-44s %12s %10s %8s\n", "metric", "value", "unit", "spread");
    auto row = [](const std::string& name, double v, const char* unit, double spread) {
        std::printf("%-44s %12.1f %10s %7.0f%%\n", name.c_str(), v, unit, 100 * spread);
    };
    const std::string shape = std::to_string(o.batch) + "x" + std::to_string(o.seq);
    std::printf("%-44s %12.3f %10s\n", "prefill GFLOP (kAll = linears+attn+unembed)",
                (flops.linears + flops.attention + flops.unembed) / 1e9, "GFLOP");
    for (const Measured* m : {&f32, static_cast<const Measured*>(&bf16)}) {
        if (!m->valid) continue;
        const std::string p = m == &bf16 ? "bf16 " : "";
        row(p + "prefill " + shape + ", logits all positions (kAll)", m->prefillAll, "tok/s",
            m->spreadAll);
        row(p + "prefill " + shape + ", no unembedding (kNone)", m->prefillNone, "tok/s",
            m->spreadNone);
        row(p + "prefill kAll achieved", m->gflopsAll, "GFLOP/s", m->spreadAll);
        row(p + "prompt " + std::to_string(o.prompt) + " tokens (kLast, cache)", m->prompt, "tok/s",
            m->spreadPrompt);
        row(p + "decode " + std::to_string(o.steps) + " steps (kLast, cache)", m->decode, "tok/s",
            m->spreadDecode);
        if (!o.skipMachine) {
            row(p + "decode bandwidth limit", m->limit, "tok/s", 0);
            std::printf("%-44s %11.1f%%\n", (p + "prefill kAll / f32 GEMM rate").c_str(),
                        100 * m->gflopsAll / gemm.best);
            std::printf("%-44s %11.1f%%\n", (p + "decode / bandwidth limit").c_str(),
                        100 * m->decode / m->limit);
        }
    }
    if (!o.skipMachine) {
        row("f32 GEMM rate (sgemm, best shape)", gemm.best, "GFLOP/s", 0);
        row("copy bandwidth (read+write)", bw.copy, "GB/s", bw.copyTiming.spread());
    }
    std::printf(
        "(spread = (max - min) / median over %d prefill and %d decode repetitions; "
        "load average now %.2f)\n",
        o.reps, std::max(1, o.reps - 2), mono::bench::loadAverage());

    if (o.profile) profile(model, prefill, randomTokens(rng, o.prompt, config.vocabSize), o, "f32");
    return 0;
}
