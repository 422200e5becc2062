// The CUDA SAE step, analysis encoder and forward pass against the CPU path,
// at the tolerances of issue #21: one step's loss and gradients within 1e-4
// relative in float32, identical fired counts, identical top-k feature sets
// (random data: no ties), logits within 1e-3 relative. Skips when no CUDA
// device is visible.

#include <QtTest>

#include <cmath>
#include <cstdio>
#include <map>
#include <random>

#include "core/acts/batch_provider.h"
#include "core/model/config.h"
#include "core/model/model.h"
#include "core/sae/device_memory.h"
#include "core/sae/sae.h"
#include "core/sae/train_step.h"
#include "core/sae/trainer.h"
#include "core/train/adam.h"
#include "gpu/backends.h"
#include "gpu/device_info.h"

using namespace mono;
using namespace mono::sae;

namespace {

Matrix randomMatrix(int64_t rows, int64_t cols, std::mt19937_64& rng, float sd = 1.0f) {
    std::normal_distribution<float> normal(0.0f, sd);
    Matrix m(rows, cols);
    for (int64_t i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
    return m;
}

// Unit-norm decoder rows, W_enc = W_decᵀ (as the trainer starts), small biases.
TrainParams randomParams(int64_t D, int64_t F, std::mt19937_64& rng) {
    TrainParams p;
    p.wDec = randomMatrix(F, D, rng);
    p.wDec.rowwise().normalize();
    p.wEncT = p.wDec + randomMatrix(F, D, rng, 0.05f);
    p.bEnc = randomMatrix(1, F, rng, 0.1f);
    p.bDec = randomMatrix(1, D, rng, 0.1f);
    return p;
}

double relativeError(const float* a, const float* b, int64_t n) {
    double err = 0, ref = 0;
    for (int64_t i = 0; i < n; ++i) {
        err += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
        ref += double(b[i]) * b[i];
    }
    return std::sqrt(err / std::max(ref, 1e-30));
}

double relativeError(double a, double b) {
    return std::abs(a - b) / std::max(std::abs(b), 1e-30);
}

void compareParams(const TrainParams& gpu, const TrainParams& cpu, double tolerance,
                   const char* what) {
    const char* names[] = {"W_enc^T", "W_dec", "b_enc", "b_dec"};
    auto g = const_cast<TrainParams&>(gpu).tensors();
    auto c = const_cast<TrainParams&>(cpu).tensors();
    for (size_t t = 0; t < 4; ++t) {
        QCOMPARE(g[t].size(), c[t].size());
        const double rel = relativeError(g[t].data(), c[t].data(), int64_t(c[t].size()));
        std::printf("  %-9s %-7s relative error %.2e\n", what, names[t], rel);
        QVERIFY2(rel <= tolerance, qPrintable(QString("%1 %2: relative error %3 > %4")
                                                  .arg(what, names[t])
                                                  .arg(rel)
                                                  .arg(tolerance)));
    }
}

// The trainer's update on the CPU (trainer.cpp's SaeRun::updateWeights).
void cpuUpdate(TrainParams& p, TrainParams& g, TrainParams& m, TrainParams& v,
               const train::AdamStep& step, bool unitDecoder) {
    if (unitDecoder)
        for (int64_t i = 0; i < p.wDec.rows(); ++i)
            g.wDec.row(i) -= g.wDec.row(i).dot(p.wDec.row(i)) * p.wDec.row(i);
    auto pt = p.tensors(), gt = g.tensors(), mt = m.tensors(), vt = v.tensors();
    for (size_t i = 0; i < 4; ++i) train::adamUpdate(step, pt[i], gt[i], mt[i], vt[i]);
    if (unitDecoder)
        for (int64_t i = 0; i < p.wDec.rows(); ++i) {
            const float n = p.wDec.row(i).norm();
            if (n > 0) p.wDec.row(i) /= n;
        }
}

TrainParams zerosLike(const TrainParams& p) {
    TrainParams z;
    z.resizeLike(p);
    z.setZero();
    return z;
}

// Logits and one hooked activation of the same random model on the CPU and
// on the GPU, for two packed sequences; a second pass edits an activation in
// a hook (it must travel back to the device).
void compareForward(const model::ModelConfig& c, const char* what) {
    auto cpu = model::Model::random(c, 5);
    auto gpu = model::Model::random(c, 5);
    QVERIFY2(cpu.ok() && gpu.ok(), what);
    auto backend = gpu::makeForwardBackend(0);
    QVERIFY2(backend.ok(), qPrintable(QString::fromStdString(backend.status().toString())));
    (*gpu)->setBackend(std::move(*backend));
    std::vector<model::TokenId> a, b;
    for (int i = 0; i < 40; ++i) a.push_back((i * 37 + 3) % c.vocabSize);
    for (int i = 0; i < 17; ++i) b.push_back((i * 53 + 11) % c.vocabSize);
    const model::Batch batch = model::Batch::fromSequences({a, b});
    const std::string hook = "blocks.0.hook_resid_mid";
    for (int pass = 0; pass < 2; ++pass) {
        std::vector<float> seen[2];
        model::Logits logits[2];
        for (int d = 0; d < 2; ++d) {
            model::Hooks hooks;
            hooks.add(hook, [&, d, pass](const model::HookContext&, model::ActivationBlock blk) {
                seen[d].assign(blk.data, blk.data + blk.rows * blk.cols);
                if (pass == 1)  // an edit the rest of the pass must see
                    for (int64_t i = 0; i < blk.rows * blk.cols; i += 3) blk.data[i] *= -0.5f;
            });
            model::ForwardOptions opt;
            opt.hooks = &hooks;
            opt.logits = pass == 0 ? model::LogitsWanted::kAll : model::LogitsWanted::kLast;
            Status st = (d == 0 ? *cpu : *gpu)->forward(batch, opt, &logits[d]);
            QVERIFY2(st.ok(), qPrintable(QString::fromStdString(st.toString())));
        }
        QCOMPARE(logits[1].rows, logits[0].rows);
        QCOMPARE(seen[1].size(), seen[0].size());
        const double hookErr =
            relativeError(seen[1].data(), seen[0].data(), int64_t(seen[0].size()));
        const double logitErr = relativeError(logits[1].data.data(), logits[0].data.data(),
                                              int64_t(logits[0].data.size()));
        std::printf("  %-22s %s: %s relative error %.2e, logits (%lld rows) %.2e\n", what,
                    pass == 0 ? "all  " : "last+edit", hook.c_str(), hookErr,
                    (long long)logits[0].rows, logitErr);
        QVERIFY(hookErr <= 1e-4);
        QVERIFY(logitErr <= 1e-3);
    }
}

}  // namespace

class TestGpuAgreement : public QObject {
    Q_OBJECT

