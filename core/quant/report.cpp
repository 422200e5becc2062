#include "core/quant/report.h"

#include <Eigen/Core>
#include <algorithm>
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
                fakeQuantizeActivations(
                    Xq.data(), Xq.rows(), Xq.cols(), Xq.cols(), var.scheme().act, ctx.seqs,
                    var.staticScale(e.layer, e.site), levelsForBits(var.scheme().actBits));
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

const ConfigReport* QuantReport::find(const std::string& name) const {
    for (const ConfigReport& c : configs)
        if (c.name == name) return &c;
    return nullptr;
}

InputOutlierStats outlierStats(const InputStats& st) {
    InputOutlierStats o;
    o.kurtosis = st.kurtosis;
    if (st.channelMax.empty()) return o;
    std::vector<float> v = st.channelMax;
    std::nth_element(v.begin(), v.begin() + long(v.size() / 2), v.end());
    const float median = v[v.size() / 2];
    o.max = *std::max_element(st.channelMax.begin(), st.channelMax.end());
    o.maxOverMedian = median > 0 ? o.max / median : 0.0f;
    return o;
}

namespace {

// One quantized configuration of the report: which base (float or rotated),
// smoothed or not, at which scheme.
struct VariantSpec {
    std::string name;
    bool rotated = false;
    bool smoothed = false;
    W8A8Scheme scheme;
    bool int8 = false;  // end to end on the int8 GEMM
};

std::vector<VariantSpec> variantSpecs(const QuantReportSpec& spec) {
    const W8A8Scheme naive{ActScheme::kPerTensorDynamic, WeightScheme::kPerTensor,
                           spec.scheme.quantizeAttnInputs};
    W8A8Scheme w4a8{spec.scheme.act, WeightScheme::kPerGroup, spec.scheme.quantizeAttnInputs, 4, 8};
    W8A8Scheme w4a4{ActScheme::kPerTokenGroup, WeightScheme::kPerGroup,
                    spec.scheme.quantizeAttnInputs, 4, 4};
    const bool rot = spec.rotation != RotationKind::kNone;
    std::vector<VariantSpec> v = {{"naive", false, false, naive},
                                  {"w8a8", false, false, spec.scheme},
                                  {"smoothquant", false, true, spec.scheme},
                                  {"smoothquant-int8", false, true, spec.scheme, true}};
    if (rot) {
        v.push_back({"naive-rotated", true, false, naive});
        v.push_back({"w8a8-rotated", true, false, spec.scheme});
        v.push_back({"smoothquant-rotated", true, true, spec.scheme});
    }
    if (!spec.w4) return v;
    for (const auto& [prefix, scheme] : {std::pair{"w4a8", w4a8}, std::pair{"w4a4", w4a4}}) {
        v.push_back({prefix, false, false, scheme});
        v.push_back({std::string(prefix) + "-smoothquant", false, true, scheme});
        if (rot) {
            v.push_back({std::string(prefix) + "-rotated", true, false, scheme});
            v.push_back({std::string(prefix) + "-smoothquant-rotated", true, true, scheme});
        }
    }
    return v;
}

// The float base a variant quantizes: the model, its calibration and smoothing plan.
struct Base {
    model::Model* model = nullptr;
    const Calibration* calibration = nullptr;
    const SmoothingPlan* plan = nullptr;
};

std::vector<RotationStats> rotationStats(const Calibration& before, const Calibration& after) {
    std::vector<RotationStats> out;
    for (const InputStats& b : before.inputs) {
        if (b.input.site != HookSite::kAttnIn && b.input.site != HookSite::kMlpIn) continue;
        const InputStats* a = after.find(b.input.layer, b.input.site);
        if (!a) continue;
        out.push_back({b.input.hook, b.input.layer, outlierStats(b), outlierStats(*a)});
    }
    return out;
}

Result<std::vector<GranularityRow>> granularityTable(
    model::Model& fp, const Calibration& calibration,
    const std::vector<std::vector<model::TokenId>>& windows, StopToken stop) {
    std::vector<GranularityRow> rows;
    std::vector<std::unique_ptr<W8A8Model>> models;
    ModuleErrorProbe probe;
    for (int wb : {8, 4})
        for (WeightScheme w :
             {WeightScheme::kPerTensor, WeightScheme::kPerChannel, WeightScheme::kPerGroup})
            for (ActScheme a :
                 {ActScheme::kPerTensorDynamic, ActScheme::kPerToken, ActScheme::kPerTokenGroup}) {
                const W8A8Scheme scheme{a, w, false, wb, 8};
                MONO_ASSIGN_OR_RETURN(auto m, W8A8Model::build(fp, calibration, nullptr, scheme));
                probe.addVariant(m.get());
                models.push_back(std::move(m));
                rows.push_back({wb, 8, w, a, 0, 0});
            }
    MONO_ASSIGN_OR_RETURN(auto errs, probe.run(fp, windows, stop));
    for (size_t v = 0; v < rows.size(); ++v) {
        double sum = 0;
        for (const ModuleError& e : errs[v]) {
            sum += e.error.relError;
            rows[v].maxRelError = std::max(rows[v].maxRelError, e.error.relError);
        }
        rows[v].meanRelError = errs[v].empty() ? 0 : sum / double(errs[v].size());
    }
    return rows;
}

}  // namespace

