// monoscope-cli compare: match the features of two SAEs by decoder cosine
// (core/compare/sae_matching.h) and report matches, splits and the unmatched.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "app/cli/command.h"
#include "app/cli/output_guard.h"
#include "core/acts/activation_store.h"
#include "core/acts/shuffled_provider.h"
#include "core/base/atomic_file.h"
#include "core/compare/sae_matching.h"
#include "core/sae/sae_io.h"

namespace mono::cli {
namespace {

const char* kUsage =
    "usage: monoscope-cli compare SAE_A SAE_B [--threshold T] [--family-threshold T] [--top N]\n"
    "                             [--activations DIR [--rows N]] [--json OUT]\n"
    "\n"
    "Matches the features of two SAEs that read the same vectors (other widths, seeds or\n"
    "checkpoints) by the cosine of their decoder directions: each feature's best --top\n"
    "matches in the other SAE, mutual best pairs, and the features without a match\n"
    "(best cosine below --threshold). Families: a feature of the narrower SAE with two or\n"
    "more features of the wider one whose best match it is (cosine >= --family-threshold),\n"
    "i.e. a feature that split. With --activations (an activation store of the hook), also\n"
    "the Pearson correlation of each candidate pair's activations over --rows sampled rows.\n"
    "--json writes every feature's matches, the families and the unmatched.\n"
    "Defaults: --threshold 0.9 --family-threshold 0.7 --top 3 --rows 16384.";

struct Options {
    float threshold = 0.9f, familyThreshold = 0.7f;
    int top = 3;
    int64_t rows = 16384;
};

nlohmann::json matchesJson(const std::vector<sae::CosineMatch>& matches,
                           const std::vector<float>* corr) {
    nlohmann::json list = nlohmann::json::array();
    for (size_t k = 0; k < matches.size(); ++k) {
        nlohmann::json e = {{"id", matches[k].id}, {"cosine", matches[k].cosine}};
        if (corr) e["correlation"] = (*corr)[k];
        list.push_back(e);
    }
    return list;
}

nlohmann::json reportJson(const std::string& pathA, const std::string& pathB,
                          const compare::SaeMatching& m, const Options& o,
                          const std::vector<compare::SplitFamily>& families, bool parentsInA,
                          const std::vector<std::vector<float>>* corr) {
    const compare::MatchCounts c = compare::countMatches(m, o.threshold);
    nlohmann::json j = {{"a", pathA},
                        {"b", pathB},
                        {"features_a", m.featuresA},
                        {"features_b", m.featuresB},
                        {"threshold", o.threshold},
                        {"family_threshold", o.familyThreshold},
                        {"matched_a", c.matchedA},
                        {"matched_b", c.matchedB},
                        {"mutual_pairs", c.mutualPairs},
                        {"family_parents_in", parentsInA ? "a" : "b"}};
    nlohmann::json aToB = nlohmann::json::array(), bToA = nlohmann::json::array();
    nlohmann::json unmatchedA = nlohmann::json::array(), unmatchedB = nlohmann::json::array();
    for (size_t i = 0; i < m.aToB.size(); ++i) {
        aToB.push_back(matchesJson(m.aToB[i], corr ? &(*corr)[i] : nullptr));
        if (m.aToB[i].empty() || m.aToB[i][0].cosine < o.threshold) unmatchedA.push_back(i);
    }
    for (size_t i = 0; i < m.bToA.size(); ++i) {
        bToA.push_back(matchesJson(m.bToA[i], nullptr));
        if (m.bToA[i].empty() || m.bToA[i][0].cosine < o.threshold) unmatchedB.push_back(i);
    }
    nlohmann::json fam = nlohmann::json::array();
    for (const auto& f : families)
        fam.push_back({{"parent", f.parent}, {"children", matchesJson(f.children, nullptr)}});
    j["a_to_b"] = aToB;
    j["b_to_a"] = bToA;
    j["unmatched_a"] = unmatchedA;
    j["unmatched_b"] = unmatchedB;
    j["families"] = fam;
    return j;
}

void printSummary(const compare::SaeMatching& m, const Options& o,
                  const std::vector<compare::SplitFamily>& families, bool parentsInA,
                  const std::vector<std::vector<float>>* corr) {
    const compare::MatchCounts c = compare::countMatches(m, o.threshold);
    auto pct = [](int64_t n, int64_t of) { return of > 0 ? 100.0 * double(n) / double(of) : 0.0; };
    std::printf("decoder cosine >= %.2f:\n", o.threshold);
    std::printf("  A features with a match in B  %lld of %lld (%.1f%%)\n", (long long)c.matchedA,
                (long long)m.featuresA, pct(c.matchedA, m.featuresA));
    std::printf("  B features with a match in A  %lld of %lld (%.1f%%)\n", (long long)c.matchedB,
                (long long)m.featuresB, pct(c.matchedB, m.featuresB));
    std::printf("  mutual best pairs             %lld\n", (long long)c.mutualPairs);
    if (corr) {
        int64_t pairs = 0, high = 0;
        double sum = 0;
        for (size_t i = 0; i < m.aToB.size(); ++i)
            if (!m.aToB[i].empty() && m.aToB[i][0].cosine >= o.threshold) {
                ++pairs;
                sum += (*corr)[i][0];
                high += (*corr)[i][0] >= 0.9f;
            }
        std::printf("  activation correlation of matched pairs: mean %.3f, >= 0.9 for %.1f%%\n",
                    pairs ? sum / double(pairs) : 0.0, pct(high, pairs));
    }
    const char* parent = parentsInA ? "A" : "B";
    const char* child = parentsInA ? "B" : "A";
    std::printf(
        "split families (one %s feature, >= 2 %s features whose best match it is, cos >= "
        "%.2f): %zu\n",
        parent, child, o.familyThreshold, families.size());
    for (size_t f = 0; f < families.size() && f < 10; ++f) {
        std::printf("  %s #%lld ->", parent, (long long)families[f].parent);
        for (const auto& ch : families[f].children)
            std::printf(" %s #%d (%.2f)", child, ch.id, ch.cosine);
        std::printf("\n");
    }
    if (families.size() > 10) std::printf("  ... (all of them with --json)\n");
}

int runCompare(CliArgs& args) {
    const std::string name = "compare";
    if (args.positionals().size() != 2)
        return fail(name, std::string("expected SAE_A and SAE_B\n\n") + kUsage, 2);
    Options o;
    o.threshold = float(args.doubleOption("threshold", 0.9, -1, 1));
    o.familyThreshold = float(args.doubleOption("family-threshold", 0.7, -1, 1));
    o.top = int(args.intOption("top", 3, 1, 1000));
    o.rows = args.intOption("rows", 16384, 1, 1 << 24);
    if (args.hasError()) return fail(name, args.error());
    const std::string pathA = args.positionals()[0], pathB = args.positionals()[1];
    const auto json = args.option("json");
    if (json) {
        std::vector<std::string> inputs = saeInputFiles(pathA);
        for (const auto& f : saeInputFiles(pathB)) inputs.push_back(f);
        if (auto st = checkOutputFiles({*json}, inputs); !st.ok()) return fail(name, st.toString());
    }
    auto a = sae::loadSae(pathA);
    if (!a.ok()) return fail(name, a.status().toString());
    auto b = sae::loadSae(pathB);
    if (!b.ok()) return fail(name, b.status().toString());
    std::printf("A  %s: %s, %lld features, d_in %lld\n", pathA.c_str(),
                sae::architectureName(a->config().architecture), (long long)a->dSae(),
                (long long)a->dIn());
    std::printf("B  %s: %s, %lld features, d_in %lld\n", pathB.c_str(),
                sae::architectureName(b->config().architecture), (long long)b->dSae(),
                (long long)b->dIn());
    auto m = compare::matchDecoders(*a, *b, o.top);
    if (!m.ok()) return fail(name, pathA + " vs " + pathB + ": " + m.status().toString());
    std::vector<std::vector<float>> corr;
    if (auto dir = args.option("activations")) {
        auto index = acts::readStoreIndex(*dir);
        if (!index.ok()) return fail(name, index.status().toString());
        auto store = acts::ShuffledStoreProvider::open(*dir, 1);
        if (!store.ok()) return fail(name, store.status().toString());
        Matrix x(std::min(o.rows, index->rows()), (*store)->dim());  // each row at most once
        if (auto st = (*store)->next(x); !st.ok()) return fail(name, st.toString());
        auto c = compare::activationCorrelations(*a, *b, *m, x);
        if (!c.ok()) return fail(name, *dir + ": " + c.status().toString());
        corr = std::move(*c);
    }
    const bool parentsInA = a->dSae() <= b->dSae();
    const auto families = compare::splitFamilies(*m, parentsInA, o.familyThreshold);
    const auto* corrPtr = corr.empty() ? nullptr : &corr;
    printSummary(*m, o, families, parentsInA, corrPtr);
    if (json) {
        const auto j = reportJson(pathA, pathB, *m, o, families, parentsInA, corrPtr);
        if (auto st = writeFileAtomic(*json, j.dump(1) + "\n"); !st.ok())
            return fail(name, st.toString());
        std::printf("wrote %s\n", json->c_str());
    }
    return 0;
}

const RegisterCommand kRegister({"compare",
                                 "match the features of two SAEs by decoder cosine: pairs, "
                                 "splits, unmatched",
                                 kUsage,
                                 {},
                                 {"threshold", "family-threshold", "top", "activations", "rows",
                                  "json"},
                                 &runCompare});

}  // namespace
}  // namespace mono::cli
