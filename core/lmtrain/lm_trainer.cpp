// The LM training loop: batches, loss and gradients (gpt.cpp), clipping and
// AdamW (optimizer.cpp), held-out evaluation, checkpoints and resume, and the
// final export with its load-back check.

#include "core/lmtrain/lm_trainer.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/base/atomic_file.h"
#include "core/io/safetensors.h"
#include "core/model/model.h"
#include "core/model/model_files.h"
#include "core/lmtrain/hf_export.h"

namespace mono::lmtrain {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kCheckpointKey = "monoscope_lm_checkpoint";
constexpr int kCheckpointVersion = 1;
constexpr uint64_t kBatchSeedSalt = 0x9E3779B97F4A7C15ull;
const double kNaN = std::numeric_limits<double>::quiet_NaN();

struct TrainState {
    AlignedVector<float> m, v;  // Adam moments
    int64_t step = 0;
    std::mt19937_64 rng;
    double lossSum = 0;  // since the last log entry
    int64_t lossCount = 0;
    std::vector<LmLogEntry> log;
};

json shapeJson(const GptShape& s) {
    return {{"vocab", s.vocab},
            {"ctx", s.ctx},
            {"d_model", s.dModel},
            {"layers", s.layers},
            {"heads", s.heads}};
}

json specJson(const LmTrainSpec& spec, const LmData& data) {
    return {{"shape", shapeJson(spec.shape)},
            {"batch", spec.batchSize},
            {"seed", spec.seed},
            {"total_tokens", spec.totalTokens},
            {"lr", spec.lr},
            {"min_lr_fraction", spec.minLrFraction},
            {"warmup_fraction", spec.warmupFraction},
            {"beta1", spec.adamw.beta1},
            {"beta2", spec.adamw.beta2},
            {"weight_decay", spec.adamw.weightDecay},
            {"grad_clip", spec.gradClip},
            {"data_fingerprint", std::to_string(data.fingerprint())},
            {"data_tokens", data.totalTokens()}};
}

json nanToNull(double v) {
    return std::isfinite(v) ? json(v) : json(nullptr);
}
double nullToNan(const json& j) {
    return j.is_number() ? j.get<double>() : kNaN;
}

std::string logTsv(const std::vector<LmLogEntry>& log) {
    std::ostringstream out;
    out << "step\ttokens\tlr\ttrain_loss\theld_out_loss\n";
    for (const LmLogEntry& e : log)
        out << e.step << '\t' << e.tokens << '\t' << e.lr << '\t' << e.trainLoss << '\t'
            << e.heldOutLoss << '\n';
    return out.str();
}

Status writeCheckpoint(const std::string& path, const AlignedVector<float>& params,
                       const TrainState& st, const json& spec) {
    std::ostringstream rng;
    rng << st.rng;
    json log = json::array();
    for (const LmLogEntry& e : st.log)
        log.push_back({e.step, e.tokens, e.lr, nanToNull(e.trainLoss), nanToNull(e.heldOutLoss)});
    const json meta = {{"version", kCheckpointVersion},
                       {"step", st.step},
                       {"rng", rng.str()},
                       {"loss_sum", st.lossSum},
                       {"loss_count", st.lossCount},
                       {"log", log},
                       {"spec", spec}};
    const int64_t P = static_cast<int64_t>(params.size());
    const uint64_t bytes = static_cast<uint64_t>(P) * sizeof(float);
    return io::writeSafetensors(path,
                                {{"params", io::DType::kF32, {P}, params.data(), bytes},
                                 {"adam_m", io::DType::kF32, {P}, st.m.data(), bytes},
                                 {"adam_v", io::DType::kF32, {P}, st.v.data(), bytes}},
                                {{kCheckpointKey, meta.dump()}});
}

Status readCheckpoint(const std::string& path, const json& spec, AlignedVector<float>& params,
                      TrainState& st) {
    MONO_ASSIGN_OR_RETURN(io::SafetensorsFile file, io::SafetensorsFile::open(path));
    auto it = file.metadata().find(kCheckpointKey);
    if (it == file.metadata().end())
        return Status::corruption(path + ": not a Monoscope LM checkpoint (no '" +
                                  std::string(kCheckpointKey) + "' metadata)");
    const json meta = json::parse(it->second, nullptr, false);
    if (meta.is_discarded() || !meta.is_object())
        return Status::corruption(path + ": checkpoint metadata is not valid JSON");
    try {
        if (meta.at("version").get<int>() != kCheckpointVersion)
            return Status::unsupported(path + ": checkpoint version " + meta.at("version").dump() +
                                       ", expected " + std::to_string(kCheckpointVersion));
        const json& saved = meta.at("spec");
        for (const char* key : {"shape", "batch", "seed", "data_fingerprint"})
            if (saved.value(key, json()) != spec.at(key))
                return Status::invalidArgument(
                    path + ": cannot resume: '" + key + "' was " + saved.value(key, json()).dump() +
                    ", this run has " + spec.at(key).dump() +
                    (std::string(key) == "data_fingerprint" ? " (a different corpus or tokenizer)"
                                                            : ""));
        st.step = meta.at("step").get<int64_t>();
        std::istringstream rng(meta.at("rng").get<std::string>());
        rng >> st.rng;
        if (rng.fail()) return Status::corruption(path + ": checkpoint RNG state does not parse");
        st.lossSum = meta.at("loss_sum").get<double>();
        st.lossCount = meta.at("loss_count").get<int64_t>();
        st.log.clear();
        for (const json& e : meta.at("log"))
            st.log.push_back({e.at(0).get<int64_t>(), e.at(1).get<int64_t>(), e.at(2).get<double>(),
                              nullToNan(e.at(3)), nullToNan(e.at(4))});
    } catch (const json::exception& e) {
        return Status::corruption(path + ": checkpoint metadata: " + e.what());
    }
    const int64_t P = static_cast<int64_t>(params.size());
    st.m.resize(params.size());
    st.v.resize(params.size());
    for (auto [name, target] : {std::pair<const char*, AlignedVector<float>*>{"params", &params},
                                {"adam_m", &st.m},
                                {"adam_v", &st.v}}) {
        const io::TensorView* t = file.find(name);
        if (!t || t->dtype != io::DType::kF32 || t->shape != std::vector<int64_t>{P})
            return Status::corruption(path + ": tensor '" + name + "': expected F32 [" +
                                      std::to_string(P) + "], found " +
                                      (t ? io::describe(*t) : std::string("nothing")));
        std::memcpy(target->data(), t->data, t->nbytes);
    }
    return Status::success();
}

// Loads the saved folder with core/model and its tokenizer and returns the
// largest logit difference against the trainer's forward on one window.
Result<double> verifySaved(const std::string& dir, Gpt<float>& model, const LmData& data, int T) {
    MONO_ASSIGN_OR_RETURN(auto tokenizer, model::loadModelTokenizer(dir));
    if (tokenizer->vocabSize() != model.shape().vocab)
        return Status::invalidArgument(
            dir + ": the tokenizer has " + std::to_string(tokenizer->vocabSize()) +
            " tokens but the model " + std::to_string(model.shape().vocab));
    MONO_ASSIGN_OR_RETURN(auto runtime, model::Model::load(dir));
    std::vector<int32_t> inputs(T), targets(T);
    if (data.heldOutWindows(T) > 0) {
        data.heldOutWindow(0, T, inputs.data(), targets.data());
    } else {
        std::mt19937_64 rng(1);
        data.sampleBatch(rng, 1, T, inputs.data(), targets.data());
    }
    model.forward(inputs.data(), nullptr, 1, T);
    model::Logits logits;
    model::ForwardOptions options;
    options.logits = model::LogitsWanted::kAll;
    MONO_RETURN_IF_ERROR(runtime->forward(model::Batch::single(inputs), options, &logits));
    const int64_t V = model.shape().vocab;
    if (logits.rows != T || logits.vocab != V)
        return Status::internal(dir + ": the runtime returned logits of a different shape");
    double worst = 0;
    for (int64_t i = 0; i < T * V; ++i)
        worst = std::max(worst, std::abs(double(logits.data[i]) - double(model.logits()[i])));
    return worst;
}

}  // namespace

