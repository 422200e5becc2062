#include "core/quant/alpha_search.h"

#include <Eigen/Core>
#include <cmath>

#include "core/kernels/sgemm.h"

#include "core/model/weights.h"

namespace mono::quant {

namespace {
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A group's captured float input, with its sequences' row ranges.
struct Captured {
    std::vector<float> x;  // [rows, C]
    std::vector<model::SeqRows> seqs;
    int64_t rows = 0;
};
}  // namespace

std::vector<float> defaultAlphaGrid() {
    std::vector<float> g;
    for (int i = 0; i <= 20; ++i) g.push_back(float(i) * 0.05f);
    return g;
}

Result<double> groupError(model::Model& fp, const SmoothGroup& group, const InputStats& stats,
                          const std::vector<float>& X, const std::vector<model::SeqRows>& seqs,
                          const W8A8Scheme& scheme, float alpha) {
    if (group.layer < 0 || size_t(group.layer) >= fp.weights().layers.size())
        return Status::invalidArgument("alpha search: no layer " + std::to_string(group.layer));
    MONO_ASSIGN_OR_RETURN(
        auto s, smoothingScales(stats.channelMax, weightInputMax(fp.weights(), group), alpha));
    return groupErrorWithScales(fp, group, stats, X, seqs, scheme, s);
}

Result<double> groupErrorWithScales(model::Model& fp, const SmoothGroup& group,
                                    const InputStats& stats, const std::vector<float>& X,
                                    const std::vector<model::SeqRows>& seqs,
                                    const W8A8Scheme& scheme, const std::vector<float>& s) {
    if (group.layer < 0 || size_t(group.layer) >= fp.weights().layers.size())
        return Status::invalidArgument("alpha search: no layer " + std::to_string(group.layer));
    const model::ModelWeights& w = fp.weights();
    const model::Linear& lin =
        group.attn ? w.layers[size_t(group.layer)].qkv : w.layers[size_t(group.layer)].up;
    const int64_t C = lin.w.cols();
    if (int64_t(stats.channelMax.size()) != C || int64_t(s.size()) != C ||
        X.size() % size_t(C) != 0)
        return Status::invalidArgument("alpha search " + group.name() + ": input width mismatch");
    const int64_t R = int64_t(X.size()) / C;

    // W' = W · diag(s), quantized per module (per-tensor scales must not span q, k and v).
    // Row-wise (contiguous) scaling: column access on a row-major matrix strides.
    const Eigen::Map<const Eigen::RowVectorXf> sRow(s.data(), C);
    RowMat Wq = lin.w.array().rowwise() * sRow.array();
    const LinearInput* in = nullptr;
    const auto inputs = linearInputs(fp.config());
    for (const auto& li : inputs)
        if (li.layer == group.layer && li.site == group.site()) in = &li;
    if (!in) return Status::internal("alpha search: no linear input for " + group.name());
    std::vector<int8_t> q;
    std::vector<float> sc;
    for (const std::string& mod : in->modules) {
        MONO_ASSIGN_OR_RETURN(model::LinearRef ref, fp.linear(group.layer, mod));
        quantizeWeights(Wq.data() + ref.rowBegin * C, ref.rows, C, scheme.weight, &q, &sc,
                        levelsForBits(scheme.weightBits));
    }
    // X' = X / s, quantized.
    RowMat Xq = Eigen::Map<const RowMat>(X.data(), R, C).array().rowwise() / sRow.array();
    float staticMax = 0.0f;
    for (int64_t j = 0; j < C; ++j)
        staticMax = std::max(staticMax, stats.channelMax[size_t(j)] / s[size_t(j)]);
    const float levels = levelsForBits(scheme.actBits);
    fakeQuantizeActivations(Xq.data(), R, C, C, scheme.act, &seqs, scaleForMax(staticMax, levels),
                            levels);
    RowMat Y(R, lin.w.rows()), Yq(R, Wq.rows());
    kernels::gemm(Eigen::Map<const RowMat>(X.data(), R, C), kernels::Op::kN, lin.w, kernels::Op::kT,
                  Y);
    kernels::gemm(Xq, kernels::Op::kN, Wq, kernels::Op::kT, Yq);
    const double ref = Y.norm();
    return ref > 0 ? double((Yq - Y).norm()) / ref : 0.0;
}

Result<AlphaSearchResult> searchAlpha(model::Model& fp, const Calibration& calibration,
                                      const std::vector<std::vector<model::TokenId>>& windows,
                                      const W8A8Scheme& scheme, const std::vector<float>& grid,
                                      const Progress& progress, StopToken stop) {
    MONO_RETURN_IF_ERROR(fp.requireF32Weights("the SmoothQuant alpha search"));
    if (windows.empty()) return Status::invalidArgument("alpha search: no token windows given");
    if (grid.empty()) return Status::invalidArgument("alpha search: empty grid");
    const model::ModelConfig& cfg = fp.config();
    AlphaSearchResult res;
    res.groups = smoothGroups(cfg);
    res.grid = grid;
    std::vector<Captured> cap(res.groups.size());
    model::Hooks hooks;
    for (size_t g = 0; g < res.groups.size(); ++g) {
        const std::string hook =
            model::hookName(cfg, model::HookId{res.groups[g].layer, res.groups[g].site()});
        hooks.add(hook, [&c = cap[g]](const model::HookContext& ctx, model::ActivationBlock a) {
            for (const model::SeqRows& s : *ctx.seqs)
                c.seqs.push_back({s.seq, c.rows + s.row0, s.rows, s.pos0});
            c.x.insert(c.x.end(), a.data, a.data + a.rows * a.cols);
            c.rows += a.rows;
        });
    }
    model::ForwardOptions fopt;
    fopt.logits = model::LogitsWanted::kNone;
    fopt.hooks = &hooks;
    for (const auto& w : windows) {
        if (stop.stopRequested()) return Status::cancelled("alpha search cancelled");
        MONO_RETURN_IF_ERROR(fp.forward(model::Batch::single(w), fopt, nullptr));
    }
    for (size_t g = 0; g < res.groups.size(); ++g) {
        const InputStats* st = calibration.find(res.groups[g].layer, res.groups[g].site());
        if (!st)
            return Status::invalidArgument("calibration has no statistics for " +
                                           res.groups[g].name());
        std::vector<double> errs;
        size_t best = 0;
        for (size_t i = 0; i < grid.size(); ++i) {
            if (stop.stopRequested()) return Status::cancelled("alpha search cancelled");
            MONO_ASSIGN_OR_RETURN(double e, groupError(fp, res.groups[g], *st, cap[g].x,
                                                       cap[g].seqs, scheme, grid[i]));
            errs.push_back(e);
            if (e < errs[best]) best = i;
        }
        res.error.push_back(std::move(errs));
        res.alpha.push_back(grid[best]);
        progress.report(double(g + 1) / double(res.groups.size()),
                        "alpha search " + res.groups[g].name());
    }
    return res;
}

}  // namespace mono::quant
