// Status / Result / Progress: the error and job plumbing everything else uses.

#include <QtTest>

#include "core/base/result.h"
#include "core/jobs/progress.h"
#include "tests/support/test_support.h"

using namespace mono;

namespace {
Result<int> parsePositive(int v) {
    if (v <= 0) return Status::invalidArgument("expected a positive number, got " + std::to_string(v));
    return v;
}
Result<int> doubled(int v) {
    MONO_ASSIGN_OR_RETURN(int x, parsePositive(v));
    return 2 * x;
}
}  // namespace

class TestBase : public QObject {
    Q_OBJECT
private slots:
    void statusCarriesCodeAndContext() {
        Status s = Status::corruption("offset 12 past the end").withContext("model.gguf");
        QCOMPARE(s.code(), StatusCode::kCorruption);
        QCOMPARE(QString::fromStdString(s.toString()),
                 QStringLiteral("Corruption: model.gguf: offset 12 past the end"));
        QVERIFY(Status::ok().withContext("x").isOk());
        QVERIFY(Status::cancelled().isCancelled());
    }
    void resultPropagatesErrors() {
        QCOMPARE(doubled(4).value(), 8);
        auto bad = doubled(-1);
        QVERIFY(!bad.ok());
        QCOMPARE(bad.status().code(), StatusCode::kInvalidArgument);
        QVERIFY(bad.status().message().find("-1") != std::string::npos);
    }
    void progressReachesSinkAndStopIsShared() {
        double last = -1;
        Progress p([&](const ProgressUpdate& u) { last = u.fraction; });
        p.report(0.25, "quarter");
        QCOMPARE(last, 0.25);
        StopToken a;
        StopToken b = a;
        QVERIFY(!b.stopRequested());
        a.requestStop();
        QVERIFY(b.stopRequested());
    }
};

QTEST_GUILESS_MAIN(TestBase)
#include "test_base.moc"