    QString m_noDevice;  // why the tests skip; empty with a device

    // One step (loss, gradient, fired) and then `updates` Adam updates, on both.
    void compareSteps(const StepSettings& s, int64_t D, int64_t F, int64_t B, double deadFraction,
                      int updates) {
        std::mt19937_64 rng(7 + uint64_t(F) + uint64_t(s.architecture));
        TrainParams cpu = randomParams(D, F, rng);
        const Matrix x = randomMatrix(B, D, rng);
        std::vector<uint8_t> dead(size_t(F), 0);
        std::bernoulli_distribution isDead(deadFraction);
        for (auto& d : dead) d = isDead(rng) ? 1 : 0;
        auto engine = gpu::makeSaeStepEngine(0, StepShape{D, F, B, s});
        QVERIFY2(engine.ok(), qPrintable(QString::fromStdString(engine.status().toString())));
        TrainParams cpuM = zerosLike(cpu), cpuV = zerosLike(cpu);
        QVERIFY((*engine)->upload(cpu, cpuM, cpuV).ok());
        const bool unitDecoder = s.architecture != Architecture::kStandard;
        train::AdamSettings adam;
        for (int u = 0; u <= updates; ++u) {
            StepBuffers buf;
            TrainParams cpuGrad = zerosLike(cpu);
            const StepStats want = lossAndGradient(cpu, x, s, dead, &cpuGrad, buf);
            std::vector<int64_t> fired;
            auto got = (*engine)->lossAndGradient(x, s, dead, fired);
            QVERIFY2(got.ok(), qPrintable(QString::fromStdString(got.status().toString())));
            std::printf("  step %d: loss %.6f (cpu %.6f), mse %.6f, aux %.3g, l1 %.3g, l0 %.2f\n",
                        u, got->loss, want.loss, got->mse, got->auxLoss, got->l1Loss, got->l0);
            QVERIFY(relativeError(got->loss, want.loss) <= 1e-4);
            QVERIFY(relativeError(got->mse, want.mse) <= 1e-4);
            QVERIFY(std::abs(got->auxLoss - want.auxLoss) <= 1e-4 * std::max(1e-3, want.auxLoss));
            QVERIFY(relativeError(got->l1Loss + 1, want.l1Loss + 1) <= 1e-4);
            QVERIFY(std::abs(got->explainedVariance - want.explainedVariance) <= 1e-4);
            // TopK's selections must match exactly; a ReLU code whose
            // pre-activation rounds to the other side of 0 may flip (a "tie").
            QCOMPARE(fired.size(), buf.fired.size());
            int64_t flips = 0;
            for (size_t i = 0; i < fired.size(); ++i) flips += std::abs(fired[i] - buf.fired[i]);
            QVERIFY2(flips <= (s.architecture == Architecture::kStandard ? 2 : 0),
                     qPrintable(QString("%1 fired counts differ").arg(flips)));
            QVERIFY(std::abs(got->l0 - want.l0) * double(B) <= double(flips));
            TrainParams gpuGrad;
            QVERIFY((*engine)->gradient(gpuGrad).ok());
            compareParams(gpuGrad, cpuGrad, 1e-4, "gradient");
            if (u == updates) break;
            const train::AdamStep step = train::adamStep(adam, u + 1, 1e-3);
            cpuUpdate(cpu, cpuGrad, cpuM, cpuV, step, unitDecoder);
            QVERIFY((*engine)->update(step, unitDecoder).ok());
            auto finite = (*engine)->biasesFinite();
            QVERIFY(finite.ok() && *finite);
        }
        TrainParams gpuP, gpuM, gpuV;
        QVERIFY((*engine)->download(gpuP, gpuM, gpuV).ok());
        compareParams(gpuP, cpu, 1e-4, "params");
    }