double heldOutLoss(Gpt<float>& model, const LmData& data, int B, int T, int64_t maxTokens) {
    const int64_t windows = std::min(data.heldOutWindows(T), std::max<int64_t>(1, maxTokens / T));
    if (data.heldOutWindows(T) == 0) return kNaN;
    std::vector<int32_t> inputs(static_cast<size_t>(B) * T), targets(inputs.size());
    double sum = 0;
    int64_t count = 0;
    for (int64_t w = 0; w < windows; w += B) {
        const int rows = static_cast<int>(std::min<int64_t>(B, windows - w));
        for (int r = 0; r < rows; ++r)
            data.heldOutWindow(w + r, T, inputs.data() + r * T, targets.data() + r * T);
        sum += static_cast<double>(model.forward(inputs.data(), targets.data(), rows, T)) * rows;
        count += rows;
    }
    return sum / static_cast<double>(count);
}

Result<LmTrainResult> trainLm(const LmTrainSpec& spec, const LmData& data, Progress& progress,
                              StopToken stop) {
    MONO_RETURN_IF_ERROR(spec.shape.validate());
    const int B = spec.batchSize, T = spec.shape.ctx;
    if (B <= 0) return Status::invalidArgument("LM training: batch size must be positive");
    if (spec.outDir.empty()) return Status::invalidArgument("LM training: no output folder");
    if (data.vocab() > spec.shape.vocab)
        return Status::invalidArgument("LM training: the data has ids up to " +
                                       std::to_string(data.vocab() - 1) + " but the model only " +
                                       std::to_string(spec.shape.vocab) + " tokens");
    if (data.ctx() < T)
        return Status::invalidArgument("LM training: the data was split for windows of " +
                                       std::to_string(data.ctx()) + " tokens, the model needs " +
                                       std::to_string(T));
    const int64_t steps = std::max<int64_t>(1, spec.totalTokens / (static_cast<int64_t>(B) * T));
    const int64_t warmup = static_cast<int64_t>(spec.warmupFraction * static_cast<double>(steps));
    const json specInfo = specJson(spec, data);
    std::error_code ec;
    fs::create_directories(spec.outDir, ec);
    if (ec) return Status::ioError(spec.outDir + ": cannot create folder: " + ec.message());
    const std::string checkpointPath = (fs::path(spec.outDir) / kLmCheckpointFile).string();
    const std::string logPath = (fs::path(spec.outDir) / kLmLogFile).string();

    Gpt<float> model(spec.shape);
    TrainState st;
    if (spec.resume) {
        MONO_RETURN_IF_ERROR(readCheckpoint(checkpointPath, specInfo, model.params, st));
    } else {
        model.initialize(spec.seed);
        st.m.assign(model.params.size(), 0.0f);
        st.v.assign(model.params.size(), 0.0f);
        st.rng.seed(spec.seed ^ kBatchSeedSalt);
    }
    auto checkpoint = [&]() -> Status {
        MONO_RETURN_IF_ERROR(writeCheckpoint(checkpointPath, model.params, st, specInfo));
        return writeFileAtomic(logPath, logTsv(st.log));
    };
    auto evaluate = [&](double lr) {
        LmLogEntry e;
        e.step = st.step;
        e.tokens = st.step * B * T;
        e.lr = lr;
        e.trainLoss = st.lossCount > 0 ? st.lossSum / static_cast<double>(st.lossCount) : kNaN;
        e.heldOutLoss = heldOutLoss(model, data, B, T, spec.evalTokens);
        st.lossSum = 0;
        st.lossCount = 0;
        st.log.push_back(e);
    };
    if (st.step == 0 && st.log.empty()) evaluate(0.0);

    std::vector<int32_t> inputs(static_cast<size_t>(B) * T), targets(inputs.size());
    const auto start = std::chrono::steady_clock::now();
    auto lastCheckpoint = start;
    const int64_t firstStep = st.step;
    const int64_t reportEvery = std::max<int64_t>(1, spec.reportEverySteps);
    const int64_t evalEvery = std::max<int64_t>(1, spec.evalEverySteps);
    double lastLoss = kNaN, gradNorm = 0;
    while (st.step < steps) {
        if (stop.stopRequested()) {
            MONO_RETURN_IF_ERROR(checkpoint());
            return Status::cancelled("LM training stopped at step " + std::to_string(st.step) +
                                     " of " + std::to_string(steps) + "; checkpoint saved to " +
                                     checkpointPath + " (resume to continue)");
        }
        data.sampleBatch(st.rng, B, T, inputs.data(), targets.data());
        const float loss = model.forward(inputs.data(), targets.data(), B, T);
        if (!std::isfinite(loss))
            return Status::internal("LM training diverged at step " + std::to_string(st.step) +
                                    ": the loss is " + std::to_string(loss) +
                                    ". The last good checkpoint is kept in " + checkpointPath +
                                    "; try a lower learning rate");
        model.backward();
        gradNorm = clipGradients(model.grads, spec.gradClip);
        const double lr =
            scheduledLearningRate(st.step, steps, warmup, spec.lr, spec.lr * spec.minLrFraction);
        adamwStep(model.layout(), model.params, model.grads, st.m, st.v, st.step + 1, lr,
                  spec.adamw);
        ++st.step;
        lastLoss = loss;
        st.lossSum += loss;
        ++st.lossCount;
        if (st.step % evalEvery == 0 || st.step == steps) evaluate(lr);

        const auto now = std::chrono::steady_clock::now();
        if (st.step % reportEvery == 0 || st.step == steps) {
            const double seconds = std::chrono::duration<double>(now - start).count();
            ProgressUpdate u;
            u.fraction = static_cast<double>(st.step) / static_cast<double>(steps);
            u.message = "step " + std::to_string(st.step) + "/" + std::to_string(steps);
            u.metrics = {
                {"step", static_cast<double>(st.step)},
                {"loss", lastLoss},
                {"lr", lr},
                {"grad_norm", gradNorm},
                {"tokens_per_s",
                 seconds > 0 ? static_cast<double>((st.step - firstStep) * B * T) / seconds : 0.0}};
            if (!st.log.empty() && std::isfinite(st.log.back().heldOutLoss))
                u.metrics["held_out_loss"] = st.log.back().heldOutLoss;
            progress.report(u);
        }
        const bool dueByTime =
            std::chrono::duration<double>(now - lastCheckpoint).count() >= spec.checkpointSeconds;
        const bool dueBySteps =
            spec.checkpointEverySteps > 0 && st.step % spec.checkpointEverySteps == 0;
        if ((dueByTime || dueBySteps) && st.step < steps) {
            MONO_RETURN_IF_ERROR(checkpoint());
            lastCheckpoint = now;
        }
    }
    MONO_RETURN_IF_ERROR(checkpoint());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    LmTrainResult result;
    result.steps = st.step;
    result.tokens = st.step * B * T;
    result.log = st.log;
    result.trainLoss = st.log.back().trainLoss;
    result.heldOutLoss = st.log.back().heldOutLoss;
    result.tokensPerSecond =
        seconds > 0 ? static_cast<double>((st.step - firstStep) * B * T) / seconds : 0.0;
    MONO_RETURN_IF_ERROR(
        saveHfGpt2(spec.outDir, spec.shape, model.params, spec.endOfText, spec.saveF16));
    result.runtimeMaxLogitDiff = kNaN;
    if (spec.verifySaved) {
        auto diff = verifySaved(spec.outDir, model, data, T);
        if (!diff.ok()) return diff.status().withContext("checking the saved model");
        result.runtimeMaxLogitDiff = *diff;
    }
    result.params = std::move(model.params);
    return result;
}

}  // namespace mono::lmtrain
