// The SAE training loop: decoder constraints, dead-latent tracking, checkpoints
// and resume. The math of one step is in train_step.cpp; Adam, the learning-rate
// schedule and the checkpoint cadence are core/train's.
// Legend: B batch rows, D = d_in, F = d_sae.

#include "core/sae/trainer.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "core/io/safetensors.h"
#include "core/sae/default_lr.h"
#include "core/sae/sae_io.h"
#include "core/sae/train_step.h"
#include "core/train/adam.h"
#include "core/train/cadence.h"
#include "core/train/loop.h"
#include "core/train/lr_schedule.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace mono::sae {
namespace {

constexpr const char* kCheckpointKey = "monoscope_sae_checkpoint";
constexpr int kCheckpointVersion = 1;
constexpr double kThresholdMomentum = 0.99;  // batchtopk running threshold

// Everything a resumed run needs.
struct TrainState {
    TrainParams params;  // on scaled inputs
    TrainParams adamM;
    TrainParams adamV;
    int64_t step = 0;
    int64_t tokens = 0;
    double scale = 1;
    double threshold = -1;  // batchtopk; < 0 until the first estimate
    double lastLoss = 0;
    std::vector<int64_t> tokensSinceFired;  // [F]
    std::vector<int64_t> fireCount;         // [F] over the whole run
    std::string rngState;
    std::string providerState;
};

// The prefix widths a step uses: spec's, with F appended when missing.
std::vector<int64_t> matryoshkaPrefixes(const TrainSpec& spec) {
    std::vector<int64_t> w = spec.matryoshkaWidths;
    if (!w.empty() && w.back() != spec.dSae) w.push_back(spec.dSae);
    return w;
}

Status validateMatryoshka(const TrainSpec& spec) {
    if (spec.matryoshkaWidths.empty()) return Status::success();
    if (spec.architecture != Architecture::kBatchTopK)
        return Status::invalidArgument(
            "SAE training: Matryoshka prefixes need the batchtopk architecture");
    const std::vector<int64_t> w = matryoshkaPrefixes(spec);
    for (size_t m = 0; m < w.size(); ++m) {
        if (w[m] < spec.k || w[m] > spec.dSae || (m > 0 && w[m] <= w[m - 1]))
            return Status::invalidArgument(
                "SAE training: Matryoshka prefix widths must increase strictly from at least k (" +
                std::to_string(spec.k) + ") to at most the number of features (" +
                std::to_string(spec.dSae) + "); got " + std::to_string(w[m]) + " at position " +
                std::to_string(m + 1));
    }
    return Status::success();
}

Status validate(const TrainSpec& spec, int64_t D) {
    if (spec.outDir.empty()) return Status::invalidArgument("SAE training: no output folder given");
    if (D <= 0) return Status::invalidArgument("SAE training: activations have no columns");
    if (spec.dSae <= 0)
        return Status::invalidArgument(
            "SAE training: the number of features must be positive, got " +
            std::to_string(spec.dSae));
    if (spec.batchSize <= 0)
        return Status::invalidArgument("SAE training: batch size must be positive, got " +
                                       std::to_string(spec.batchSize));
    const bool usesK =
        spec.architecture == Architecture::kTopK || spec.architecture == Architecture::kBatchTopK;
    if (usesK && (spec.k < 1 || spec.k > spec.dSae))
        return Status::invalidArgument("SAE training: k must be in 1.." +
                                       std::to_string(spec.dSae) + ", got " +
                                       std::to_string(spec.k));
    if (spec.bf16 && !kernels::bf16Supported())
        return Status::unsupported(
            "SAE training: bf16 precision needs a CPU with AVX-512 BF16 (avx512_bf16); this one "
            "has none, train in f32");
    if (spec.architecture == Architecture::kJumpReLU &&
        !(spec.l0 >= 0 && spec.jumpReluInitThreshold > 0 && spec.jumpReluBandwidth > 0 &&
          spec.jumpReluTanhScale > 0))
        return Status::invalidArgument(
            "SAE training: jumprelu needs l0 ≥ 0, an initial threshold > 0, a bandwidth > 0 "
            "and a tanh scale > 0");
    MONO_RETURN_IF_ERROR(validateMatryoshka(spec));
    if (!(spec.lr >= 0) || !(spec.l1 >= 0))
        return Status::invalidArgument(
            "SAE training: lr must be > 0 (or 0 for the automatic rate) and l1 ≥ 0");
    return Status::success();
}

int64_t totalSteps(const TrainSpec& spec) {
    return std::max<int64_t>(1, spec.totalTokens / spec.batchSize);
}

json specJson(const TrainSpec& spec, int64_t D) {
    return {
        {"architecture", architectureName(spec.architecture)},
        {"d_in", D},
        {"d_sae", spec.dSae},
        {"k", spec.k},
        {"l1_coefficient", spec.l1},
        {"l0_coefficient", spec.l0},
        {"jumprelu_init_threshold", spec.jumpReluInitThreshold},
        {"jumprelu_bandwidth", spec.jumpReluBandwidth},
        {"jumprelu_sparsity_loss_mode", jumpReluSparsityName(spec.jumpReluSparsity)},
        {"jumprelu_tanh_scale", spec.jumpReluTanhScale},
        {"matryoshka_widths", matryoshkaPrefixes(spec)},
        {"training_tokens", spec.totalTokens},
        {"batch_size", spec.batchSize},
        {"lr", chooseLearningRate(spec.lr, spec.dSae, D).lr},
        {"lr_rule", chooseLearningRate(spec.lr, spec.dSae, D).reason},
        {"adam_beta1", spec.adamBeta1},
        {"adam_beta2", spec.adamBeta2},
        {"lr_warm_up_fraction", spec.lrWarmupFraction},
        {"lr_decay_fraction", spec.lrDecayFraction},
        {"l1_warm_up_fraction", spec.l1WarmupFraction},
        {"k_aux", spec.kAux > 0 ? spec.kAux : D / 2},
        {"aux_coefficient", spec.auxCoefficient},
        {"dead_tokens", spec.deadTokens},
        {"seed", spec.seed},
        {"precision", spec.bf16 ? "bf16" : "f32"},
    };
}

// λ (L1 or L0) at `step`, warmed up linearly over the first l1WarmupFraction of the steps.
double sparsityCoefficient(const TrainSpec& spec, double lambda, int64_t step, int64_t steps) {
    const double warm = spec.l1WarmupFraction * static_cast<double>(steps);
    if (warm <= 0 || static_cast<double>(step) >= warm) return lambda;
    return lambda * static_cast<double>(step + 1) / warm;
}

train::AdamSettings adamSettings(const TrainSpec& spec) {
    train::AdamSettings adam;
    adam.beta1 = spec.adamBeta1;
    adam.beta2 = spec.adamBeta2;
    adam.eps = spec.adamEps;
    adam.biasCorrection = train::BiasCorrection::kInStepSize;
    return adam;
}

// One Adam update of every tensor of the parameters; log θ (the last, jumprelu
// only) takes `thresholdStep`.
void adamUpdate(const train::AdamStep& step, const train::AdamStep& thresholdStep,
                TrainParams& params, TrainParams& grad, TrainParams& m, TrainParams& v) {
    const auto p = params.tensors(), g = grad.tensors(), mm = m.tensors(), vv = v.tensors();
    for (size_t i = 0; i < p.size(); ++i)
        train::adamUpdate(i + 1 < p.size() ? step : thresholdStep, p[i], g[i], mm[i], vv[i]);
}

bool allFinite(const TrainParams& p) {
    return p.wEncT.allFinite() && p.wDec.allFinite() && p.bEnc.allFinite() && p.bDec.allFinite() &&
           p.logThreshold.allFinite();
}

// Removes from each gradient row its component along the (unit) decoder row.
void projectDecoderGradient(const Matrix& wDec, Matrix& gDec) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < wDec.rows(); ++i)
        gDec.row(i) -= gDec.row(i).dot(wDec.row(i)) * wDec.row(i);
}

