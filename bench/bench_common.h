#pragma once
// Small helpers shared by the programs in bench/: wall-clock timing with a
// median over repetitions, the machine's f32 GEMM rate (kernels::sgemm, all
// OpenMP threads) and its memory bandwidth (copy and read over 1 GiB buffers), and
// the `RESULT <name> <value> <unit>` lines that bench/run_*.sh scripts parse.
//
// Header-only on purpose: every bench/<name>.cpp becomes its own program, so a
// bench/bench_common.cpp would become a program too.
//
//   auto t = mono::bench::timeRepeated([&] { work(); }, /*warmup=*/1, /*reps=*/5);
//   mono::bench::printResult("work_per_s", 1.0 / t.median, "1/s");
//   auto gemm = mono::bench::measureGemm();       // gemm.best: GFLOP/s
//   auto bw = mono::bench::measureBandwidth();    // bw.copy, bw.read: GB/s (1e9 bytes)

#include <omp.h>

// GCC 12 reports -Wmaybe-uninitialized inside its own avx512fintrin.h when it
// inlines Eigen's AVX-512 GEMM kernels (the `__Y = __Y` idiom of
// _mm512_undefined_ps); a false positive, silenced for Eigen's headers only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Core>
#pragma GCC diagnostic pop
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/kernels/sgemm.h"

