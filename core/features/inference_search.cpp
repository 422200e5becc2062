#include "core/features/inference_search.h"

#include <algorithm>

#include "core/base/text.h"
#include "core/model/hook_read.h"
#include "core/model/model.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::features {

Result<PromptResult> searchByInference(model::Model& model, const tok::Tokenizer& tokenizer,
                                       const sae::Sae& sae, const std::string& hook,
                                       const std::string& prompt, int perToken, int overall,
                                       const std::vector<float>& storeMax) {
    MONO_ASSIGN_OR_RETURN(model::HookId hookId, model::parseHookName(model.config(), hook));
    const int width = model::hookWidth(model.config(), hookId);
    if (width != sae.dIn())
        return Status::invalidArgument("search by inference: hook " + hook + " has width " +
                                       std::to_string(width) +
                                       ", the SAE expects d_in=" + std::to_string(sae.dIn()));
    std::vector<int32_t> ids = tokenizer.encode(prompt, /*addBos=*/false);
    if (ids.empty())
        return Status::invalidArgument("search by inference: the prompt has no tokens");
    const int32_t bos = tokenizer.bos() >= 0 ? tokenizer.bos() : model.config().bosId;
    const int skip = bos >= 0 ? 1 : 0;
    if (skip) ids.insert(ids.begin(), bos);
    if (static_cast<int>(ids.size()) > model.config().maxSeqLen)
        ids.resize(static_cast<size_t>(model.config().maxSeqLen));

    Result<Matrix> x = model::readHook(model, hook, ids);  // [tokens, d_in]
    if (!x.ok()) return x.status().withContext("search by inference");
    MONO_ASSIGN_OR_RETURN(Matrix f, sae.encode(*x));  // [tokens, d_sae]

    PromptResult result;
    std::vector<RankedFeature> best(static_cast<size_t>(sae.dSae()));
    for (int64_t t = skip; t < f.rows(); ++t) {
        PromptToken pt;
        pt.token = ids[t];
        pt.text = sanitizeUtf8(tokenizer.tokenBytes(ids[t]));
        std::vector<FeatureActivation> active;
        for (int64_t i = 0; i < f.cols(); ++i) {
            const float v = f(t, i);
            if (v <= 0) continue;
            active.push_back({i, v});
            RankedFeature& r = best[i];
            r.id = i;
            ++r.tokensFiring;
            if (v > r.maxValue) {
                r.maxValue = v;
                r.tokenIndex = static_cast<int>(t - skip);
            }
        }
        auto byValue = [](const FeatureActivation& a, const FeatureActivation& b) {
            return a.value > b.value || (a.value == b.value && a.id < b.id);
        };
        const size_t m =
            std::min<size_t>(active.size(), static_cast<size_t>(std::max(perToken, 0)));
        std::partial_sort(active.begin(), active.begin() + static_cast<long>(m), active.end(),
                          byValue);
        active.resize(m);
        pt.top = std::move(active);
        result.tokens.push_back(std::move(pt));
    }
    for (RankedFeature& r : best) {
        if (r.tokensFiring == 0) continue;
        r.score = r.maxValue;
        if (static_cast<int64_t>(storeMax.size()) == sae.dSae() && storeMax[r.id] > 0)
            r.score = r.maxValue / storeMax[r.id];
        result.ranked.push_back(r);
    }
    std::sort(result.ranked.begin(), result.ranked.end(),
              [](const RankedFeature& a, const RankedFeature& b) {
                  return a.score > b.score || (a.score == b.score && a.id < b.id);
              });
    result.featuresFiring = static_cast<int64_t>(result.ranked.size());
    if (static_cast<int>(result.ranked.size()) > overall)
        result.ranked.resize(std::max(overall, 0));
    return result;
}

}  // namespace mono::features
