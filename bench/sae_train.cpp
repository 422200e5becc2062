// SAE training throughput: tokens/s and GFLOP/s of full training steps (forward,
// hand-written backward, Adam, decoder constraints) for ReLU/L1 and TopK(k=32)
// at d=768/F=16384 and d=128/F=4096 with batch 4096, beside this machine's f32
// GEMM rate (Eigen, shapes of the encoder GEMM) measured in the same run.
// Compare with bench/reference/sae_train_torch.py.
//
// FLOP conventions: "6dF" counts 6·d·F per token for any step (the usual
// forward + backward estimate, used for the ratio to the GEMM rate); the dense
// ReLU step actually executes five GEMMs (10·d·F); the TopK step one dense GEMM
// (2·d·F) plus sparse work over the k active latents.
//
// usage: bench_sae_train [--quick]

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "core/sae/trainer.h"

using namespace mono;
using namespace mono::sae;
using Clock = std::chrono::steady_clock;

namespace {

double gemmGflops(int64_t m, int64_t k, int64_t n, int reps) {
    Matrix a = Matrix::Random(m, k), b = Matrix::Random(k, n), c(m, n);
    c.noalias() = a * b;  // warm-up
    const auto t0 = Clock::now();
    for (int i = 0; i < reps; ++i) c.noalias() = a * b;
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    return 2.0 * static_cast<double>(m * k * n) * reps / s / 1e9;
}

struct Run {
    double tokensPerSecond = 0;
};

Run trainSteps(int64_t d, int64_t F, Architecture arch, int steps, int64_t batch) {
    std::mt19937_64 rng(1);
    std::normal_distribution<float> normal;
    Matrix data(batch * 2, d);  // [2B, d] activation-like rows
    for (int64_t i = 0; i < data.size(); ++i) data.data()[i] = normal(rng);
    MatrixBatchProvider provider(std::move(data), 3);
    TrainSpec spec;
    spec.architecture = arch;
    spec.dSae = F;
    spec.k = 32;
    spec.l1 = 5.0;
    spec.batchSize = batch;
    spec.totalTokens = batch * (steps + 1);
    spec.lr = 4e-4;
    spec.scaleEstimateBatches = 1;
    spec.reportEverySteps = 1;
    spec.checkpointSeconds = 1e9;
    spec.outDir = (std::filesystem::temp_directory_path() / "monoscope-bench-sae").string();
    Clock::time_point first{}, last{};
    int64_t firstStep = 0, lastStep = 0;
    Progress progress([&](const ProgressUpdate& u) {
        const int64_t s = static_cast<int64_t>(u.metrics.at("step"));
        if (s == 1) {
            first = Clock::now();
            firstStep = s;
        }
        last = Clock::now();
        lastStep = s;
    });
    auto result = trainSae(spec, provider, progress, StopToken());
    std::error_code ec;
    std::filesystem::remove_all(spec.outDir, ec);
    Run r;
    if (!result.ok()) {
        std::fprintf(stderr, "training failed: %s\n", result.status().toString().c_str());
        return r;
    }
    // Step 1 (allocation, first touch) is excluded.
    const double s = std::chrono::duration<double>(last - first).count();
    r.tokensPerSecond = static_cast<double>((lastStep - firstStep) * batch) / s;
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    const int64_t batch = 4096;
    struct Shape {
        int64_t d, F;
        int reluSteps, topkSteps;
    };
    const std::vector<Shape> shapes =
        quick ? std::vector<Shape>{{128, 4096, 4, 4}}
              : std::vector<Shape>{{768, 16384, 4, 8}, {128, 4096, 12, 24}};
    std::printf("SAE training, batch %lld, Eigen %d threads\n", (long long)batch,
                Eigen::nbThreads());
    std::printf("%-6s %-14s %12s %12s %12s %10s %12s\n", "arch", "d x F", "tokens/s", "GFLOP/s 6dF",
                "executed", "GEMM GF/s", "6dF / GEMM");
    for (const Shape& sh : shapes) {
        const double gemm = gemmGflops(batch, sh.d, sh.F, sh.d >= 512 ? 3 : 10);
        for (Architecture arch : {Architecture::kStandard, Architecture::kTopK}) {
            const bool relu = arch == Architecture::kStandard;
            const Run r = trainSteps(sh.d, sh.F, arch, relu ? sh.reluSteps : sh.topkSteps, batch);
            const double dF = static_cast<double>(sh.d * sh.F);
            const double model = 6.0 * dF * r.tokensPerSecond / 1e9;
            const double executed =
                (relu ? 10.0 * dF : 2.0 * dF + 8.0 * 32 * sh.d) * r.tokensPerSecond / 1e9;
            std::printf("%-6s %5lld x %-6lld %12.0f %12.1f %12.1f %10.1f %11.0f%%\n",
                        relu ? "relu" : "topk", (long long)sh.d, (long long)sh.F, r.tokensPerSecond,
                        model, executed, gemm, 100.0 * model / gemm);
            std::fflush(stdout);
        }
    }
    return 0;
}
