// monoscope-cli hook: capture the activation at one hook point, as float32 .npy.

#include <cstdio>
#include <cstring>

#include "app/cli/command.h"
#include "app/cli/model_args.h"
#include "app/cli/output_guard.h"
#include "core/io/npy.h"

namespace mono::cli {
namespace {

int runHook(CliArgs& args) {
    auto out = args.option("out");
    auto name = args.option("hook");
    if (!out || !name) return fail("hook", "missing --hook NAME or --out FILE.npy", 2);
    if (auto st = checkOutputFiles({*out}, inputPaths(args, {"tokenizer"})); !st.ok())
        return fail("hook", st.toString());
    auto m = loadModelArgs(args, args.option("text").has_value());
    if (!m.ok()) return fail("hook", m.status().toString());
    auto id = model::parseHookName(m->model->config(), *name);
    if (!id.ok()) return fail("hook", id.status().toString(), 2);
    auto ids = inputTokens(args, *m, args.flag("bos"));
    if (!ids.ok()) return fail("hook", ids.status().toString(), 2);
    io::NpyArray a;
    a.dtype = io::DType::kF32;
    model::Hooks hooks;
    hooks.add(*name, [&a](const model::HookContext&, model::ActivationBlock b) {
        a.shape = {b.rows, b.cols};
        a.bytes.resize(size_t(b.rows * b.cols) * sizeof(float));
        std::memcpy(a.bytes.data(), b.data, a.bytes.size());
    });
    model::ForwardOptions o;
    o.hooks = &hooks;
    o.logits = model::LogitsWanted::kNone;
    Status s = m->model->forward(model::Batch::single(*ids), o, nullptr);
    if (!s.ok()) return fail("hook", s.toString());
    s = io::writeNpy(*out, a);
    if (!s.ok()) return fail("hook", s.toString());
    std::printf("wrote %s: %s float32 [%lld, %lld]\n", out->c_str(), name->c_str(),
                (long long)a.shape[0], (long long)a.shape[1]);
    return 0;
}

const RegisterCommand kRegister(
    {"hook",
     "capture the activation at a hook point to a .npy file",
     "usage: monoscope-cli hook MODEL (--text TEXT | --tokens 1,2,3) --hook NAME --out FILE.npy\n"
     "                          [--bos] [--tokenizer FILE]\n"
     "  NAME as in TransformerLens (blocks.3.hook_resid_post, blocks.0.mlp.hook_post) or a\n"
     "  linear module's input (blocks.0.attn.c_attn, blocks.1.mlp.down_proj); see `info`.\n"
     "  writes float32 [positions, width]; no BOS is added unless --bos.",
     {"bos"},
     {"text", "tokens", "hook", "out", "tokenizer"},
     &runHook});

}  // namespace
}  // namespace mono::cli
