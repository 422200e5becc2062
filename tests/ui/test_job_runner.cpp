// JobRunner: results, errors, cancellation, throttled progress on the GUI
// thread, and "latest request wins" (a superseded job's outcome is dropped).

#include <QSignalSpy>
#include <QThread>
#include <QtTest>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "core/base/result.h"
#include "tests/support/test_support.h"
#include "ui/jobs/job_runner.h"
#include "ui/jobs/text_stream.h"

using namespace mono;
using namespace mono::ui;
using namespace std::chrono_literals;

namespace {

// Blocks the worker until released (or a guard timeout), ignoring stop requests,
// so that a test controls exactly when a job ends.
struct Gate {
    std::atomic<bool> open{false};
    void wait() const {
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!open.load() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(1ms);
    }
};

}  // namespace

class TestJobRunner : public QObject {
    Q_OBJECT
private slots:
    void resultArrivesOnGuiThread() {
        JobRunner runner;
        QSignalSpy succeeded(&runner, &JobRunner::succeeded);
        QSignalSpy finished(&runner, &JobRunner::finished);
        QSignalSpy busy(&runner, &JobRunner::busyChanged);
        std::atomic<QThread*> workerThread{nullptr};
        QThread* deliveryThread = nullptr;
        bool busyInHandler = true;
        int value = 0;
        const int base = 20;  // copied into the job, as settings are
        const quint64 id = runner.start(
            QStringLiteral("answer"),
            [base, &workerThread](const JobContext&) -> Result<int> {
                workerThread = QThread::currentThread();
                return base + 22;
            },
            [&](int v) {
                value = v;
                deliveryThread = QThread::currentThread();
                busyInHandler = runner.isBusy();
            });
        QVERIFY(runner.isBusy());
        QTRY_COMPARE(finished.count(), 1);
        QCOMPARE(value, 42);
        QCOMPARE(deliveryThread, QThread::currentThread());
        QVERIFY(workerThread.load() != nullptr);
        QVERIFY(workerThread.load() != QThread::currentThread());
        QCOMPARE(succeeded.count(), 1);
        QCOMPARE(succeeded.at(0).at(0).toULongLong(), id);
        QVERIFY(!runner.isBusy());
        QCOMPARE(busy.count(), 2);  // true, then false
        QCOMPARE(busy.at(0).at(0).toBool(), true);
        QCOMPARE(busy.at(1).at(0).toBool(), false);
        QVERIFY(!busyInHandler);  // a handler may start the next job
    }

    void handlerMayChainTheNextJob() {
        JobRunner runner;
        QSignalSpy busy(&runner, &JobRunner::busyChanged);
        QSignalSpy finished(&runner, &JobRunner::finished);
        int second = 0;
        runner.start(
            QStringLiteral("first"), [](const JobContext&) -> Result<int> { return 1; },
            [&](int) {
                runner.start(
                    QStringLiteral("second"), [](const JobContext&) -> Result<int> { return 2; },
                    [&](int v) { second = v; });
            });
        QTRY_COMPARE(second, 2);
        QTRY_COMPARE(finished.count(), 2);
        QCOMPARE(busy.count(), 2);  // true once, false once: no flicker in between
        QCOMPARE(busy.at(0).at(0).toBool(), true);
        QCOMPARE(busy.at(1).at(0).toBool(), false);
        QVERIFY(!runner.isBusy());
    }

    void statusJobAndProgressStopSignature() {
        JobRunner runner;
        bool called = false;
        // The core shape: Status f(const Progress&, StopToken).
        runner.start(
            QStringLiteral("status job"),
            [](const Progress& progress, StopToken stop) {
                progress.report(1.0, "done");
                return stop.stopRequested() ? Status::cancelled() : Status::success();
            },
            [&] { called = true; });
        QTRY_VERIFY(called);
    }

