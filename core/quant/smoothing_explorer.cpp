#include "core/quant/smoothing_explorer.h"

#include "core/quant/alpha_search.h"

#include <cmath>

namespace mono::quant {

Result<std::shared_ptr<SmoothingExplorer>> SmoothingExplorer::create(
    std::shared_ptr<model::Model> model, Calibration calibration,
    const std::vector<std::vector<model::TokenId>>& windows, W8A8Scheme scheme) {
    if (!model) return Status::invalidArgument("smoothing explorer: no model");
    MONO_RETURN_IF_ERROR(model->requireF32Weights("the smoothing explorer"));
    std::shared_ptr<SmoothingExplorer> e(new SmoothingExplorer());
    e->m_model = std::move(model);
    e->m_calibration = std::move(calibration);
    e->m_scheme = scheme;
    const model::ModelConfig& cfg = e->m_model->config();
    e->m_groups = smoothGroups(cfg);
    for (const SmoothGroup& g : e->m_groups) {
        const InputStats* st = e->m_calibration.find(g.layer, g.site());
        if (!st || int(st->channelMax.size()) != cfg.dModel)
            return Status::invalidArgument("calibration of \"" + e->m_calibration.model +
                                           "\" does not fit model \"" + cfg.name + "\" at " +
                                           g.name());
        e->m_stats.push_back(st);
        e->m_weightMax.push_back(weightInputMax(e->m_model->weights(), g));
    }
    e->m_inputs.resize(e->m_groups.size());
    e->m_seqs.resize(e->m_groups.size());
    model::Hooks hooks;
    for (size_t g = 0; g < e->m_groups.size(); ++g) {
        const std::string hook =
            model::hookName(cfg, model::HookId{e->m_groups[g].layer, e->m_groups[g].site()});
        hooks.add(hook, [&x = e->m_inputs[g], &seqs = e->m_seqs[g]](const model::HookContext& ctx,
                                                                    model::ActivationBlock a) {
            const int64_t base = int64_t(x.size()) / a.cols;
            for (const model::SeqRows& s : *ctx.seqs)
                seqs.push_back({s.seq, base + s.row0, s.rows, s.pos0});
            x.insert(x.end(), a.data, a.data + a.rows * a.cols);
        });
    }
    model::ForwardOptions opt;
    opt.logits = model::LogitsWanted::kNone;
    opt.hooks = &hooks;
    for (const auto& w : windows)
        MONO_RETURN_IF_ERROR(e->m_model->forward(model::Batch::single(w), opt, nullptr));
    for (size_t g = 0; g < e->m_groups.size(); ++g) {
        if (e->m_inputs[g].empty())
            return Status::invalidArgument("smoothing explorer: no captured input for " +
                                           e->m_groups[g].name() + " (no windows?)");
        const std::vector<float> ones(e->m_weightMax[g].size(), 1.0f);
        MONO_ASSIGN_OR_RETURN(double err,
                              groupErrorWithScales(*e->m_model, e->m_groups[g], *e->m_stats[g],
                                                   e->m_inputs[g], e->m_seqs[g], scheme, ones));
        e->m_plainError.push_back(err);
    }
    return e;
}

int SmoothingExplorer::channels(size_t group) const {
    return group < m_weightMax.size() ? int(m_weightMax[group].size()) : 0;
}

Result<SmoothingView> SmoothingExplorer::view(size_t group, float alpha) const {
    if (group >= m_groups.size())
        return Status::invalidArgument("smoothing view: group " + std::to_string(group) + " of " +
                                       std::to_string(m_groups.size()));
    SmoothingView v;
    v.actMax = m_stats[group]->channelMax;
    v.weightMax = m_weightMax[group];
    MONO_ASSIGN_OR_RETURN(v.scales, smoothingScales(v.actMax, v.weightMax, alpha));
    v.actMaxSmoothed.resize(v.scales.size());
    v.weightMaxSmoothed.resize(v.scales.size());
    for (size_t j = 0; j < v.scales.size(); ++j) {
        v.actMaxSmoothed[j] = v.actMax[j] / v.scales[j];
        v.weightMaxSmoothed[j] = v.weightMax[j] * v.scales[j];
    }
    return v;
}

Result<std::vector<GroupErrorRow>> SmoothingExplorer::errors(float alpha) const {
    std::vector<GroupErrorRow> rows;
    for (size_t g = 0; g < m_groups.size(); ++g) {
        GroupErrorRow r;
        r.group = m_groups[g].name();
        r.plainError = m_plainError[g];
        MONO_ASSIGN_OR_RETURN(r.smoothedError, groupError(*m_model, m_groups[g], *m_stats[g],
                                                          m_inputs[g], m_seqs[g], m_scheme, alpha));
        rows.push_back(std::move(r));
    }
    return rows;
}

namespace {
bool sameScheme(const W8A8Scheme& a, const W8A8Scheme& b) {
    return a.act == b.act && a.weight == b.weight && a.quantizeAttnInputs == b.quantizeAttnInputs &&
           a.weightBits == b.weightBits && a.actBits == b.actBits;
}
}  // namespace

Result<std::vector<GroupErrorRow>> SmoothingExplorer::errors(const std::vector<float>& alphas,
                                                             const W8A8Scheme& scheme) const {
    if (alphas.size() != m_groups.size())
        return Status::invalidArgument("smoothing errors: " + std::to_string(alphas.size()) +
                                       " alphas for " + std::to_string(m_groups.size()) +
                                       " groups");
    for (float a : alphas)
        if (!(a >= 0.0f && a <= 1.0f))
            return Status::invalidArgument("smoothing errors: alpha " + std::to_string(a) +
                                           " is outside [0, 1]");
    const bool own = sameScheme(scheme, m_scheme);
    std::vector<GroupErrorRow> rows;
    for (size_t g = 0; g < m_groups.size(); ++g) {
        GroupErrorRow r;
        r.group = m_groups[g].name();
        if (own) {
            r.plainError = m_plainError[g];
        } else {
            const std::vector<float> ones(m_weightMax[g].size(), 1.0f);
            MONO_ASSIGN_OR_RETURN(
                r.plainError, groupErrorWithScales(*m_model, m_groups[g], *m_stats[g], m_inputs[g],
                                                   m_seqs[g], scheme, ones));
        }
        MONO_ASSIGN_OR_RETURN(r.smoothedError,
                              groupError(*m_model, m_groups[g], *m_stats[g], m_inputs[g], m_seqs[g],
                                         scheme, alphas[g]));
        rows.push_back(std::move(r));
    }
    return rows;
}

Result<std::vector<float>> SmoothingExplorer::bestAlphas(const W8A8Scheme& scheme,
                                                         const std::vector<float>& grid) const {
    if (grid.empty()) return Status::invalidArgument("alpha search: empty grid");
    std::vector<float> best(m_groups.size(), grid.front());
    for (size_t g = 0; g < m_groups.size(); ++g) {
        double bestError = INFINITY;
        for (float a : grid) {
            MONO_ASSIGN_OR_RETURN(double e, groupError(*m_model, m_groups[g], *m_stats[g],
                                                       m_inputs[g], m_seqs[g], scheme, a));
            if (e < bestError || (e == bestError && a < best[g])) {
                bestError = e;
                best[g] = a;
            }
        }
    }
    return best;
}

}  // namespace mono::quant
