// LM training throughput of the toy GPT (core/lmtrain): tokens/s of full training
// steps (forward, hand-written backward, gradient clipping, AdamW) on random
// tokens, for the shape of the embedded default model. Compare with
// bench/reference/lm_train_torch.py, which trains the same model with the same
// optimizer, batch and context in PyTorch on the same threads.
//
// usage: bench_lm_train [--threads N] [--steps S] [--vocab V] [--layers L]
//                       [--d-model C] [--heads H] [--ctx T] [--batch B]

#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "bench/bench_common.h"
#include "core/lmtrain/gpt.h"
#include "core/lmtrain/optimizer.h"

using namespace mono;
using namespace mono::lmtrain;

int main(int argc, char** argv) {
    GptShape shape{4096, 128, 128, 4, 4};
    int B = 16, steps = 20, threads = omp_get_max_threads();
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        const int v = std::atoi(argv[i + 1]);
        if (a == "--threads")
            threads = v;
        else if (a == "--steps")
            steps = v;
        else if (a == "--vocab")
            shape.vocab = v;
        else if (a == "--layers")
            shape.layers = v;
        else if (a == "--d-model")
            shape.dModel = v;
        else if (a == "--heads")
            shape.heads = v;
        else if (a == "--ctx")
            shape.ctx = v;
        else if (a == "--batch")
            B = v;
        else {
            std::fprintf(stderr, "unknown option %s\n", a.c_str());
            return 2;
        }
    }
    if (!shape.validate().ok()) {
        std::fprintf(stderr, "%s\n", shape.validate().toString().c_str());
        return 2;
    }
    omp_set_num_threads(threads);
    const int T = shape.ctx;
    Gpt<float> model(shape);
    model.initialize(1);
    AlignedVector<float> m(model.params.size(), 0.0f), v(model.params.size(), 0.0f);
    std::mt19937_64 rng(2);
    std::vector<int32_t> in(static_cast<size_t>(B) * T), tgt(in.size());
    auto step = [&](int t) {
        for (size_t i = 0; i < in.size(); ++i) {
            in[i] = static_cast<int32_t>(rng() % shape.vocab);
            tgt[i] = static_cast<int32_t>(rng() % shape.vocab);
        }
        const float loss = model.forward(in.data(), tgt.data(), B, T);
        model.backward();
        clipGradients(model.grads, 1.0);
        adamwStep(model.layout(), model.params, model.grads, m, v, t, 1e-3, kLmAdamW);
        return loss;
    };
    step(1);  // warm-up: buffers allocated, caches warm
    std::vector<double> seconds;
    for (int s = 0; s < steps; ++s) {
        const double t0 = bench::nowSeconds();
        step(s + 2);
        seconds.push_back(bench::nowSeconds() - t0);
    }
    const bench::Timing t = bench::summarize(seconds);
    std::printf(
        "toy GPT: vocab %d, layers %d, d_model %d, heads %d, ctx %d, batch %d, %lld params, "
        "%d threads\n",
        shape.vocab, shape.layers, shape.dModel, shape.heads, T, B,
        (long long)shape.parameterCount(), threads);
    std::printf("step: median %.1f ms (min %.1f, max %.1f) over %d steps\n", t.median * 1e3,
                t.min * 1e3, t.max * 1e3, t.reps);
    bench::printResult("lm_train_tokens_per_s", B * T / t.median, "tokens/s");
    bench::printResult("lm_train_tokens_per_s_best", B * T / t.min, "tokens/s");
    return 0;
}
