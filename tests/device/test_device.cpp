// --device parsing, the device memory planning of core/sae/device_memory.h,
// and the command line's clear refusal of a CUDA device it cannot use (no
// device here, no CUDA in this build, or no KV cache on CUDA yet).

#include <QProcess>
#include <QtTest>

#include "core/base/compute_device.h"
#include "core/sae/device_memory.h"

using namespace mono;

class TestDevice : public QObject {
    Q_OBJECT

private slots:
    void parsesDevices() {
        auto cpu = parseComputeDevice("cpu");
        QVERIFY(cpu.ok() && !cpu->isCuda());
        QCOMPARE(cpu->name(), std::string("cpu"));
        auto cuda = parseComputeDevice("cuda");
        QVERIFY(cuda.ok() && cuda->isCuda() && cuda->index == 0);
        auto third = parseComputeDevice("cuda:2");
        QVERIFY(third.ok() && third->isCuda() && third->index == 2);
        QCOMPARE(third->name(), std::string("cuda:2"));
        for (const char* bad :
             {"", "gpu", "cuda:", "cuda:-1", "cuda:1x", "cuda:99999999999", "CPU"}) {
            auto r = parseComputeDevice(bad);
            QVERIFY2(!r.ok(), bad);
            QCOMPARE(r.status().code(), StatusCode::kInvalidArgument);
            QVERIFY(r.status().message().find("expected cpu, cuda or cuda:N") != std::string::npos);
        }
    }

    void plansTrainingMemory() {
        sae::StepShape shape{768, 16384, 4096, {}};
        shape.settings.architecture = sae::Architecture::kTopK;
        shape.settings.k = 32;
        shape.settings.kAux = 384;
        // 4 × (2·F·D + F + D) floats of state.
        QCOMPARE(sae::saeStateDeviceBytes(768, 16384), 4.0 * 4 * (2.0 * 16384 * 768 + 16384 + 768));
        const double need = sae::saeStateDeviceBytes(768, 16384) + sae::saeBatchDeviceBytes(shape);
        QVERIFY(sae::checkStepFits(shape, need + 1.0, 0, "cuda:0").ok());
        const Status st = sae::checkStepFits(
            shape, need / 2 + sae::saeStateDeviceBytes(768, 16384) / 2, 0, "cuda:0");
        QCOMPARE(st.code(), StatusCode::kResourceExhausted);
        QVERIFY2(st.message().find("cuda:0 needs about") != std::string::npos,
                 st.message().c_str());
        QVERIFY2(st.message().find("rows would fit") != std::string::npos, st.message().c_str());
        // ReLU's backward pass is dense: a second [B, F] buffer.
        sae::StepShape relu = shape;
        relu.settings.architecture = sae::Architecture::kStandard;
        QVERIFY(sae::saeBatchDeviceBytes(relu) > sae::saeBatchDeviceBytes(shape));
        const Status none = sae::checkStepFits(shape, 1e6, 0, "cuda:1");
        QVERIFY2(none.message().find("lower --features") != std::string::npos,
                 none.message().c_str());
    }

    void plansEncoderRows() {
        const double weights = sae::encoderWeightBytes(64, 1024);
        const double row = sae::encoderRowBytes(64, 1024);
        auto rows = sae::encoderRowsThatFit(64, 1024, weights + 1000 * row, 0, 4096, "cuda:0");
        QVERIFY(rows.ok());
        QCOMPARE(*rows, int64_t(1000));
        auto capped = sae::encoderRowsThatFit(64, 1024, weights + 1000 * row, 0, 256, "cuda:0");
        QCOMPARE(*capped, int64_t(256));
        auto tooSmall = sae::encoderRowsThatFit(64, 1024, weights + 10 * row, 0, 4096, "cuda:0");
        QVERIFY(!tooSmall.ok());
        QCOMPARE(tooSmall.status().code(), StatusCode::kResourceExhausted);
    }

#ifdef MONO_CLI_PATH
    // Every command with --device refuses a CUDA device it cannot use, naming why.
    void cliRefusesAnUnusableDevice() {
        auto run = [](const QStringList& args, QString* err) {
            QProcess p;
            p.start(QStringLiteral(MONO_CLI_PATH), args);
            if (!p.waitForFinished(60'000)) p.kill();
            *err = QString::fromUtf8(p.readAllStandardError());
            return p.exitCode();
        };
        QString devices;
        {
            QProcess p;
            p.start(QStringLiteral(MONO_CLI_PATH), {QStringLiteral("devices")});
            QVERIFY(p.waitForFinished(60'000));
            devices = QString::fromUtf8(p.readAllStandardOutput());
        }
        const bool haveDevice = devices.contains(QStringLiteral("cuda:0 "));
        const QString missing = QStringLiteral("/nonexistent/monoscope-device-test");
        QString err;
        QVERIFY(run({"generate", missing, "--prompt", "x", "--device", "gpu"}, &err) != 0);
        QVERIFY2(err.contains("expected cpu, cuda or cuda:N"), qPrintable(err));
        const QList<QStringList> commands = {
            {"generate", missing, "--prompt", "x", "--device", "cuda"},
            {"capture", missing, "--corpus", missing, "--hook", "h", "--out", missing, "--device",
             "cuda:0"},
            {"analyze", missing, "--sae", missing, "--device", "cuda"},
            {"train-sae", "--activations", missing + ".npy", "--features", "64", "--out", missing,
             "--device", "cuda"},
        };
        for (const QStringList& args : commands) {
            QVERIFY(run(args, &err) != 0);
            std::printf("  %s: %s", qPrintable(args[0]), qPrintable(err));
            if (haveDevice && args[0] == "generate")
                QVERIFY2(err.contains("KV cache"), qPrintable(err));
            else if (!haveDevice)
                QVERIFY2(err.contains("no CUDA device") || err.contains("built without CUDA"),
                         qPrintable(err));
        }
    }
#endif
};

QTEST_GUILESS_MAIN(TestDevice)
#include "test_device.moc"