    void compareEncoder(Architecture a, int64_t D, int64_t F, int64_t rows) {
        std::mt19937_64 rng(11 + uint64_t(a));
        SaeConfig cfg;
        cfg.dIn = D;
        cfg.dSae = F;
        cfg.architecture = a;
        cfg.k = a == Architecture::kTopK ? 24 : 0;
        Matrix wDec = randomMatrix(F, D, rng);
        wDec.rowwise().normalize();
        Matrix wEnc = wDec.transpose();
        Vector bEnc = randomMatrix(1, F, rng, 0.2f), bDec = randomMatrix(1, D, rng, 0.1f);
        Vector theta;
        if (a == Architecture::kJumpReLU) theta = Vector::Constant(F, 0.6f);
        auto sae = Sae::create(cfg, wEnc, wDec, bEnc, bDec, theta);
        QVERIFY2(sae.ok(), qPrintable(QString::fromStdString(sae.status().toString())));
        const Matrix x = randomMatrix(rows, D, rng);
        auto enc = gpu::makeBlockEncoder(0, *sae, 100);  // several blocks
        QVERIFY2(enc.ok(), qPrintable(QString::fromStdString(enc.status().toString())));
        auto collect = [&](auto encodeFn,
                           std::vector<std::vector<std::pair<int32_t, float>>>& out) {
            out.assign(size_t(rows), {});
            return encodeFn([&](const Sae::SparseBlock& b, int) {
                for (int64_t r = 0; r < b.rows; ++r)
                    for (int32_t j = b.rowStart[r]; j < b.rowStart[r + 1]; ++j)
                        out[size_t(b.firstRow + r)].push_back({b.indices[j], b.values[j]});
            });
        };
        std::vector<std::vector<std::pair<int32_t, float>>> cpuCodes, gpuCodes;
        QVERIFY(collect([&](auto v) { return sae->encodeInBlocks(x, v); }, cpuCodes).ok());
        QVERIFY(collect([&](auto v) { return (*enc)->encodeInBlocks(x, v); }, gpuCodes).ok());
        // A code whose pre-activation lies within 1e-4 of where it switches
        // (0, or θ for jumprelu) may differ by rounding: the "ties".
        auto h = sae->preActivations(x);
        QVERIFY(h.ok());
        const float gate = a == Architecture::kJumpReLU ? 0.6f : 0.0f;
        int64_t nnz = 0, borderline = 0;
        double worst = 0;
        for (int64_t r = 0; r < rows; ++r) {
            std::map<int32_t, float> c(cpuCodes[size_t(r)].begin(), cpuCodes[size_t(r)].end());
            std::map<int32_t, float> g(gpuCodes[size_t(r)].begin(), gpuCodes[size_t(r)].end());
            QCOMPARE(gpuCodes[size_t(r)].size(), g.size());  // no repeated index
            for (const auto& [i, v] : c) {
                const auto it = g.find(i);
                if (it == g.end()) {
                    QVERIFY2(
                        a != Architecture::kTopK && std::abs((*h)(r, i) - gate) < 1e-4f,
                        qPrintable(QString("row %1: feature %2 missing on the GPU").arg(r).arg(i)));
                    ++borderline;
                    continue;
                }
                worst =
                    std::max(worst, std::abs(double(it->second) - v) / std::max(1.0f, std::abs(v)));
            }
            for (const auto& [i, v] : g)
                if (!c.count(i)) {
                    QVERIFY2(
                        a != Architecture::kTopK && std::abs((*h)(r, i) - gate) < 1e-4f,
                        qPrintable(QString("row %1: extra feature %2 on the GPU").arg(r).arg(i)));
                    ++borderline;
                }
            // Ascending indices, as Sae::encodeInBlocks hands them out.
            for (size_t j = 1; j < gpuCodes[size_t(r)].size(); ++j)
                QVERIFY(gpuCodes[size_t(r)][j - 1].first < gpuCodes[size_t(r)][j].first);
            nnz += int64_t(c.size());
        }
        std::printf(
            "  %s: %lld codes over %lld rows, %lld differ at the switch point, worst "
            "value error %.2e\n",
            architectureName(a), (long long)nnz, (long long)rows, (long long)borderline, worst);
        QVERIFY(nnz > 0);
        QVERIFY(worst <= 1e-4);
    }

private slots:
    void initTestCase() {
        std::string why;
        if (gpu::listDevices(&why).empty())
            m_noDevice = QString("no CUDA device (%1): the GPU agreement tests need one")
                             .arg(QString::fromStdString(why));
    }

