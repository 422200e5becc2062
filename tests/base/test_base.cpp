// Status / Result / Progress: the error and job plumbing everything else uses.

#include <QtTest>

#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/base/text.h"
#include "tests/support/test_support.h"

using namespace mono;

namespace {
Result<int> parsePositive(int v) {
    if (v <= 0)
        return Status::invalidArgument("expected a positive number, got " + std::to_string(v));
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
        QVERIFY(Status::success().withContext("x").ok());
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
    void utf8IsCheckedStrictlyAndRepaired() {
        QVERIFY(isValidUtf8("plain ascii"));
        QVERIFY(isValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // é € 😀
        QVERIFY(!isValidUtf8("\xC3"));                                      // truncated
        QVERIFY(!isValidUtf8("\xC0\xAF"));                                  // overlong '/'
        QVERIFY(!isValidUtf8("\xED\xA0\x80"));                              // surrogate U+D800
        QVERIFY(!isValidUtf8("\xF4\x90\x80\x80"));                          // above U+10FFFF
        QVERIFY(!isValidUtf8("\x80x"));  // lone continuation byte
        QCOMPARE(utf8SequenceLength("\xE2\x82\xAC", 0), size_t(3));
        const std::string fffd = "\xEF\xBF\xBD";
        QCOMPARE(sanitizeUtf8("a\xC3\xA9"
                              "b"),
                 std::string("a\xC3\xA9"
                             "b"));
        QCOMPARE(sanitizeUtf8("a\xC3z"), "a" + fffd + "z");
        QCOMPARE(sanitizeUtf8(std::string_view("x\0y", 3)), "x" + fffd + "y");
        QVERIFY(isValidUtf8(sanitizeUtf8("\xFF\xFE\xED\xA0\x80ok")));
        const std::string now = isoNowUtc();
        QCOMPARE(now.size(), size_t(20));
        QCOMPARE(now.back(), 'Z');
    }
};

QTEST_GUILESS_MAIN(TestBase)
#include "test_base.moc"