namespace {
// The float model's attention sinks on the first 8 calibration windows; a
// failure other than a cancel is kept as the report's note, not an error.
Status addAttentionSinks(model::Model& fp,
                         const std::vector<std::vector<model::TokenId>>& calibWindows,
                         StopToken stop, QuantReport* rep) {
    const size_t n = std::min<size_t>(calibWindows.size(), 8);
    auto sinks = attentionSinks(fp, {calibWindows.begin(), calibWindows.begin() + long(n)}, stop);
    if (sinks.ok())
        rep->sinks = std::move(*sinks);
    else if (sinks.status().code() == StatusCode::kCancelled)
        return sinks.status();
    else
        rep->sinksNote = sinks.status().message();
    return Status::success();
}
}  // namespace

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
    MONO_RETURN_IF_ERROR(addAttentionSinks(fp, calibWindows, stop, &rep));

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

    // The rotated base: its own calibration (the quantizer sees rotated inputs)
    // and a plan with the same α.
    std::shared_ptr<model::Model> rotated;
    Calibration rotCalib;
    SmoothingPlan rotPlan;
    if (spec.rotation != RotationKind::kNone) {
        progress.report(0.15, "rotating");
        MONO_ASSIGN_OR_RETURN(rotated, rotateModel(fp, spec.rotation, spec.rotationSeed));
        MONO_ASSIGN_OR_RETURN(rotCalib, calibrate(*rotated, calibWindows, {}, {}, stop));
        MONO_ASSIGN_OR_RETURN(rotPlan,
                              planSmoothing(rotated->weights(), cfg, rotCalib, plan.alpha));
        rep.rotation = rotationStats(calibration, rotCalib);
    }
    const Base bases[2] = {{&fp, &calibration, &plan}, {rotated.get(), &rotCalib, &rotPlan}};

    progress.report(0.2, "building quantized models");
    const std::vector<VariantSpec> specs = variantSpecs(spec);
    std::vector<std::unique_ptr<W8A8Model>> models;
    ModuleErrorProbe probes[2];
    std::vector<size_t> probeIndex;  // [variant] its index in its base's probe
    size_t counts[2] = {0, 0};
    std::vector<W8A8Model*> all;
    std::vector<bool> int8;
    for (const VariantSpec& v : specs) {
        const Base& b = bases[v.rotated ? 1 : 0];
        if (v.int8) {  // the same model as the previous config, on the int8 GEMM
            all.push_back(models.back().get());
            int8.push_back(true);
            probeIndex.push_back(size_t(-1));
            continue;
        }
        MONO_ASSIGN_OR_RETURN(auto m, W8A8Model::build(*b.model, *b.calibration,
                                                       v.smoothed ? b.plan : nullptr, v.scheme));
        probes[v.rotated ? 1 : 0].addVariant(m.get());
        probeIndex.push_back(counts[v.rotated ? 1 : 0]++);
        all.push_back(m.get());
        int8.push_back(false);
        models.push_back(std::move(m));
    }

    progress.report(0.3, "per-module errors");
    std::vector<std::vector<ModuleError>> modules[2];
    MONO_ASSIGN_OR_RETURN(modules[0], probes[0].run(fp, evalWindows, stop));
    if (rotated) {
        MONO_ASSIGN_OR_RETURN(modules[1], probes[1].run(*rotated, evalWindows, stop));
    }

    progress.report(0.6, "end-to-end comparison");
    double fpPpl = 0.0;
    MONO_ASSIGN_OR_RETURN(auto e2e, compareEndToEnd(fp, all, int8, evalWindows, &fpPpl, stop));
    ConfigReport f32{"fp32", "float32", {}, {}};
    f32.endToEnd.perplexity = fpPpl;
    f32.endToEnd.sameTop1Pct = 100.0;
    f32.endToEnd.tokens = e2e[0].tokens;
    rep.configs.push_back(f32);
    for (size_t i = 0; i < specs.size(); ++i) {
        const VariantSpec& v = specs[i];
        ConfigReport c;
        c.name = v.name;
        c.description =
            v.scheme.describe() + (v.smoothed ? ", smoothed" : "") +
            (v.rotated ? std::string(", rotated (") + rotationName(spec.rotation) + ")" : "") +
            (v.int8 ? ", int8 GEMM (" + rep.kernel + ")" : "");
        if (!v.int8) c.modules = modules[v.rotated ? 1 : 0][probeIndex[i]];
        c.endToEnd = e2e[i];
        c.weightBits = v.scheme.weightBits;
        c.actBits = v.scheme.actBits;
        c.smoothed = v.smoothed;
        c.rotation = v.rotated ? rotationName(spec.rotation) : "none";
        rep.configs.push_back(std::move(c));
    }
    if (spec.granularity) {
        progress.report(0.9, "granularity table");
        MONO_ASSIGN_OR_RETURN(rep.granularity,
                              granularityTable(fp, calibration, evalWindows, stop));
    }
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
        cj["bits"] = {{"weights", c.weightBits}, {"activations", c.actBits}};
        cj["smoothed"] = c.smoothed;
        cj["rotation"] = c.rotation;
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
    j["rotation"] = {{"kind", rotationName(r.spec.rotation)}};
    json inputs = json::array();
    for (const RotationStats& s : r.rotation) {
        auto stats = [](const InputOutlierStats& o) {
            return json{{"max", num(o.max)},
                        {"max_over_median", num(o.maxOverMedian)},
                        {"kurtosis", num(o.kurtosis)}};
        };
        inputs.push_back({{"input", s.input},
                          {"layer", s.layer},
                          {"before", stats(s.before)},
                          {"after", stats(s.after)}});
    }
    j["rotation"]["inputs"] = inputs;
    json gran = json::array();
    for (const GranularityRow& g : r.granularity)
        gran.push_back({{"bits", {{"weights", g.weightBits}, {"activations", g.actBits}}},
                        {"weights", weightSchemeName(g.weight)},
                        {"activations", actSchemeName(g.act)},
                        {"mean_rel_error", num(g.meanRelError)},
                        {"max_rel_error", num(g.maxRelError)}});
    j["granularity"] = gran;
    json sinks = {{"queries", r.sinks.queries}, {"uniform_mass", num(r.sinks.uniform)}};
    if (!r.sinksNote.empty()) sinks["note"] = r.sinksNote;
    json layers = json::array();
    for (int L = 0; L < r.sinks.layers; ++L) {
        json heads = json::array();
        for (int h = 0; h < r.sinks.heads; ++h) heads.push_back(num(r.sinks.at(L, h)));
        layers.push_back(heads);
    }
    sinks["first_token_mass"] = layers;  // [layer][head] mean attention on position 0
    j["attention_sinks"] = sinks;
    return j.dump(2);
}

}  // namespace mono::quant
