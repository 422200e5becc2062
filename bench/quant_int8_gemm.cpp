// SmoothQuant engine speed (issue #7):
//  1. int8 GEMM (the kernel the W8A8 forward uses, chosen at run time) against
//     Eigen's f32 GEMM on the same shapes: Y[M, N] = X[M, K] · W[N, K]ᵀ, one
//     thread and all threads. Goal ≥ 2.5× on AVX-512 VNNI.
//  2. Calibration throughput against the bare forward pass over the same
//     windows (all layers, no unembedding). Goal ≥ 70%.
//  3. The α slider's core work for a 2048-channel module: new scales s, the
//     smoothed activation and weight maxima. Goal (redraw) < 100 ms.
// Models: random weights, Llama-shaped (6 layers × d 512, d_mlp 1536) and the
// real stories260K when ../shared is there.
//
//   bench_quant_int8_gemm [--shared DIR] [--reps N]

#include <omp.h>

#include <random>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "core/kernels/int8_gemm.h"
#include "core/model/model.h"
#include "core/quant/calibration.h"
#include "core/quant/smoothing.h"

using namespace mono;
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {

struct Shape {
    int64_t m, n, k;
};

void benchGemm(int threads, int reps) {
    omp_set_num_threads(threads);
    Eigen::setNbThreads(threads);
    const Shape shapes[] = {
        {512, 768, 768}, {512, 3072, 768}, {512, 768, 3072}, {2048, 2048, 2048}};
    std::mt19937 rng(1);
    std::uniform_int_distribution<int> d8(-127, 127);
    std::normal_distribution<float> df(0.0f, 1.0f);
    double sumRatio = 0;
    for (const Shape& s : shapes) {
        std::vector<int8_t> A(size_t(s.m * s.k)), B(size_t(s.n * s.k));
        for (auto& v : A) v = int8_t(d8(rng));
        for (auto& v : B) v = int8_t(d8(rng));
        const kernels::PackedInt8 packed = kernels::PackedInt8::pack(B.data(), s.n, s.k);
        std::vector<int32_t> C(size_t(s.m * s.n));
        RowMat X(s.m, s.k), W(s.n, s.k), Y(s.m, s.n);
        for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = df(rng);
        for (Eigen::Index i = 0; i < W.size(); ++i) W.data()[i] = df(rng);
        const double flops = 2.0 * double(s.m) * double(s.n) * double(s.k);
        const auto ti = bench::timeRepeated(
            [&] { kernels::gemmInt8(A.data(), s.k, s.m, packed, C.data(), s.n); }, 1, reps);
        const auto tf = bench::timeRepeated([&] { Y.noalias() = X * W.transpose(); }, 1, reps);
        const double ratio = tf.median / ti.median;
        sumRatio += ratio;
        std::printf("  %4lld x %4lld x %4lld  %d thr  int8 %7.1f GOP/s  f32 %7.1f GFLOP/s  %.2fx\n",
                    (long long)s.m, (long long)s.n, (long long)s.k, threads,
                    flops / ti.median * 1e-9, flops / tf.median * 1e-9, ratio);
        const std::string tag = std::to_string(s.m) + "x" + std::to_string(s.n) + "x" +
                                std::to_string(s.k) + "_t" + std::to_string(threads);
        bench::printResult("int8_vs_f32_" + tag, ratio, "x");
    }
    bench::printResult("int8_vs_f32_mean_t" + std::to_string(threads),
                       sumRatio / double(std::size(shapes)), "x");
}

std::vector<std::vector<model::TokenId>> windows(int n, int len, int vocab) {
    std::mt19937 rng(7);
    std::vector<std::vector<model::TokenId>> w(static_cast<size_t>(n));
    for (auto& s : w) {
        s.resize(size_t(len));
        for (auto& t : s) t = model::TokenId(rng() % uint32_t(vocab));
    }
    return w;
}

void benchCalibration(const std::string& name, model::Model& m, int nWindows, int len, int reps) {
    const auto w = windows(nWindows, len, m.config().vocabSize);
    model::ForwardOptions bare;
    bare.logits = model::LogitsWanted::kNone;
    bare.stopAfterLastHook = false;  // every layer, as calibration runs
    model::Batch batch;
    auto bareRun = [&] {
        for (size_t i = 0; i < w.size(); i += 4) {
            batch.clear();
            for (size_t j = i; j < std::min(w.size(), i + 4); ++j)
                batch.add(w[j].data(), int64_t(w[j].size()));
            (void)m.forward(batch, bare, nullptr);
        }
    };
    auto calibRun = [&] { (void)quant::calibrate(m, w); };
    // Interleaved, so that both see the same load on a shared machine.
    bareRun();
    calibRun();
    std::vector<double> sb, sc;
    for (int r = 0; r < reps; ++r) {
        double t0 = bench::nowSeconds();
        bareRun();
        sb.push_back(bench::nowSeconds() - t0);
        t0 = bench::nowSeconds();
        calibRun();
        sc.push_back(bench::nowSeconds() - t0);
    }
    const bench::Timing tb = bench::summarize(sb), tc = bench::summarize(sc);
    const double tokens = double(nWindows) * len;
    std::printf("  %-22s bare %9.0f tok/s  calibration %9.0f tok/s  %.0f%%\n", name.c_str(),
                tokens / tb.median, tokens / tc.median, 100.0 * tb.median / tc.median);
    bench::printResult("calibration_vs_forward_" + name, tb.median / tc.median, "ratio");
}

void benchAlphaSlider(int reps) {
    // A 2048-channel input read by 3 × 2048 rows (a fused q|k|v), calibrated maxima given.
    const model::ModelConfig cfg = model::llamaConfig("slider", {.dModel = 2048,
                                                                 .nHeads = 16,
                                                                 .nKvHeads = 16,
                                                                 .dMlp = 256,
                                                                 .vocabSize = 16,
                                                                 .maxSeqLen = 16});
    auto m = model::Model::random(cfg, 3);
    if (!m.ok()) return;
    std::vector<float> actMax(2048);
    std::mt19937 rng(5);
    std::lognormal_distribution<float> ln(0.0f, 1.0f);
    for (auto& v : actMax) v = ln(rng);
    const quant::SmoothGroup g{0, true};
    // The weight maxima depend only on the weights: computed once when the panel opens.
    const auto tw =
        bench::timeRepeated([&] { (void)quant::weightInputMax((*m)->weights(), g); }, 1, reps);
    const std::vector<float> wMax = quant::weightInputMax((*m)->weights(), g);
    float alpha = 0.5f;
    std::vector<float> smoothedX(2048), smoothedW(2048);
    const auto ts = bench::timeRepeated(
        [&] {
            alpha = alpha > 0.9f ? 0.1f : alpha + 0.05f;
            auto s = quant::smoothingScales(actMax, wMax, alpha);
            for (size_t j = 0; j < 2048; ++j) {
                smoothedX[j] = actMax[j] / (*s)[j];
                smoothedW[j] = wMax[j] * (*s)[j];
            }
        },
        3, reps * 10);
    std::printf("  alpha slider, 2048 channels: weight maxima once %.2f ms, per move %.3f ms\n",
                tw.median * 1e3, ts.median * 1e3);
    bench::printResult("alpha_slider_core_ms", ts.median * 1e3, "ms");
}

}  // namespace