// Whether the decoder rows are held at unit norm. The L1 penalty (standard)
// and JumpReLU's tanh penalty weigh each code by its row's norm, so there the
// norms are free: shrinking a row costs the same as shrinking its codes.
bool unitNormDecoder(const TrainSpec& spec) {
    if (spec.architecture == Architecture::kStandard) return false;
    return !(spec.architecture == Architecture::kJumpReLU &&
             spec.jumpReluSparsity == JumpReluSparsity::kTanh);
}

void normalizeRows(Matrix& w) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < w.rows(); ++i) {
        const float n = w.row(i).norm();
        if (n > 0) w.row(i) /= n;
    }
}

Status initialize(const TrainSpec& spec, acts::BatchProvider& data, TrainState& st) {
    const int64_t D = data.dim(), F = spec.dSae, B = spec.batchSize;
    // Scale and data mean from the first batches; the provider is rewound so
    // training still starts with those batches.
    const std::string start = data.saveState();
    Matrix batch(B, D);  // [B, D]
    Eigen::RowVectorXd sum = Eigen::RowVectorXd::Zero(D);
    double normSum = 0;
    int64_t rows = 0;
    for (int64_t i = 0; i < std::max<int64_t>(1, spec.scaleEstimateBatches); ++i) {
        MONO_RETURN_IF_ERROR(data.next(batch));
        for (int64_t b = 0; b < B; ++b) {
            const Eigen::RowVectorXd r = batch.row(b).cast<double>();
            normSum += r.norm();
            sum += r;
        }
        rows += B;
    }
    MONO_RETURN_IF_ERROR(data.restoreState(start));
    const double meanNorm = normSum / static_cast<double>(rows);
    if (!std::isfinite(meanNorm) || meanNorm <= 0)
        return Status::invalidArgument(
            "SAE training: the first activation batches have mean "
            "norm " +
            std::to_string(meanNorm) + "; expected a finite positive value");
    st.scale = std::sqrt(static_cast<double>(D)) / meanNorm;

    std::mt19937_64 rng(spec.seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    TrainParams& p = st.params;
    p.wDec.resize(F, D);  // [F, D]
    for (int64_t i = 0; i < p.wDec.size(); ++i) p.wDec.data()[i] = normal(rng);
    normalizeRows(p.wDec);
    if (!unitNormDecoder(spec)) p.wDec *= static_cast<float>(spec.decoderInitNorm);
    p.wEncT = p.wDec;  // W_enc = W_decᵀ
    p.bEnc = Vector::Zero(F);
    p.bDec = (sum / static_cast<double>(rows) * st.scale).cast<float>();
    if (spec.architecture == Architecture::kJumpReLU)
        p.logThreshold =
            Vector::Constant(F, static_cast<float>(std::log(spec.jumpReluInitThreshold)));
    st.adamM.resizeLike(p);
    st.adamM.setZero();
    st.adamV.resizeLike(p);
    st.adamV.setZero();
    st.tokensSinceFired.assign(F, 0);
    st.fireCount.assign(F, 0);
    std::ostringstream rngOut;
    rngOut << rng;
    st.rngState = rngOut.str();
    return Status::success();
}

// --- checkpoints ---------------------------------------------------------

struct NamedTensor {
    std::string name;
    float* data;
    std::vector<int64_t> shape;
};

std::vector<NamedTensor> stateTensors(TrainState& st) {
    std::vector<NamedTensor> out;
    auto add = [&](const std::string& prefix, TrainParams& p) {
        const int64_t F = p.wDec.rows(), D = p.wDec.cols();
        out.push_back({prefix + "W_enc_T", p.wEncT.data(), {F, D}});
        out.push_back({prefix + "W_dec", p.wDec.data(), {F, D}});
        out.push_back({prefix + "b_enc", p.bEnc.data(), {F}});
        out.push_back({prefix + "b_dec", p.bDec.data(), {D}});
        if (p.logThreshold.size() > 0)
            out.push_back({prefix + "log_threshold", p.logThreshold.data(), {F}});
    };
    add("", st.params);
    add("adam_m.", st.adamM);
    add("adam_v.", st.adamV);
    return out;
}

Status writeCheckpoint(const std::string& path, TrainState& st, const json& spec) {
    const int64_t F = st.params.wDec.rows();
    std::vector<io::TensorToWrite> tensors;
    for (const NamedTensor& t : stateTensors(st)) {
        uint64_t n = 1;
        for (int64_t s : t.shape) n *= static_cast<uint64_t>(s);
        tensors.push_back({t.name, io::DType::kF32, t.shape, t.data, n * sizeof(float)});
    }
    tensors.push_back({"tokens_since_fired",
                       io::DType::kI64,
                       {F},
                       st.tokensSinceFired.data(),
                       static_cast<uint64_t>(F) * sizeof(int64_t)});
    tensors.push_back({"fire_count",
                       io::DType::kI64,
                       {F},
                       st.fireCount.data(),
                       static_cast<uint64_t>(F) * sizeof(int64_t)});
    const json meta = {
        {"version", kCheckpointVersion},
        {"step", st.step},
        {"tokens", st.tokens},
        {"scale", st.scale},
        {"threshold", st.threshold},
        {"last_loss", st.lastLoss},
        {"rng", st.rngState},
        {"provider", st.providerState},
        {"spec", spec},
    };
    return io::writeSafetensors(path, tensors, {{kCheckpointKey, meta.dump()}});
}

Result<json> readCheckpoint(const std::string& path, TrainState& st) {
    MONO_ASSIGN_OR_RETURN(io::SafetensorsFile file, io::SafetensorsFile::open(path));
    auto metaIt = file.metadata().find(kCheckpointKey);
    if (metaIt == file.metadata().end())
        return Status::corruption(path + ": not a Monoscope SAE checkpoint (no '" +
                                  std::string(kCheckpointKey) + "' metadata)");
    json meta = json::parse(metaIt->second, nullptr, false);
    if (meta.is_discarded() || !meta.is_object())
        return Status::corruption(path + ": checkpoint metadata is not valid JSON");
    int64_t D = 0, F = 0;
    bool jumpRelu = false;
    try {
        if (meta.at("version").get<int>() != kCheckpointVersion)
            return Status::unsupported(path + ": checkpoint version " + meta.at("version").dump() +
                                       ", expected " + std::to_string(kCheckpointVersion));
        st.step = meta.at("step").get<int64_t>();
        st.tokens = meta.at("tokens").get<int64_t>();
        st.scale = meta.at("scale").get<double>();
        st.threshold = meta.at("threshold").get<double>();
        st.lastLoss = meta.at("last_loss").get<double>();
        st.rngState = meta.at("rng").get<std::string>();
        st.providerState = meta.at("provider").get<std::string>();
        D = meta.at("spec").at("d_in").get<int64_t>();
        F = meta.at("spec").at("d_sae").get<int64_t>();
        jumpRelu = meta.at("spec").at("architecture").get<std::string>() ==
                   architectureName(Architecture::kJumpReLU);
    } catch (const json::exception& e) {
        return Status::corruption(path + ": checkpoint metadata: " + e.what());
    }
    if (D <= 0 || F <= 0) return Status::corruption(path + ": checkpoint has no valid d_in/d_sae");
    for (TrainParams* p : {&st.params, &st.adamM, &st.adamV}) {
        p->wEncT.resize(F, D);
        p->wDec.resize(F, D);
        p->bEnc.resize(F);
        p->bDec.resize(D);
        p->logThreshold.resize(jumpRelu ? F : 0);
    }
    for (const NamedTensor& t : stateTensors(st)) {
        const io::TensorView* v = file.find(t.name);
        if (!v) return Status::notFound(path + ": missing tensor '" + t.name + "'");
        if (v->shape != t.shape || v->dtype != io::DType::kF32)
            return Status::corruption(
                path + ": tensor '" + t.name + "': expected F32 " +
                (t.shape.size() == 2
                     ? "[" + std::to_string(t.shape[0]) + ", " + std::to_string(t.shape[1]) + "]"
                     : "[" + std::to_string(t.shape[0]) + "]") +
                ", found " + io::describe(*v));
        std::memcpy(t.data, v->data, v->nbytes);
    }
    for (auto [name, target] :
         {std::pair<const char*, std::vector<int64_t>*>{"tokens_since_fired", &st.tokensSinceFired},
          {"fire_count", &st.fireCount}}) {
        const io::TensorView* v = file.find(name);
        if (!v || v->dtype != io::DType::kI64 || v->shape != std::vector<int64_t>{F})
            return Status::corruption(path + ": tensor '" + std::string(name) +
                                      "': expected I64 [" + std::to_string(F) + "]");
        target->resize(F);
        std::memcpy(target->data(), v->data, v->nbytes);
    }
    return meta.at("spec");
}

Result<Sae> finalSae(const TrainState& st, Architecture arch, int64_t k,
                     const SaeMetadata& metadata, const json& spec) {
    const TrainParams& p = st.params;
    const int64_t F = p.wDec.rows(), D = p.wDec.cols();
    const float s = static_cast<float>(st.scale);
    SaeConfig c;
    c.dIn = D;
    c.dSae = F;
    c.architecture = arch == Architecture::kBatchTopK ? Architecture::kJumpReLU : arch;
    c.k = arch == Architecture::kTopK || arch == Architecture::kBatchTopK ? k : 0;
    c.applyBDecToInput = true;
    c.metadata = metadata;
    c.metadata.trainingTokens = st.tokens;
    json tc = spec;
    tc["input_scale"] = st.scale;
    const bool matryoshka = !spec.value("matryoshka_widths", json::array()).empty();
    tc["trained_architecture"] = matryoshka ? "matryoshka_batchtopk" : architectureName(arch);
    c.metadata.trainingConfigJson = tc.dump();
    // Training saw s·x: f = act((s·x − b_dec) W_enc + b_enc) and x̂ = (f W_dec + b_dec) / s,
    // so the raw-input SAE has W_enc·s, W_dec/s and b_dec/s; h and f are unchanged.
    Matrix wEnc = p.wEncT.transpose() * s;  // [D, F]
    Matrix wDec = p.wDec / s;               // [F, D]
    Vector bDec = p.bDec / s;               // [D]
    Vector threshold;
    if (arch == Architecture::kBatchTopK)
        threshold = Vector::Constant(F, static_cast<float>(std::max(0.0, st.threshold)));
    if (arch == Architecture::kJumpReLU) threshold = p.logThreshold.array().exp();
    return Sae::create(c, std::move(wEnc), std::move(wDec), p.bEnc, std::move(bDec),
                       std::move(threshold));
}

}  // namespace

