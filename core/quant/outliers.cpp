#include "core/quant/outliers.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mono::quant {

using model::HookSite;

namespace {
float median(std::vector<float> v) {
    if (v.empty()) return 0.0f;
    std::nth_element(v.begin(), v.begin() + long(v.size() / 2), v.end());
    return v[v.size() / 2];
}
bool readsResidual(const InputStats& s) {
    return s.input.site == HookSite::kAttnIn || s.input.site == HookSite::kMlpIn;
}
}  // namespace

std::vector<int> sortedOrder(const std::vector<float>& values) {
    std::vector<int> order(values.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return values[size_t(a)] > values[size_t(b)]; });
    return order;
}

std::vector<OutlierRow> outlierTable(const Calibration& calibration, float threshold) {
    std::vector<OutlierRow> rows;
    int64_t heatTokens = 0;
    std::vector<int64_t> above;
    for (const InputStats& s : calibration.inputs) {
        if (!readsResidual(s)) continue;
        const size_t C = s.channelMax.size();
        if (rows.empty()) {
            rows.resize(C);
            above.assign(C, 0);
            for (size_t c = 0; c < C; ++c) rows[c].channel = int(c);
        }
        if (C != rows.size()) continue;
        const float med = median(s.channelMax);
        const float limit = threshold * med;
        for (size_t c = 0; c < C; ++c) {
            OutlierRow& r = rows[c];
            r.max = std::max(r.max, s.channelMax[c]);
            const float ratio = med > 0 ? s.channelMax[c] / med : 0.0f;
            r.ratio = std::max(r.ratio, ratio);
            if (ratio >= threshold && (r.layers.empty() || r.layers.back() != s.input.layer))
                r.layers.push_back(s.input.layer);
            for (int t = 0; t < s.heatmapRows; ++t)
                if (s.heatmap[size_t(t) * C + c] > limit) ++above[c];
        }
        heatTokens += s.heatmapRows;
    }
    for (size_t c = 0; c < rows.size(); ++c)
        rows[c].pctAbove = heatTokens ? float(100.0 * double(above[c]) / double(heatTokens)) : 0;
    std::stable_sort(rows.begin(), rows.end(),
                     [](const OutlierRow& a, const OutlierRow& b) { return a.ratio > b.ratio; });
    return rows;
}

Result<std::vector<MassiveLayer>> massiveActivations(
    model::Model& model, const std::vector<std::vector<model::TokenId>>& windows,
    const tok::Tokenizer* tokenizer) {
    if (windows.empty()) return Status::invalidArgument("massive activations: no windows");
    const model::ModelConfig& cfg = model.config();
    struct Acc {
        MassiveLayer out;
        std::vector<float> values;  // every |x| (for the median)
    };
    std::vector<Acc> acc(size_t(cfg.nLayers));
    size_t window = 0;
    model::Hooks hooks;
    for (int L = 0; L < cfg.nLayers; ++L) {
        acc[size_t(L)].out.layer = L;
        hooks.add(
            model::hookName(cfg, {L, HookSite::kResidPost}),
            [&, L](const model::HookContext&, model::ActivationBlock a) {
                Acc& A = acc[size_t(L)];
                for (int64_t r = 0; r < a.rows; ++r)
                    for (int64_t c = 0; c < a.cols; ++c) {
                        const float v = std::fabs(a.row(r)[c]);
                        A.values.push_back(v);
                        // Keep the top three, one per (token, channel).
                        for (int k = 0; k < 3; ++k)
                            if (v > A.out.top[size_t(k)]) {
                                for (int m = 2; m > k; --m) {
                                    A.out.top[size_t(m)] = A.out.top[size_t(m - 1)];
                                    A.out.topChannel[size_t(m)] = A.out.topChannel[size_t(m - 1)];
                                    A.out.topPosition[size_t(m)] = A.out.topPosition[size_t(m - 1)];
                                    A.out.topToken[size_t(m)] = A.out.topToken[size_t(m - 1)];
                                }
                                const model::TokenId id = windows[window][size_t(r)];
                                A.out.top[size_t(k)] = v;
                                A.out.topChannel[size_t(k)] = int(c);
                                A.out.topPosition[size_t(k)] = int(r);
                                A.out.topToken[size_t(k)] =
                                    tokenizer ? tokenizer->piece(id) : std::to_string(id);
                                break;
                            }
                    }
            });
    }
    model::ForwardOptions opt;
    opt.logits = model::LogitsWanted::kNone;
    opt.hooks = &hooks;
    for (window = 0; window < windows.size(); ++window)
        MONO_RETURN_IF_ERROR(model.forward(model::Batch::single(windows[window]), opt, nullptr));
    std::vector<MassiveLayer> out;
    for (Acc& A : acc) {
        A.out.median = median(std::move(A.values));
        out.push_back(std::move(A.out));
    }
    return out;
}

Result<OutlierData> buildOutlierData(model::Model& model,
                                     const std::vector<std::vector<model::TokenId>>& windows,
                                     const tok::Tokenizer* tokenizer, int heatmapRows,
                                     const Progress& progress, StopToken stop) {
    if (windows.empty()) return Status::invalidArgument("outlier panel: no windows");
    OutlierData d;
    d.model = model.config().name;
    CalibrationOptions opt;
    opt.heatmapRows = heatmapRows;
    MONO_ASSIGN_OR_RETURN(d.plain, calibrate(model, windows, opt, progress, stop));
    d.table = outlierTable(d.plain);
    // The heatmap holds the first tokens in corpus order: the first windows'.
    for (const auto& w : windows)
        for (model::TokenId id : w) {
            if (int(d.heatmapTokens.size()) >= heatmapRows) break;
            d.heatmapTokens.push_back(tokenizer ? tokenizer->piece(id) : std::to_string(id));
        }
    if (Status st = checkRotatable(model.config()); !st.ok()) {
        d.rotationNote = st.message();
    } else {
        progress.report(-1.0, "calibrating the rotated model");
        MONO_ASSIGN_OR_RETURN(auto rotated, rotateModel(model, RotationKind::kHadamard));
        MONO_ASSIGN_OR_RETURN(d.rotated, calibrate(*rotated, windows, opt, {}, stop));
        d.rotatedTable = outlierTable(d.rotated);
    }
    progress.report(-1.0, "massive activations");
    const size_t n = std::min<size_t>(windows.size(), 8);
    const std::vector<std::vector<model::TokenId>> sample(windows.begin(),
                                                          windows.begin() + long(n));
    MONO_ASSIGN_OR_RETURN(d.massive, massiveActivations(model, sample, tokenizer));
    progress.report(-1.0, "attention sinks");
    // A backend without attention weights (CUDA) leaves the sinks out, not the panel.
    auto sinks = attentionSinks(model, sample, stop);
    if (sinks.ok())
        d.sinks = std::move(*sinks);
    else if (sinks.status().code() == StatusCode::kCancelled)
        return sinks.status();
    else
        d.sinksNote = sinks.status().message();
    return d;
}

}  // namespace mono::quant
