// Feature analysis through the device seam (core/sae/block_encoder.h) without
// a device: an encoder that hands the SAE's own codes out from one thread, in
// blocks of its own size, must give the same feature store as the CPU pass
// (density, max/mean, histogram, top and interval examples, co-firing), up to
// the GEMM's rounding of blocks of other sizes (activations within 1e-5, and
// examples compared as sets of rows: rows that tie may swap places).

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>

#include "core/features/analysis.h"
#include "core/features/feature_store.h"
#include "core/sae/block_encoder.h"
#include "feature_test_data.h"

using namespace mono;
using namespace mono::features;

namespace {

// Sae::encode's nonzeros, in blocks of `blockRows`, visited as thread 0.
class OneThreadEncoder final : public sae::BlockEncoder {
public:
    OneThreadEncoder(const sae::Sae& sae, int64_t blockRows) : m_sae(sae), m_rows(blockRows) {}
    mutable int64_t visits = 0;

    std::string device() const override { return "test-one-thread"; }
    Status encodeInBlocks(Eigen::Ref<const Matrix> x,
                          const sae::Sae::BlockVisitor& visit) const override {
        for (int64_t r0 = 0; r0 < x.rows(); r0 += m_rows) {
            const int64_t n = std::min(m_rows, x.rows() - r0);
            MONO_ASSIGN_OR_RETURN(const Matrix f, m_sae.encode(Matrix(x.middleRows(r0, n))));
            std::vector<int32_t> start{0}, index;
            std::vector<float> value;
            for (int64_t r = 0; r < n; ++r) {
                for (int64_t i = 0; i < f.cols(); ++i)
                    if (f(r, i) != 0.0f) {
                        index.push_back(int32_t(i));
                        value.push_back(f(r, i));
                    }
                start.push_back(int32_t(index.size()));
            }
            visit(sae::Sae::SparseBlock{r0, n, start.data(), index.data(), value.data()}, 0);
            ++visits;
        }
        return Status::success();
    }

private:
    const sae::Sae& m_sae;
    const int64_t m_rows;
};

bool close(float a, float b) {
    return std::abs(a - b) <= 1e-5f * std::max(1.0f, std::abs(b));
}

void sameExamples(std::vector<Example> a, std::vector<Example> b) {
    QCOMPARE(a.size(), b.size());
    auto byRow = [](const Example& x, const Example& y) { return x.row < y.row; };
    std::sort(a.begin(), a.end(), byRow);
    std::sort(b.begin(), b.end(), byRow);
    for (size_t j = 0; j < a.size(); ++j) {
        QCOMPARE(a[j].row, b[j].row);
        QVERIFY(close(a[j].activation, b[j].activation));
        QCOMPARE(a[j].tokens, b[j].tokens);
    }
}

}  // namespace

class TestAnalysisEncoder : public QObject {
    Q_OBJECT

private slots:
    void deviceEncoderGivesTheSameStore_data() {
        QTest::addColumn<int>("arch");
        QTest::newRow("relu") << int(sae::Architecture::kStandard);
        QTest::newRow("topk") << int(sae::Architecture::kTopK);
    }

    void deviceEncoderGivesTheSameStore() {
        QFETCH(int, arch);
        QTemporaryDir dir;
        const auto data =
            test::writeSyntheticStore((dir.path() + "/acts").toStdString(), 3, 64, 8, 50, 41);
        const sae::Sae sae = test::randomSae(8, 16, 42, sae::Architecture(arch), 3);
        auto reader = acts::ActivationStoreReader::open(data.dir);
        QVERIFY(reader.ok());
        AnalysisSpec spec;
        spec.topK = 5;
        spec.bins = 3;
        spec.perBin = 2;
        spec.chunkRows = 50;
        const std::string cpuOut = (dir.path() + "/cpu.sqlite").toStdString();
        const std::string devOut = (dir.path() + "/dev.sqlite").toStdString();
        AnalysisInputs in;
        in.store = &*reader;
        in.sae = &sae;
        auto cpu = analyze(in, spec, cpuOut, Progress{}, StopToken{});
        QVERIFY2(cpu.ok(), qPrintable(QString::fromStdString(cpu.status().toString())));
        const OneThreadEncoder encoder(sae, 7);
        in.encoder = &encoder;
        auto dev = analyze(in, spec, devOut, Progress{}, StopToken{});
        QVERIFY2(dev.ok(), qPrintable(QString::fromStdString(dev.status().toString())));
        QVERIFY(encoder.visits >= 192 / 7);
        QCOMPARE(dev->rowsAnalysed, cpu->rowsAnalysed);

        auto a = FeatureStore::open(cpuOut, FeatureStore::Mode::kReadOnly);
        auto b = FeatureStore::open(devOut, FeatureStore::Mode::kReadOnly);
        QVERIFY(a.ok() && b.ok());
        int64_t firing = 0;
        for (int64_t id = 0; id < sae.dSae(); ++id) {
            auto fa = a->feature(id), fb = b->feature(id);
            QVERIFY(fa.ok() && fb.ok());
            QCOMPARE(fb->summary.fireCount, fa->summary.fireCount);
            QVERIFY(close(fb->summary.maxActivation, fa->summary.maxActivation));
            QVERIFY(close(fb->summary.meanActivation, fa->summary.meanActivation));
            QCOMPARE(fb->histogram.counts, fa->histogram.counts);
            sameExamples(fb->topExamples, fa->topExamples);
            sameExamples(fb->intervalExamples, fa->intervalExamples);
            QCOMPARE(fb->coFiring.size(), fa->coFiring.size());
            for (size_t j = 0; j < fa->coFiring.size(); ++j)
                QCOMPARE(fb->coFiring[j].id, fa->coFiring[j].id);
            firing += fa->summary.fireCount > 0;
        }
        QVERIFY(firing > 0);
    }
};

QTEST_GUILESS_MAIN(TestAnalysisEncoder)
#include "test_analysis_encoder.moc"
