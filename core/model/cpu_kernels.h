#pragma once
// Internal: the CPU building blocks of the forward pass, on raw row-major
// float buffers (Eigen stays inside cpu_kernels.cpp). All run on the OpenMP
// threads unless called from inside a parallel region.
// Letters: N rows (tokens of the batch), C width, F MLP width.

#include <cstdint>
#include <vector>

namespace mono::model::cpu {

enum class Epilogue { kNone, kGeluTanh };

// Y[N, out] = X[N, in] · W[out, in]ᵀ (+ b[out] when b is non-null), then the
// epilogue on each element. X has row stride ldx, Y row stride ldy; W is
// contiguous. Results do not depend on the number of threads.
void linear(const float* X, int64_t ldx, int64_t N, const float* W, int64_t out, int64_t in,
            const float* b, float* Y, int64_t ldy, Epilogue epilogue = Epilogue::kNone);
// Y[N, cols] (row stride ldy) := GELU-tanh(Y), the epilogue linear() applies.
void geluTanh(float* Y, int64_t N, int64_t cols, int64_t ldy);
// Up to this many rows linear() runs as GEMVs (a decode step).
int smallRowsMaxRows();

// Keeps Eigen single-threaded on this thread while alive (Eigen would otherwise
// fork inside a 1-thread OpenMP team, and its blocking, hence its rounding,
// depends on its thread count).
class SerialEigen {
public:
    SerialEigen();
    ~SerialEigen();
    SerialEigen(const SerialEigen&) = delete;
    SerialEigen& operator=(const SerialEigen&) = delete;

private:
    int m_saved;
};

// out[N, C] = LayerNorm(x[N, C]) · w + b.
void layerNorm(float* out, const float* x, int64_t N, int64_t C, const float* w, const float* b,
               float eps);
// out[N, C] = x / sqrt(mean(x²) + eps) · w.
void rmsNorm(float* out, const float* x, int64_t N, int64_t C, const float* w, float eps);

// RMSNorm of every head in place: rows of x have stride ld and hold `heads`
// consecutive vectors of hd values, each scaled by w[hd] (Qwen 3 / Gemma 3 q/k norm).
void headRmsNorm(float* x, int64_t N, int64_t ld, int heads, int hd, const float* w, float eps);

// In place over n values.
void geluErf(float* x, int64_t n);
// x → cap · tanh(x / cap) (Gemma's soft-capping).
void softcap(float* x, int64_t n, float cap);
void relu(float* x, int64_t n);
// out[N, F] = silu(gu[:, :F]) · gu[:, F:]; gu is [N, 2F].
void siluMul(float* out, const float* gu, int64_t N, int64_t F);
// The same with GELU (tanh approximation or erf) of the gate: GeGLU.
void geluTanhMul(float* out, const float* gu, int64_t N, int64_t F);
void geluErfMul(float* out, const float* gu, int64_t N, int64_t F);

// y[N, C] += x[N, C]
void addInPlace(float* y, const float* x, int64_t n);

// cos/sin of RoPE for one base and linear scaling, [maxLen, dims/2] row-major,
// in float like Hugging Face; the CPU and CUDA forwards share it.
void ropeAngles(int maxLen, int dims, float base, float linearScale, std::vector<float>& cos,
                std::vector<float>& sin);

}  // namespace mono::model::cpu