int main(int argc, char** argv) {
    std::string shared = std::string(MONO_SOURCE_DIR) + "/../shared";
    int reps = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--shared") shared = argv[i + 1];
        if (a == "--reps") reps = std::max(1, std::atoi(argv[i + 1]));
    }
    const int all = omp_get_max_threads();
    std::printf("int8 kernel: %s; load average %.2f\n",
                kernels::int8KernelName(kernels::bestInt8Kernel()), bench::loadAverage());
    std::printf("int8 GEMM vs f32 GEMM (Eigen):\n");
    benchGemm(1, reps);
    if (all > 1) benchGemm(all, reps);
    omp_set_num_threads(all);
    Eigen::setNbThreads(all);

    std::printf("calibration vs bare forward:\n");
    const model::ModelConfig cfg = model::llamaConfig("llama-6x512", {.dModel = 512,
                                                                      .nLayers = 6,
                                                                      .nHeads = 8,
                                                                      .nKvHeads = 8,
                                                                      .dMlp = 1536,
                                                                      .vocabSize = 4096,
                                                                      .maxSeqLen = 256});
    if (auto m = model::Model::random(cfg, 1); m.ok())
        benchCalibration(cfg.name, **m, 16, 256, reps);
    if (auto m = model::Model::load(shared + "/models/stories260K/stories260K.bin"); m.ok())
        benchCalibration("stories260K", **m, 32, 256, reps);
    benchAlphaSlider(reps);
    return 0;
}
