#pragma once
// Integer GEMM for W8A8 execution: C[M, N] (int32) = A[M, K] (int8) · B[N, K]ᵀ (int8),
// with exact int32 accumulation. B is a weight matrix stored like nn.Linear,
// [out, in], packed once; A is the quantized activations, row-major.
//
// Kernels, picked at run time from what the CPU supports (the binary itself
// needs only x86-64): AVX-512 VNNI (vpdpbusd), AVX2 (int16 madd), scalar.
// Every kernel returns the same bits as the scalar reference whenever the
// exact sums fit in int32 (|K| · 127 · 128 < 2³¹, i.e. K < 132k).
// vpdpbusd multiplies unsigned by signed bytes, so A is shifted to u8 by
// +128 and 128 · Σ_k B[n, k] is subtracted afterwards.

#include <cstdint>
#include <vector>

namespace mono::kernels {

enum class Int8Kernel { kScalar, kAvx2, kAvx512Vnni };

// The fastest kernel this CPU runs.
Int8Kernel bestInt8Kernel();
bool int8KernelSupported(Int8Kernel kernel);
const char* int8KernelName(Int8Kernel kernel);  // "scalar", "avx2", "avx512-vnni"

// B [N, K] int8 in the layout one kernel wants. Immutable after pack().
class PackedInt8 {
public:
    PackedInt8() = default;
    // Copies B (row-major [n, k], contiguous). `kernel` must be supported.
    static PackedInt8 pack(const int8_t* B, int64_t n, int64_t k,
                           Int8Kernel kernel = bestInt8Kernel());
    int64_t n() const { return m_n; }
    int64_t k() const { return m_k; }
    Int8Kernel kernel() const { return m_kernel; }

private:
    friend void gemmInt8(const int8_t*, int64_t, int64_t, const PackedInt8&, int32_t*, int64_t);
    Int8Kernel m_kernel = Int8Kernel::kScalar;
    int64_t m_n = 0, m_k = 0;
    int64_t m_k4 = 0;               // K rounded up to a multiple of 4 (VNNI)
    std::vector<int8_t> m_rows;     // [N, K] as given (scalar, AVX2)
    std::vector<int8_t> m_vnni;     // [⌈N/16⌉, K4/4, 16, 4] (AVX-512 VNNI)
    std::vector<int32_t> m_rowSum;  // [N] Σ_k B[n, k] (VNNI's +128 correction)
};

// C[m, n] (row stride ldc) = Σ_k A[m, k] · B[n, k]; A has row stride lda ≥ K.
// Runs on the OpenMP threads when large; results do not depend on the thread count.
void gemmInt8(const int8_t* A, int64_t lda, int64_t m, const PackedInt8& B, int32_t* C,
              int64_t ldc);

// The exact reference: int64 sums, then narrowed to int32 (for tests).
void gemmInt8Reference(const int8_t* A, int64_t m, const int8_t* B, int64_t n, int64_t k,
                       int32_t* C);

}  // namespace mono::kernels