namespace mono::bench {

inline double nowSeconds() {
    using Clock = std::chrono::steady_clock;
    return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

// Seconds per call of `fn` over `reps` timed calls after `warmup` untimed ones.
struct Timing {
    double median = 0, min = 0, max = 0;
    int reps = 0;
    // (max - min) / median: how noisy the repetitions were.
    double spread() const { return median > 0 ? (max - min) / median : 0; }
};

inline Timing summarize(std::vector<double> seconds) {
    Timing t;
    if (seconds.empty()) return t;
    std::sort(seconds.begin(), seconds.end());
    const size_t n = seconds.size();
    t.median = n % 2 ? seconds[n / 2] : 0.5 * (seconds[n / 2 - 1] + seconds[n / 2]);
    t.min = seconds.front();
    t.max = seconds.back();
    t.reps = static_cast<int>(n);
    return t;
}

template <class F>
Timing timeRepeated(F&& fn, int warmup, int reps) {
    for (int i = 0; i < warmup; ++i) fn();
    std::vector<double> seconds;
    for (int i = 0; i < reps; ++i) {
        const double t0 = nowSeconds();
        fn();
        seconds.push_back(nowSeconds() - t0);
    }
    return summarize(std::move(seconds));
}

// One machine-readable line per metric; run_*.sh scripts grep for "^RESULT ".
inline void printResult(const std::string& name, double value, const std::string& unit) {
    std::printf("RESULT %s %.6g %s\n", name.c_str(), value, unit.c_str());
    std::fflush(stdout);
}

// `--gemm auto|eigen|openblas`: the library behind kernels::sgemm for this run
// (default: the one sgemm.h chooses), so one build times both end to end.
// Prints the choice; false for another value.
inline bool useGemmLibrary(const std::string& name) {
    if (name == "eigen")
        kernels::setGemmLibrary(kernels::GemmLibrary::kEigen);
    else if (name == "openblas")
        kernels::setGemmLibrary(kernels::GemmLibrary::kOpenBlas);
    else if (name != "auto")
        return false;
    std::printf("f32 GEMM: %s (%s)\n", kernels::gemmLibraryName(kernels::gemmLibrary()),
                kernels::blasDescription().c_str());
    return true;
}

// The 1-minute load average, to print next to the numbers (the machine is shared).
inline double loadAverage() {
    std::ifstream f("/proc/loadavg");
    double load = -1;
    f >> load;
    return load;
}

// ---- f32 GEMM rate ---------------------------------------------------------

struct GemmShape {
    int m, k, n;  // Y[m, n] = X[m, k] · W[n, k]ᵀ (nn.Linear layout, row-major)
};

struct GemmRate {
    GemmShape shape;
    double gflops = 0;  // median over repetitions
    Timing timing;
};

struct GemmReport {
    std::vector<GemmRate> shapes;
    double best = 0;  // the highest per-shape median: "the machine's f32 GEMM rate"
    int threads = 0;
};

// The shapes of a GPT-2-small prefill of 1024 tokens (MLP up and down) and a
// large square one, through kernels::sgemm (the library the numerics use) on
// all OpenMP threads.
inline GemmReport measureGemm(std::vector<GemmShape> shapes = {{1024, 768, 3072},
                                                               {1024, 3072, 768},
                                                               {2048, 2048, 2048}},
                              int reps = 7) {
    using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    GemmReport report;
    report.threads = Eigen::nbThreads();
    for (const GemmShape& s : shapes) {
        RowMatrix x = RowMatrix::Random(s.m, s.k);  // [m, k]
        RowMatrix w = RowMatrix::Random(s.n, s.k);  // [n, k]
        RowMatrix y(s.m, s.n);                      // [m, n]
        GemmRate rate;
        rate.shape = s;
        rate.timing = timeRepeated(
            [&] { kernels::gemm(x, kernels::Op::kN, w, kernels::Op::kT, y); }, 2, reps);
        rate.gflops = 2.0 * s.m * s.k * s.n / rate.timing.median / 1e9;
        report.best = std::max(report.best, rate.gflops);
        report.shapes.push_back(rate);
    }
    return report;
}

// ---- memory bandwidth ------------------------------------------------------

struct BandwidthReport {
    double copy = 0;  // GB/s, STREAM convention: (bytes read + bytes written) / time
    double read = 0;  // GB/s, bytes read / time (a sum over the buffer)
    Timing copyTiming, readTiming;
    size_t bytes = 0;  // size of each buffer
    int threads = 0;
};

// Copies one `bytes` buffer into another with all OpenMP threads (memcpy of
// one contiguous part per thread), and sums one as floats. The buffers are
// first touched by the threads that use them.
inline BandwidthReport measureBandwidth(size_t bytes = size_t(1) << 30, int reps = 7) {
    BandwidthReport r;
    r.bytes = bytes;
    r.threads = omp_get_max_threads();
    const size_t nFloats = bytes / sizeof(float);
    std::unique_ptr<float[]> src(new float[nFloats]);
    std::unique_ptr<float[]> dst(new float[nFloats]);
    // Part [begin, end) of thread t out of T.
    auto part = [&](int t, int T, size_t* begin, size_t* end) {
        *begin = nFloats * t / T;
        *end = nFloats * (t + 1) / T;
    };
#pragma omp parallel
    {
        size_t b, e;
        part(omp_get_thread_num(), omp_get_num_threads(), &b, &e);
        for (size_t i = b; i < e; ++i) src[i] = float(i % 1024) * 1e-3f;
        std::memset(dst.get() + b, 0, (e - b) * sizeof(float));
    }
    r.copyTiming = timeRepeated(
        [&] {
#pragma omp parallel
            {
                size_t b, e;
                part(omp_get_thread_num(), omp_get_num_threads(), &b, &e);
                std::memcpy(dst.get() + b, src.get() + b, (e - b) * sizeof(float));
            }
        },
        1, reps);
    r.copy = 2.0 * bytes / r.copyTiming.median / 1e9;

    double total = 0;  // keeps the sums observable
    r.readTiming = timeRepeated(
        [&] {
            double sum = 0;
#pragma omp parallel reduction(+ : sum)
            {
                size_t b, e;
                part(omp_get_thread_num(), omp_get_num_threads(), &b, &e);
                sum += Eigen::Map<const Eigen::VectorXf>(src.get() + b, Eigen::Index(e - b)).sum();
            }
            total += sum;
        },
        1, reps);
    r.read = double(bytes) / r.readTiming.median / 1e9;
    if (total == 42.0) std::printf("(sum %g)\n", total);
    return r;
}

}  // namespace mono::bench
