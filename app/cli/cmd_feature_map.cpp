// monoscope-cli feature-map: lays out an SAE's decoder directions in 2-D (UMAP)
// and stores the layout in the SAE's feature store, for the browser's map.

#include <cstdio>

#include "app/cli/command.h"
#include "app/cli/feature_map_args.h"
#include "app/cli/progress_bar.h"
#include "core/features/map_writer.h"
#include "core/sae/sae_io.h"

namespace mono::cli {
namespace {

const char* kUsage =
    "usage: monoscope-cli feature-map STORE.sqlite --sae DIR [--neighbours K] [--min-dist D]\n"
    "                                 [--epochs E] [--seed S]\n"
    "\n"
    "Lays out the SAE's decoder directions in 2-D with UMAP on the cosine distance\n"
    "(exact K nearest decoder rows, fuzzy simplicial set, PCA start, SGD with\n"
    "negative sampling) and stores one (x, y) per feature in STORE, replacing any\n"
    "earlier map. STORE must hold an analysis of this SAE (monoscope-cli analyze).\n"
    "Deterministic for a seed. Defaults: --neighbours 15 --min-dist 0.1 --seed 42;\n"
    "--epochs 500 up to 10 000 features, else 200.";

int runFeatureMap(CliArgs& args) {
    const std::string name = "feature-map";
    if (args.positionals().size() != 1)
        return fail(name, std::string("expected one STORE\n\n") + kUsage, 2);
    const auto saeDir = args.option("sae");
    if (!saeDir) return fail(name, std::string("--sae is required\n\n") + kUsage, 2);
    const features::FeatureMapSpec spec = featureMapSpecFromArgs(args);
    if (args.hasError()) return fail(name, args.error(), 2);
    auto sae = sae::loadSae(*saeDir);
    if (!sae.ok()) return fail(name, sae.status().toString());
    const std::string& store = args.positionals()[0];
    std::printf("laying out %lld features of %s into %s\n", (long long)sae->dSae(), saeDir->c_str(),
                store.c_str());
    ProgressBar bar(name);
    auto map = features::writeFeatureMap(*sae, *saeDir, store, spec, bar.progress(), StopToken());
    bar.finish();
    if (!map.ok()) return fail(name, map.status().toString());
    printFeatureMapTimes(*map);
    return 0;
}

const RegisterCommand kRegister({"feature-map",
                                 "lay out an SAE's features in 2-D into its feature store",
                                 kUsage,
                                 {},
                                 {"sae", "neighbours", "min-dist", "epochs", "seed"},
                                 &runFeatureMap});

}  // namespace
}  // namespace mono::cli
