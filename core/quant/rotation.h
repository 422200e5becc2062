#pragma once
// Orthogonal rotation of the residual stream (QuaRot-style), folded into the
// weights so that the float function is unchanged while the linear inputs
// lose their outlier channels: an outlier on one channel is spread over a
// whole Hadamard block.
//
// Q = D · H · R (acting on row vectors, x → x·Q):
//   D  diagonal ±1 (all +1 for "hadamard", seeded random signs for "random-hadamard"
//      and for LayerNorm families, where all +1 would leave channel 0 unspread)
//   H  block-diagonal normalized Walsh–Hadamard matrix; the block is the
//      largest power of two dividing d_model (all of it when d_model is one),
//      applied with the fast Walsh–Hadamard transform
//   R  identity for RMSNorm families; for LayerNorm families the Householder
//      reflection that makes Q map the all-ones vector to itself, so that the
//      mean LayerNorm subtracts commutes with Q (LN₀(x·Q) = LN₀(x)·Q)
//
// Folding (every family whose residual stream is read only through a norm):
//   norm scale γ (and LayerNorm bias β) → the linears that read the norm, then
//   those linears' weights W → W·Q (W [out, in]); linears that write the
//   residual (attention output, MLP down) W → Qᵀ·W, b → Qᵀ·b; token and
//   position embeddings E → E·Q; the final norm into the unembedding (a tied
//   unembedding becomes its own matrix). A LayerNorm β folds into the bias of
//   the linears that read it; the unembedding has none, so there the norm
//   keeps β = 1 and a rank-one term carries Wβ (exact because LN₀'s output has
//   zero mean and Q fixes the ones vector).
// Refused: Gemma 2/3, whose post-attention and post-MLP norms act on a
// residual write with no linear after them to carry Q.

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/base/result.h"
#include "core/model/model.h"
#include "core/model/weights.h"

namespace mono::quant {

enum class RotationKind { kNone, kHadamard, kRandomHadamard };

const char* rotationName(RotationKind k);  // "none", "hadamard", "random-hadamard"
// The names above; InvalidArgument listing them.
Result<RotationKind> parseRotation(std::string_view text);

// x ← x·H_n / sqrt(n) in place (the normalized Walsh–Hadamard transform, Sylvester
// order); n must be a power of two.
void fwht(float* x, int64_t n);

// The largest power of two dividing n (n > 0).
int64_t hadamardBlock(int64_t n);

class ResidualRotation {
public:
    // kNone gives the identity (the folding alone: an ablation). InvalidArgument
    // for a non-positive width.
    static Result<ResidualRotation> make(int64_t dModel, RotationKind kind, bool keepOnesVector,
                                         uint64_t seed = 0x5eed);
    int64_t dModel() const { return int64_t(m_signs.size()); }
    int64_t block() const { return m_block; }
    // row ← row·Q over dModel values.
    void apply(float* row) const;
    // Every row of a row-major [rows, dModel] matrix.
    void applyRows(model::RowMatrix& m) const;
    // Q itself (for tests).
    model::RowMatrix matrix() const;

private:
    std::vector<float> m_signs;
    std::vector<float> m_reflect;  // Householder v, unit length; empty: R = I
    int64_t m_block = 1;
};

// Whether the family can be rotated exactly; InvalidArgument saying why not.
Status checkRotatable(const model::ModelConfig& config);

// A rotated copy of `fp` (its float function unchanged up to rounding).
Result<std::shared_ptr<model::Model>> rotateModel(const model::Model& fp, RotationKind kind,
                                                  uint64_t seed = 0x5eed);

// Folds the rotation into weights in place (config must pass checkRotatable);
// `config.tiedEmbeddings` becomes false when the unembedding had been tied.
Status rotateWeights(model::ModelWeights& weights, model::ModelConfig& config,
                     const ResidualRotation& rotation);

}  // namespace mono::quant
