#pragma once
// One training step's loss and hand-written gradient (internal to the trainer;
// exposed for the gradient check). Legend: B batch rows, D = d_in, F = d_sae.
// The step works on scaled inputs and always subtracts b_dec from the input.

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "core/base/matrix.h"
#include "core/kernels/bf16_gemm.h"
#include "core/sae/jumprelu_sparsity.h"
#include "core/sae/sae.h"

namespace mono::sae {

struct TrainParams {
    Matrix wEncT;  // [F, D] W_enc transposed: row i is feature i's encoder direction
    Matrix wDec;   // [F, D]
    Vector bEnc;   // [F]
    Vector bDec;   // [D]
    // [F] jumprelu: log θ, empty otherwise. The log keeps θ positive and makes
    // each Adam step a relative change of θ, whatever θ's scale.
    Vector logThreshold;

    void resizeLike(const TrainParams& other);
    void setZero();
    // The tensors' values, in the order above (for elementwise updates); the
    // last is empty unless the SAE is jumprelu.
    std::array<std::span<float>, 5> tensors();
};

struct StepSettings {
    Architecture architecture = Architecture::kStandard;  // kStandard, kTopK, kBatchTopK, kJumpReLU
    int64_t k = 32;
    double l1 = 0;     // λ of the decoder-norm-weighted L1 term (standard)
    int64_t kAux = 0;  // aux-k latents per row (topk/batchtopk; 0 disables)
    double auxCoefficient = 1.0 / 32.0;
    // jumprelu: λ of the sparsity term, its form (train_step_jumprelu.cpp) and
    // the scale c of the tanh form.
    double l0 = 0;
    JumpReluSparsity sparsity = JumpReluSparsity::kStep;
    double tanhScale = 4.0;
    double bandwidth = 0.05;      // ε of the rectangle kernel of θ's pseudo-derivative (jumprelu)
    double sparseDensity = 0.05;  // standard: sparse kernels below this active fraction
    // batchtopk: Matryoshka prefix widths w_0 < … < w_{M−1} = F; each prefix
    // W_dec[0 : w_m] also reconstructs x alone, and the loss sums their errors
    // (train_step_matryoshka.cpp). Empty or {F}: plain BatchTopK.
    std::vector<int64_t> prefixes;
    // Every GEMM on bf16-rounded operands with float32 accumulation (mixed
    // precision: weights, gradients and Adam stay float32). Requires
    // kernels::bf16Supported().
    bool bf16 = false;
};

struct StepStats {
    double loss = 0;       // total objective
    double mse = 0;        // mean_b ||x − x̂||²
    double l1Loss = 0;     // λ mean_b Σ f_i ||W_dec[i]||
    double auxLoss = 0;    // coefficient · mean_b ||e_aux − (x − x̂)||²
    double l0Loss = 0;     // jumprelu: the sparsity term (step: λ · l0)
    double prefixMse = 0;  // matryoshka: Σ over the prefixes short of F of mean_b ||x − x̂_m||²
    double l0 = 0;         // mean active latents per row
    double explainedVariance = 0;
    float minActive = 0;  // smallest kept pre-activation (batchtopk's threshold estimate)
    bool sparsePath = false;
};

// Scratch memory reused between steps.
struct StepBuffers {
    Matrix xc;    // [B, D] x − b_dec
    Matrix h;     // [B, F] pre-activations; f for standard (ReLU applied in place)
    Matrix xHat;  // [B, D]
    Matrix gX;    // [B, D] ∂L/∂x̂
    Matrix gAux;  // [B, D] ∂L/∂ê of the aux reconstruction
    // Active (row, latent) pairs in CSR by row; main entries first, then aux entries.
    std::vector<int64_t> rowStart, auxRowStart;  // [B + 1]
    std::vector<int32_t> index, auxIndex;        // [nnz]
    std::vector<float> value, auxValue;          // [nnz] f at the entry
    std::vector<float> gradH, auxGradH;          // [nnz] ∂L/∂h at the entry
    std::vector<int32_t> rowCount;               // [B]
    std::vector<int32_t> padIndex;               // [B, cap] per-row selections
    std::vector<float> padValue;                 // [B, cap]
    // The same pairs grouped by latent, for conflict-free per-feature gradients.
    std::vector<int64_t> featStart;  // [F + 1]
    std::vector<int64_t> featEntry;  // [nnz + nnzAux] entry ids; aux ids offset by nnz
    std::vector<float> scratch;      // batchtopk selection
    std::vector<int64_t> fired;      // [F] rows in which each latent is active this batch
    Vector threshold;                // [F] jumprelu: θ = exp(log θ) of this step
    // Matryoshka: per prefix short of F, its error e_m [B, D] and then the
    // gradient G^m; and per latent the ∂L/∂x̂ it decodes into (G^m or gX).
    std::vector<Matrix> prefixGrad;
    std::vector<const Matrix*> gradOfLatent;  // [F]
    // Dense path, per OpenMP thread t: ∂L/∂h of the thread's current row block
    // [kRowBlock, F], and (t > 0) its partial W_dec / W_encᵀ gradients [F, D]
    // (thread 0 accumulates straight into the output).
    std::vector<Matrix> blockGradH, partDec, partEnc;
    // bf16 precision: this step's weights packed for the kernel (encoder W_encᵀ
    // [F, D]; decoder W_dec for ∂L/∂f and W_decᵀ for x̂), the batch's f and ∂L/∂h
    // transposed and rounded [F, B rounded up to even], and ∂L/∂x̂ᵀ and x'ᵀ
    // packed as the right-hand sides of the two weight-gradient GEMMs.
    kernels::PackedBf16 packEnc, packDec, packDecT, packGradXT, packXcT;
    std::vector<uint16_t> fT, gradHT;
};

// Rows per block of the fused forward and dense backward passes. A block of h
// or ∂L/∂h [kRowBlock, F] is 2 MiB at F = 4096: both threads' blocks stay in
// the shared L3 between the GEMM that writes them and the elementwise pass
// that reads them, and the weights each block GEMM packs (2·F·D floats) are
// amortised over enough rows (measured at d=128/F=4096: 32 and 256 rows were
// 5-10% slower).
inline constexpr int64_t kRowBlock = 128;
// bf16 precision: two of the bf16 kernel's 96-row blocks, so that each pass of
// a block over the packed weights (F·D bf16, from memory at d=768) is shared
// by as many rows as in float32 and no block ends in a short remainder.
inline constexpr int64_t kRowBlockBf16 = 192;

// Loss of the batch x [B, D] at `p` and, when `grad` is non-null, its gradient
// (same shapes as p; for jumprelu the log θ entry is the straight-through
// pseudo-gradient of train_step_jumprelu.cpp). `dead` [F] marks dead latents
// for aux-k (empty: none).
StepStats lossAndGradient(const TrainParams& p, const Matrix& x, const StepSettings& s,
                          const std::vector<uint8_t>& dead, TrainParams* grad, StepBuffers& buf);

}  // namespace mono::sae
