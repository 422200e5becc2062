// The LM training loop: batches, loss and gradients (gpt.cpp), clipping and
// AdamW (optimizer.cpp, on core/train's Adam), the learning-rate schedule and
// checkpoint cadence (core/train), held-out evaluation, checkpoints and resume,
// and the final export with its load-back check.

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
#include "core/lmtrain/hf_export.h"
#include "core/model/model.h"
#include "core/model/model_files.h"
#include "core/train/cadence.h"
#include "core/train/loop.h"
#include "core/train/lr_schedule.h"

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

namespace {

Status validate(const LmTrainSpec& spec, const LmData& data) {
    MONO_RETURN_IF_ERROR(spec.shape.validate());
    const int T = spec.shape.ctx;
    if (spec.batchSize <= 0)
        return Status::invalidArgument("LM training: batch size must be positive");
    if (spec.outDir.empty()) return Status::invalidArgument("LM training: no output folder");
    if (data.vocab() > spec.shape.vocab)
        return Status::invalidArgument("LM training: the data has ids up to " +
                                       std::to_string(data.vocab() - 1) + " but the model only " +
                                       std::to_string(spec.shape.vocab) + " tokens");
    if (data.ctx() < T)
        return Status::invalidArgument("LM training: the data was split for windows of " +
                                       std::to_string(data.ctx()) + " tokens, the model needs " +
                                       std::to_string(T));
    return Status::success();
}

using Clock = std::chrono::steady_clock;

// One call of trainLm: the run's state and the phases of its loop.
class LmRun {
public:
    // spec must have passed validate().
    LmRun(const LmTrainSpec& spec, const LmData& data, Progress& progress);

    // The output folder, and the starting state: initialised or resumed.
    Status open();
    Result<LmTrainResult> train(StopToken stop);

private:
    Status step();  // one step on a fresh batch
    void evaluate(double lr);
    void report(Clock::time_point now) const;
    Status checkpoint();
    Status stopped();
    Result<LmTrainResult> finish();

