// monoscope-cli sae-info: the configuration and tensor shapes of an SAE
// (SAELens folder, Gemma Scope params.npz or sparsify folder).

#include <cstdio>

#include "app/cli/command.h"
#include "core/sae/sae_io.h"

namespace mono::cli {
namespace {

const char* kUsage =
    "usage: monoscope-cli sae-info PATH [--hook NAME]\n"
    "\n"
    "PATH is a SAELens folder, a Gemma Scope params.npz (or its folder) or a sparsify\n"
    "folder (--hook picks one of several <hook>/ subfolders).";

const char* formatName(sae::SaeFormat f) {
    switch (f) {
        case sae::SaeFormat::kSaeLens:
            return "SAELens";
        case sae::SaeFormat::kGemmaScope:
            return "Gemma Scope";
        case sae::SaeFormat::kSparsify:
            return "EleutherAI sparsify";
    }
    return "?";
}

int runSaeInfo(CliArgs& args) {
    const std::string name = "sae-info";
    if (args.positionals().size() != 1)
        return fail(name, std::string("expected one PATH\n\n") + kUsage, 2);
    const std::string path = args.positionals()[0];
    auto format = sae::detectSaeFormat(path);
    if (!format.ok()) return fail(name, format.status().toString());
    sae::LoadOptions options;
    options.hook = args.option("hook").value_or("");
    auto loaded = sae::loadSae(path, options);
    if (!loaded.ok()) return fail(name, loaded.status().toString());
    const sae::SaeConfig& c = loaded->config();
    std::printf("%s (%s)\n", path.c_str(), formatName(*format));
    std::printf("  architecture          %s", sae::architectureName(c.architecture));
    if (c.architecture == sae::Architecture::kTopK) std::printf(" (k = %lld)", (long long)c.k);
    std::printf("\n  d_in                  %lld\n", (long long)c.dIn);
    std::printf("  d_sae                 %lld (%.1fx)\n", (long long)c.dSae,
                static_cast<double>(c.dSae) / static_cast<double>(c.dIn));
    std::printf("  dtype                 %s\n", c.dtype.c_str());
    std::printf("  apply_b_dec_to_input  %s\n", c.applyBDecToInput ? "true" : "false");
    std::printf("  normalize_activations %s\n", c.normalizeActivations.c_str());
    const sae::SaeMetadata& m = c.metadata;
    if (!m.modelName.empty()) std::printf("  model                 %s\n", m.modelName.c_str());
    if (!m.hookName.empty()) std::printf("  hook                  %s\n", m.hookName.c_str());
    if (m.contextSize > 0) std::printf("  context size          %lld\n", (long long)m.contextSize);
    if (!m.datasetPath.empty()) std::printf("  dataset               %s\n", m.datasetPath.c_str());
    if (m.trainingTokens > 0)
        std::printf("  training tokens       %lld\n", (long long)m.trainingTokens);
    std::printf("tensors\n");
    std::printf("  W_enc      [%lld, %lld]\n", (long long)loaded->wEnc().rows(),
                (long long)loaded->wEnc().cols());
    std::printf("  W_dec      [%lld, %lld]\n", (long long)loaded->wDec().rows(),
                (long long)loaded->wDec().cols());
    std::printf("  b_enc      [%lld]\n", (long long)loaded->bEnc().size());
    std::printf("  b_dec      [%lld]\n", (long long)loaded->bDec().size());
    if (loaded->threshold().size() > 0) {
        std::printf("  threshold  [%lld]  (min %.4g, max %.4g)\n",
                    (long long)loaded->threshold().size(), loaded->threshold().minCoeff(),
                    loaded->threshold().maxCoeff());
    }
    const double decNorm = loaded->wDec().rowwise().norm().mean();
    std::printf("  mean ||W_dec[i]|| %.4g\n", decNorm);
    if (*format == sae::SaeFormat::kSaeLens) {
        auto sparsity = sae::loadSparsity(path);
        if (sparsity.ok() && !sparsity->empty()) {
            int64_t dead = 0, dense = 0;
            for (float v : *sparsity) {
                dead += v <= -9.9f;
                dense += v > -1.0f;
            }
            std::printf(
                "sparsity.safetensors: %lld features never fired, %lld with density > 0.1\n",
                (long long)dead, (long long)dense);
        }
    }
    return 0;
}

const RegisterCommand kRegister({"sae-info",
                                 "print an SAE's configuration and tensor shapes",
                                 kUsage,
                                 {},
                                 {"hook"},
                                 &runSaeInfo});

}  // namespace
}  // namespace mono::cli