Result<Sae> loadCheckpointSae(const std::string& checkpointPath) {
    TrainState st;
    MONO_ASSIGN_OR_RETURN(json spec, readCheckpoint(checkpointPath, st));
    Architecture arch = Architecture::kStandard;
    int64_t k = 0;
    try {
        if (!parseArchitecture(spec.at("architecture").get<std::string>(), &arch))
            return Status::corruption(checkpointPath + ": unknown architecture in checkpoint");
        k = spec.at("k").get<int64_t>();
    } catch (const json::exception& e) {
        return Status::corruption(checkpointPath + ": checkpoint spec: " + e.what());
    }
    auto sae = finalSae(st, arch, k, {}, spec);
    if (!sae.ok()) return sae.status().withContext(checkpointPath);
    return sae;
}

namespace {

using Clock = std::chrono::steady_clock;

// One call of trainSae: the run's state and the phases of its loop.
class SaeRun {
public:
    // spec must have passed validate().
    SaeRun(const TrainSpec& spec, acts::BatchProvider& data, Progress& progress);

    // The output folder, and the starting state: initialised or resumed.
    Status open();
    Result<TrainResult> train(StopToken stop);

private:
    Status resume();
    Status step();  // one step on the next batch
    Status updateWeights(double lr);
    // The device engine's parameters and moments into m_st (checkpoints).
    Status pullFromDevice();
    void recordStep();
    void report(Clock::time_point now) const;
    Status checkpoint();
    Status stopped();
    Status diverged(const std::string& what) const;
    Result<TrainResult> finish();

