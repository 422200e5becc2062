// monoscope-cli feature: one feature's dashboard as text; also sets its label and notes.

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app/cli/command.h"
#include "app/cli/example_text.h"
#include "core/features/feature_store.h"

namespace mono::cli {
namespace {

const char* kUsage =
    "usage: monoscope-cli feature FILE.sqlite ID [--label TEXT] [--notes TEXT] [--examples N]\n"
    "\n"
    "Prints the dashboard of feature ID: statistics, activation histogram, top examples\n"
    "(the example token in «», other firing tokens with their activation in [ ]),\n"
    "interval samples, the output tokens it promotes and suppresses, its nearest\n"
    "features by decoder cosine and the features that fire with it. --label and --notes\n"
    "set the annotation first (an empty TEXT removes it). Default: --examples 10.";

int runFeature(CliArgs& args) {
    const std::string name = "feature";
    if (args.positionals().size() != 2)
        return fail(name, std::string("expected FILE.sqlite and ID\n\n") + kUsage, 2);
    char* end = nullptr;
    const long long id = std::strtoll(args.positionals()[1].c_str(), &end, 10);
    if (!end || *end || args.positionals()[1].empty())
        return fail(name, "ID must be an integer, got '" + args.positionals()[1] + "'", 2);
    const int shown = static_cast<int>(args.intOption("examples", 10, 0, 10000));
    if (args.hasError()) return fail(name, args.error());
    const auto label = args.option("label");
    const auto notes = args.option("notes");
    const bool write = label || notes;
    auto store = features::FeatureStore::open(
        args.positionals()[0],
        write ? features::FeatureStore::Mode::kReadWrite : features::FeatureStore::Mode::kReadOnly);
    if (!store.ok()) return fail(name, store.status().toString());
    if (label)
        if (Status st = store->setLabel(id, *label); !st.ok()) return fail(name, st.toString());
    if (notes)
        if (Status st = store->setNotes(id, *notes); !st.ok()) return fail(name, st.toString());
    auto rec = store->feature(id);
    if (!rec.ok()) return fail(name, rec.status().toString());
    const features::FeatureSummary& s = rec->summary;

    std::printf("feature %lld%s%s\n", (long long)s.id, s.label.empty() ? "" : "  — ",
                s.label.c_str());
    std::printf("  fires on %lld tokens, density %.3e (log10 %s), max %.4g, mean %.4g\n",
                (long long)s.fireCount, s.density,
                s.fireCount ? std::to_string(std::log10(s.density)).substr(0, 6).c_str() : "-inf",
                double(s.maxActivation), double(s.meanActivation));
    if (!rec->notes.empty()) std::printf("  notes: %s\n", rec->notes.c_str());

    const auto& h = rec->histogram;
    if (!h.counts.empty()) {
        std::printf("\nactivation histogram\n");
        const size_t rows = 16, group = (h.counts.size() + rows - 1) / rows;
        std::vector<int64_t> grouped;
        for (size_t k = 0; k < h.counts.size(); k += group) {
            int64_t c = 0;
            for (size_t j = k; j < std::min(h.counts.size(), k + group); ++j) c += h.counts[j];
            grouped.push_back(c);
        }
        const int64_t peak =
            std::max<int64_t>(1, *std::max_element(grouped.begin(), grouped.end()));
        for (size_t g = 0; g < grouped.size(); ++g) {
            const double lo = double(g * group) * h.binWidth;
            const double hi = double(std::min(h.counts.size(), (g + 1) * group)) * h.binWidth;
            const int bar = static_cast<int>(std::lround(40.0 * double(grouped[g]) / double(peak)));
            std::printf("  (%8.4g, %8.4g] %8lld %s\n", lo, hi, (long long)grouped[g],
                        std::string(static_cast<size_t>(bar), '#').c_str());
        }
    }
    if (!rec->topExamples.empty()) {
        std::printf("\ntop examples\n");
        for (int i = 0; i < std::min<int>(shown, rec->topExamples.size()); ++i) {
            const auto& e = rec->topExamples[i];
            std::printf("  %8.4g  %s\n", double(e.activation), renderExample(e).c_str());
        }
    }
    if (!rec->intervalExamples.empty()) {
        std::printf("\ninterval samples (bins of width %.4g)\n", double(rec->intervalBinWidth));
        int lastBin = -2;
        for (auto it = rec->intervalExamples.rbegin(); it != rec->intervalExamples.rend(); ++it) {
            if (it->bin != lastBin) {
                lastBin = it->bin;
                std::printf("  bin %d (%.4g, %.4g]%s\n", it->bin,
                            double(it->bin * rec->intervalBinWidth),
                            double((it->bin + 1) * rec->intervalBinWidth),
                            it->uniform ? "" : " (approximately uniform)");
            }
            std::printf("    %8.4g  %s\n", double(it->activation), renderExample(*it).c_str());
        }
    }
    auto printLogits = [](const char* title, const std::vector<features::LogitEffect>& list) {
        if (list.empty()) return;
        std::printf("\n%s\n ", title);
        for (const auto& l : list)
            std::printf(" %s(%+.3g)", visibleText(l.text).c_str(), double(l.value));
        std::printf("\n");
    };
    printLogits("promotes", rec->positiveLogits);
    printLogits("suppresses", rec->negativeLogits);
    if (!rec->neighbours.empty()) {
        std::printf("\nnearest features (decoder cosine)\n ");
        for (const auto& n : rec->neighbours)
            std::printf(" %lld(%.3f)", (long long)n.id, double(n.value));
        std::printf("\n");
    }
    if (!rec->coFiring.empty()) {
        std::printf("\nfires together with (share of its firings in the sample)\n ");
        for (const auto& c : rec->coFiring)
            std::printf(" %lld(%.0f%%)", (long long)c.id, 100.0 * double(c.value));
        std::printf("\n");
    }
    return 0;
}

const RegisterCommand kRegister({"feature",
                                 "print one feature's dashboard; set its label",
                                 kUsage,
                                 {},
                                 {"label", "notes", "examples"},
                                 &runFeature});

}  // namespace
}  // namespace mono::cli
