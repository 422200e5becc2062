// monoscope-cli features: the feature table of a feature store, sorted and
// filtered; monoscope-cli export: JSON (Neuronpedia layout) or CSV.

#include <cmath>
#include <cstdio>

#include "app/cli/command.h"
#include "app/cli/output_guard.h"
#include "core/features/export.h"
#include "core/features/feature_store.h"

namespace mono::cli {
namespace {

const char* kUsage =
    "usage: monoscope-cli features FILE.sqlite [--top N] [--offset N]\n"
    "                              [--sort id|density|max|mean|label] [--asc|--desc]\n"
    "                              [--min-density X] [--max-density X] [--min-max X] [--max-max "
    "X]\n"
    "                              [--dead] [--alive] [--dense] [--labelled] [--unlabelled]\n"
    "                              [--search TEXT]\n"
    "\n"
    "Prints a page of the feature table: id, firing count, density, max and mean\n"
    "activation, label and the top example. --search matches the words of TEXT in\n"
    "top-example text, labels and notes. Defaults: --top 20 --sort id (ascending;\n"
    "density, max and mean sort descending unless --asc).";

const char* kExportUsage =
    "usage: monoscope-cli export FILE.sqlite (--json OUT | --csv OUT) [--feature ID]\n"
    "\n"
    "--json writes every feature (or one with --feature) in Neuronpedia's feature JSON\n"
    "layout; --csv writes the feature table.";

std::string shorten(std::string s, size_t n) {
    for (char& c : s)
        if (c == '\n' || c == '\t' || c == '\r') c = ' ';
    if (s.size() <= n) return s;
    size_t cut = n;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // whole chars
    return s.substr(0, cut) + "…";
}

int runFeatures(CliArgs& args) {
    const std::string name = "features";
    if (args.positionals().size() != 1)
        return fail(name, std::string("expected one FILE.sqlite\n\n") + kUsage, 2);
    features::PageRequest req;
    req.limit = args.intOption("top", 20, 1, 1'000'000);
    req.offset = args.intOption("offset", 0, 0, INT32_MAX);
    const std::string sort = args.option("sort").value_or("id");
    if (sort == "id")
        req.sort = features::SortKey::kId;
    else if (sort == "density")
        req.sort = features::SortKey::kDensity;
    else if (sort == "max")
        req.sort = features::SortKey::kMaxActivation;
    else if (sort == "mean")
        req.sort = features::SortKey::kMeanActivation;
    else if (sort == "label")
        req.sort = features::SortKey::kLabel;
    else
        return fail(name, "--sort must be id, density, max, mean or label, got '" + sort + "'", 2);
    req.descending = sort == "density" || sort == "max" || sort == "mean";
    if (args.flag("asc")) req.descending = false;
    if (args.flag("desc")) req.descending = true;
    features::FeatureFilter& f = req.filter;
    if (args.option("min-density")) f.minDensity = args.doubleOption("min-density", 0, 0, 1);
    if (args.option("max-density")) f.maxDensity = args.doubleOption("max-density", 1, 0, 1);
    if (args.option("min-max")) f.minActivation = args.doubleOption("min-max", 0, -1e30, 1e30);
    if (args.option("max-max")) f.maxActivation = args.doubleOption("max-max", 0, -1e30, 1e30);
    f.deadOnly = args.flag("dead");
    f.aliveOnly = args.flag("alive");
    f.denseOnly = args.flag("dense");
    if (args.flag("labelled")) f.hasLabel = true;
    if (args.flag("unlabelled")) f.hasLabel = false;
    f.text = args.option("search").value_or("");
    if (args.hasError()) return fail(name, args.error());

    auto store = features::FeatureStore::open(args.positionals()[0],
                                              features::FeatureStore::Mode::kReadOnly);
    if (!store.ok()) return fail(name, store.status().toString());
    auto page = store->page(req);
    if (!page.ok()) return fail(name, page.status().toString());
    std::printf("%8s %10s %10s %8s %9s %9s  %-20s %s\n", "id", "fires", "density", "log10", "max",
                "mean", "label", "top example");
    for (const auto& s : page->rows) {
        char log10[16] = "-inf";
        if (s.fireCount > 0) std::snprintf(log10, sizeof log10, "%.2f", std::log10(s.density));
        std::printf("%8lld %10lld %10.3e %8s %9.4g %9.4g  %-20s %s\n", (long long)s.id,
                    (long long)s.fireCount, s.density, log10, double(s.maxActivation),
                    double(s.meanActivation), shorten(s.label, 20).c_str(),
                    shorten(s.topSnippet, 60).c_str());
    }
    std::printf("(%lld of %lld matching features, from %lld)\n", (long long)page->rows.size(),
                (long long)page->total, (long long)req.offset);
    return 0;
}

int runExport(CliArgs& args) {
    const std::string name = "export";
    if (args.positionals().size() != 1)
        return fail(name, std::string("expected one FILE.sqlite\n\n") + kExportUsage, 2);
    const auto json = args.option("json");
    const auto csv = args.option("csv");
    if (!json == !csv)
        return fail(name, std::string("give one of --json or --csv\n\n") + kExportUsage, 2);
    const long long id = args.intOption("feature", -1, 0, INT32_MAX);
    if (args.hasError()) return fail(name, args.error());
    if (auto st = checkOutputFiles({json ? *json : *csv}, args.positionals()); !st.ok())
        return fail(name, st.toString());
    auto store = features::FeatureStore::open(args.positionals()[0],
                                              features::FeatureStore::Mode::kReadOnly);
    if (!store.ok()) return fail(name, store.status().toString());
    const Status st =
        json ? features::exportJson(*store, *json, id) : features::exportCsv(*store, *csv);
    if (!st.ok()) return fail(name, st.toString());
    std::printf("wrote %s\n", (json ? *json : *csv).c_str());
    return 0;
}

const RegisterCommand kRegister(
    {"features",
     "list the features of a feature store",
     kUsage,
     {"asc", "desc", "dead", "alive", "dense", "labelled", "unlabelled"},
     {"top", "offset", "sort", "min-density", "max-density", "min-max", "max-max", "search"},
     &runFeatures});
const RegisterCommand kRegisterExport({"export",
                                       "export a feature store as JSON or CSV",
                                       kExportUsage,
                                       {},
                                       {"json", "csv", "feature"},
                                       &runExport});

}  // namespace
}  // namespace mono::cli
