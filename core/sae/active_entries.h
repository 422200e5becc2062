#pragma once
// Internal to the SAE training step: which (row, latent) entries of the
// pre-activations h [B, F] are active, as CSR by row in StepBuffers
// (rowStart/index/value, or auxRowStart/auxIndex/auxValue for aux-k).

#include <cstdint>
#include <vector>

#include "core/base/matrix.h"
#include "core/sae/train_step.h"

namespace mono::sae {

// Entries with h > threshold and h > 0.
void selectAbove(const Matrix& h, float threshold, StepBuffers& buf);

// Entries with h_bi > threshold[i] (jumprelu; every threshold is positive).
void selectAboveEach(const Matrix& h, const Vector& threshold, StepBuffers& buf);

// Per row the k largest entries (topk).
void selectTopK(const Matrix& h, int64_t k, StepBuffers& buf);

// The (k·B)-th largest positive pre-activation of the batch (`keep` = k·B),
// 0 if fewer are positive; selectAbove with it keeps the batch's top k·B.
float batchTopKThreshold(const Matrix& h, int64_t keep, std::vector<float>& scratch);

// Aux-k: per row the kAux largest positive pre-activations among the dead
// latents `deadList`, into the aux CSR.
void selectAux(const Matrix& h, const std::vector<int32_t>& deadList, int64_t kAux,
               StepBuffers& buf);

}  // namespace mono::sae
