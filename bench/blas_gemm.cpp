// Eigen's own f32 GEMM against OpenBLAS's sgemm (core/kernels/sgemm.h) on the
// shapes of Monoscope's hot paths, each run the way its caller runs it:
//
//   whole     one product on all OpenMP threads (analysis, calibration, and
//             what a caller could do instead of splitting the work itself);
//   cols/256  the CPU forward's linear(): fixed chunks of 256 output columns
//             spread over the threads, one single-threaded product each;
//   cols/64   the same for a decode step (≤ 16 rows): chunks of 64 outputs;
//   rows/128  the SAE trainer's fused passes: blocks of 128 batch rows, one
//             per thread at a time, one single-threaded product each;
//   serial    one thread (attention's per-head products, run inside the
//             forward's parallel loop over heads).
//
// Both libraries run each case in the same process, alternating timing by
// timing, so the ratio blas/eigen compares them under the same machine load. Every case
// also checks that the two agree (max |Δ| relative to max |C|).
//
// The header line names the OpenBLAS kernel set its dynamic dispatch chose
// (OPENBLAS_CORETYPE overrides it; Debian 12's 0.3.21 takes a Zen 4 for Haswell).
//
// usage: bench_blas_gemm [--quick]     (--quick: fewer repetitions)

#include <omp.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "core/kernels/sgemm.h"

using mono::kernels::Op;
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {

enum class Split { kWhole, kCols, kGemv, kRows, kSerial };

struct Case {
    const char* name;
    int64_t M, K, N;  // C[M, N] = op(A)[M, K] · op(B)[K, N]
    Op opA, opB;
    float beta;  // 1: accumulate into C (the trainer's weight gradients)
    Split split;
};

// The caller's view of one product: C[M, N] block at (r0, c0) of the full one.
struct Gemm {
    Op opA, opB;
    int64_t M, N, K;
    const float* A;
    int64_t lda;
    const float* B;
    int64_t ldb;
    float beta;
    float* C;
    int64_t ldc;
};

void eigenGemm(const Gemm& g) {
    mono::kernels::sgemmWith(mono::kernels::GemmLibrary::kEigen, g.opA, g.opB, g.M, g.N, g.K, 1.0f,
                             g.A, g.lda, g.B, g.ldb, g.beta, g.C, g.ldc);
}

void blasGemm(const Gemm& g) {
    mono::kernels::sgemmWith(mono::kernels::GemmLibrary::kOpenBlas, g.opA, g.opB, g.M, g.N, g.K,
                             1.0f, g.A, g.lda, g.B, g.ldb, g.beta, g.C, g.ldc);
}

// Runs the case's product once with `lib`, split the way its caller splits it.
template <class Lib>
void run(const Case& k, const RowMat& A, const RowMat& B, RowMat& C, Lib lib) {
    const Gemm whole{k.opA,    k.opB,    k.M,      k.N,    k.K,      A.data(),
                     A.cols(), B.data(), B.cols(), k.beta, C.data(), C.cols()};
    if (k.split == Split::kWhole) return lib(whole);
    if (k.split == Split::kSerial) {
        const int saved = omp_get_max_threads();
        omp_set_num_threads(1);
        lib(whole);
        omp_set_num_threads(saved);
        return;
    }
    const bool cols = k.split != Split::kRows;
    const int64_t chunk = k.split == Split::kCols ? 256 : k.split == Split::kGemv ? 64 : 128;
    const int64_t extent = cols ? k.N : k.M;
    const int64_t n = (extent + chunk - 1) / chunk;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t i = 0; i < n; ++i) {
        const int64_t o = i * chunk, len = std::min(chunk, extent - o);
        Gemm g = whole;
        if (cols) {  // columns o.. of C: rows of B when transposed, columns otherwise
            g.N = len;
            g.B += k.opB == Op::kT ? o * g.ldb : o;
            g.C += o;
        } else {  // rows o.. of C: columns of A when transposed, rows otherwise
            g.M = len;
            g.A += k.opA == Op::kT ? o : o * g.lda;
            g.C += o * g.ldc;
        }
        lib(g);
    }
}

const char* splitName(Split s) {
    switch (s) {
        case Split::kWhole:
            return "whole";
        case Split::kCols:
            return "cols/256";
        case Split::kGemv:
            return "cols/64";
        case Split::kRows:
            return "rows/128";
        case Split::kSerial:
            return "serial";
    }
    return "?";
}

