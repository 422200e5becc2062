// The toy GPT's backward pass against central finite differences in float64,
// for every element of every parameter tensor of a tiny model.

#include <QtTest>

#include <omp.h>

#include <cmath>
#include <random>

#include "core/lmtrain/gpt.h"
#include "tests/support/test_support.h"

using namespace mono;
using namespace mono::lmtrain;

class TestToyGpt : public QObject {
    Q_OBJECT
private slots:
    void layout() {
        const GptShape s{50, 16, 8, 2, 2};
        const auto layout = paramLayout(s);
        QCOMPARE(layout.size(), size_t{2 + 2 * 12 + 2});
        QCOMPARE(layout[2].name, std::string("h.0.ln_1.weight"));
        QCOMPARE(layout.back().name, std::string("ln_f.bias"));
        // V·C + T·C + L·(12C² + 13C) + 2C
        QCOMPARE(s.parameterCount(), int64_t{50 * 8 + 16 * 8 + 2 * (12 * 64 + 13 * 8) + 16});
        QVERIFY(!GptShape({50, 16, 9, 2, 2}).validate().ok());
        QVERIFY(!GptShape({0, 16, 8, 2, 2}).validate().ok());
    }

    void gradientCheck() {
        const GptShape shape{11, 6, 8, 2, 2};
        Gpt<double> model(shape);
        // Weights far from the initialisation's small values, so that attention is
        // not uniform and every non-linearity is exercised.
        std::mt19937_64 rng(7);
        std::normal_distribution<double> normal(0.0, 0.4);
        for (const ParamTensor& t : model.layout()) {
            const bool gain = t.name.find("ln_") != std::string::npos &&
                              t.name.find("weight") != std::string::npos;
            for (int64_t i = 0; i < t.size; ++i)
                model.params[t.offset + i] = (gain ? 1.0 : 0.0) + normal(rng);
        }
        const int B = 2, T = 5;
        const std::vector<int32_t> tokens = {1, 4, 4, 9, 0, 10, 3, 3, 7, 2};
        const std::vector<int32_t> targets = {4, 4, 9, 0, 10, 3, 3, 7, 2, 5};
        const double loss = model.forward(tokens.data(), targets.data(), B, T);
        QVERIFY(std::isfinite(loss) && loss > 0);
        model.backward();
        const AlignedVector<double> analytic = model.grads;

        const double h = 1e-5;
        double worst = 0;
        std::string worstName;
        for (const ParamTensor& t : model.layout()) {
            double diff2 = 0, ref2 = 0;
            for (int64_t i = 0; i < t.size; ++i) {
                double& w = model.params[t.offset + i];
                const double saved = w;
                w = saved + h;
                const double up = model.forward(tokens.data(), targets.data(), B, T);
                w = saved - h;
                const double down = model.forward(tokens.data(), targets.data(), B, T);
                w = saved;
                const double numeric = (up - down) / (2 * h);
                const double a = analytic[t.offset + i];
                diff2 += (numeric - a) * (numeric - a);
                ref2 += numeric * numeric;
                // Element-wise too, with an absolute floor for gradients near zero.
                QVERIFY2(std::abs(numeric - a) <= 1e-3 * std::max(std::abs(numeric), 1e-4),
                         qPrintable(QString("%1[%2]: numeric %3, backward %4")
                                        .arg(QString::fromStdString(t.name))
                                        .arg(i)
                                        .arg(numeric, 0, 'g', 10)
                                        .arg(a, 0, 'g', 10)));
            }
            QVERIFY2(ref2 > 0, qPrintable(QString::fromStdString(t.name + " has zero gradient")));
            const double rel = std::sqrt(diff2 / ref2);
            if (rel > worst) {
                worst = rel;
                worstName = t.name;
            }
            QVERIFY2(
                rel <= 1e-6,
                qPrintable(
                    QString("%1: relative error %2").arg(QString::fromStdString(t.name)).arg(rel)));
        }
        qInfo("gradient check: %zu tensors, worst relative error %.3g (%s)", model.layout().size(),
              worst, worstName.c_str());
    }

    // The float model gives the same loss as the double one on the same weights.
    void floatMatchesDouble() {
        const GptShape shape{40, 16, 16, 2, 4};
        Gpt<float> f(shape);
        Gpt<double> d(shape);
        f.initialize(3);
        d.initialize(3);
        std::vector<int32_t> tokens(2 * 16), targets(2 * 16);
        for (size_t i = 0; i < tokens.size(); ++i) {
            tokens[i] = static_cast<int32_t>((i * 7) % 40);
            targets[i] = static_cast<int32_t>((i * 7 + 3) % 40);
        }
        const double lf = f.forward(tokens.data(), targets.data(), 2, 16);
        const double ld = d.forward(tokens.data(), targets.data(), 2, 16);
        QVERIFY(std::abs(lf - ld) < 1e-5);
        // A freshly initialised model is close to uniform: loss ≈ ln V.
        QVERIFY(std::abs(ld - std::log(40.0)) < 0.1);
        f.backward();
        d.backward();
        double maxDiff = 0, maxRef = 0;
        for (size_t i = 0; i < d.grads.size(); ++i) {
            maxDiff = std::max(maxDiff, std::abs(d.grads[i] - double(f.grads[i])));
            maxRef = std::max(maxRef, std::abs(d.grads[i]));
        }
        QVERIFY2(maxDiff <= 1e-4 * maxRef,
                 qPrintable(QString("%1 vs %2").arg(maxDiff).arg(maxRef)));
    }
    // A shape big enough for every parallel path: two threads give the one-thread
    // result (up to summation order) and repeat themselves exactly.
    void threadsAgree() {
        const GptShape shape{300, 64, 128, 1, 4};
        const int B = 4, T = 64;
        std::vector<int32_t> tokens(B * T), targets(B * T);
        for (int i = 0; i < B * T; ++i) {
            tokens[i] = (i * 37) % 300;
            targets[i] = (i * 11 + 5) % 300;
        }
        auto run = [&](int threads, AlignedVector<float>* grads) {
            const int saved = omp_get_max_threads();
            omp_set_num_threads(threads);
            Gpt<float> m(shape);
            m.initialize(9);
            const float loss = m.forward(tokens.data(), targets.data(), B, T);
            m.backward();
            omp_set_num_threads(saved);
            *grads = m.grads;
            return loss;
        };
        AlignedVector<float> g1, g2, g2b;
        const float l1 = run(1, &g1), l2 = run(2, &g2), l2b = run(2, &g2b);
        QCOMPARE(l2, l2b);
        QVERIFY(g2 == g2b);
        QVERIFY(std::abs(l1 - l2) < 1e-5f);
        float maxDiff = 0, maxRef = 0;
        for (size_t i = 0; i < g1.size(); ++i) {
            maxDiff = std::max(maxDiff, std::abs(g1[i] - g2[i]));
            maxRef = std::max(maxRef, std::abs(g1[i]));
        }
        QVERIFY2(maxDiff <= 1e-4f * maxRef,
                 qPrintable(QString("%1 vs %2").arg(maxDiff).arg(maxRef)));
    }
};

QTEST_GUILESS_MAIN(TestToyGpt)
#include "test_toy_gpt.moc"