    void topKStepAgrees() {
        if (!m_noDevice.isEmpty()) QSKIP(qPrintable(m_noDevice));
        StepSettings s;
        s.architecture = Architecture::kTopK;
        s.k = 16;
        s.kAux = 32;
        compareSteps(s, 64, 512, 256, 0.3, 3);
    }

    void topKStepAgreesAtWidth() {
        if (!m_noDevice.isEmpty()) QSKIP(qPrintable(m_noDevice));
        StepSettings s;
        s.architecture = Architecture::kTopK;
        s.k = 32;
        s.kAux = 384;
        compareSteps(s, 768, 16384, 256, 0.5, 1);
    }

    void reluStepAgrees() {
        if (!m_noDevice.isEmpty()) QSKIP(qPrintable(m_noDevice));
        StepSettings s;
        s.architecture = Architecture::kStandard;
        s.l1 = 5.0;
        compareSteps(s, 64, 512, 256, 0.0, 3);
    }

    void reluStepAgreesOnTheSparsePath() {
        if (!m_noDevice.isEmpty()) QSKIP(qPrintable(m_noDevice));
        StepSettings s;
        s.architecture = Architecture::kStandard;
        s.l1 = 2.0;
        s.sparseDensity = 1.0;  // the CPU takes its sparse path; the GPU is dense either way
        compareSteps(s, 96, 1024, 128, 0.0, 1);
    }

    void encoderAgrees() {
        if (!m_noDevice.isEmpty()) QSKIP(qPrintable(m_noDevice));
        compareEncoder(Architecture::kTopK, 128, 4096, 333);
        compareEncoder(Architecture::kStandard, 64, 1024, 257);
        compareEncoder(Architecture::kJumpReLU, 64, 1024, 257);
    }

