// The trainer's device seam (core/sae/step_engine.h) without a device: an
// engine that runs the CPU step on its own copy of the state must give the
// same SAE as the CPU path, bit for bit, so the trainer's uploads, per-step
// calls, and downloads before checkpoints and the result lose nothing. Also
// that a factory's error reaches the caller.

#include <QTemporaryDir>
#include <QtTest>

#include <random>

#include "core/acts/batch_provider.h"
#include "core/sae/step_engine.h"
#include "core/sae/trainer.h"

using namespace mono;
using namespace mono::sae;

namespace {

// The CPU step and the trainer's update (trainer.cpp's SaeRun::updateWeights)
// on a private copy of the state, as a device engine holds it.
// What an engine was asked to do; kept by the test, since the trainer
// destroys its engine when the run ends.
struct Calls {
    int uploads = 0, downloads = 0, steps = 0;
};

class CopyingEngine final : public SaeStepEngine {
public:
    explicit CopyingEngine(Calls& calls) : m_calls(calls) {}

    std::string device() const override { return "test-copy"; }
    Status upload(const TrainParams& p, const TrainParams& m, const TrainParams& v) override {
        m_p = p;
        m_m = m;
        m_v = v;
        m_g.resizeLike(p);
        ++m_calls.uploads;
        return Status::success();
    }
    Status download(TrainParams& p, TrainParams& m, TrainParams& v) const override {
        p = m_p;
        m = m_m;
        v = m_v;
        ++m_calls.downloads;
        return Status::success();
    }
    Result<StepStats> lossAndGradient(const Matrix& x, const StepSettings& s,
                                      const std::vector<uint8_t>& dead,
                                      std::vector<int64_t>& fired) override {
        const StepStats st = sae::lossAndGradient(m_p, x, s, dead, &m_g, m_buf);
        fired = m_buf.fired;
        ++m_calls.steps;
        return st;
    }
    Status gradient(TrainParams& g) const override {
        g = m_g;
        return Status::success();
    }
    Status update(const train::AdamStep& step, bool unitDecoder) override {
        if (unitDecoder)
            for (int64_t i = 0; i < m_p.wDec.rows(); ++i)
                m_g.wDec.row(i) -= m_g.wDec.row(i).dot(m_p.wDec.row(i)) * m_p.wDec.row(i);
        auto p = m_p.tensors(), g = m_g.tensors(), m = m_m.tensors(), v = m_v.tensors();
        for (size_t i = 0; i < p.size(); ++i) train::adamUpdate(step, p[i], g[i], m[i], v[i]);
        if (unitDecoder)
            for (int64_t i = 0; i < m_p.wDec.rows(); ++i) {
                const float n = m_p.wDec.row(i).norm();
                if (n > 0) m_p.wDec.row(i) /= n;
            }
        return Status::success();
    }
    Result<bool> biasesFinite() const override {
        return m_p.bEnc.allFinite() && m_p.bDec.allFinite();
    }

private:
    Calls& m_calls;
    TrainParams m_p, m_m, m_v, m_g;
    StepBuffers m_buf;
};

Matrix randomData(int64_t rows, int64_t cols) {
    std::mt19937_64 rng(9);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    Matrix m(rows, cols);
    for (int64_t i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
    return m;
}

TrainSpec smallSpec(Architecture a, const QString& dir) {
    TrainSpec spec;
    spec.architecture = a;
    spec.dSae = 128;
    spec.k = 8;
    spec.batchSize = 64;
    spec.totalTokens = 64 * 25;
    spec.checkpointEverySteps = 10;
    spec.deadTokens = 64 * 5;  // some latents go dead: aux-k runs too
    spec.outDir = dir.toStdString();
    return spec;
}

}  // namespace

class TestStepEngine : public QObject {
    Q_OBJECT

private slots:
    void engineRunMatchesTheCpu_data() {
        QTest::addColumn<int>("arch");
        QTest::newRow("topk") << int(Architecture::kTopK);
        QTest::newRow("relu") << int(Architecture::kStandard);
    }

    void engineRunMatchesTheCpu() {
        QFETCH(int, arch);
        const Matrix data = randomData(2048, 32);
        QTemporaryDir cpuDir, engineDir;
        Progress progress;
        acts::MatrixBatchProvider cpuData(data, 3), engineData(data, 3);
        auto cpu =
            trainSae(smallSpec(Architecture(arch), cpuDir.path()), cpuData, progress, StopToken());
        QVERIFY2(cpu.ok(), qPrintable(QString::fromStdString(cpu.status().toString())));

        Calls calls;
        TrainSpec spec = smallSpec(Architecture(arch), engineDir.path());
        spec.stepEngine = [&](const StepShape& shape) -> Result<std::unique_ptr<SaeStepEngine>> {
            if (shape.dIn != 32 || shape.dSae != 128 || shape.batch != 64)
                return Status::internal("unexpected engine shape");
            return std::unique_ptr<SaeStepEngine>(std::make_unique<CopyingEngine>(calls));
        };
        auto viaEngine = trainSae(spec, engineData, progress, StopToken());
        QVERIFY2(viaEngine.ok(), qPrintable(QString::fromStdString(viaEngine.status().toString())));
        QCOMPARE(calls.steps, 25);
        QCOMPARE(calls.uploads, 1);
        QVERIFY2(calls.downloads >= 3, "a download before each checkpoint and the result");
        QCOMPARE(viaEngine->steps, cpu->steps);
        QCOMPARE(viaEngine->finalLoss, cpu->finalLoss);
        QVERIFY(viaEngine->sae.wDec() == cpu->sae.wDec());
        QVERIFY(viaEngine->sae.wEnc() == cpu->sae.wEnc());
        QVERIFY(viaEngine->sae.bEnc() == cpu->sae.bEnc());
        QVERIFY(viaEngine->sae.bDec() == cpu->sae.bDec());
        QCOMPARE(viaEngine->log10Density, cpu->log10Density);
    }

    void factoryErrorsReachTheCaller() {
        QTemporaryDir dir;
        TrainSpec spec = smallSpec(Architecture::kTopK, dir.path());
        spec.stepEngine = [](const StepShape&) -> Result<std::unique_ptr<SaeStepEngine>> {
            return Status::resourceExhausted("SAE training on test:0 needs about 9 GiB");
        };
        acts::MatrixBatchProvider data(randomData(256, 32), 3);
        Progress progress;
        auto r = trainSae(spec, data, progress, StopToken());
        QVERIFY(!r.ok());
        QCOMPARE(r.status().code(), StatusCode::kResourceExhausted);
        QVERIFY(r.status().message().find("needs about 9 GiB") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestStepEngine)
#include "test_step_engine.moc"