    const TrainSpec& m_spec;
    acts::BatchProvider& m_data;
    Progress& m_progress;
    const int64_t m_D, m_F, m_B;
    const int64_t m_steps;
    const json m_specInfo;
    const std::string m_checkpointPath;
    const LearningRateChoice m_lr0;
    const train::LrSchedule m_schedule;
    const train::AdamSettings m_adam;
    StepSettings m_settings;
    TrainState m_st;
    bool m_haveCheckpoint = false;
    int64_t m_checkpointStep = 0;
    TrainParams m_grad;
    StepBuffers m_buf;
    std::unique_ptr<SaeStepEngine> m_engine;  // null: the steps run on the CPU
    Matrix m_batch;                           // [B, D]
    std::vector<uint8_t> m_dead;              // [F]
    StepStats m_stats;
    double m_lr = 0;  // of the latest step
    Clock::time_point m_start;
    int64_t m_firstStep = 0;
};

SaeRun::SaeRun(const TrainSpec& spec, acts::BatchProvider& data, Progress& progress)
    : m_spec(spec),
      m_data(data),
      m_progress(progress),
      m_D(data.dim()),
      m_F(spec.dSae),
      m_B(spec.batchSize),
      m_steps(totalSteps(spec)),
      m_specInfo(specJson(spec, m_D)),
      m_checkpointPath((fs::path(spec.outDir) / kCheckpointFile).string()),
      m_lr0(chooseLearningRate(spec.lr, spec.dSae, m_D)),
      m_schedule(train::warmupAndLinearDecay(m_lr0.lr, spec.lrWarmupFraction, spec.lrDecayFraction,
                                             m_steps)),
      m_adam(adamSettings(spec)),
      m_batch(m_B, m_D),
      m_dead(m_F, 0) {
    m_settings.architecture = spec.architecture;
    m_settings.k = spec.k;
    // Aux-k revives dead TopK latents; JumpReLU trains as in the paper, without it.
    m_settings.kAux = spec.architecture == Architecture::kJumpReLU ? 0
                      : spec.kAux > 0                              ? spec.kAux
                                                                   : std::max<int64_t>(1, m_D / 2);
    m_settings.bandwidth = spec.jumpReluBandwidth;
    m_settings.prefixes = matryoshkaPrefixes(spec);
    m_settings.sparsity = spec.jumpReluSparsity;
    m_settings.tanhScale = spec.jumpReluTanhScale;
    m_settings.auxCoefficient = spec.auxCoefficient;
    m_settings.bf16 = spec.bf16;
}

Status SaeRun::open() {
    std::error_code ec;
    fs::create_directories(m_spec.outDir, ec);
    if (ec) return Status::ioError(m_spec.outDir + ": cannot create folder: " + ec.message());
    if (m_spec.resume)
        MONO_RETURN_IF_ERROR(resume());
    else
        MONO_RETURN_IF_ERROR(initialize(m_spec, m_data, m_st));
    m_haveCheckpoint = m_spec.resume;
    m_checkpointStep = m_st.step;
    m_grad.resizeLike(m_st.params);
    if (m_spec.stepEngine) {
        MONO_ASSIGN_OR_RETURN(m_engine, m_spec.stepEngine(StepShape{m_D, m_F, m_B, m_settings}));
        MONO_RETURN_IF_ERROR(m_engine->upload(m_st.params, m_st.adamM, m_st.adamV));
    }
    return Status::success();
}

Status SaeRun::pullFromDevice() {
    return m_engine ? m_engine->download(m_st.params, m_st.adamM, m_st.adamV) : Status::success();
}

Status SaeRun::resume() {
    MONO_ASSIGN_OR_RETURN(json saved, readCheckpoint(m_checkpointPath, m_st));
    // Checkpoints from before these keys existed: plain BatchTopK, step-form JumpReLU.
    if (!saved.contains("matryoshka_widths")) saved["matryoshka_widths"] = json::array();
    if (!saved.contains("jumprelu_sparsity_loss_mode"))
        saved["jumprelu_sparsity_loss_mode"] = jumpReluSparsityName(JumpReluSparsity::kStep);
    std::vector<const char*> keys = {"architecture",     "d_in", "d_sae", "k", "batch_size", "seed",
                                     "matryoshka_widths"};
    if (m_spec.architecture == Architecture::kJumpReLU)
        keys.push_back("jumprelu_sparsity_loss_mode");
    for (const char* key : keys) {
        if (saved.value(key, json()) != m_specInfo.at(key))
            return Status::invalidArgument(m_checkpointPath + ": cannot resume: '" + key +
                                           "' was " + saved.value(key, json()).dump() +
                                           ", this run asks for " + m_specInfo.at(key).dump());
    }
    return m_data.restoreState(m_st.providerState).withContext(m_checkpointPath);
}

Result<TrainResult> SaeRun::train(StopToken stop) {
    m_start = Clock::now();
    m_firstStep = m_st.step;
    // Only finite weights are saved: a diverged run keeps its last good checkpoint.
    auto checkpointIfFinite = [this] {
        MONO_RETURN_IF_ERROR(pullFromDevice());
        if (!allFinite(m_st.params)) return diverged("the weights turned NaN/Inf");
        return checkpoint();
    };
    train::LoopActions loop;
    loop.step = [this] { return step(); };
    loop.afterStep = [this](Clock::time_point now) {
        if (train::everyNthOrLast(m_st.step, m_spec.reportEverySteps, m_steps)) report(now);
    };
    loop.save = checkpointIfFinite;
    loop.stopped = [this] { return stopped(); };
    const train::CheckpointCadence cadence(m_spec.checkpointSeconds, m_spec.checkpointEverySteps,
                                           m_start);
    MONO_RETURN_IF_ERROR(train::runTrainingLoop(m_st.step, m_steps, stop, cadence, loop));
    MONO_RETURN_IF_ERROR(checkpointIfFinite());
    return finish();
}

Status SaeRun::step() {
    MONO_RETURN_IF_ERROR(m_data.next(m_batch));
    m_batch *= static_cast<float>(m_st.scale);
    for (int64_t i = 0; i < m_F; ++i) m_dead[i] = m_st.tokensSinceFired[i] >= m_spec.deadTokens;
    m_settings.l1 = sparsityCoefficient(m_spec, m_spec.l1, m_st.step, m_steps);
    m_settings.l0 = sparsityCoefficient(m_spec, m_spec.l0, m_st.step, m_steps);
    if (m_engine) {
        MONO_ASSIGN_OR_RETURN(m_stats,
                              m_engine->lossAndGradient(m_batch, m_settings, m_dead, m_buf.fired));
    } else {
        m_stats = lossAndGradient(m_st.params, m_batch, m_settings, m_dead, &m_grad, m_buf);
    }
    if (!std::isfinite(m_stats.loss)) {
        std::ostringstream what;
        what << "the loss is " << m_stats.loss << " (mse " << m_stats.mse << ", l1 "
             << m_stats.l1Loss << ", aux " << m_stats.auxLoss << ", l0 " << m_stats.l0Loss << ")";
        return diverged(what.str());
    }
    m_lr = train::learningRate(m_schedule, m_st.step);
    MONO_RETURN_IF_ERROR(updateWeights(m_lr));
    bool finite = true;
    if (m_engine) {
        MONO_ASSIGN_OR_RETURN(finite, m_engine->biasesFinite());
    } else {
        finite = m_st.params.bEnc.allFinite() && m_st.params.bDec.allFinite();
    }
    if (!finite) return diverged("the weights turned NaN/Inf");
    recordStep();
    return Status::success();
}

// Adam, keeping the decoder rows unit-norm where the architecture has them so.
Status SaeRun::updateWeights(double lr) {
    const bool unitDecoder = unitNormDecoder(m_spec);
    // The engines run the same three stages (step_engine.h); jumprelu, whose
    // log θ takes its own rate, never runs on one.
    if (m_engine) return m_engine->update(train::adamStep(m_adam, m_st.step + 1, lr), unitDecoder);
    if (unitDecoder) projectDecoderGradient(m_st.params.wDec, m_grad.wDec);
    // Adam moves each weight by about lr a step, so a unit-norm row of D entries
    // turns by about lr·sqrt(D) (default_lr.h); log θ moves by about its own
    // rate, so giving it lr·sqrt(D) lets thresholds change at the speed the
    // directions do. At lr alone θ would need ln(θ_final/θ_0)/lr steps merely to
    // reach its scale: ~1700 from 0.01 to 1 at lr 2.8e-3.
    const double thresholdLr = lr * std::sqrt(static_cast<double>(m_D));
    adamUpdate(train::adamStep(m_adam, m_st.step + 1, lr),
               train::adamStep(m_adam, m_st.step + 1, thresholdLr), m_st.params, m_grad, m_st.adamM,
               m_st.adamV);
    if (unitDecoder) normalizeRows(m_st.params.wDec);
    return Status::success();
}

// Firing counters, batchtopk's threshold and the step count after a step.
void SaeRun::recordStep() {
    for (int64_t i = 0; i < m_F; ++i) {
        m_st.fireCount[i] += m_buf.fired[i];
        m_st.tokensSinceFired[i] = m_buf.fired[i] > 0 ? 0 : m_st.tokensSinceFired[i] + m_B;
    }
    if (m_spec.architecture == Architecture::kBatchTopK && m_stats.minActive > 0)
        m_st.threshold = m_st.threshold < 0 ? m_stats.minActive
                                            : kThresholdMomentum * m_st.threshold +
                                                  (1 - kThresholdMomentum) * m_stats.minActive;
    m_st.lastLoss = m_stats.loss;
    ++m_st.step;
    m_st.tokens += m_B;
}

void SaeRun::report(Clock::time_point now) const {
    int64_t nDead = 0;
    for (int64_t i = 0; i < m_F; ++i) nDead += m_st.tokensSinceFired[i] >= m_spec.deadTokens;
    const double seconds = std::chrono::duration<double>(now - m_start).count();
    ProgressUpdate u;
    u.fraction = static_cast<double>(m_st.step) / static_cast<double>(m_steps);
    u.message = "step " + std::to_string(m_st.step) + "/" + std::to_string(m_steps);
    u.metrics = {
        {"step", static_cast<double>(m_st.step)},
        {"loss", m_stats.loss},
        {"mse", m_stats.mse},
        {"l0", m_stats.l0},
        {"dead_pct", 100.0 * static_cast<double>(nDead) / static_cast<double>(m_F)},
        {"explained_variance", m_stats.explainedVariance},
        {"lr", m_lr},
        {"tokens_per_s",
         seconds > 0 ? static_cast<double>((m_st.step - m_firstStep) * m_B) / seconds : 0.0},
    };
    m_progress.report(u);
}

Status SaeRun::checkpoint() {
    if (!allFinite(m_st.params))
        return Status::internal("weights are not finite at step " + std::to_string(m_st.step));
    m_st.providerState = m_data.saveState();
    MONO_RETURN_IF_ERROR(writeCheckpoint(m_checkpointPath, m_st, m_specInfo));
    m_haveCheckpoint = true;
    m_checkpointStep = m_st.step;
    return Status::success();
}

Status SaeRun::stopped() {
    MONO_RETURN_IF_ERROR(pullFromDevice());
    MONO_RETURN_IF_ERROR(checkpoint());
    return Status::cancelled("SAE training stopped at step " + std::to_string(m_st.step) + " of " +
                             std::to_string(m_steps) + "; checkpoint saved to " + m_checkpointPath +
                             " (resume to continue)");
}

Status SaeRun::diverged(const std::string& what) const {
    return Status::internal("SAE training diverged at step " + std::to_string(m_st.step) + " of " +
                            std::to_string(m_steps) + ": " + what + ". Stopped; " +
                            (m_haveCheckpoint ? "the last good checkpoint (step " +
                                                    std::to_string(m_checkpointStep) +
                                                    ") is kept in " + m_checkpointPath
                                              : std::string("no checkpoint had been written yet")) +
                            ". Try a lower learning rate or check the activations for NaN/Inf.");
}

// The final SAE, saved as a SAELens folder with the run's feature densities.
Result<TrainResult> SaeRun::finish() {
    TrainResult result;
    MONO_ASSIGN_OR_RETURN(
        result.sae, finalSae(m_st, m_spec.architecture, m_spec.k, m_spec.metadata, m_specInfo));
    result.steps = m_st.step;
    result.tokens = m_st.tokens;
    result.scale = m_st.scale;
    result.finalLoss = m_stats.loss;
    result.finalMse = m_stats.mse;
    result.lr = m_lr0.lr;
    result.lrReason = m_lr0.reason;
    int64_t nDead = 0;
    result.log10Density.resize(m_F);
    for (int64_t i = 0; i < m_F; ++i) {
        nDead += m_st.tokensSinceFired[i] >= m_spec.deadTokens;
        const double density = m_st.tokens > 0 ? static_cast<double>(m_st.fireCount[i]) /
                                                     static_cast<double>(m_st.tokens)
                                               : 0.0;
        result.log10Density[i] = static_cast<float>(std::log10(density + 1e-10));
    }
    result.deadPct = 100.0 * static_cast<double>(nDead) / static_cast<double>(m_F);
    MONO_RETURN_IF_ERROR(saveSaeLens(result.sae, m_spec.outDir, result.log10Density));
    return result;
}

}  // namespace

std::vector<int64_t> defaultMatryoshkaWidths(int64_t dSae, int64_t k) {
    std::vector<int64_t> w;
    for (int64_t div : {16, 8, 4, 2, 1}) {
        const int64_t width = dSae / div;
        if (width >= k && (w.empty() || width > w.back())) w.push_back(width);
    }
    if (w.empty() || w.back() != dSae) w.push_back(dSae);
    return w;
}

Result<TrainResult> trainSae(const TrainSpec& spec, acts::BatchProvider& data, Progress& progress,
                             StopToken stop) {
    MONO_RETURN_IF_ERROR(validate(spec, data.dim()));
    SaeRun run(spec, data, progress);
    MONO_RETURN_IF_ERROR(run.open());
    return run.train(stop);
}

}  // namespace mono::sae