    void errorsBecomeMessages_data() {
        QTest::addColumn<bool>("throws");
        QTest::addColumn<QString>("expected");
        QTest::newRow("status") << false << QStringLiteral("Corruption: x.bin: bad magic");
        QTest::newRow("exception") << true << QStringLiteral("boom");
    }
    void errorsBecomeMessages() {
        QFETCH(bool, throws);
        QFETCH(QString, expected);
        JobRunner runner;
        QSignalSpy failed(&runner, &JobRunner::failed);
        QSignalSpy succeeded(&runner, &JobRunner::succeeded);
        QSignalSpy cancelled(&runner, &JobRunner::cancelled);
        bool called = false;
        runner.start(
            QStringLiteral("Loading x.bin"),
            [throws](const JobContext&) -> Result<int> {
                if (throws) throw std::runtime_error("boom");
                return Status::corruption("x.bin: bad magic");
            },
            [&](int) { called = true; });
        QTRY_COMPARE(failed.count(), 1);
        QCOMPARE(failed.at(0).at(1).toString(), QStringLiteral("Loading x.bin"));
        const QString message = failed.at(0).at(2).toString();
        QVERIFY2(message.contains(expected), qPrintable(message));
        QVERIFY(!called);
        QCOMPARE(succeeded.count(), 0);
        QCOMPARE(cancelled.count(), 0);
        QVERIFY(!runner.isBusy());
    }

