#include "core/steer/steer_measures.h"

#include <cmath>

#include "core/features/analysis.h"
#include "core/model/generate.h"
#include "core/model/hook_read.h"
#include "core/model/weights.h"

namespace mono::steer {

Result<std::vector<std::vector<float>>> featureTrace(model::Model& model, const sae::Sae& sae,
                                                     const std::string& hook,
                                                     const std::vector<model::TokenId>& tokens,
                                                     const std::vector<int64_t>& features) {
    MONO_RETURN_IF_ERROR(checkSaeFitsHook(model.config(), sae, hook));
    for (int64_t i : features)
        if (i < 0 || i >= sae.dSae())
            return Status::invalidArgument("feature " + std::to_string(i) +
                                           " is out of range: the SAE has " +
                                           std::to_string(sae.dSae()) + " features");
    std::vector<std::vector<float>> acts;
    if (tokens.empty()) return acts;
    MONO_ASSIGN_OR_RETURN(Matrix x, model::readHook(model, hook, tokens));  // [T, d_in]
    MONO_ASSIGN_OR_RETURN(Matrix f, sae.encode(x));                         // [T, d_sae]
    acts.assign(static_cast<size_t>(f.rows()), std::vector<float>(features.size()));
    for (int64_t p = 0; p < f.rows(); ++p)
        for (size_t j = 0; j < features.size(); ++j) acts[p][j] = f(p, features[j]);
    return acts;
}

std::vector<std::vector<model::TokenId>> referenceWindows(const tok::Tokenizer& tokenizer,
                                                          const std::vector<std::string>& texts,
                                                          int ctx, model::TokenId bos) {
    std::vector<std::vector<model::TokenId>> windows;
    const bool withBos = bos >= 0;
    const int64_t perWindow = std::max(1, withBos ? ctx - 1 : ctx);
    for (const std::string& text : texts) {
        const std::vector<model::TokenId> ids = tokenizer.encode(text, false);
        for (size_t b = 0; b < ids.size(); b += static_cast<size_t>(perWindow)) {
            std::vector<model::TokenId> w;
            if (withBos) w.push_back(bos);
            const size_t e = std::min(ids.size(), b + static_cast<size_t>(perWindow));
            w.insert(w.end(), ids.begin() + static_cast<std::ptrdiff_t>(b),
                     ids.begin() + static_cast<std::ptrdiff_t>(e));
            if (w.size() >= 2) windows.push_back(std::move(w));
        }
    }
    return windows;
}

Result<FluencyReport> measureFluency(model::Model& model, const tok::Tokenizer& tokenizer,
                                     const SaeSplice& splice, bool skipSpecial,
                                     const std::vector<std::vector<model::TokenId>>& windows) {
    constexpr int kWindowsPerForward = 8;
    const int V = model.config().vocabSize;
    FluencyReport rep;
    double nllBase = 0, nllSteer = 0, kl = 0;
    model::Batch batch;
    model::Logits base, steered;
    std::vector<float> lp, lq;  // log-softmax rows [V]
    for (size_t w0 = 0; w0 < windows.size(); w0 += kWindowsPerForward) {
        const size_t w1 = std::min(windows.size(), w0 + kWindowsPerForward);
        batch.clear();
        for (size_t w = w0; w < w1; ++w)
            batch.add(windows[w].data(), static_cast<int64_t>(windows[w].size()));
        model::ForwardOptions fo;
        fo.logits = model::LogitsWanted::kAll;
        MONO_RETURN_IF_ERROR(model.forward(batch, fo, &base));

        Status hookError;
        model::Hooks hooks;
        splice.install(
            hooks,
            [&](int seq, int64_t pos) {
                return !skipSpecial || !tokenizer.isSpecial(windows[w0 + seq][pos]);
            },
            &hookError);
        fo.hooks = &hooks;
        MONO_RETURN_IF_ERROR(model.forward(batch, fo, &steered));
        MONO_RETURN_IF_ERROR(hookError);

        for (int s = 0; s < batch.numSeqs(); ++s) {
            for (int64_t r = batch.offsets[s]; r + 1 < batch.offsets[s + 1]; ++r) {
                lp.assign(base.row(r), base.row(r) + V);
                lq.assign(steered.row(r), steered.row(r) + V);
                model::logSoftmax(lp.data(), V);
                model::logSoftmax(lq.data(), V);
                const model::TokenId next = batch.tokens[r + 1];
                nllBase -= lp[next];
                nllSteer -= lq[next];
                double k = 0;
                for (int v = 0; v < V; ++v) k += std::exp(double(lp[v])) * (double(lp[v]) - lq[v]);
                kl += std::max(0.0, k);  // ≥ 0 up to rounding
                ++rep.predicted;
            }
        }
    }
    if (rep.predicted == 0)
        return Status::invalidArgument("the reference text has no token to predict");
    const double n = static_cast<double>(rep.predicted);
    rep.ceBaseline = nllBase / n;
    rep.ceSteered = nllSteer / n;
    rep.deltaLoss = rep.ceSteered - rep.ceBaseline;
    rep.meanKl = kl / n;
    return rep;
}

Result<std::vector<features::LogitEffect>> topLogitTokens(const model::Model& model,
                                                          const tok::Tokenizer& tokenizer,
                                                          const sae::Sae& sae, int64_t feature,
                                                          int n) {
    const model::ModelConfig& mc = model.config();
    if (sae.dIn() != mc.dModel)
        return Status::unsupported("logit effects need an SAE on the residual stream (d_in " +
                                   std::to_string(sae.dIn()) + ", d_model " +
                                   std::to_string(mc.dModel) + ")");
    if (feature < 0 || feature >= sae.dSae())
        return Status::invalidArgument("feature " + std::to_string(feature) +
                                       " is out of range: the SAE has " +
                                       std::to_string(sae.dSae()) + " features");
    MONO_RETURN_IF_ERROR(model.requireF32Weights("logit effects"));
    const model::ModelWeights& w = model.weights();
    std::vector<float> gamma(w.lnFinal.weight.data(),
                             w.lnFinal.weight.data() + w.lnFinal.weight.size());
    const Matrix row = sae.wDec().row(feature);  // [1, d]
    std::vector<std::vector<features::LogitEffect>> top, bottom;
    features::computeLogitEffects(row, gamma, mc.layerNorm(), w.unembed(), n, &top, &bottom);
    if (top.empty()) return std::vector<features::LogitEffect>{};
    std::vector<features::LogitEffect> out = std::move(top[0]);
    for (features::LogitEffect& e : out) e.text = tokenizer.tokenBytes(e.token);
    return out;
}

Result<std::vector<float>> nextTokenProbs(model::Model& model,
                                          const std::vector<model::TokenId>& tokens,
                                          const model::Hooks* hooks) {
    if (tokens.empty()) return Status::invalidArgument("next-token probabilities of no tokens");
    model::ForwardOptions fo;
    fo.logits = model::LogitsWanted::kLast;
    fo.hooks = hooks;
    model::Logits out;
    MONO_RETURN_IF_ERROR(model.forward(model::Batch::single(tokens), fo, &out));
    std::vector<float> p(out.row(0), out.row(0) + out.vocab);
    model::logSoftmax(p.data(), static_cast<int>(p.size()));
    for (float& v : p) v = std::exp(v);
    return p;
}

}  // namespace mono::steer
