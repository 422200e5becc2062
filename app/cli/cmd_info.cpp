// monoscope-cli info: a model's configuration, size and hook points.

#include <cstdio>

#include "app/cli/command.h"
#include "app/cli/model_args.h"
#include "core/model/hook_points.h"

namespace mono::cli {
namespace {

int runInfo(CliArgs& args) {
    auto m = loadModelArgs(args, false);
    if (!m.ok()) return fail("info", m.status().toString());
    const model::ModelConfig& c = m->model->config();
    std::printf("model            %s\n", m->model->path().c_str());
    std::printf("%s", c.describe().c_str());
    const bool bf16 = m->model->weightStorage() == model::WeightStorage::kBf16;
    std::printf("weights in memory %s, %.3f GiB\n", bf16 ? "bf16 (resident)" : "float32",
                double(m->model->weightBytes()) / double(1 << 30));
    const auto names = model::listHookNames(c);
    std::printf("hook points      %zu (%d per block, then ln_final.hook_normalized)\n",
                names.size(), c.nLayers > 0 ? int(names.size() - 1) / c.nLayers : 0);
    for (const auto& n : names)
        if (n.rfind("blocks.0.", 0) == 0 || n.rfind("ln_final", 0) == 0) {
            auto id = model::parseHookName(c, n);
            std::printf("  %-32s [rows, %d]\n", n.c_str(), id.ok() ? model::hookWidth(c, *id) : 0);
        }
    if (c.nLayers > 1) std::printf("  ... the same for blocks.1 .. blocks.%d\n", c.nLayers - 1);
    // SAELens / Gemma Scope attention SAEs name the out projection's input hook_z.
    if (const char* o = model::hookSiteSuffix(c, model::HookSite::kAttnOutProjIn))
        std::printf("  blocks.L.attn.hook_z is another name of blocks.L.%s\n", o);
    return 0;
}

const RegisterCommand kRegister({"info",
                                 "show a model's configuration, size and hook points",
                                 "usage: monoscope-cli info MODEL [--weights f32|bf16]\n"
                                 "  MODEL  a Hugging Face folder, a .gguf file or a llama2.c .bin",
                                 {},
                                 {"tokenizer", "weights"},
                                 &runInfo});

}  // namespace
}  // namespace mono::cli
