#include "core/steer/steer_spec.h"

#include <charconv>
#include <cmath>

#include "core/features/feature_store.h"

namespace mono::steer {

Result<FeatureEdit> parseFeatureEdit(const std::string& text) {
    const auto eq = text.find('=');
    const auto bad = [&](const std::string& why) {
        return Status::invalidArgument("feature edit '" + text + "': " + why +
                                       " (expected ID=VALUE or ID=MULTIPLEx)");
    };
    if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) return bad("missing '='");
    FeatureEdit e;
    const char* b = text.data();
    auto [idEnd, idErr] = std::from_chars(b, b + eq, e.feature);
    if (idErr != std::errc() || idEnd != b + eq || e.feature < 0) return bad("bad feature id");
    std::string value = text.substr(eq + 1);
    if (value.back() == 'x' || value.back() == 'X') {
        e.relative = true;
        value.pop_back();
    }
    // strtod rather than from_chars<double>: it is in every standard library we build with.
    char* end = nullptr;
    e.value = std::strtod(value.c_str(), &end);
    if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(e.value))
        return bad("bad value '" + value + "'");
    return e;
}

Result<SteerMode> parseSteerMode(const std::string& text) {
    if (text == "clamp") return SteerMode::kClamp;
    if (text == "cond") return SteerMode::kConditionalClamp;
    if (text == "add") return SteerMode::kAdd;
    return Status::invalidArgument("steering mode '" + text + "': expected clamp, cond or add");
}

Result<SteerPositions> parseSteerPositions(const std::string& text) {
    if (text == "prompt") return SteerPositions::kPrompt;
    if (text == "gen") return SteerPositions::kGenerated;
    if (text == "all") return SteerPositions::kAll;
    return Status::invalidArgument("steering positions '" + text +
                                   "': expected prompt, gen or all");
}

const char* steerModeName(SteerMode mode) {
    switch (mode) {
        case SteerMode::kClamp:
            return "clamp";
        case SteerMode::kConditionalClamp:
            return "cond";
        case SteerMode::kAdd:
            return "add";
    }
    return "?";
}

const char* steerPositionsName(SteerPositions positions) {
    switch (positions) {
        case SteerPositions::kPrompt:
            return "prompt";
        case SteerPositions::kGenerated:
            return "gen";
        case SteerPositions::kAll:
            return "all";
    }
    return "?";
}

Status resolveFromStore(std::vector<FeatureEdit>& edits, const features::FeatureStore& store) {
    for (FeatureEdit& e : edits) {
        if (!e.relative) continue;
        auto rec = store.feature(e.feature);
        if (!rec.ok())
            return Status::notFound(store.path() + ": feature " + std::to_string(e.feature) + ": " +
                                    rec.status().message());
        if (!(rec->summary.maxActivation > 0))
            return Status::invalidArgument(store.path() + ": feature " + std::to_string(e.feature) +
                                           " never fired, so a multiple of its max activation "
                                           "means nothing; give an absolute value");
        e.maxActivation = rec->summary.maxActivation;
    }
    return Status::success();
}

Status resolveFromTable(std::vector<FeatureEdit>& edits, const std::vector<float>& maxActivation,
                        const std::string& source) {
    for (FeatureEdit& e : edits) {
        if (!e.relative) continue;
        if (e.feature >= static_cast<int64_t>(maxActivation.size()))
            return Status::notFound(source + ": no max activation for feature " +
                                    std::to_string(e.feature) + " (it has " +
                                    std::to_string(maxActivation.size()) + ")");
        if (!(maxActivation[e.feature] > 0))
            return Status::invalidArgument(source + ": feature " + std::to_string(e.feature) +
                                           " never fired; give an absolute value");
        e.maxActivation = maxActivation[e.feature];
    }
    return Status::success();
}

Result<std::vector<float>> loadMaxActivations(const std::string& path) {
    MONO_ASSIGN_OR_RETURN(
        features::FeatureStore store,
        features::FeatureStore::open(path, features::FeatureStore::Mode::kReadOnly));
    MONO_ASSIGN_OR_RETURN(int64_t count, store.featureCount());
    features::PageRequest req;
    req.sort = features::SortKey::kId;
    req.limit = count;
    MONO_ASSIGN_OR_RETURN(features::FeaturePage page, store.page(req));
    std::vector<float> max(static_cast<size_t>(count), 0.0f);
    for (const features::FeatureSummary& f : page.rows)
        if (f.id >= 0 && f.id < count) max[static_cast<size_t>(f.id)] = f.maxActivation;
    return max;
}

Status validateEdits(const std::vector<FeatureEdit>& edits, int64_t dSae) {
    for (const FeatureEdit& e : edits) {
        if (e.feature < 0 || e.feature >= dSae)
            return Status::invalidArgument("feature " + std::to_string(e.feature) +
                                           " is out of range: the SAE has " + std::to_string(dSae) +
                                           " features");
        if (e.relative && !(e.maxActivation > 0))
            return Status::invalidArgument(
                "feature " + std::to_string(e.feature) +
                ": a relative value (x) needs the feature's max activation; give a feature "
                "store or an absolute value");
        if (!std::isfinite(e.absolute()))
            return Status::invalidArgument("feature " + std::to_string(e.feature) +
                                           ": the value is not finite");
    }
    return Status::success();
}

}  // namespace mono::steer
