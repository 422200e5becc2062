// monoscope-cli perplexity: perplexity of a text file in windows of --ctx tokens.

#include <cstdio>
#include <fstream>
#include <sstream>

#include "app/cli/command.h"
#include "app/cli/model_args.h"
#include "core/base/file_checks.h"
#include "core/model/generate.h"

namespace mono::cli {
namespace {

int runPerplexity(CliArgs& args) {
    auto file = args.option("text");
    if (!file) return fail("perplexity", "missing --text FILE", 2);
    auto m = loadModelArgs(args, true);
    if (!m.ok()) return fail("perplexity", m.status().toString());
    const int ctx = static_cast<int>(
        args.intOption("ctx", std::min(512, m->model->config().maxSeqLen), 2, kMaxContext));
    if (args.hasError()) return fail("perplexity", args.error());
    if (const Status st = requireRegularFile(*file); !st.ok())
        return fail("perplexity", st.toString());
    std::ifstream in(*file, std::ios::binary);
    if (!in) return fail("perplexity", *file + ": cannot open");
    std::ostringstream ss;
    ss << in.rdbuf();
    const auto& t = *m->tokenizer;
    const std::vector<model::TokenId> tokens = t.encode(ss.str(), false);
    const model::TokenId bos = t.bos() >= 0 ? t.bos() : m->model->config().bosId;
    Progress progress([](const ProgressUpdate& u) {
        std::fprintf(stderr, "\r%5.1f%%  ppl %.4f", 100.0 * u.fraction,
                     u.metrics.count("ppl") ? u.metrics.at("ppl") : 0.0);
    });
    auto r = model::perplexity(*m->model, tokens, ctx, bos, bos >= 0, progress);
    std::fprintf(stderr, "\n");
    if (!r.ok()) return fail("perplexity", r.status().toString());
    std::printf("tokens %zu  windows %d  predicted %lld  ctx %d%s\n", tokens.size(), r->windows,
                (long long)r->predicted, ctx, bos >= 0 ? " (BOS + ctx-1 text tokens each)" : "");
    std::printf("mean NLL %.6f nats  perplexity %.4f\n", r->meanNll, r->perplexity);
    return 0;
}

const RegisterCommand kRegister(
    {"perplexity",
     "perplexity of a text file, in windows of --ctx tokens",
     "usage: monoscope-cli perplexity MODEL --text FILE [--ctx N] [--tokenizer FILE]\n"
     "                                [--precision f32|bf16] [--weights f32|bf16]\n"
     "  the text is cut into consecutive windows; each starts with BOS (when the\n"
     "  vocabulary has one) and every later token is predicted from those before it.",
     {},
     {"text", "ctx", "tokenizer", "precision", "weights"},
     &runPerplexity});

}  // namespace
}  // namespace mono::cli