    void forwardAgrees() {
        if (!m_noDevice.isEmpty()) QSKIP(qPrintable(m_noDevice));
        model::ModelConfig g = model::gpt2SmallConfig();
        g.nLayers = 2;
        g.dModel = 64;
        g.nHeads = g.nKvHeads = 4;
        g.headDim = 16;
        g.dMlp = 256;
        g.vocabSize = 300;
        g.maxSeqLen = 64;
        compareForward(g, "gpt2");
        model::LlamaShape shape;
        shape.nLayers = 2;
        shape.nKvHeads = 2;  // grouped-query attention
        model::ModelConfig l = model::llamaConfig("llama", shape);
        compareForward(l, "llama (GQA)");
        // Gemma-style extras on the Llama shape: q/k norms, sandwich norms,
        // soft-caps, a sliding layer with its own RoPE base, embedding scale.
        l.qkNorm = true;
        l.sandwichNorms = true;
        l.attnSoftcap = 50.0f;
        l.finalSoftcap = 30.0f;
        l.slidingWindow = 8;
        l.slidingLayers = {1, 0};
        l.ropeLocalTheta = 10000.0f;
        l.ropeTheta = 1e6f;
        l.embedScale = 8.0f;
        compareForward(l, "llama + gemma extras");
    }

    void trainingRunAgrees() {
        if (!m_noDevice.isEmpty()) QSKIP(qPrintable(m_noDevice));
        std::mt19937_64 rng(3);
        const Matrix data = randomMatrix(4096, 64, rng);
        auto run = [&](bool onGpu, const QString& dir) -> Result<TrainResult> {
            TrainSpec spec;
            spec.architecture = Architecture::kTopK;
            spec.dSae = 512;
            spec.k = 8;
            spec.batchSize = 256;
            spec.totalTokens = 256 * 20;
            spec.outDir = dir.toStdString();
            spec.checkpointSeconds = 1e9;
            if (onGpu)
                spec.stepEngine = [](const StepShape& shape) {
                    return gpu::makeSaeStepEngine(0, shape);
                };
            acts::MatrixBatchProvider provider(data, 5);
            Progress progress;
            return trainSae(spec, provider, progress, StopToken());
        };
        QTemporaryDir a, b;
        auto cpu = run(false, a.path());
        auto gpuRun = run(true, b.path());
        QVERIFY2(cpu.ok(), qPrintable(QString::fromStdString(cpu.status().toString())));
        QVERIFY2(gpuRun.ok(), qPrintable(QString::fromStdString(gpuRun.status().toString())));
        std::printf("  20 steps: final loss cpu %.6f, cuda %.6f\n", cpu->finalLoss,
                    gpuRun->finalLoss);
        QVERIFY(relativeError(gpuRun->finalLoss, cpu->finalLoss) <= 1e-3);
        QVERIFY(relativeError(gpuRun->sae.wDec().data(), cpu->sae.wDec().data(),
                              cpu->sae.wDec().size()) <= 1e-3);
    }

    void tooLargeIsAClearError() {
        if (!m_noDevice.isEmpty()) QSKIP(qPrintable(m_noDevice));
        StepSettings s;
        s.architecture = Architecture::kTopK;
        auto engine = gpu::makeSaeStepEngine(0, StepShape{8192, int64_t(1) << 24, 4096, s});
        QVERIFY(!engine.ok());
        QCOMPARE(engine.status().code(), StatusCode::kResourceExhausted);
        QVERIFY2(engine.status().message().find("needs about") != std::string::npos,
                 engine.status().message().c_str());
    }

    void unsupportedArchitectureIsAClearError() {
        if (!m_noDevice.isEmpty()) QSKIP(qPrintable(m_noDevice));
        StepSettings s;
        s.architecture = Architecture::kJumpReLU;
        auto engine = gpu::makeSaeStepEngine(0, StepShape{64, 256, 64, s});
        QVERIFY(!engine.ok());
        QCOMPARE(engine.status().code(), StatusCode::kUnsupported);
    }
};

QTEST_GUILESS_MAIN(TestGpuAgreement)
#include "test_gpu_agreement.moc"
