// Model prefill on CUDA (gpu/forward_cuda.*): the GPT-2-small-shaped model of
// bench_model_forward (random weights) and a Llama-shaped one, 8 sequences x
// 128 tokens, logits for every position, float32 (TF32 off), against the CPU
// backend in the same run and as a share of cuBLAS' f32 GEMM rate at
// [1024, C] x [C, 4C]. RESULT lines for bench/gpu_check.sh.
//
//   bench_gpu_model_forward [--device N]

#include <cstdio>
#include <cstring>
#include <random>

#include "bench/bench_common.h"
#include "core/model/config.h"
#include "core/model/model.h"
#include "gpu/backends.h"
#include "gpu/device_info.h"

using namespace mono;
using namespace mono::model;

namespace {

constexpr int kSeqs = 8, kLen = 128;

// 2 FLOPs per multiply-add of the block linears, the causal attention pairs and
// the unembedding of every position.
double prefillFlops(const ModelConfig& c) {
    const double C = c.dModel, hd = c.headDim, tokens = double(kSeqs) * kLen;
    const double up = c.gatedMlp() ? 2.0 * c.dMlp : c.dMlp;
    const double linear = c.nLayers * ((c.nHeads + 2.0 * c.nKvHeads) * hd * C + c.nHeads * hd * C +
                                       up * C + c.dMlp * C);
    const double pairs = double(kSeqs) * kLen * (kLen + 1) / 2.0;
    return 2.0 * linear * tokens + 4.0 * pairs * c.nHeads * hd * c.nLayers +
           2.0 * double(c.vocabSize) * C * tokens;
}

// tokens/s of a kAll prefill, or −1 after printing why not.
double prefill(Model& m, const Batch& batch, int reps) {
    ForwardOptions opt;
    opt.logits = LogitsWanted::kAll;
    Logits out;
    bool failed = false;
    const bench::Timing t = bench::timeRepeated(
        [&] {
            if (failed) return;
            if (Status st = m.forward(batch, opt, &out); !st.ok()) {
                std::printf("  %s\n", st.toString().c_str());
                failed = true;
            }
        },
        1, reps);
    return failed ? -1 : double(batch.numTokens()) / t.median;
}

}  // namespace

int main(int argc, char** argv) {
    int device = 0;
    for (int i = 1; i + 1 < argc; ++i)
        if (!std::strcmp(argv[i], "--device")) device = std::atoi(argv[i + 1]);
    std::string why;
    const auto devices = gpu::listDevices(&why);
    if (devices.empty() || device < 0 || device >= int(devices.size())) {
        std::printf("bench_gpu_model_forward: no CUDA device %d (%s)\n", device,
                    devices.empty() ? why.c_str() : "ordinal out of range");
        return 3;
    }
    LlamaShape shape;
    shape.dModel = 2048;
    shape.nLayers = 8;
    shape.nHeads = 16;
    shape.nKvHeads = 8;
    shape.dMlp = 5632;
    shape.vocabSize = 32000;
    shape.maxSeqLen = 2048;
    const std::pair<const char*, ModelConfig> models[] = {{"gpt2", gpt2SmallConfig()},
                                                          {"llama", llamaConfig("llama", shape)}};
    std::mt19937 rng(1);
    for (const auto& [name, cfg] : models) {
        // One model: timed on the GPU backend, then on the CPU one.
        auto model = Model::random(cfg, 0);
        auto backend = gpu::makeForwardBackend(device);
        if (!model.ok() || !backend.ok()) {
            std::printf("  %s: cannot set up: %s\n", name,
                        (model.ok() ? backend.status() : model.status()).toString().c_str());
            continue;
        }
        (*model)->setBackend(std::move(*backend));
        std::vector<std::vector<TokenId>> seqs(kSeqs);
        for (auto& s : seqs)
            for (int t = 0; t < kLen; ++t) s.push_back(TokenId(rng() % uint32_t(cfg.vocabSize)));
        const Batch batch = Batch::fromSequences(seqs);
        const double gpuTps = prefill(**model, batch, 10);
        (*model)->setBackend(makeCpuBackend());
        const double cpuTps = prefill(**model, batch, 2);
        auto gemm = gpu::measureSgemmGflops(device, 1024, 4 * cfg.dModel, cfg.dModel, 5);
        std::printf("%s: %d x %d tokens, %.1f GFLOP a prefill\n", name, kSeqs, kLen,
                    prefillFlops(cfg) / 1e9);
        if (gpuTps > 0) std::printf("RESULT cuda_prefill_%s_tok_per_s %.1f tok/s\n", name, gpuTps);
        if (cpuTps > 0) std::printf("RESULT cpu_prefill_%s_tok_per_s %.1f tok/s\n", name, cpuTps);
        if (gemm.ok()) {
            std::printf("RESULT cuda_prefill_%s_sgemm_gflops %.1f GFLOP/s\n", name, *gemm);
            if (gpuTps > 0)
                std::printf("RESULT cuda_prefill_%s_gflops %.1f GFLOP/s\n", name,
                            prefillFlops(cfg) / (double(kSeqs) * kLen / gpuTps) / 1e9);
        }
        std::fflush(stdout);
    }
    return 0;
}
