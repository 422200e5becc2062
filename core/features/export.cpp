#include "core/features/export.h"

#include <cmath>
#include <cstdio>

#include "core/base/atomic_file.h"

namespace mono::features {

using json = nlohmann::json;

namespace {

json exampleJson(const Example& e, float binMin, float binMax) {
    json tokens = json::array(), values = json::array();
    for (const auto& s : e.strings) tokens.push_back(s);
    float minV = 0;
    for (float v : e.values) {
        values.push_back(v);
        minV = std::min(minV, v);
    }
    return {{"tokens", tokens},
            {"values", values},
            {"maxValue", e.activation},
            {"maxValueTokenIndex", e.tokenIndex},
            {"minValue", minV},
            {"binMin", binMin},
            {"binMax", binMax},
            {"tokenIds", e.tokens},
            {"row", e.row}};
}

std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json runJson(const RunInfo& r) {
    return {{"model", r.model},
            {"hook", r.hook},
            {"sae_path", r.saePath},
            {"sae_hash", r.saeHash},
            {"d_in", r.dIn},
            {"d_sae", r.dSae},
            {"tokens_analysed", r.tokensAnalysed},
            {"settings", json::parse(r.settingsJson, nullptr, false)},
            {"date", r.date},
            {"version", r.version}};
}

std::string csvField(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

}  // namespace

json featureToJson(const FeatureRecord& rec, const RunInfo& run) {
    const FeatureSummary& s = rec.summary;
    json posStr = json::array(), posVal = json::array(), negStr = json::array(),
         negVal = json::array();
    for (const auto& l : rec.positiveLogits) {
        posStr.push_back(l.text);
        posVal.push_back(l.value);
    }
    for (const auto& l : rec.negativeLogits) {
        negStr.push_back(l.text);
        negVal.push_back(l.value);
    }
    json heights = json::array(), centres = json::array();
    for (size_t k = 0; k < rec.histogram.counts.size(); ++k) {
        heights.push_back(rec.histogram.counts[k]);
        centres.push_back((double(k) + 0.5) * rec.histogram.binWidth);
    }
    json cosIdx = json::array(), cosVal = json::array();
    for (const auto& n : rec.neighbours) {
        cosIdx.push_back(n.id);
        cosVal.push_back(n.value);
    }
    json activations = json::array();
    for (const Example& e : rec.topExamples) activations.push_back(exampleJson(e, -1, -1));
    for (const Example& e : rec.intervalExamples)
        activations.push_back(
            exampleJson(e, e.bin * rec.intervalBinWidth, (e.bin + 1) * rec.intervalBinWidth));
    json explanations = json::array();
    if (!s.label.empty()) explanations.push_back({{"description", s.label}});
    json coFiring = json::array();
    for (const auto& c : rec.coFiring)
        coFiring.push_back({{"index", c.id}, {"count", c.count}, {"fraction", c.value}});
    return {{"modelId", run.model},
            {"layer", run.hook},
            {"index", std::to_string(s.id)},
            {"maxActApprox", s.maxActivation},
            {"maxActValue", s.maxActivation},
            {"frac_nonzero", s.density},
            {"pos_str", posStr},
            {"pos_values", posVal},
            {"neg_str", negStr},
            {"neg_values", negVal},
            {"freq_hist_data_bar_heights", heights},
            {"freq_hist_data_bar_values", centres},
            {"topkCosSimIndices", cosIdx},
            {"topkCosSimValues", cosVal},
            {"activations", activations},
            {"explanations", explanations},
            {"monoscope",
             {{"fire_count", s.fireCount},
              {"mean_activation", s.meanActivation},
              {"histogram_bin_width", rec.histogram.binWidth},
              {"interval_bin_width", rec.intervalBinWidth},
              {"co_firing", coFiring},
              {"label", s.label},
              {"notes", rec.notes}}}};
}

Status exportJson(const FeatureStore& store, const std::string& outPath, int64_t id) {
    if (id < 0) return exportJson(store, outPath, FeatureFilter{});
    RunInfo run;
    if (auto r = store.runInfo(); r.ok()) run = *r;
    MONO_ASSIGN_OR_RETURN(AtomicFileWriter out, AtomicFileWriter::create(outPath));
    MONO_ASSIGN_OR_RETURN(FeatureRecord rec, store.feature(id));
    MONO_RETURN_IF_ERROR(out.write(dump(featureToJson(rec, run)) + "\n"));
    return out.commit();
}

Status exportJson(const FeatureStore& store, const std::string& outPath,
                  const FeatureFilter& filter) {
    RunInfo run;
    if (auto r = store.runInfo(); r.ok()) run = *r;
    MONO_ASSIGN_OR_RETURN(AtomicFileWriter out, AtomicFileWriter::create(outPath));
    // The store (or the selection), streamed one feature at a time.
    json head = {{"run", runJson(run)}};
    if (auto dh = store.densityHistogram(); dh.ok())
        head["density_histogram"] = {
            {"lo", dh->lo}, {"width", dh->width}, {"counts", dh->counts}, {"dead", dh->dead}};
    std::string text = dump(head);
    text.pop_back();  // reopen the object
    MONO_RETURN_IF_ERROR(out.write(text + ",\"features\":[\n"));
    PageRequest req;
    req.filter = filter;
    req.limit = 1024;
    bool first = true;
    for (;;) {
        MONO_ASSIGN_OR_RETURN(FeaturePage page, store.page(req));
        for (const FeatureSummary& s : page.rows) {
            MONO_ASSIGN_OR_RETURN(FeatureRecord rec, store.feature(s.id));
            MONO_RETURN_IF_ERROR(out.write((first ? "" : ",\n") + dump(featureToJson(rec, run))));
            first = false;
        }
        req.offset += req.limit;
        if (page.rows.empty() || req.offset >= page.total) break;
    }
    MONO_RETURN_IF_ERROR(out.write("\n]}\n"));
    return out.commit();
}

Status exportCsv(const FeatureStore& store, const std::string& outPath,
                 const FeatureFilter& filter) {
    MONO_ASSIGN_OR_RETURN(AtomicFileWriter out, AtomicFileWriter::create(outPath));
    MONO_RETURN_IF_ERROR(out.write(
        "id,fire_count,density,log10_density,max_activation,mean_activation,label,top_snippet\n"));
    PageRequest req;
    req.filter = filter;
    req.limit = 4096;
    for (bool more = true; more; req.offset += req.limit) {
        MONO_ASSIGN_OR_RETURN(FeaturePage page, store.page(req));
        more = !page.rows.empty() && req.offset + req.limit < page.total;
        std::string chunk;
        for (const FeatureSummary& s : page.rows) {
            char nums[256];
            std::snprintf(nums, sizeof nums, "%lld,%lld,%.9g,%s,%.9g,%.9g,",
                          static_cast<long long>(s.id), static_cast<long long>(s.fireCount),
                          s.density,
                          s.fireCount > 0 ? std::to_string(std::log10(s.density)).c_str() : "",
                          double(s.maxActivation), double(s.meanActivation));
            chunk += nums;
            chunk += csvField(s.label);
            chunk += ',';
            chunk += csvField(s.topSnippet);
            chunk += '\n';
        }
        MONO_RETURN_IF_ERROR(out.write(chunk));
    }
    return out.commit();
}

}  // namespace mono::features
