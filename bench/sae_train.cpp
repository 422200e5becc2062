// SAE training throughput: tokens/s and GFLOP/s of full training steps (forward,
// hand-written backward, Adam, decoder constraints) for ReLU/L1 and TopK(k=32)
// at d=768/F=16384 and d=128/F=4096 with batch 4096, beside this machine's f32
// GEMM rate (kernels::sgemm, shapes of the encoder GEMM) measured in the same run.
// Compare with bench/reference/sae_train_torch.py.
//
// FLOP conventions: "6dF" counts 6·d·F per token for any step (the usual
// forward + backward estimate, used for the ratio to the GEMM rate); the dense
// ReLU step actually executes five GEMMs (10·d·F); the TopK step one dense GEMM
// (2·d·F) plus sparse work over the k active latents.
//
// A ReLU SAE in training is dense only at first: once fewer than 5% of the
// latents fire (StepSettings::sparseDensity) the step takes the sparse path,
// which is where a long run spends most of its steps. "relu trained-like"
// times that path: the same initialisation with b_enc lowered until about 2%
// of the latents fire on the batch (L0 ≈ 0.02·F), timing lossAndGradient plus
// the trainer's Adam update (core/train) at a fixed step size (no batch fetch,
// no schedule, no dead-latent bookkeeping). Its 6dF rate is the
// dense-equivalent rate, as for TopK.
//
// bf16 rows train with StepSettings::bf16 (every GEMM on bf16 operands with
// float32 sums) and are set against the bf16 GEMM rate (the same kernel at the
// encoder's shape) measured in the same run.
//
// usage: bench_sae_train [--quick] [--precision f32|bf16] [--gemm auto|eigen|openblas]
//        (precision default: both; --gemm: the f32 GEMM library, bench_common.h)

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "bench/bench_common.h"
#include "core/kernels/bf16_gemm.h"
#include "core/sae/train_step.h"
#include "core/sae/trainer.h"
#include "core/train/adam.h"

using namespace mono;
using namespace mono::sae;
using namespace mono::acts;
using Clock = std::chrono::steady_clock;

