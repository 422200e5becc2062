// SAE training steps on CUDA (gpu/sae_step_cuda.*): tokens/s per configuration
// (d = 768/2304, F = 16k/131k, TopK and ReLU, batch 4096, float32 with TF32
// off) and cuBLAS' own f32 GEMM rate at each encoder shape [4096, d] x [d, F],
// as RESULT lines for bench/gpu_check.sh. A step is what the trainer does:
// loss and gradient of an uploaded batch, the fired counts and loss back on the
// host, the Adam update and the finiteness check. No dead latents, as in the
// PyTorch reference (bench/reference/sae_train_torch_cuda.py).
//
//   bench_gpu_sae_train [--quick] [--device N]

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "bench/bench_common.h"
#include "gpu/backends.h"
#include "gpu/device_info.h"

using namespace mono;

namespace {

constexpr int64_t kBatch = 4096;

sae::TrainParams randomParams(int64_t D, int64_t F, bool unitRows, std::mt19937_64& rng) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    sae::TrainParams p;
    p.wDec.resize(F, D);
    for (int64_t i = 0; i < p.wDec.size(); ++i) p.wDec.data()[i] = normal(rng);
    p.wDec.rowwise().normalize();
    if (!unitRows) p.wDec *= 0.1f;
    p.wEncT = p.wDec;
    p.bEnc = Vector::Zero(F);
    p.bDec = Vector::Zero(D);
    return p;
}

// tokens/s of one configuration (median over timed steps), or a negative
// value after printing why it could not run.
double tokensPerSecond(int device, int64_t D, int64_t F, sae::Architecture arch, int warmup,
                       int steps) {
    std::mt19937_64 rng(1);
    sae::StepShape shape{D, F, kBatch, {}};
    shape.settings.architecture = arch;
    shape.settings.k = 32;
    shape.settings.kAux = D / 2;
    shape.settings.l1 = 5.0;
    auto engine = gpu::makeSaeStepEngine(device, shape);
    if (!engine.ok()) {
        std::printf("  %s\n", engine.status().toString().c_str());
        return -1;
    }
    const bool unit = arch != sae::Architecture::kStandard;
    sae::TrainParams p = randomParams(D, F, unit, rng), zero;
    zero.resizeLike(p);
    zero.setZero();
    if (Status st = (*engine)->upload(p, zero, zero); !st.ok()) return -1;
    Matrix x(kBatch, D);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = normal(rng);
    x *= std::sqrt(float(D)) / x.rowwise().norm().mean();
    std::vector<int64_t> fired;
    train::AdamSettings adam;
    int step = 0;
    bool failed = false;
    auto one = [&] {
        if (failed) return;
        auto stats = (*engine)->lossAndGradient(x, shape.settings, {}, fired);
        Status st = stats.ok() ? (*engine)->update(train::adamStep(adam, ++step, 4e-4), unit)
                               : stats.status();
        if (st.ok()) {
            auto finite = (*engine)->biasesFinite();
            st = !finite.ok()                            ? finite.status()
                 : *finite && std::isfinite(stats->loss) ? Status::success()
                                                         : Status::internal("not finite");
        }
        if (!st.ok()) {
            std::printf("  step failed: %s\n", st.toString().c_str());
            failed = true;
        }
    };
    const bench::Timing t = bench::timeRepeated(one, warmup, steps);
    return failed ? -1 : double(kBatch) / t.median;
}

}  // namespace

int main(int argc, char** argv) {
    bool quick = false;
    int device = 0;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--quick")) quick = true;
        if (!std::strcmp(argv[i], "--device") && i + 1 < argc) device = std::atoi(argv[++i]);
    }
    std::string why;
    const auto devices = gpu::listDevices(&why);
    if (devices.empty() || device < 0 || device >= int(devices.size())) {
        std::printf("bench_gpu_sae_train: no CUDA device %d (%s)\n", device,
                    devices.empty() ? why.c_str() : "ordinal out of range");
        return 3;
    }
    std::printf("%s, batch %lld, float32 (TF32 off)\n", devices[size_t(device)].name.c_str(),
                (long long)kBatch);
    const std::vector<std::pair<int64_t, int64_t>> shapes =
        quick ? std::vector<std::pair<int64_t, int64_t>>{{768, 16384}}
              : std::vector<std::pair<int64_t, int64_t>>{
                    {768, 16384}, {768, 131072}, {2304, 16384}, {2304, 131072}};
    for (const auto& [D, F] : shapes) {
        auto gemm = gpu::measureSgemmGflops(device, kBatch, F, D, 5);
        if (gemm.ok())
            std::printf("RESULT cuda_sgemm_%lldx%lld_gflops %.1f GFLOP/s\n", (long long)D,
                        (long long)F, *gemm);
        for (auto arch : {sae::Architecture::kStandard, sae::Architecture::kTopK}) {
            const char* name = arch == sae::Architecture::kTopK ? "topk" : "relu";
            const double tps = tokensPerSecond(device, D, F, arch, 2, 5);
            if (tps > 0)
                std::printf("RESULT cuda_%s_%lldx%lld_tokens_per_s %.1f tokens/s\n", name,
                            (long long)D, (long long)F, tps);
            std::fflush(stdout);
        }
    }
    return 0;
}
