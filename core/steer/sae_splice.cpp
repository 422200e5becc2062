#include "core/steer/sae_splice.h"

namespace mono::steer {

Status checkSaeFitsHook(const model::ModelConfig& config, const sae::Sae& sae,
                        const std::string& hook) {
    MONO_ASSIGN_OR_RETURN(model::HookId id, model::parseHookName(config, hook));
    const int width = model::hookWidth(config, id);
    if (sae.dIn() != width)
        return Status::invalidArgument("the SAE reads " + std::to_string(sae.dIn()) +
                                       "-wide activations but " + hook + " is " +
                                       std::to_string(width) + " wide");
    return Status::success();
}

Result<SaeSplice> SaeSplice::create(const model::ModelConfig& config,
                                    std::shared_ptr<const sae::Sae> sae, std::string hook,
                                    std::vector<FeatureEdit> edits, SteerMode mode) {
    if (!sae) return Status::invalidArgument("steering needs an SAE");
    MONO_RETURN_IF_ERROR(checkSaeFitsHook(config, *sae, hook));
    MONO_RETURN_IF_ERROR(validateEdits(edits, sae->dSae()));
    SaeSplice s;
    s.m_sae = std::move(sae);
    s.m_hook = std::move(hook);
    s.m_edits = std::move(edits);
    s.m_mode = mode;
    return s;
}

Status SaeSplice::apply(float* x, int64_t rows) const {
    if (rows <= 0 || m_edits.empty()) return Status::success();
    const int64_t d = m_sae->dIn();
    Eigen::Map<Matrix> h(x, rows, d);  // [rows, d_in]
    Matrix f;                          // [rows, d_sae]; unused by add
    if (m_mode != SteerMode::kAdd) {
        MONO_ASSIGN_OR_RETURN(f, m_sae->encode(h));
    }
    const Matrix& wDec = m_sae->wDec();         // [d_sae, d_in]
    std::vector<float> edited(m_edits.size());  // f'_i of each edit, per row
    for (int64_t r = 0; r < rows; ++r) {
        // Apply the edits in order to the current code; a repeated feature sees
        // the previous edit's result.
        for (size_t e = 0; e < m_edits.size(); ++e) {
            const int64_t i = m_edits[e].feature;
            float cur = m_mode == SteerMode::kAdd ? 0.0f : f(r, i);
            for (size_t p = 0; p < e; ++p)
                if (m_edits[p].feature == i) cur = edited[p];
            const float v = static_cast<float>(m_edits[e].absolute());
            switch (m_mode) {
                case SteerMode::kClamp:
                    edited[e] = v;
                    break;
                case SteerMode::kConditionalClamp:
                    edited[e] = cur > 0.0f ? v : cur;
                    break;
                case SteerMode::kAdd:
                    edited[e] = cur + v;
                    break;
            }
        }
        // h += (f'_i − f_i) W_dec[i], once per distinct feature (its last edit).
        for (size_t e = 0; e < m_edits.size(); ++e) {
            const int64_t i = m_edits[e].feature;
            bool last = true;
            for (size_t q = e + 1; q < m_edits.size(); ++q) last = last && m_edits[q].feature != i;
            if (!last) continue;
            const float orig = m_mode == SteerMode::kAdd ? 0.0f : f(r, i);
            const float delta = edited[e] - orig;
            if (delta != 0.0f) h.row(r) += delta * wDec.row(i);
        }
    }
    return Status::success();
}

void SaeSplice::install(model::Hooks& hooks, RowFilter filter, Status* error) const {
    // The hook copies this splice (cheap: the SAE is shared) so it outlives us.
    SaeSplice self = *this;
    hooks.add(m_hook, [self, filter = std::move(filter), error](const model::HookContext& ctx,
                                                                model::ActivationBlock block) {
        if (error && !error->ok()) return;
        for (const model::SeqRows& s : *ctx.seqs) {
            // Edit maximal runs of accepted rows in one GEMM each.
            int64_t r = 0;
            while (r < s.rows) {
                while (r < s.rows && filter && !filter(s.seq, s.pos0 + r)) ++r;
                int64_t end = r;
                while (end < s.rows && (!filter || filter(s.seq, s.pos0 + end))) ++end;
                if (end > r) {
                    Status st = self.apply(block.row(s.row0 + r), end - r);
                    if (!st.ok()) {
                        if (error) *error = st;
                        return;
                    }
                }
                r = end;
            }
        }
    });
}

}  // namespace mono::steer
