// The SAE training loop: schedule, Adam, decoder constraints, dead-latent
// tracking, checkpoints and resume. The math of one step is in train_step.cpp.
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
#include "core/sae/sae_io.h"
#include "core/sae/train_step.h"

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
    if (spec.architecture == Architecture::kJumpReLU)
        return Status::unsupported(
            "SAE training: jumprelu SAEs are not trained here (train "
            "batchtopk, which is saved as jumprelu)");
    if (spec.architecture != Architecture::kStandard && (spec.k < 1 || spec.k > spec.dSae))
        return Status::invalidArgument("SAE training: k must be in 1.." +
                                       std::to_string(spec.dSae) + ", got " +
                                       std::to_string(spec.k));
    if (spec.bf16 && !kernels::bf16Supported())
        return Status::unsupported(
            "SAE training: bf16 precision needs a CPU with AVX-512 BF16 (avx512_bf16); this one "
            "has none, train in f32");
    if (!(spec.lr > 0) || !(spec.l1 >= 0))
        return Status::invalidArgument("SAE training: lr must be > 0 and l1 ≥ 0");
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
        {"training_tokens", spec.totalTokens},
        {"batch_size", spec.batchSize},
        {"lr", spec.lr},
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

double learningRate(const TrainSpec& spec, int64_t step, int64_t steps) {
    const double warm = std::max(1.0, spec.lrWarmupFraction * static_cast<double>(steps));
    const double decayStart = (1.0 - spec.lrDecayFraction) * static_cast<double>(steps);
    double lr = spec.lr;
    if (static_cast<double>(step) < warm) lr *= static_cast<double>(step + 1) / warm;
    if (static_cast<double>(step) >= decayStart && spec.lrDecayFraction > 0)
        lr *= std::max(0.0, (static_cast<double>(steps) - static_cast<double>(step)) /
                                (static_cast<double>(steps) - decayStart));
    return lr;
}

double l1Coefficient(const TrainSpec& spec, int64_t step, int64_t steps) {
    const double warm = spec.l1WarmupFraction * static_cast<double>(steps);
    if (warm <= 0 || static_cast<double>(step) >= warm) return spec.l1;
    return spec.l1 * static_cast<double>(step + 1) / warm;
}

// Adam on one tensor, elementwise and in parallel; `a` is lr·sqrt(1−β2^t)/(1−β1^t).
void adamUpdate(float* p, const float* g, float* m, float* v, int64_t n, float beta1, float beta2,
                float a, float eps) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
        m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
        v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
        p[i] -= a * m[i] / (std::sqrt(v[i]) + eps);
    }
}

bool allFinite(const TrainParams& p) {
    return p.wEncT.allFinite() && p.wDec.allFinite() && p.bEnc.allFinite() && p.bDec.allFinite();
}