    void cancelIsNotAnError() {
        JobRunner runner;
        QSignalSpy failed(&runner, &JobRunner::failed);
        QSignalSpy cancelled(&runner, &JobRunner::cancelled);
        QSignalSpy finished(&runner, &JobRunner::finished);
        std::atomic<bool> running{false};
        bool called = false;
        runner.start(
            QStringLiteral("loop"),
            [&running](const JobContext& job) -> Result<int> {
                running = true;
                const auto deadline = std::chrono::steady_clock::now() + 10s;
                while (!job.stopRequested()) {
                    if (std::chrono::steady_clock::now() > deadline) return 1;  // not cancelled
                    std::this_thread::sleep_for(1ms);
                }
                return Status::cancelled();
            },
            [&](int) { called = true; });
        QTRY_VERIFY(running.load());
        QVERIFY(runner.isBusy());
        runner.cancel();
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 3000);
        QCOMPARE(cancelled.count(), 1);
        QCOMPARE(failed.count(), 0);
        QVERIFY(!called);
        QVERIFY(!runner.isBusy());
    }

    void latestRequestWins() {
        JobRunner runner;
        QSignalSpy succeeded(&runner, &JobRunner::succeeded);
        QSignalSpy finished(&runner, &JobRunner::finished);
        QSignalSpy failed(&runner, &JobRunner::failed);
        QSignalSpy busy(&runner, &JobRunner::busyChanged);
        Gate gate;
        std::atomic<bool> firstRunning{false};
        std::atomic<bool> firstSawStop{false};
        int firstResults = 0;
        int secondResult = 0;
        int firstPosts = 0;
        const quint64 first = runner.start(
            QStringLiteral("first"),
            [&](const JobContext& job) -> Result<int> {
                firstRunning = true;
                gate.wait();
                firstSawStop = job.stopRequested();
                job.post([&firstPosts] { ++firstPosts; });
                return 1;  // a value, not Cancelled: only the generation check can drop it
            },
            [&](int) { ++firstResults; });
        QTRY_VERIFY(firstRunning.load());
        const quint64 second = runner.start(
            QStringLiteral("second"), [](const JobContext&) -> Result<int> { return 2; },
            [&](int v) { secondResult = v; });
        QVERIFY(second > first);
        QCOMPARE(runner.currentId(), second);
        gate.open = true;
        QTRY_COMPARE(secondResult, 2);
        QTest::qWait(50);  // anything the first job could still deliver has arrived by now
        QVERIFY(firstSawStop.load());  // starting the second asked the first to stop
        QCOMPARE(firstResults, 0);
        QCOMPARE(firstPosts, 0);
        QCOMPARE(failed.count(), 0);
        QCOMPARE(succeeded.count(), 1);
        QCOMPARE(succeeded.at(0).at(0).toULongLong(), second);
        QCOMPARE(finished.count(), 1);
        QCOMPARE(busy.count(), 2);  // busy stayed true across the hand-over
        QVERIFY(!runner.isBusy());
    }

    void abandonDropsEverything() {
        JobRunner runner;
        QSignalSpy finished(&runner, &JobRunner::finished);
        QSignalSpy busy(&runner, &JobRunner::busyChanged);
        Gate gate;
        std::atomic<bool> running{false};
        std::atomic<bool> sawStop{false};
        int results = 0;
        int posts = 0;
        runner.start(
            QStringLiteral("abandoned"),
            [&](const JobContext& job) -> Result<int> {
                running = true;
                gate.wait();
                sawStop = job.stopRequested();
                job.post([&posts] { ++posts; });
                return 1;
            },
            [&](int) { ++results; });
        QTRY_VERIFY(running.load());
        runner.abandon();
        QVERIFY(!runner.isBusy());  // idle at once
        QCOMPARE(busy.count(), 2);
        gate.open = true;
        QTRY_VERIFY(sawStop.load());
        QTest::qWait(50);
        QCOMPARE(results, 0);
        QCOMPARE(posts, 0);
        QCOMPARE(finished.count(), 0);
        // The runner still works afterwards.
        int next = 0;
        runner.start(
            QStringLiteral("next"), [](const JobContext&) -> Result<int> { return 5; },
            [&](int v) { next = v; });
        QTRY_COMPARE(next, 5);
    }

    void progressIsThrottledAndOnGuiThread() {
        JobRunner runner;
        QList<double> fractions;
        QList<QThread*> threads;
        QString lastMessage;
        double lastTokensPerSecond = 0;
        connect(&runner, &JobRunner::progressChanged, this,
                [&](quint64, double fraction, const QString& message, const QVariantMap& m) {
                    fractions.append(fraction);
                    threads.append(QThread::currentThread());
                    lastMessage = message;
                    lastTokensPerSecond = m.value(QStringLiteral("tokens/s")).toDouble();
                });
        QElapsedTimer clock;
        clock.start();
        bool done = false;
        const int steps = 400;
        runner.start(
            QStringLiteral("progress"),
            [](const Progress& progress, StopToken) {
                for (int i = 1; i <= steps; ++i) {
                    progress.report(ProgressUpdate{
                        double(i) / steps, "step " + std::to_string(i), {{"tokens/s", double(i)}}});
                    std::this_thread::sleep_for(1ms);
                }
                return Status::success();
            },
            [&] { done = true; });
        QTRY_VERIFY_WITH_TIMEOUT(done, 10000);
        const double seconds = clock.elapsed() / 1000.0;
        QVERIFY2(fractions.size() >= 2, qPrintable(QString::number(fractions.size())));
        // 400 reports, at most one per 50 ms (+ the final flush and timer slack).
        const int allowed = int(seconds * 1000 / JobRunner::kProgressIntervalMs) + 3;
        QVERIFY2(
            fractions.size() <= allowed,
            qPrintable(QStringLiteral("%1 updates in %2 s").arg(fractions.size()).arg(seconds)));
        for (QThread* t : threads) QCOMPARE(t, QThread::currentThread());
        for (int i = 1; i < fractions.size(); ++i) QVERIFY(fractions[i] > fractions[i - 1]);
        QCOMPARE(fractions.last(), 1.0);  // the newest update is flushed before the result
        QCOMPARE(lastMessage, QStringLiteral("step 400"));
        QCOMPARE(lastTokensPerSecond, 400.0);
    }

    void textStreamCoalescesInOrder() {
        JobRunner runner;
        QString received;
        int pieces = 0;
        int deliveries = 0;
        auto stream = TextStream::create([&](const QString& text, int n) {
            received += text;
            pieces += n;
            ++deliveries;
        });
        bool done = false;
        const int count = 2000;
        runner.start(
            QStringLiteral("stream"),
            [stream](const JobContext& job) -> Result<int> {
                for (int i = 0; i < count; ++i) stream->push(job, std::to_string(i % 10));
                return count;
            },
            [&](int) {
                stream->drain();
                done = true;
            });
        QTRY_VERIFY(done);
        QString expected;
        for (int i = 0; i < count; ++i) expected += QString::number(i % 10);
        QCOMPARE(received, expected);
        QCOMPARE(pieces, count);
        QVERIFY(deliveries >= 1);
        QVERIFY2(deliveries < count, qPrintable(QString::number(deliveries)));
    }

    void destructorStopsTheJob() {
        std::atomic<bool> sawStop{false};
        std::atomic<bool> running{false};
        {
            JobRunner runner;
            runner.start(
                QStringLiteral("endless"),
                [&](const JobContext& job) {
                    running = true;
                    const auto deadline = std::chrono::steady_clock::now() + 10s;
                    while (!job.stopRequested() && std::chrono::steady_clock::now() < deadline)
                        std::this_thread::sleep_for(1ms);
                    sawStop = job.stopRequested();
                    return Status::cancelled();
                },
                [] {});
            QTRY_VERIFY(running.load());
        }  // ~JobRunner asks the job to stop and waits for it
        QVERIFY(sawStop.load());
    }
};

QTEST_MAIN(TestJobRunner)
#include "test_job_runner.moc"
