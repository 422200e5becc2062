// libFuzzer target: a SAELens cfg.json (loadSaeLens) beside a fixed, valid
// sae_weights.safetensors with d_in 4, d_sae 8 and every tensor an
// architecture may ask for, so a config that parses goes on to load weights.

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/io/safetensors.h"
#include "core/sae/sae_io.h"
#include "fuzz/fuzz_support.h"

using namespace mono;

namespace {

const std::string& saeDir() {
    static const std::string dir = [] {
        const std::filesystem::path d = fuzz::scratchDir() / "sae";
        std::filesystem::create_directories(d);
        static const std::vector<float> enc(4 * 8, 0.25f), dec(8 * 4, 0.5f), bEnc(8, 0.f),
            bDec(4, 0.f), threshold(8, 0.1f), sparsity(8, -2.f);
        std::vector<io::TensorToWrite> tensors = {
            {"W_enc", io::DType::kF32, {4, 8}, enc.data(), enc.size() * 4},
            {"W_dec", io::DType::kF32, {8, 4}, dec.data(), dec.size() * 4},
            {"b_enc", io::DType::kF32, {8}, bEnc.data(), bEnc.size() * 4},
            {"b_dec", io::DType::kF32, {4}, bDec.data(), bDec.size() * 4},
            {"threshold", io::DType::kF32, {8}, threshold.data(), threshold.size() * 4},
        };
        if (!io::writeSafetensors((d / "sae_weights.safetensors").string(), tensors).ok())
            std::abort();
        std::vector<io::TensorToWrite> sp = {
            {"sparsity", io::DType::kF32, {8}, sparsity.data(), sparsity.size() * 4}};
        if (!io::writeSafetensors((d / "sparsity.safetensors").string(), sp).ok()) std::abort();
        return d.string();
    }();
    return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string& dir = saeDir();
    fuzz::writeInput("sae/cfg.json", data, size);
    auto sae = sae::loadSae(dir);
    if (sae.ok()) {
        if (sae->config().dIn != 4 || sae->config().dSae != 8) std::abort();
        (void)sae::loadSparsity(dir);
    }
    return 0;
}