std::vector<Case> cases() {
    const Op N = Op::kN, T = Op::kT;
    return {
        // GPT-2 small forward, 512-token prefill: y = x · Wᵀ (nn.Linear layout).
        {"fwd_qkv_512x768x2304", 512, 768, 2304, N, T, 0, Split::kCols},
        {"fwd_mlp_up_512x768x3072", 512, 768, 3072, N, T, 0, Split::kCols},
        {"fwd_mlp_down_512x3072x768", 512, 3072, 768, N, T, 0, Split::kCols},
        {"fwd_mlp_up_whole", 512, 768, 3072, N, T, 0, Split::kWhole},
        {"fwd_mlp_down_whole", 512, 3072, 768, N, T, 0, Split::kWhole},
        // A decode step: one token (and a batch of 8) through the MLP's first linear.
        {"decode_1x768x3072", 1, 768, 3072, N, T, 0, Split::kGemv},
        {"decode_8x768x3072", 8, 768, 3072, N, T, 0, Split::kGemv},
        // One head's attention over 512 tokens (hd 64): S = Q·Kᵀ, O = S·V.
        {"attn_scores_512x64x512", 512, 64, 512, N, T, 0, Split::kSerial},
        {"attn_values_512x512x64", 512, 512, 64, N, N, 0, Split::kSerial},
        // SAE d=768, F=16384, batch 4096: encoder h = x·W_encᵀ (stored [F, D]),
        // decoder x̂ = f·W_dec, ∂L/∂h = g·W_decᵀ, ∂W_dec += fᵀ·g, ∂W_enc += ∂hᵀ·x.
        {"sae_encode_4096x768x16384", 4096, 768, 16384, N, T, 0, Split::kRows},
        {"sae_decode_4096x16384x768", 4096, 16384, 768, N, N, 0, Split::kRows},
        {"sae_grad_dec_16384x128x768", 16384, 128, 768, T, N, 1, Split::kSerial},
        {"sae_encode_whole", 4096, 768, 16384, N, T, 0, Split::kWhole},
        {"sae_decode_whole", 4096, 16384, 768, N, N, 0, Split::kWhole},
        {"sae_grad_dec_whole_16384x4096x768", 16384, 4096, 768, T, N, 0, Split::kWhole},
        // Analysis: 256 feature directions against GPT-2's unembedding [50257, 768].
        {"analysis_logits_256x768x50257", 256, 768, 50257, N, T, 0, Split::kWhole},
    };
}

}  // namespace

int main(int argc, char** argv) {
    const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    const int reps = quick ? 3 : 7;
    std::printf("threads %d, load %.2f, %s\n", omp_get_max_threads(), mono::bench::loadAverage(),
                mono::kernels::blasDescription().c_str());
    std::printf("sgemm() uses %s here\n",
                mono::kernels::gemmLibraryName(mono::kernels::gemmLibrary()));
    std::printf("%-36s %-9s %10s %10s %7s %9s\n", "case", "split", "eigen GF/s", "blas GF/s",
                "ratio", "max rel Δ");
    {  // both libraries start their threads and buffers before the first timing
        const Case k = cases().front();
        const RowMat A = RowMat::Random(k.M, k.K), B = RowMat::Random(k.N, k.K);
        RowMat C(k.M, k.N);
        for (int i = 0; i < 20; ++i) run(k, A, B, C, eigenGemm), run(k, A, B, C, blasGemm);
    }
    for (const Case& k : cases()) {
        const int64_t ar = k.opA == Op::kN ? k.M : k.K, ac = k.opA == Op::kN ? k.K : k.M;
        const int64_t br = k.opB == Op::kN ? k.K : k.N, bc = k.opB == Op::kN ? k.N : k.K;
        const RowMat A = RowMat::Random(ar, ac), B = RowMat::Random(br, bc);
        RowMat Ce = RowMat::Zero(k.M, k.N), Cb = RowMat::Zero(k.M, k.N);
        // A work size of ~100 GFLOP per timing keeps the big cases to 1 + reps runs.
        const double flop = 2.0 * double(k.M) * double(k.N) * double(k.K);
        const int inner = std::max(1, int(2e9 / flop));
        // Eigen and BLAS alternate, one timing each per round, so a change in
        // the (shared) machine's load hits both alike.
        std::vector<double> se, sb;
        for (int r = 0; r <= reps; ++r) {  // round 0 warms up
            const double t0 = mono::bench::nowSeconds();
            for (int i = 0; i < inner; ++i) run(k, A, B, Ce, eigenGemm);
            const double t1 = mono::bench::nowSeconds();
            for (int i = 0; i < inner; ++i) run(k, A, B, Cb, blasGemm);
            const double t2 = mono::bench::nowSeconds();
            if (r == 0) continue;
            se.push_back(t1 - t0);
            sb.push_back(t2 - t1);
        }
        const auto te = mono::bench::summarize(se), tb = mono::bench::summarize(sb);
        // Same number of calls on both, so accumulating cases hold the same sum.
        const double diff = (Ce - Cb).cwiseAbs().maxCoeff() / Ce.cwiseAbs().maxCoeff();
        const double ge = flop * inner / te.median / 1e9, gb = flop * inner / tb.median / 1e9;
        std::printf("%-36s %-9s %10.1f %10.1f %7.2f %9.1e\n", k.name, splitName(k.split), ge, gb,
                    gb / ge, diff);
        mono::bench::printResult(std::string(k.name) + "_eigen_gflops", ge, "GFLOP/s");
        mono::bench::printResult(std::string(k.name) + "_blas_gflops", gb, "GFLOP/s");
        mono::bench::printResult(std::string(k.name) + "_blas_over_eigen", gb / ge, "x");
    }
    return 0;
}
