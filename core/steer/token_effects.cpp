#include "core/steer/token_effects.h"

#include <algorithm>
#include <set>

#include "core/model/generate.h"
#include "core/steer/sae_splice.h"

namespace mono::steer {
namespace {

double logProb(const model::Logits& logits, int64_t row, int32_t token, std::vector<float>& buf) {
    buf.assign(logits.row(row), logits.row(row) + logits.vocab);
    model::logSoftmax(buf.data(), static_cast<int>(logits.vocab));
    return buf[static_cast<size_t>(token)];
}

}  // namespace

Result<TokenEffects> featureTokenEffects(model::Model& model, std::shared_ptr<const sae::Sae> sae,
                                         const std::string& hook,
                                         const std::vector<int32_t>& tokens, int64_t feature,
                                         const std::vector<int64_t>& positions) {
    FeatureEdit zero;
    zero.feature = feature;
    zero.value = 0;
    MONO_ASSIGN_OR_RETURN(SaeSplice splice,
                          SaeSplice::create(model.config(), sae, hook, {zero}, SteerMode::kClamp));
    const model::Batch batch = model::Batch::single(tokens);
    // Clean pass: logits, and the hook rows to find where f fires.
    Matrix x;
    model::Hooks capture;
    capture.add(hook, [&](const model::HookContext&, model::ActivationBlock b) {
        x = Eigen::Map<const Matrix>(b.data, b.rows, b.cols);
    });
    model::ForwardOptions options;
    options.hooks = &capture;
    options.logits = model::LogitsWanted::kAll;
    model::Logits clean, ablated;
    MONO_RETURN_IF_ERROR(model.forward(batch, options, &clean));
    TokenEffects out;
    if (tokens.size() < 2) return out;
    MONO_ASSIGN_OR_RETURN(Matrix f, sae->encode(x));
    const std::set<int64_t> allowed(positions.begin(), positions.end());
    std::vector<char> ablate(tokens.size(), 0);
    for (int64_t p = 0; p < f.rows(); ++p) {
        if (f(p, feature) == 0.0f || (!allowed.empty() && !allowed.count(p))) continue;
        ablate[static_cast<size_t>(p)] = 1;
        out.ablated.push_back(p);
    }
    if (out.ablated.empty()) return out;

    model::Hooks hooks;
    Status hookError;
    splice.install(
        hooks, [&](int, int64_t pos) { return ablate[static_cast<size_t>(pos)] != 0; }, &hookError);
    options.hooks = &hooks;
    MONO_RETURN_IF_ERROR(model.forward(batch, options, &ablated));
    MONO_RETURN_IF_ERROR(hookError);
    std::vector<float> buf;
    for (int64_t t = out.ablated.front() + 1; t < static_cast<int64_t>(tokens.size()); ++t) {
        TokenEffect e;
        e.position = t;
        e.logProbClean = logProb(clean, t - 1, tokens[static_cast<size_t>(t)], buf);
        e.delta = logProb(ablated, t - 1, tokens[static_cast<size_t>(t)], buf) - e.logProbClean;
        out.effects.push_back(e);
    }
    return out;
}

}  // namespace mono::steer