// Removes from each gradient row its component along the (unit) decoder row.
void projectDecoderGradient(const Matrix& wDec, Matrix& gDec) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < wDec.rows(); ++i)
        gDec.row(i) -= gDec.row(i).dot(wDec.row(i)) * wDec.row(i);
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
    if (spec.architecture == Architecture::kStandard)
        p.wDec *= static_cast<float>(spec.decoderInitNorm);
    p.wEncT = p.wDec;  // W_enc = W_decᵀ
    p.bEnc = Vector::Zero(F);
    p.bDec = (sum / static_cast<double>(rows) * st.scale).cast<float>();
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
    } catch (const json::exception& e) {
        return Status::corruption(path + ": checkpoint metadata: " + e.what());
    }
    if (D <= 0 || F <= 0) return Status::corruption(path + ": checkpoint has no valid d_in/d_sae");
    for (TrainParams* p : {&st.params, &st.adamM, &st.adamV}) {
        p->wEncT.resize(F, D);
        p->wDec.resize(F, D);
        p->bEnc.resize(F);
        p->bDec.resize(D);
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
    c.k = arch == Architecture::kStandard ? 0 : k;
    c.applyBDecToInput = true;
    c.metadata = metadata;
    c.metadata.trainingTokens = st.tokens;
    json tc = spec;
    tc["input_scale"] = st.scale;
    tc["trained_architecture"] = architectureName(arch);
    c.metadata.trainingConfigJson = tc.dump();
    // Training saw s·x: f = act((s·x − b_dec) W_enc + b_enc) and x̂ = (f W_dec + b_dec) / s,
    // so the raw-input SAE has W_enc·s, W_dec/s and b_dec/s; h and f are unchanged.
    Matrix wEnc = p.wEncT.transpose() * s;  // [D, F]
    Matrix wDec = p.wDec / s;               // [F, D]
    Vector bDec = p.bDec / s;               // [D]
    Vector threshold;
    if (arch == Architecture::kBatchTopK)
        threshold = Vector::Constant(F, static_cast<float>(std::max(0.0, st.threshold)));
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

Result<TrainResult> trainSae(const TrainSpec& spec, acts::BatchProvider& data, Progress& progress,
                             StopToken stop) {
    const int64_t D = data.dim(), F = spec.dSae, B = spec.batchSize;
    MONO_RETURN_IF_ERROR(validate(spec, D));
    const int64_t steps = totalSteps(spec);
    const json specInfo = specJson(spec, D);
    std::error_code ec;
    fs::create_directories(spec.outDir, ec);
    if (ec) return Status::ioError(spec.outDir + ": cannot create folder: " + ec.message());
    const std::string checkpointPath = (fs::path(spec.outDir) / kCheckpointFile).string();

    TrainState st;
    if (spec.resume) {
        MONO_ASSIGN_OR_RETURN(json saved, readCheckpoint(checkpointPath, st));
        for (const char* key : {"architecture", "d_in", "d_sae", "k", "batch_size", "seed"}) {
            if (saved.value(key, json()) != specInfo.at(key))
                return Status::invalidArgument(checkpointPath + ": cannot resume: '" + key +
                                               "' was " + saved.value(key, json()).dump() +
                                               ", this run asks for " + specInfo.at(key).dump());
        }
        MONO_RETURN_IF_ERROR(data.restoreState(st.providerState).withContext(checkpointPath));
    } else {
        MONO_RETURN_IF_ERROR(initialize(spec, data, st));
    }
    bool haveCheckpoint = spec.resume;
    int64_t checkpointStep = st.step;

    auto checkpoint = [&]() -> Status {
        if (!allFinite(st.params))
            return Status::internal("weights are not finite at step " + std::to_string(st.step));
        st.providerState = data.saveState();
        MONO_RETURN_IF_ERROR(writeCheckpoint(checkpointPath, st, specInfo));
        haveCheckpoint = true;
        checkpointStep = st.step;
        return Status::success();
    };
    auto diverged = [&](const std::string& what) {
        return Status::internal(
            "SAE training diverged at step " + std::to_string(st.step) + " of " +
            std::to_string(steps) + ": " + what + ". Stopped; " +
            (haveCheckpoint ? "the last good checkpoint (step " + std::to_string(checkpointStep) +
                                  ") is kept in " + checkpointPath
                            : std::string("no checkpoint had been written yet")) +
            ". Try a lower learning rate or check the activations for NaN/Inf.");
    };

    StepSettings settings;
    settings.architecture = spec.architecture;
    settings.k = spec.k;
    settings.kAux = spec.kAux > 0 ? spec.kAux : std::max<int64_t>(1, D / 2);
    settings.auxCoefficient = spec.auxCoefficient;
    settings.bf16 = spec.bf16;
    const bool unitDecoder = spec.architecture != Architecture::kStandard;

    TrainParams grad;
    grad.resizeLike(st.params);
    StepBuffers buf;
    Matrix batch(B, D);  // [B, D]
    std::vector<uint8_t> dead(F, 0);
    StepStats stats;
    const auto startTime = std::chrono::steady_clock::now();
    auto lastCheckpoint = startTime;
    const int64_t firstStep = st.step;
    const int64_t reportEvery = std::max<int64_t>(1, spec.reportEverySteps);

    while (st.step < steps) {
        if (stop.stopRequested()) {
            MONO_RETURN_IF_ERROR(checkpoint());
            return Status::cancelled("SAE training stopped at step " + std::to_string(st.step) +
                                     " of " + std::to_string(steps) + "; checkpoint saved to " +
                                     checkpointPath + " (resume to continue)");
        }
        MONO_RETURN_IF_ERROR(data.next(batch));
        batch *= static_cast<float>(st.scale);
        for (int64_t i = 0; i < F; ++i) dead[i] = st.tokensSinceFired[i] >= spec.deadTokens;
        settings.l1 = l1Coefficient(spec, st.step, steps);
        stats = lossAndGradient(st.params, batch, settings, dead, &grad, buf);
        if (!std::isfinite(stats.loss)) {
            std::ostringstream what;
            what << "the loss is " << stats.loss << " (mse " << stats.mse << ", l1 " << stats.l1Loss
                 << ", aux " << stats.auxLoss << ")";
            return diverged(what.str());
        }
        if (unitDecoder) projectDecoderGradient(st.params.wDec, grad.wDec);

        const int64_t t = st.step + 1;
        const double lr = learningRate(spec, st.step, steps);
        const float a = static_cast<float>(lr * std::sqrt(1.0 - std::pow(spec.adamBeta2, t)) /
                                           (1.0 - std::pow(spec.adamBeta1, t)));
        const float b1 = static_cast<float>(spec.adamBeta1),
                    b2 = static_cast<float>(spec.adamBeta2);
        const float eps = static_cast<float>(spec.adamEps);
        adamUpdate(st.params.wEncT.data(), grad.wEncT.data(), st.adamM.wEncT.data(),
                   st.adamV.wEncT.data(), grad.wEncT.size(), b1, b2, a, eps);
        adamUpdate(st.params.wDec.data(), grad.wDec.data(), st.adamM.wDec.data(),
                   st.adamV.wDec.data(), grad.wDec.size(), b1, b2, a, eps);
        adamUpdate(st.params.bEnc.data(), grad.bEnc.data(), st.adamM.bEnc.data(),
                   st.adamV.bEnc.data(), grad.bEnc.size(), b1, b2, a, eps);
        adamUpdate(st.params.bDec.data(), grad.bDec.data(), st.adamM.bDec.data(),
                   st.adamV.bDec.data(), grad.bDec.size(), b1, b2, a, eps);
        if (unitDecoder) normalizeRows(st.params.wDec);
        if (!st.params.bEnc.allFinite() || !st.params.bDec.allFinite())
            return diverged("the weights turned NaN/Inf");

        for (int64_t i = 0; i < F; ++i) {
            st.fireCount[i] += buf.fired[i];
            st.tokensSinceFired[i] = buf.fired[i] > 0 ? 0 : st.tokensSinceFired[i] + B;
        }
        if (spec.architecture == Architecture::kBatchTopK && stats.minActive > 0)
            st.threshold = st.threshold < 0 ? stats.minActive
                                            : kThresholdMomentum * st.threshold +
                                                  (1 - kThresholdMomentum) * stats.minActive;
        st.lastLoss = stats.loss;
        ++st.step;
        st.tokens += B;

        const auto now = std::chrono::steady_clock::now();
        if (st.step % reportEvery == 0 || st.step == steps) {
            int64_t nDead = 0;
            for (int64_t i = 0; i < F; ++i) nDead += st.tokensSinceFired[i] >= spec.deadTokens;
            const double seconds = std::chrono::duration<double>(now - startTime).count();
            ProgressUpdate u;
            u.fraction = static_cast<double>(st.step) / static_cast<double>(steps);
            u.message = "step " + std::to_string(st.step) + "/" + std::to_string(steps);
            u.metrics = {
                {"step", static_cast<double>(st.step)},
                {"loss", stats.loss},
                {"mse", stats.mse},
                {"l0", stats.l0},
                {"dead_pct", 100.0 * static_cast<double>(nDead) / static_cast<double>(F)},
                {"explained_variance", stats.explainedVariance},
                {"lr", lr},
                {"tokens_per_s",
                 seconds > 0 ? static_cast<double>((st.step - firstStep) * B) / seconds : 0.0},
            };
            progress.report(u);
        }
        const bool dueByTime =
            std::chrono::duration<double>(now - lastCheckpoint).count() >= spec.checkpointSeconds;
        const bool dueBySteps =
            spec.checkpointEverySteps > 0 && st.step % spec.checkpointEverySteps == 0;
        if ((dueByTime || dueBySteps) && st.step < steps) {
            if (!allFinite(st.params)) return diverged("the weights turned NaN/Inf");
            MONO_RETURN_IF_ERROR(checkpoint());
            lastCheckpoint = now;
        }
    }
    if (!allFinite(st.params)) return diverged("the weights turned NaN/Inf");
    MONO_RETURN_IF_ERROR(checkpoint());

    TrainResult result;
    MONO_ASSIGN_OR_RETURN(result.sae,
                          finalSae(st, spec.architecture, spec.k, spec.metadata, specInfo));
    result.steps = st.step;
    result.tokens = st.tokens;
    result.scale = st.scale;
    result.finalLoss = stats.loss;
    result.finalMse = stats.mse;
    int64_t nDead = 0;
    result.log10Density.resize(F);
    for (int64_t i = 0; i < F; ++i) {
        nDead += st.tokensSinceFired[i] >= spec.deadTokens;
        const double density =
            st.tokens > 0 ? static_cast<double>(st.fireCount[i]) / static_cast<double>(st.tokens)
                          : 0.0;
        result.log10Density[i] = static_cast<float>(std::log10(density + 1e-10));
    }
    result.deadPct = 100.0 * static_cast<double>(nDead) / static_cast<double>(F);
    MONO_RETURN_IF_ERROR(saveSaeLens(result.sae, spec.outDir, result.log10Density));
    return result;
}

}  // namespace mono::sae