namespace {

double gemmGflops(int64_t m, int64_t k, int64_t n, int reps) {
    Matrix a = Matrix::Random(m, k), b = Matrix::Random(k, n), c(m, n);
    kernels::gemm(a, kernels::Op::kN, b, kernels::Op::kN, c);  // warm-up
    const auto t0 = Clock::now();
    for (int i = 0; i < reps; ++i) kernels::gemm(a, kernels::Op::kN, b, kernels::Op::kN, c);
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    return 2.0 * static_cast<double>(m * k * n) * reps / s / 1e9;
}

// The bf16 kernel at the same shape: [m, k] rows against a packed [n, k] weight.
double bf16GemmGflops(int64_t m, int64_t k, int64_t n, int reps) {
    Matrix a = Matrix::Random(m, k), w = Matrix::Random(n, k), c(m, n);
    const auto packed = kernels::packBf16(w.data(), n, k);
    kernels::linearBf16(a.data(), k, m, packed, nullptr, c.data(), n);  // warm-up
    const auto t0 = Clock::now();
    for (int i = 0; i < reps; ++i)
        kernels::linearBf16(a.data(), k, m, packed, nullptr, c.data(), n);
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    return 2.0 * static_cast<double>(m * k * n) * reps / s / 1e9;
}

struct Run {
    double tokensPerSecond = 0;
};

Run trainSteps(int64_t d, int64_t F, Architecture arch, int steps, int64_t batch, bool bf16) {
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
    spec.bf16 = bf16;
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

// Steps/s of the ReLU step in a trained-like sparse state (see the top).
struct SparseRun {
    double tokensPerSecond = 0, l0 = 0;
    bool sparsePath = false;
};
SparseRun trainedReluSteps(int64_t d, int64_t F, int steps, int64_t batch, bool bf16) {
    std::mt19937_64 rng(1);
    std::normal_distribution<float> normal;
    Matrix x(batch, d);  // [B, d], scaled so that E||x|| ≈ sqrt(d)
    for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = normal(rng);
    TrainParams p;
    p.wDec.resize(F, d);
    for (int64_t i = 0; i < p.wDec.size(); ++i) p.wDec.data()[i] = normal(rng);
    p.wDec.rowwise().normalize();
    p.wDec *= 0.1f;
    p.wEncT = p.wDec;
    p.bDec = x.colwise().mean();
    // b_enc: minus the 98th percentile of the pre-activations, so ~2% fire.
    Matrix h = (x.rowwise() - p.bDec) * p.wEncT.transpose();  // [B, F]
    std::vector<float> all(h.data(), h.data() + h.size());
    std::nth_element(all.begin(), all.begin() + all.size() * 98 / 100, all.end());
    p.bEnc = Vector::Constant(F, -all[all.size() * 98 / 100]);
    TrainParams grad, m, v;
    for (TrainParams* t : {&grad, &m, &v}) {
        t->resizeLike(p);
        t->setZero();
    }
    StepSettings s;
    s.l1 = 5.0;
    s.bf16 = bf16;
    StepBuffers buf;
    // The trainer's Adam at a fixed, tiny step size: the state stays sparse
    // over the timed steps.
    const train::AdamStep adamStep{.beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .stepSize = 1e-5f};
    SparseRun r;
    Clock::time_point t0;
    for (int step = 0; step <= steps; ++step) {
        if (step == 1) t0 = Clock::now();  // step 0 (allocation, first touch) is excluded
        const StepStats st = lossAndGradient(p, x, s, {}, &grad, buf);
        r.l0 = st.l0;
        r.sparsePath = st.sparsePath;
        const auto ps = p.tensors(), gs = grad.tensors(), ms = m.tensors(), vs = v.tensors();
        for (size_t i = 0; i < ps.size(); ++i)
            train::adamUpdate(adamStep, ps[i], gs[i], ms[i], vs[i]);
    }
    const double sec = std::chrono::duration<double>(Clock::now() - t0).count();
    r.tokensPerSecond = static_cast<double>(steps * batch) / sec;
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    bool quick = false;
    std::vector<bool> precisions{false, true};  // bf16?
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (std::strcmp(argv[i], "--precision") == 0 && i + 1 < argc) {
            const std::string p = argv[++i];
            if (p != "f32" && p != "bf16") {
                std::fprintf(stderr, "--precision must be f32 or bf16\n");
                return 2;
            }
            precisions = {p == "bf16"};
        } else if (std::strcmp(argv[i], "--gemm") == 0 && i + 1 < argc) {
            if (!bench::useGemmLibrary(argv[++i])) {
                std::fprintf(stderr, "--gemm must be auto, eigen or openblas\n");
                return 2;
            }
        } else {
            std::fprintf(stderr,
                         "usage: bench_sae_train [--quick] [--precision f32|bf16] "
                         "[--gemm auto|eigen|openblas]\n");
            return 2;
        }
    }
    if (!kernels::bf16Supported()) {
        if (precisions == std::vector<bool>{true}) {
            std::fprintf(stderr, "this CPU has no AVX-512 BF16: no bf16 rows\n");
            return 1;
        }
        precisions = {false};
    }
    const int64_t batch = 4096;
    struct Shape {
        int64_t d, F;
        int reluSteps, topkSteps;
    };
    const std::vector<Shape> shapes =
        quick ? std::vector<Shape>{{128, 4096, 4, 4}}
              : std::vector<Shape>{{768, 16384, 4, 8}, {128, 4096, 12, 24}};
    std::printf("SAE training, batch %lld, %d threads, f32 GEMM %s\n", (long long)batch,
                Eigen::nbThreads(), kernels::gemmLibraryName(kernels::gemmLibrary()));
    std::printf("%-6s %-5s %-14s %12s %12s %12s %10s %12s\n", "arch", "prec", "d x F", "tokens/s",
                "GFLOP/s 6dF", "executed", "GEMM GF/s", "6dF / GEMM");
    for (const Shape& sh : shapes) {
        const int reps = sh.d >= 512 ? 3 : 10;
        for (const bool bf16 : precisions) {
            // The GEMM rate of the same precision, at the encoder's shape.
            const double gemm = bf16 ? bf16GemmGflops(batch, sh.d, sh.F, reps)
                                     : gemmGflops(batch, sh.d, sh.F, reps);
            const char* prec = bf16 ? "bf16" : "f32";
            for (Architecture arch : {Architecture::kStandard, Architecture::kTopK}) {
                const bool relu = arch == Architecture::kStandard;
                const Run r =
                    trainSteps(sh.d, sh.F, arch, relu ? sh.reluSteps : sh.topkSteps, batch, bf16);
                const double dF = static_cast<double>(sh.d * sh.F);
                const double model = 6.0 * dF * r.tokensPerSecond / 1e9;
                const double executed =
                    (relu ? 10.0 * dF : 2.0 * dF + 8.0 * 32 * sh.d) * r.tokensPerSecond / 1e9;
                std::printf("%-6s %-5s %5lld x %-6lld %12.0f %12.1f %12.1f %10.1f %11.0f%%\n",
                            relu ? "relu" : "topk", prec, (long long)sh.d, (long long)sh.F,
                            r.tokensPerSecond, model, executed, gemm, 100.0 * model / gemm);
                std::fflush(stdout);
            }
            const SparseRun sr = trainedReluSteps(sh.d, sh.F, sh.reluSteps, batch, bf16);
            const double model = 6.0 * static_cast<double>(sh.d * sh.F) * sr.tokensPerSecond / 1e9;
            std::printf(
                "%-6s %-5s %5lld x %-6lld %12.0f %12.1f %12s %10.1f %11.0f%%  trained-like: L0 "
                "%.0f, %s path\n",
                "relu*", prec, (long long)sh.d, (long long)sh.F, sr.tokensPerSecond, model, "-",
                gemm, 100.0 * model / gemm, sr.l0, sr.sparsePath ? "sparse" : "dense");
            std::fflush(stdout);
        }
    }
    return 0;
}
