#include "core/quant/calibration.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/base/atomic_file.h"
#include "core/io/corpus.h"

namespace mono::quant {

using model::HookSite;

std::vector<LinearInput> linearInputs(const model::ModelConfig& cfg) {
    // The four inputs of a block and the sites of the modules that read each
    // (fused families name one module where Llama-like ones name several).
    const std::pair<HookSite, std::vector<HookSite>> groups[] = {
        {HookSite::kAttnIn, {HookSite::kAttnIn, HookSite::kKIn, HookSite::kVIn}},
        {HookSite::kAttnOutProjIn, {HookSite::kAttnOutProjIn}},
        {HookSite::kMlpIn, {HookSite::kMlpIn, HookSite::kUpIn}},
        {HookSite::kMlpOutProjIn, {HookSite::kMlpOutProjIn}},
    };
    std::vector<LinearInput> out;
    for (int L = 0; L < cfg.nLayers; ++L)
        for (const auto& [site, readers] : groups) {
            LinearInput in;
            in.layer = L;
            in.site = site;
            in.hook = model::hookName(cfg, model::HookId{L, site});
            for (HookSite r : readers)
                if (const char* module = model::hookSiteSuffix(cfg, r))
                    in.modules.push_back(module);
            in.channels = model::hookWidth(cfg, model::HookId{L, site});
            out.push_back(std::move(in));
        }
    return out;
}

const InputStats* Calibration::find(int layer, HookSite site) const {
    for (const InputStats& s : inputs)
        if (s.input.layer == layer && s.input.site == site) return &s;
    return nullptr;
}

namespace {

// Running sums of one input while calibrating.
struct Accumulator {
    InputStats* stats;
    std::vector<double> sumAbs;   // [C]
    std::vector<float> previous;  // [C] maxima before the current sample
    std::vector<float> seqSum;    // [C] Σ|x| over the current sample
    int64_t tokens = 0;
    double sum2 = 0.0, sum4 = 0.0;  // Σx², Σx⁴ over every value
};

void accumulate(Accumulator& acc, const model::HookContext& ctx, model::ActivationBlock a,
                int heatmapRows) {
    InputStats& st = *acc.stats;
    const int64_t C = a.cols;
    float* cmax = st.channelMax.data();
    for (const model::SeqRows& seq : *ctx.seqs) {
        acc.previous = st.channelMax;
        // Float sums over one sequence (vectorisable), flushed into doubles after it.
        acc.seqSum.assign(size_t(C), 0.0f);
        float* ssum = acc.seqSum.data();
        for (int64_t r = seq.row0; r < seq.row0 + seq.rows; ++r) {
            const float* x = a.row(r);
            float tokenMax = 0.0f;
            double s2 = 0.0, s4 = 0.0;
            for (int64_t j = 0; j < C; ++j) {
                const float v = std::fabs(x[j]);
                tokenMax = tokenMax < v ? v : tokenMax;
                cmax[j] = cmax[j] < v ? v : cmax[j];
                ssum[j] += v;
                const double v2 = double(v) * double(v);
                s2 += v2;
                s4 += v2 * v2;
            }
            acc.sum2 += s2;
            acc.sum4 += s4;
            st.tokenMax.push_back(tokenMax);
            if (st.heatmapRows < heatmapRows) {
                for (int64_t j = 0; j < C; ++j) st.heatmap.push_back(std::fabs(x[j]));
                ++st.heatmapRows;
            }
        }
        for (int64_t j = 0; j < C; ++j) acc.sumAbs[size_t(j)] += ssum[j];
        acc.tokens += seq.rows;
        double moved = 0.0, total = 0.0;
        for (int64_t j = 0; j < C; ++j) {
            moved += std::fabs(st.channelMax[j] - acc.previous[j]);
            total += st.channelMax[j];
        }
        st.convergence.push_back(total > 0.0 ? float(moved / total) : 0.0f);
    }
}

}  // namespace

Result<Calibration> calibrate(model::Model& model,
                              const std::vector<std::vector<model::TokenId>>& windows,
                              const CalibrationOptions& options, const Progress& progress,
                              StopToken stop) {
    if (windows.empty()) return Status::invalidArgument("calibration: no token windows given");
    const model::ModelConfig& cfg = model.config();
    Calibration calib;
    calib.model = cfg.name;
    for (const LinearInput& in : linearInputs(cfg)) {
        InputStats st;
        st.input = in;
        st.channelMax.assign(size_t(in.channels), 0.0f);
        calib.inputs.push_back(std::move(st));
    }
    std::vector<Accumulator> accs;
    for (InputStats& st : calib.inputs)
        accs.push_back({&st, std::vector<double>(st.channelMax.size(), 0.0), {}, {}, 0});

    model::Hooks hooks;
    for (Accumulator& acc : accs)
        hooks.add(acc.stats->input.hook,
                  [&acc, rows = options.heatmapRows](const model::HookContext& ctx,
                                                     model::ActivationBlock a) {
                      accumulate(acc, ctx, a, rows);
                  });
    model::ForwardOptions fopt;
    fopt.logits = model::LogitsWanted::kNone;
    fopt.hooks = &hooks;

    const auto t0 = std::chrono::steady_clock::now();
    const int per = std::max(1, options.batchSequences);
    model::Batch batch;
    for (size_t i = 0; i < windows.size(); i += size_t(per)) {
        if (stop.stopRequested()) return Status::cancelled("calibration cancelled");
        batch.clear();
        for (size_t j = i; j < std::min(windows.size(), i + size_t(per)); ++j)
            batch.add(windows[j].data(), int64_t(windows[j].size()));
        MONO_RETURN_IF_ERROR(model.forward(batch, fopt, nullptr));
        calib.samples += batch.numSeqs();
        calib.tokens += batch.numTokens();
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ProgressUpdate u;
        u.fraction = double(calib.samples) / double(windows.size());
        u.message = "calibrating";
        u.metrics["tokens_per_s"] = secs > 0 ? double(calib.tokens) / secs : 0.0;
        float conv = 0.0f;
        for (const InputStats& st : calib.inputs)
            conv = std::max(conv, st.convergence.empty() ? 0.0f : st.convergence.back());
        u.metrics["max_moved"] = conv;
        progress.report(u);
    }
    for (Accumulator& acc : accs) {
        acc.stats->channelMeanAbs.resize(acc.sumAbs.size());
        for (size_t j = 0; j < acc.sumAbs.size(); ++j)
            acc.stats->channelMeanAbs[j] =
                acc.tokens ? float(acc.sumAbs[j] / double(acc.tokens)) : 0.0f;
        const double n = double(acc.tokens) * double(acc.sumAbs.size());
        const double m2 = n > 0 ? acc.sum2 / n : 0.0;
        acc.stats->kurtosis = m2 > 0 ? (acc.sum4 / n) / (m2 * m2) : 0.0;
    }
    return calib;
}

Result<std::vector<std::vector<model::TokenId>>> tokenWindows(
    const std::vector<std::string>& corpusFiles, const tok::Tokenizer& tokenizer, int count,
    int seqLen, int skip) {
    if (count <= 0 || seqLen <= 1)
        return Status::invalidArgument("token windows: need count > 0 and seqLen > 1");
    MONO_ASSIGN_OR_RETURN(io::CorpusReader reader, io::CorpusReader::open(corpusFiles));
    const int64_t need = int64_t(count + skip) * seqLen;
    std::vector<model::TokenId> stream;
    std::string doc;
    while (int64_t(stream.size()) < need) {
        MONO_ASSIGN_OR_RETURN(bool more, reader.next(doc));
        if (!more) break;
        const auto ids = tokenizer.encode(doc, tokenizer.bos() >= 0);
        stream.insert(stream.end(), ids.begin(), ids.end());
    }
    std::vector<std::vector<model::TokenId>> out;
    for (int64_t w = skip; w < count + skip; ++w) {
        if ((w + 1) * seqLen > int64_t(stream.size())) break;
        out.emplace_back(stream.begin() + w * seqLen, stream.begin() + (w + 1) * seqLen);
    }
    if (out.empty()) {
        std::string names;
        for (const auto& f : corpusFiles) names += (names.empty() ? "" : ", ") + f;
        return Status::invalidArgument("corpus " + names + ": " + std::to_string(stream.size()) +
                                       " tokens, too few for one window of " +
                                       std::to_string(seqLen) + " after skipping " +
                                       std::to_string(skip));
    }
    return out;
}

namespace {
using nlohmann::json;

constexpr int kFormatVersion = 1;

Result<std::vector<float>> floats(const json& j, const char* key, const std::string& where,
                                  size_t expected) {
    if (!j.contains(key) || !j[key].is_array())
        return Status::corruption(where + ": missing array \"" + key + "\"");
    std::vector<float> v;
    v.reserve(j[key].size());
    for (const json& x : j[key]) {
        if (!x.is_number())
            return Status::corruption(where + ": \"" + key + "\" holds a non-number");
        v.push_back(x.get<float>());
    }
    if (expected != size_t(-1) && v.size() != expected)
        return Status::corruption(where + ": \"" + key + "\" has " + std::to_string(v.size()) +
                                  " values, expected " + std::to_string(expected));
    return v;
}
}  // namespace

Status saveCalibration(const Calibration& c, const std::string& path) {
    json j;
    j["format"] = "monoscope-calibration";
    j["version"] = kFormatVersion;
    j["model"] = c.model;
    j["samples"] = c.samples;
    j["tokens"] = c.tokens;
    json inputs = json::array();
    for (const InputStats& s : c.inputs) {
        json e;
        e["hook"] = s.input.hook;
        e["layer"] = s.input.layer;
        e["site"] = int(s.input.site);
        e["modules"] = s.input.modules;
        e["channels"] = s.input.channels;
        e["channel_max"] = s.channelMax;
        e["channel_mean_abs"] = s.channelMeanAbs;
        e["token_max"] = s.tokenMax;
        e["heatmap_rows"] = s.heatmapRows;
        e["heatmap"] = s.heatmap;
        e["convergence"] = s.convergence;
        e["kurtosis"] = s.kurtosis;
        inputs.push_back(std::move(e));
    }
    j["inputs"] = std::move(inputs);
    return writeFileAtomic(path, j.dump());
}

Result<Calibration> loadCalibration(const std::string& path) {
    MONO_ASSIGN_OR_RETURN(std::string text, readWholeFile(path));
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return Status::corruption(path + ": not a JSON object");
    if (j.value("format", "") != "monoscope-calibration")
        return Status::corruption(path + ": \"format\" is not \"monoscope-calibration\"");
    if (j.value("version", 0) != kFormatVersion)
        return Status::unsupported(path + ": calibration version " +
                                   std::to_string(j.value("version", 0)) + ", expected " +
                                   std::to_string(kFormatVersion));
    if (!j.contains("inputs") || !j["inputs"].is_array())
        return Status::corruption(path + ": missing array \"inputs\"");
    Calibration c;
    try {
        c.model = j.value("model", "");
        c.samples = j.value("samples", 0);
        c.tokens = j.value("tokens", int64_t(0));
        for (size_t i = 0; i < j["inputs"].size(); ++i) {
            const json& e = j["inputs"][i];
            const std::string where = path + ": inputs[" + std::to_string(i) + "]";
            InputStats s;
            s.input.hook = e.at("hook").get<std::string>();
            s.input.layer = e.at("layer").get<int>();
            const int site = e.at("site").get<int>();
            if (site < 0 || site >= model::kHookSitesPerLayer)
                return Status::corruption(where + ": site " + std::to_string(site) +
                                          " out of range");
            s.input.site = HookSite(site);
            s.input.modules = e.at("modules").get<std::vector<std::string>>();
            s.input.channels = e.at("channels").get<int>();
            if (s.input.channels <= 0)
                return Status::corruption(where + ": channels must be positive");
            const size_t C = size_t(s.input.channels);
            MONO_ASSIGN_OR_RETURN(s.channelMax, floats(e, "channel_max", where, C));
            MONO_ASSIGN_OR_RETURN(s.channelMeanAbs, floats(e, "channel_mean_abs", where, C));
            MONO_ASSIGN_OR_RETURN(s.tokenMax, floats(e, "token_max", where, size_t(-1)));
            s.heatmapRows = e.at("heatmap_rows").get<int>();
            if (s.heatmapRows < 0) return Status::corruption(where + ": heatmap_rows is negative");
            MONO_ASSIGN_OR_RETURN(s.heatmap,
                                  floats(e, "heatmap", where, size_t(s.heatmapRows) * C));
            MONO_ASSIGN_OR_RETURN(s.convergence, floats(e, "convergence", where, size_t(-1)));
            s.kurtosis = e.value("kurtosis", 0.0);
            c.inputs.push_back(std::move(s));
        }
    } catch (const json::exception& ex) {
        return Status::corruption(path + ": " + ex.what());
    }
    return c;
}

}  // namespace mono::quant
