// monoscope-cli generate: stream a continuation of a prompt.

#include <cstdio>

#include "app/cli/command.h"
#include "app/cli/device_args.h"
#include "app/cli/model_args.h"
#include "core/model/generate.h"

namespace mono::cli {
namespace {

int runGenerate(CliArgs& args) {
    if (Status st = cachedForwardDevice(args, "generate"); !st.ok())
        return fail("generate", st.toString());
    auto m = loadModelArgs(args, true);
    if (!m.ok()) return fail("generate", m.status().toString());
    model::GenerateOptions g;
    g.maxNewTokens = static_cast<int>(args.intOption("n", 256, 0, 1'000'000));
    g.sampling.temperature = static_cast<float>(args.doubleOption("temperature", 0.0, 0, 100));
    g.sampling.topK = static_cast<int>(args.intOption("top-k", 0, 0, INT32_MAX));
    g.sampling.topP = static_cast<float>(args.doubleOption("top-p", 1.0, 0, 1));
    g.sampling.seed = args.seedOption("seed", 0);
    g.sampling.frequencyPenalty =
        static_cast<float>(args.doubleOption("frequency-penalty", 0.0, -100, 100));
    if (args.hasError()) return fail("generate", args.error());
    if (g.maxNewTokens < 0 || g.sampling.temperature < 0 || g.sampling.topK < 0 ||
        !(g.sampling.topP > 0 && g.sampling.topP <= 1))
        return fail("generate", "-n, --temperature, --top-k must be >= 0 and --top-p in (0, 1]", 2);
    const std::string prompt = args.option("prompt").value_or("");
    const tok::Tokenizer& t = *m->tokenizer;
    std::vector<model::TokenId> ids = t.encode(prompt, true);
    if (ids.empty() || (t.bos() < 0 && prompt.empty())) {
        const model::TokenId bos = t.bos() >= 0 ? t.bos() : m->model->config().bosId;
        if (bos < 0) return fail("generate", "the empty prompt needs a BOS token; give --prompt");
        ids.insert(ids.begin(), bos);
    }
    std::printf("%s", prompt.c_str());
    std::fflush(stdout);
    auto r = model::generate(*m->model, t, ids, g, [](model::TokenId, const std::string& text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
        return true;
    });
    std::printf("\n");
    if (!r.ok()) return fail("generate", r.status().toString());
    return 0;
}

const RegisterCommand kRegister(
    {"generate",
     "continue a prompt (greedy or sampled), streaming the text",
     "usage: monoscope-cli generate MODEL --prompt TEXT [-n N] [--temperature T] [--top-k K]\n"
     "                              [--top-p P] [--seed S] [--frequency-penalty F]\n"
     "                              [--tokenizer FILE] [--precision f32|bf16]\n"
     "                              [--weights f32|bf16] [--device D]\n"
     "  greedy when T = 0 (the default); an empty prompt starts from BOS; -n defaults to 256.\n"
     "  A llama2.c .bin needs --tokenizer (e.g. tok512.bin). --weights bf16 holds the\n"
     "  weights in bf16 only (half the memory; f32 checkpoints are rounded at load).\n"
     "  --device: the model runs on the CPU (cpu, the default); the CUDA forward pass has no\n"
     "  KV cache yet, so generation refuses a CUDA device.",
     {},
     {"prompt", "n", "temperature", "top-k", "top-p", "seed", "frequency-penalty", "tokenizer",
      "precision", "weights", "device"},
     &runGenerate});

}  // namespace
}  // namespace mono::cli
