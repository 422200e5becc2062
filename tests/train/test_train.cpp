// The optimiser pieces both trainers share (core/train): the Adam update in
// both bias-correction forms, with and without weight decay, against its
// formula in the stated float order; the learning-rate schedules of the SAE
// and LM trainers; and when a loop reports and checkpoints.

#include <QtTest>

#include <chrono>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/train/adam.h"
#include "core/train/cadence.h"
#include "core/train/lr_schedule.h"

using namespace mono;
using namespace mono::train;

namespace {

struct Tensors {
    std::vector<float> p, g, m, v;
};

// Large enough for the parallel loop, with moments from earlier steps.
Tensors randomTensors(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal;
    Tensors t{std::vector<float>(n), std::vector<float>(n), std::vector<float>(n),
              std::vector<float>(n)};
    for (size_t i = 0; i < n; ++i) {
        t.p[i] = normal(rng);
        t.g[i] = 0.1f * normal(rng);
        t.m[i] = 0.01f * normal(rng);
        t.v[i] = 1e-4f * std::abs(normal(rng));
    }
    return t;
}

bool sameBits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void update(const AdamStep& step, Tensors& t, bool decay) {
    adamUpdate(step, t.p, t.g, t.m, t.v, decay);
}

}  // namespace

class TestTrain : public QObject {
    Q_OBJECT

private slots:
    void adamStepSizeFormBitForBit() {
        // The SAE trainer's update, written out in its float order.
        const AdamSettings s;  // β1 0.9, β2 0.999, ε 1e-8, in the step size
        const int64_t t = 7;
        const double lr = 4e-4;
        const AdamStep step = adamStep(s, t, lr);
        const float a = static_cast<float>(lr * std::sqrt(1.0 - std::pow(s.beta2, t)) /
                                           (1.0 - std::pow(s.beta1, t)));
        QCOMPARE(step.stepSize, a);
        Tensors got = randomTensors(200'000, 1), want = got;
        update(step, got, false);
        const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
        for (size_t i = 0; i < want.p.size(); ++i) {
            want.m[i] = b1 * want.m[i] + (1.0f - b1) * want.g[i];
            want.v[i] = b2 * want.v[i] + (1.0f - b2) * want.g[i] * want.g[i];
            want.p[i] -= a * want.m[i] / (std::sqrt(want.v[i]) + eps);
        }
        QVERIFY(sameBits(got.m, want.m));
        QVERIFY(sameBits(got.v, want.v));
        QVERIFY(sameBits(got.p, want.p));
    }

    void adamOnMomentsFormBitForBit() {
        // The LM trainer's AdamW, written out in its float order.
        const AdamSettings s{.beta1 = 0.9,
                             .beta2 = 0.95,
                             .eps = 1e-8,
                             .weightDecay = 0.1,
                             .biasCorrection = BiasCorrection::kOnMoments};
        const int64_t t = 3;
        const double lr = 1e-3;
        for (const bool decay : {false, true}) {
            Tensors got = randomTensors(100'000, 2), want = got;
            update(adamStep(s, t, lr), got, decay);
            const float b1 = 0.9f, b2 = 0.95f, eps = 1e-8f, step = static_cast<float>(lr);
            const float c1 = static_cast<float>(1.0 - std::pow(0.9, 3.0));
            const float c2 = static_cast<float>(1.0 - std::pow(0.95, 3.0));
            const float keep = decay ? static_cast<float>(1.0 - lr * 0.1) : 1.0f;
            for (size_t i = 0; i < want.p.size(); ++i) {
                want.m[i] = b1 * want.m[i] + (1.0f - b1) * want.g[i];
                want.v[i] = b2 * want.v[i] + (1.0f - b2) * want.g[i] * want.g[i];
                const float mHat = want.m[i] / c1;
                const float vHat = want.v[i] / c2;
                want.p[i] = want.p[i] * keep - step * mHat / (std::sqrt(vHat) + eps);
            }
            QVERIFY(sameBits(got.m, want.m));
            QVERIFY(sameBits(got.v, want.v));
            QVERIFY2(sameBits(got.p, want.p), decay ? "with decay" : "without decay");
        }
    }

    void adamFirstStepIsLrTimesSign() {
        // Step 1 from zero moments: m̂ = g, v̂ = g², so both forms move each
        // weight by lr against the sign of its gradient; decay multiplies first.
        for (const BiasCorrection form :
             {BiasCorrection::kInStepSize, BiasCorrection::kOnMoments}) {
            AdamSettings s;
            s.weightDecay = 0.1;
            s.biasCorrection = form;
            std::vector<float> p = {1.0f, 1.0f}, g = {0.5f, -2.0f}, m(2, 0.0f), v(2, 0.0f);
            adamUpdate(adamStep(s, 1, 0.01), p, g, m, v, true);
            QVERIFY(std::abs(p[0] - (1.0f * (1 - 0.01f * 0.1f) - 0.01f)) < 1e-6);
            QVERIFY(std::abs(p[1] - (1.0f * (1 - 0.01f * 0.1f) + 0.01f)) < 1e-6);
        }
    }

    void lmScheduleWarmsUpThenCosine() {
        // Warm-up is linear to lr, the cosine ends at minLr on the last step.
        const LrSchedule s = warmupThenCosine(1.0, 0.1, 10, 100);
        QCOMPARE(learningRate(s, 0), 0.1);
        QCOMPARE(learningRate(s, 9), 1.0);
        QCOMPARE(learningRate(s, 10), 1.0);
        QVERIFY(std::abs(learningRate(s, 99) - 0.1) < 1e-12);
        QVERIFY(std::abs(learningRate(s, 10 + 89 / 2) - 0.55) < 0.02);
        // Without warm-up the cosine starts at step 0.
        QCOMPARE(learningRate(warmupThenCosine(1.0, 0.0, 0, 11), 0), 1.0);
        QVERIFY(std::abs(learningRate(warmupThenCosine(1.0, 0.0, 0, 11), 5) - 0.5) < 1e-12);
    }

    void saeScheduleWarmsUpAndDecaysLinearly() {
        // 1% warm-up is under one step of 50, so it takes one step.
        QCOMPARE(learningRate(warmupAndLinearDecay(2.0, 0.01, 0.2, 50), 0), 2.0);
        const LrSchedule s = warmupAndLinearDecay(1.0, 0.1, 0.2, 100);
        QCOMPARE(learningRate(s, 0), 0.1);
        QCOMPARE(learningRate(s, 9), 1.0);
        QCOMPARE(learningRate(s, 50), 1.0);
        QCOMPARE(learningRate(s, 80), 1.0);  // the last 20% start here
        QVERIFY(std::abs(learningRate(s, 90) - 0.5) < 1e-12);
        QVERIFY(std::abs(learningRate(s, 99) - 0.05) < 1e-12);
        // A warm-up that runs into the decay scales it.
        const LrSchedule overlap = warmupAndLinearDecay(1.0, 0.8, 0.5, 10);
        QVERIFY(std::abs(learningRate(overlap, 6) - 7.0 / 8.0 * 4.0 / 5.0) < 1e-12);
        // No decay: the peak to the end.
        QCOMPARE(learningRate(warmupAndLinearDecay(1.0, 0.0, 0.0, 10), 9), 1.0);
    }

    void linearDecayToAFloor() {
        LrSchedule s;
        s.peak = 1.0;
        s.decay = Decay::kLinear;
        s.decayStart = 0;
        s.decayEnd = 10;
        s.floor = 0.1;
        QCOMPARE(learningRate(s, 0), 1.0);
        QVERIFY(std::abs(learningRate(s, 5) - 0.55) < 1e-12);
        QVERIFY(std::abs(learningRate(s, 10) - 0.1) < 1e-12);
    }

    void reportsEveryNthAndLastStep() {
        QVERIFY(everyNthOrLast(10, 5, 100));
        QVERIFY(!everyNthOrLast(11, 5, 100));
        QVERIFY(everyNthOrLast(100, 7, 100));
        QVERIFY(everyNthOrLast(3, 0, 100));  // every < 1: every step
    }

    void checkpointsBySteps() {
        using Clock = CheckpointCadence::Clock;
        const auto t0 = Clock::now();
        const CheckpointCadence cadence(1e9, 3, t0);
        QVERIFY(cadence.due(3, 10, t0));
        QVERIFY(!cadence.due(4, 10, t0));
        QVERIFY(cadence.due(9, 10, t0));
        QVERIFY(!cadence.due(10, 10, t0));                       // the loop saves at the end anyway
        QVERIFY(!CheckpointCadence(1e9, 0, t0).due(3, 10, t0));  // 0: by time only
    }

    void checkpointsByTime() {
        using Clock = CheckpointCadence::Clock;
        const auto t0 = Clock::now();
        CheckpointCadence cadence(60, 0, t0);
        QVERIFY(!cadence.due(1, 10, t0 + std::chrono::seconds(59)));
        QVERIFY(cadence.due(2, 10, t0 + std::chrono::seconds(60)));
        cadence.saved(t0 + std::chrono::seconds(60));
        QVERIFY(!cadence.due(3, 10, t0 + std::chrono::seconds(100)));
        QVERIFY(cadence.due(4, 10, t0 + std::chrono::seconds(120)));
    }
};

QTEST_GUILESS_MAIN(TestTrain)
#include "test_train.moc"
