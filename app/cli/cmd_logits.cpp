// monoscope-cli logits: the logits of every input position, as float32 .npy.

#include <cstdio>
#include <cstring>

#include "app/cli/command.h"
#include "app/cli/model_args.h"
#include "app/cli/output_guard.h"
#include "core/io/npy.h"

namespace mono::cli {
namespace {

int runLogits(CliArgs& args) {
    auto out = args.option("out");
    if (!out) return fail("logits", "missing --out FILE.npy", 2);
    if (auto st = checkOutputFiles({*out}, inputPaths(args, {"tokenizer"})); !st.ok())
        return fail("logits", st.toString());
    auto m = loadModelArgs(args, args.option("text").has_value());
    if (!m.ok()) return fail("logits", m.status().toString());
    auto ids = inputTokens(args, *m, args.flag("bos"));
    if (!ids.ok()) return fail("logits", ids.status().toString(), 2);
    model::Logits logits;
    model::ForwardOptions o;
    Status s = m->model->forward(model::Batch::single(*ids), o, &logits);
    if (!s.ok()) return fail("logits", s.toString());
    io::NpyArray a;
    a.dtype = io::DType::kF32;
    a.shape = {logits.rows, logits.vocab};
    a.bytes.resize(logits.data.size() * sizeof(float));
    std::memcpy(a.bytes.data(), logits.data.data(), a.bytes.size());
    s = io::writeNpy(*out, a);
    if (!s.ok()) return fail("logits", s.toString());
    std::printf("wrote %s: float32 [%lld, %lld]\n", out->c_str(), (long long)logits.rows,
                (long long)logits.vocab);
    return 0;
}

const RegisterCommand kRegister(
    {"logits",
     "write the logits of every input position to a .npy file",
     "usage: monoscope-cli logits MODEL (--tokens 1,2,3 | --text TEXT) --out FILE.npy [--bos]\n"
     "                            [--tokenizer FILE] [--precision f32|bf16]\n"
     "                            [--weights f32|bf16]\n"
     "  writes float32 [positions, vocab]; no BOS is added unless --bos.",
     {"bos"},
     {"tokens", "text", "out", "tokenizer", "precision", "weights"},
     &runLogits});

}  // namespace
}  // namespace mono::cli
