#pragma once
// Reading and writing SAEs in the formats public releases use.
//   SAELens folder: cfg.json (v6 nested with `metadata`, or the flat pre-6.0
//     layout) + sae_weights.safetensors (W_enc [d_in,d_sae], W_dec [d_sae,d_in],
//     b_enc, b_dec, threshold) + optional sparsity.safetensors (`sparsity`,
//     log10 feature density).
//   Gemma Scope: params.npz with W_enc, W_dec, b_enc, b_dec, threshold (or w_*);
//     JumpReLU, no b_dec subtraction.
//   EleutherAI sparsify: <hook>/cfg.json + sae.safetensors with encoder.weight
//     [d_sae, d_in], encoder.bias, W_dec [d_sae, d_in], b_dec; TopK.
// Every error names the file, and the tensor or key, with what was expected and
// what was found. Weights of any float dtype load as float32.

#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/sae/sae.h"

namespace mono::sae {

enum class SaeFormat { kSaeLens, kGemmaScope, kSparsify };

struct LoadOptions {
    int64_t expectedDIn = 0;  // when > 0, a different d_in is an InvalidArgument error
    std::string hook;         // sparsify: which <hook>/ subfolder when there are several
};

// Recognises the format: a .npz file or a folder with params.npz (Gemma Scope);
// a folder with sae_weights.safetensors (SAELens); a folder with sae.safetensors,
// or one whose <hook>/ subfolders hold them (sparsify). NotFound when none fits.
Result<SaeFormat> detectSaeFormat(const std::string& path);
Result<Sae> loadSae(const std::string& path, const LoadOptions& options = {});

Result<Sae> loadSaeLens(const std::string& dir, const LoadOptions& options = {});
Result<Sae> loadGemmaScope(const std::string& path, const LoadOptions& options = {});
Result<Sae> loadSparsify(const std::string& path, const LoadOptions& options = {});

// Writes a SAELens v6 folder (created if absent): cfg.json, sae_weights.safetensors
// and, when `log10Density` has d_sae entries, sparsity.safetensors. Each file is
// written atomically.
Status saveSaeLens(const Sae& sae, const std::string& dir,
                   const std::vector<float>& log10Density = {});

// log10 feature densities from sparsity.safetensors in a SAELens folder.
Result<std::vector<float>> loadSparsity(const std::string& dir);

}  // namespace mono::sae
