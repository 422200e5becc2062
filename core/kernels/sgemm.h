#pragma once
// The f32 GEMM of the numerics, in one place so that which library computes it
// is decided once, from measurements (bench/blas_gemm.cpp, docs/BENCHMARKS.md
// "f32 GEMM library"):
//
//   OpenBLAS's sgemm, the OpenMP flavour (CMake checks it), whenever its
//   kernels are as wide as ours: with AVX-512 on both sides it beat Eigen's
//   product 1.2–3.4× on every multi-row shape of the forward pass, the SAE
//   trainer and the analysis, and made prefill 1.3–1.4× and SAE steps 1.25–1.6× faster;
//   Eigen's product when this build's Eigen uses AVX-512 but OpenBLAS's
//   run-time dispatch runs a narrower kernel set (OPENBLAS_CORETYPE=Haswell,
//   or a CPU it does not know): there Eigen won all but one shape, by up to 1.7×;
//   Eigen for one-row products (decode GEMVs), whose per-call cost in OpenBLAS
//   slowed GPT-2 decoding to 0.74×.
//
// Threads work the same with both: a call runs on omp_get_max_threads()
// threads, and on the calling thread alone inside a parallel region or under
// omp_set_num_threads(1) — OpenBLAS's OpenMP build checks omp_in_parallel(), so
// a GEMM called from a parallel loop cannot oversubscribe the cores.
//
//   kernels::gemm(x, Op::kN, w, Op::kT, y);          // y = x · wᵀ
//   kernels::gemm(a, Op::kT, b, Op::kN, g, 1, 1);    // g += aᵀ · b

#include <Eigen/Core>
#include <cassert>
#include <cstdint>
#include <string>
#include <type_traits>

namespace mono::kernels {

enum class Op { kN, kT };  // use the matrix as stored, or its transpose

enum class GemmLibrary { kOpenBlas, kEigen };

// C[M, N] = alpha · op(A) · op(B) + beta · C. Row-major with row strides lda,
// ldb, ldc; op(A) is [M, K] and op(B) is [K, N]. With beta = 0, C may hold
// anything (NaN included) on entry. Computed by gemmLibrary(), or by Eigen
// when M = 1.
void sgemm(Op opA, Op opB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// The same with a given library, for benchmarks and tests.
void sgemmWith(GemmLibrary lib, Op opA, Op opB, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
               int64_t ldc);

// The library sgemm() uses for M > 1: chosen once at the first call as described above,
// unless setGemmLibrary() chose it.
GemmLibrary gemmLibrary();
// Overrides the choice for the whole process (benchmarks compare the two end
// to end). Call it while no GEMM runs.
void setGemmLibrary(GemmLibrary lib);
const char* gemmLibraryName(GemmLibrary lib);  // "openblas" / "eigen"

// Which BLAS is linked, for benchmark logs: OpenBLAS's build configuration and
// the kernel set its dynamic dispatch chose (e.g. "... core Haswell, OpenMP").
std::string blasDescription();

// The same on row-major Eigen objects with unit inner stride (Matrix, Map,
// middleRows/middleCols blocks): c = alpha · op(a) · op(b) + beta · c, c sized
// by the caller.
template <class A, class B, class C>
void gemm(const A& a, Op opA, const B& b, Op opB, C&& c, float alpha = 1.0f, float beta = 0.0f) {
    static_assert(A::IsRowMajor && B::IsRowMajor && std::decay_t<C>::IsRowMajor,
                  "kernels::gemm takes row-major matrices");
    assert(a.innerStride() == 1 && b.innerStride() == 1 && c.innerStride() == 1);
    const int64_t M = opA == Op::kN ? a.rows() : a.cols();
    const int64_t K = opA == Op::kN ? a.cols() : a.rows();
    const int64_t N = opB == Op::kN ? b.cols() : b.rows();
    assert((opB == Op::kN ? b.rows() : b.cols()) == K);
    assert(c.rows() == M && c.cols() == N);
    sgemm(opA, opB, M, N, K, alpha, a.data(), a.outerStride(), b.data(), b.outerStride(), beta,
          c.data(), c.outerStride());
}

}  // namespace mono::kernels
