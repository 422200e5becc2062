#include "core/quant/report.h"

#include <Eigen/Core>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/kernels/sgemm.h"

#include "core/model/weights.h"

namespace mono::quant {

using model::HookSite;

namespace {
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The site of the first module reading the same input (k, v → q; up → gate).
HookSite inputSite(HookSite s) {
    if (s == HookSite::kKIn || s == HookSite::kVIn) return HookSite::kAttnIn;
    if (s == HookSite::kUpIn) return HookSite::kMlpIn;
    return s;
}

// Y [rows, out] = X · W(ref)ᵀ + b.
RowMat applyLinear(const RowMat& X, model::LinearRef ref) {
    RowMat Y(X.rows(), ref.rows);
    kernels::gemm(X, kernels::Op::kN, ref.weight(), kernels::Op::kT, Y);
    if (ref.bias().size()) Y.rowwise() += ref.bias().transpose();
    return Y;
}
}  // namespace

Result<std::vector<std::vector<ModuleError>>> ModuleErrorProbe::run(
    model::Model& fp, const std::vector<std::vector<model::TokenId>>& windows, StopToken stop) {
    const model::ModelConfig& cfg = fp.config();
    struct Entry {
        int layer;
        HookSite site;
        std::string module, hook;
        std::vector<ErrorAccumulator> acc;  // [variant]
    };
    std::vector<Entry> entries;
    for (const LinearInput& in : linearInputs(cfg))
        for (size_t i = 0; i < in.modules.size(); ++i) {
            const HookSite site = moduleSite(in, i);
            entries.push_back({in.layer, site, in.modules[i],
                               model::hookName(cfg, model::HookId{in.layer, site}),
                               std::vector<ErrorAccumulator>(m_variants.size())});
        }
    Status failure = Status::success();
    model::Hooks hooks;
    for (Entry& e : entries)
        hooks.add(e.hook, [&, &e = e](const model::HookContext& ctx, model::ActivationBlock a) {
            if (!failure.ok()) return;
            const RowMat X = Eigen::Map<const RowMat>(a.data, a.rows, a.cols);
            auto fref = fp.linear(e.layer, e.module);
            if (!fref.ok()) {
                failure = fref.status();
                return;
            }
            const RowMat Y = applyLinear(X, *fref);
            for (size_t v = 0; v < m_variants.size(); ++v) {
                W8A8Model& var = *m_variants[v];
                RowMat Xq = X;
                const SmoothingPlan* plan = var.plan();
                const std::vector<float>* s =
                    plan ? plan->scalesFor(e.layer, inputSite(e.site)) : nullptr;
                if (s)
                    Xq.array().rowwise() /=
                        Eigen::Map<const Eigen::RowVectorXf>(s->data(), Xq.cols()).array();
                fakeQuantizeActivations(Xq.data(), Xq.rows(), Xq.cols(), Xq.cols(),
                                        var.scheme().act, ctx.seqs,
                                        var.staticScale(e.layer, e.site));
                auto qref = var.model().linear(e.layer, e.module);
                if (!qref.ok()) {
                    failure = qref.status();
                    return;
                }
                const RowMat Yq = applyLinear(Xq, *qref);
                e.acc[v].add(Y.data(), Yq.data(), Y.size());
            }
        });
    model::ForwardOptions fopt;
    fopt.logits = model::LogitsWanted::kNone;
    fopt.hooks = &hooks;
    for (const auto& w : windows) {
        if (stop.stopRequested()) return Status::cancelled("module error probe cancelled");
        MONO_RETURN_IF_ERROR(fp.forward(model::Batch::single(w), fopt, nullptr));
        MONO_RETURN_IF_ERROR(failure);
    }
    std::vector<std::vector<ModuleError>> out(m_variants.size());
    for (size_t v = 0; v < m_variants.size(); ++v)
        for (const Entry& e : entries) out[v].push_back({e.hook, e.layer, e.acc[v].result()});
    return out;
}

Result<std::vector<EndToEnd>> compareEndToEnd(
    model::Model& fp, const std::vector<W8A8Model*>& variants, const std::vector<bool>& int8,
    const std::vector<std::vector<model::TokenId>>& windows, double* fpPerplexity, StopToken stop) {
    std::vector<LogitComparer> cmp(variants.size());
    LogitComparer self;  // fp against itself: its perplexity
    model::Logits ref, q;
    model::ForwardOptions fopt;
    for (const auto& w : windows) {
        if (stop.stopRequested()) return Status::cancelled("end-to-end comparison cancelled");
        const model::Batch batch = model::Batch::single(w);
        MONO_RETURN_IF_ERROR(fp.forward(batch, fopt, &ref));
        const int V = int(ref.vocab);
        for (int64_t t = 0; t + 1 < int64_t(w.size()); ++t)
            self.add(ref.row(t), ref.row(t), V, w[size_t(t + 1)]);
        for (size_t v = 0; v < variants.size(); ++v) {
            model::ForwardOptions qopt = variants[v]->forwardOptions(v < int8.size() && int8[v]);
            MONO_RETURN_IF_ERROR(variants[v]->model().forward(batch, qopt, &q));
            for (int64_t t = 0; t + 1 < int64_t(w.size()); ++t)
                cmp[v].add(ref.row(t), q.row(t), V, w[size_t(t + 1)]);
        }
    }
    const double fpPpl = self.perplexity();
    if (fpPerplexity) *fpPerplexity = fpPpl;
    std::vector<EndToEnd> out;
    for (const LogitComparer& c : cmp) out.push_back(c.result(fpPpl));
    return out;
}

Result<QuantReport> buildQuantReport(model::Model& fp, const Calibration& calibration,
                                     const std::vector<std::vector<model::TokenId>>& calibWindows,
                                     const std::vector<std::vector<model::TokenId>>& evalWindows,
                                     const QuantReportSpec& spec, const Progress& progress,
                                     StopToken stop) {
    MONO_RETURN_IF_ERROR(fp.requireF32Weights("the quantization report"));
    if (evalWindows.empty()) return Status::invalidArgument("quant report: no evaluation windows");
    const model::ModelConfig& cfg = fp.config();
    QuantReport rep;
    rep.model = cfg.name;
    rep.kernel = kernels::int8KernelName(kernels::bestInt8Kernel());
    rep.calibrationSamples = calibration.samples;
    rep.calibrationTokens = calibration.tokens;
    rep.evalWindows = int(evalWindows.size());
    rep.seqLen = int(evalWindows.front().size());
    rep.spec = spec;
    rep.groups = smoothGroups(cfg);

    std::vector<float> alphas =
        spec.alphas.empty() ? std::vector<float>{defaultAlpha(cfg)} : spec.alphas;
    if (spec.autoAlpha) {
        progress.report(0.05, "searching alpha");
        const size_t n = std::min(calibWindows.size(), size_t(std::max(1, spec.searchWindows)));
        const std::vector<std::vector<model::TokenId>> sub(calibWindows.begin(),
                                                           calibWindows.begin() + long(n));
        MONO_ASSIGN_OR_RETURN(rep.search, searchAlpha(fp, calibration, sub, spec.scheme,
                                                      defaultAlphaGrid(), {}, stop));
        alphas = rep.search.alpha;
    }
    MONO_ASSIGN_OR_RETURN(SmoothingPlan plan,
                          planSmoothing(fp.weights(), cfg, calibration, alphas));
    rep.alpha = plan.alpha;

    progress.report(0.2, "building W8A8 models");
    const W8A8Scheme naiveScheme{ActScheme::kPerTensorDynamic, WeightScheme::kPerTensor,
                                 spec.scheme.quantizeAttnInputs};
    MONO_ASSIGN_OR_RETURN(auto naive, W8A8Model::build(fp, calibration, nullptr, naiveScheme));
    MONO_ASSIGN_OR_RETURN(auto plain, W8A8Model::build(fp, calibration, nullptr, spec.scheme));
    MONO_ASSIGN_OR_RETURN(auto smooth, W8A8Model::build(fp, calibration, &plan, spec.scheme));

    progress.report(0.3, "per-module errors");
    ModuleErrorProbe probe;
    probe.addVariant(naive.get());
    probe.addVariant(plain.get());
    probe.addVariant(smooth.get());
    MONO_ASSIGN_OR_RETURN(auto modules, probe.run(fp, evalWindows, stop));

    progress.report(0.6, "end-to-end comparison");
    double fpPpl = 0.0;
    MONO_ASSIGN_OR_RETURN(
        auto e2e, compareEndToEnd(fp, {naive.get(), plain.get(), smooth.get(), smooth.get()},
                                  {false, false, false, true}, evalWindows, &fpPpl, stop));
    ConfigReport f32{"fp32", "float32", {}, {}};
    f32.endToEnd.perplexity = fpPpl;
    f32.endToEnd.sameTop1Pct = 100.0;
    f32.endToEnd.tokens = e2e[0].tokens;
    rep.configs.push_back(f32);
    rep.configs.push_back({"naive", naiveScheme.describe(), modules[0], e2e[0]});
    rep.configs.push_back({"w8a8", spec.scheme.describe(), modules[1], e2e[1]});
    rep.configs.push_back(
        {"smoothquant", spec.scheme.describe() + ", smoothed", modules[2], e2e[2]});
    rep.configs.push_back({"smoothquant-int8",
                           spec.scheme.describe() + ", smoothed, int8 GEMM (" + rep.kernel + ")",
                           {},
                           e2e[3]});
    progress.report(1.0, "done");
    return rep;
}

namespace {
nlohmann::json num(double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}
}  // namespace

std::string quantReportJson(const QuantReport& r) {
    using nlohmann::json;
    json j;
    j["format"] = "monoscope-quant-report";
    j["version"] = 1;
    j["model"] = r.model;
    j["int8_kernel"] = r.kernel;
    j["calibration"] = {{"samples", r.calibrationSamples}, {"tokens", r.calibrationTokens}};
    j["evaluation"] = {{"windows", r.evalWindows}, {"seq_len", r.seqLen}};
    j["scheme"] = {{"activations", actSchemeName(r.spec.scheme.act)},
                   {"weights", weightSchemeName(r.spec.scheme.weight)},
                   {"attention_inputs", r.spec.scheme.quantizeAttnInputs}};
    json alpha = json::array();
    for (size_t g = 0; g < r.groups.size(); ++g) {
        json a = {{"group", r.groups[g].name()}, {"alpha", r.alpha[g]}};
        if (!r.search.error.empty()) {
            json errs = json::array();
            for (double e : r.search.error[g]) errs.push_back(num(e));
            a["search_error"] = errs;
        }
        alpha.push_back(a);
    }
    j["alpha"] = {{"auto", r.spec.autoAlpha}, {"groups", alpha}};
    if (!r.search.grid.empty()) j["alpha"]["grid"] = r.search.grid;
    json configs = json::array();
    for (const ConfigReport& c : r.configs) {
        json cj;
        cj["name"] = c.name;
        cj["description"] = c.description;
        const EndToEnd& e = c.endToEnd;
        cj["end_to_end"] = {{"perplexity", num(e.perplexity)},
                            {"delta_ppl", num(e.deltaPpl)},
                            {"kl_mean", num(e.klMean)},
                            {"kl_p99_9", num(e.klP999)},
                            {"same_top1_pct", num(e.sameTop1Pct)},
                            {"rms_dp_pct", num(e.rmsDpPct)},
                            {"tokens", e.tokens}};
        json mods = json::array();
        for (const ModuleError& m : c.modules)
            mods.push_back({{"module", m.module},
                            {"layer", m.layer},
                            {"rel_error", num(m.error.relError)},
                            {"sqnr_db", num(m.error.sqnrDb)},
                            {"cosine", num(m.error.cosine)}});
        cj["modules"] = mods;
        configs.push_back(cj);
    }
    j["configs"] = configs;
    return j.dump(2);
}

}  // namespace mono::quant
