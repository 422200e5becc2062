#include <QtTest>
class TestSaeHostile : public QObject {
    Q_OBJECT
private slots:
    void placeholderForBuild() { QVERIFY(true); }
};
QTEST_GUILESS_MAIN(TestSaeHostile)
#include "test_sae_hostile.moc"