    const LmTrainSpec& m_spec;
    const LmData& m_data;
    Progress& m_progress;
    const int m_B, m_T;
    const int64_t m_steps;
    const json m_specInfo;
    const std::string m_checkpointPath, m_logPath;
    const train::LrSchedule m_schedule;
    Gpt<float> m_model;
    TrainState m_st;
    std::vector<int32_t> m_inputs, m_targets;  // [B, T]
    Clock::time_point m_start;
    int64_t m_firstStep = 0;
    double m_lastLoss = kNaN, m_gradNorm = 0, m_lr = 0;  // of the latest step
};

LmRun::LmRun(const LmTrainSpec& spec, const LmData& data, Progress& progress)
    : m_spec(spec),
      m_data(data),
      m_progress(progress),
      m_B(spec.batchSize),
      m_T(spec.shape.ctx),
      m_steps(std::max<int64_t>(1, spec.totalTokens / (static_cast<int64_t>(m_B) * m_T))),
      m_specInfo(specJson(spec, data)),
      m_checkpointPath((fs::path(spec.outDir) / kLmCheckpointFile).string()),
      m_logPath((fs::path(spec.outDir) / kLmLogFile).string()),
      m_schedule(train::warmupThenCosine(
          spec.lr, spec.lr * spec.minLrFraction,
          static_cast<int64_t>(spec.warmupFraction * static_cast<double>(m_steps)), m_steps)),
      m_model(spec.shape),
      m_inputs(static_cast<size_t>(m_B) * m_T),
      m_targets(m_inputs.size()) {}

Status LmRun::open() {
    std::error_code ec;
    fs::create_directories(m_spec.outDir, ec);
    if (ec) return Status::ioError(m_spec.outDir + ": cannot create folder: " + ec.message());
    if (m_spec.resume) {
        MONO_RETURN_IF_ERROR(readCheckpoint(m_checkpointPath, m_specInfo, m_model.params, m_st));
    } else {
        m_model.initialize(m_spec.seed);
        m_st.m.assign(m_model.params.size(), 0.0f);
        m_st.v.assign(m_model.params.size(), 0.0f);
        m_st.rng.seed(m_spec.seed ^ kBatchSeedSalt);
    }
    if (m_st.step == 0 && m_st.log.empty()) evaluate(0.0);
    return Status::success();
}

Result<LmTrainResult> LmRun::train(StopToken stop) {
    m_start = Clock::now();
    m_firstStep = m_st.step;
    train::LoopActions loop;
    loop.step = [this] {
        MONO_RETURN_IF_ERROR(step());
        // Evaluated before the report's clock is read, so its time counts.
        if (train::everyNthOrLast(m_st.step, m_spec.evalEverySteps, m_steps)) evaluate(m_lr);
        return Status::success();
    };
    loop.afterStep = [this](Clock::time_point now) {
        if (train::everyNthOrLast(m_st.step, m_spec.reportEverySteps, m_steps)) report(now);
    };
    loop.save = [this] { return checkpoint(); };
    loop.stopped = [this] { return stopped(); };
    const train::CheckpointCadence cadence(m_spec.checkpointSeconds, m_spec.checkpointEverySteps,
                                           m_start);
    MONO_RETURN_IF_ERROR(train::runTrainingLoop(m_st.step, m_steps, stop, cadence, loop));
    MONO_RETURN_IF_ERROR(checkpoint());
    return finish();
}

Status LmRun::step() {
    m_data.sampleBatch(m_st.rng, m_B, m_T, m_inputs.data(), m_targets.data());
    const float loss = m_model.forward(m_inputs.data(), m_targets.data(), m_B, m_T);
    if (!std::isfinite(loss))
        return Status::internal("LM training diverged at step " + std::to_string(m_st.step) +
                                ": the loss is " + std::to_string(loss) +
                                ". The last good checkpoint is kept in " + m_checkpointPath +
                                "; try a lower learning rate");
    m_model.backward();
    m_gradNorm = clipGradients(m_model.grads, m_spec.gradClip);
    m_lr = train::learningRate(m_schedule, m_st.step);
    adamwStep(m_model.layout(), m_model.params, m_model.grads, m_st.m, m_st.v, m_st.step + 1, m_lr,
              m_spec.adamw);
    ++m_st.step;
    m_lastLoss = loss;
    m_st.lossSum += loss;
    ++m_st.lossCount;
    return Status::success();
}

// A log entry: the mean training loss since the previous one, and the held-out loss.
void LmRun::evaluate(double lr) {
    LmLogEntry e;
    e.step = m_st.step;
    e.tokens = m_st.step * m_B * m_T;
    e.lr = lr;
    e.trainLoss = m_st.lossCount > 0 ? m_st.lossSum / static_cast<double>(m_st.lossCount) : kNaN;
    e.heldOutLoss = heldOutLoss(m_model, m_data, m_B, m_T, m_spec.evalTokens);
    m_st.lossSum = 0;
    m_st.lossCount = 0;
    m_st.log.push_back(e);
}

void LmRun::report(Clock::time_point now) const {
    const double seconds = std::chrono::duration<double>(now - m_start).count();
    ProgressUpdate u;
    u.fraction = static_cast<double>(m_st.step) / static_cast<double>(m_steps);
    u.message = "step " + std::to_string(m_st.step) + "/" + std::to_string(m_steps);
    u.metrics = {
        {"step", static_cast<double>(m_st.step)},
        {"loss", m_lastLoss},
        {"lr", m_lr},
        {"grad_norm", m_gradNorm},
        {"tokens_per_s",
         seconds > 0 ? static_cast<double>((m_st.step - m_firstStep) * m_B * m_T) / seconds : 0.0}};
    if (!m_st.log.empty() && std::isfinite(m_st.log.back().heldOutLoss))
        u.metrics["held_out_loss"] = m_st.log.back().heldOutLoss;
    m_progress.report(u);
}

Status LmRun::checkpoint() {
    MONO_RETURN_IF_ERROR(writeCheckpoint(m_checkpointPath, m_model.params, m_st, m_specInfo));
    return writeFileAtomic(m_logPath, logTsv(m_st.log));
}

Status LmRun::stopped() {
    MONO_RETURN_IF_ERROR(checkpoint());
    return Status::cancelled("LM training stopped at step " + std::to_string(m_st.step) + " of " +
                             std::to_string(m_steps) + "; checkpoint saved to " + m_checkpointPath +
                             " (resume to continue)");
}

// The model saved in Hugging Face layout, and loaded back as a check.
Result<LmTrainResult> LmRun::finish() {
    const double seconds = std::chrono::duration<double>(Clock::now() - m_start).count();
    LmTrainResult result;
    result.steps = m_st.step;
    result.tokens = m_st.step * m_B * m_T;
    result.log = m_st.log;
    result.trainLoss = m_st.log.back().trainLoss;
    result.heldOutLoss = m_st.log.back().heldOutLoss;
    result.tokensPerSecond =
        seconds > 0 ? static_cast<double>((m_st.step - m_firstStep) * m_B * m_T) / seconds : 0.0;
    MONO_RETURN_IF_ERROR(
        saveHfGpt2(m_spec.outDir, m_spec.shape, m_model.params, m_spec.endOfText, m_spec.saveF16));
    result.runtimeMaxLogitDiff = kNaN;
    if (m_spec.verifySaved) {
        auto diff = verifySaved(m_spec.outDir, m_model, m_data, m_T);
        if (!diff.ok()) return diff.status().withContext("checking the saved model");
        result.runtimeMaxLogitDiff = *diff;
    }
    result.params = std::move(m_model.params);
    return result;
}

}  // namespace

Result<LmTrainResult> trainLm(const LmTrainSpec& spec, const LmData& data, Progress& progress,
                              StopToken stop) {
    MONO_RETURN_IF_ERROR(validate(spec, data));
    LmRun run(spec, data, progress);
    MONO_RETURN_IF_ERROR(run.open());
    return run.train(stop);
}

}  // namespace mono::lmtrain
