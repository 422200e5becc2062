// The feature map in the Features view: computing it as a job when the store
// has none, a lasso drawn with the mouse filtering the list to exactly the
// features inside it (checked against the stored positions), clearing the
// selection, clicking a point to select its feature, and the colour modes.
// The scatter widget alone is checked on synthetic points first.

#include <QtTest>

#include <qcustomplot.h>
#include <QComboBox>
#include <QPushButton>
#include <QTabWidget>
#include <QToolButton>

#include <algorithm>
#include <filesystem>

#include "core/features/feature_store.h"
#include "tests/support/test_support.h"
#include "tests/ui/ui_workspace_fixture.h"
#include "ui/jobs/job_runner.h"
#include "ui/main/main_window.h"
#include "ui/models/feature_table_model.h"
#include "ui/panels/features/feature_browser.h"
#include "ui/panels/features/feature_dashboard.h"
#include "ui/panels/features/feature_map_view.h"
#include "ui/panels/features/features_view.h"
#include "ui/session/feature_store_handle.h"
#include "ui/session/model_session.h"
#include "ui/session/workspace_session.h"
#include "ui/widgets/feature_map_plot.h"

using namespace mono;
using namespace mono::ui;
using mono::test::qpath;
namespace fs = std::filesystem;

namespace {

void sendMouse(QWidget* w, QEvent::Type type, const QPointF& pos, Qt::KeyboardModifiers mods) {
    const Qt::MouseButton button = type == QEvent::MouseMove ? Qt::NoButton : Qt::LeftButton;
    const Qt::MouseButtons held =
        type == QEvent::MouseButtonRelease ? Qt::NoButton : Qt::LeftButton;
    QMouseEvent event(type, pos, w->mapToGlobal(pos), button, held, mods);
    QCoreApplication::sendEvent(w, &event);
}

// Drags a lasso through `pixels` on the plot, as a user would.
void dragLasso(FeatureMapPlot* plot, const QPolygonF& pixels, Qt::KeyboardModifiers mods) {
    QWidget* w = plot->plot();
    sendMouse(w, QEvent::MouseButtonPress, pixels.front(), mods);
    for (int i = 1; i < pixels.size(); ++i) sendMouse(w, QEvent::MouseMove, pixels[i], mods);
    sendMouse(w, QEvent::MouseButtonRelease, pixels.back(), mods);
}

// The features whose stored positions lie inside the lasso, computed from the
// store's map and the plot coordinates the pixels stand for.
std::vector<int64_t> expectedInside(const std::vector<float>& xy, FeatureMapPlot* plot,
                                    const QPolygonF& pixels) {
    QPolygonF coords;
    for (const QPointF& p : pixels) coords << plot->toCoord(p);
    std::vector<int64_t> ids;
    for (size_t i = 0; i < xy.size() / 2; ++i)
        if (coords.containsPoint(QPointF(xy[2 * i], xy[2 * i + 1]), Qt::OddEvenFill))
            ids.push_back(static_cast<int64_t>(i));
    return ids;
}

std::vector<int64_t> listedIds(FeatureTableModel* model) {
    std::vector<int64_t> ids;
    for (int r = 0; r < model->rowCount(); ++r) ids.push_back(model->featureId(r));
    std::sort(ids.begin(), ids.end());
    return ids;
}

}  // namespace

class TestFeatureMapView : public QObject {
    Q_OBJECT
    fs::path m_root;
    test::UiWorkspace m_ws;
    bool m_built = false;

private slots:
    void initTestCase() { test::isolateSettings(QStringLiteral("test_ui_feature_map")); }

    void plotSelectsInsideAPolygon() {
        FeatureMapPlot plot;
        plot.resize(400, 400);
        plot.show();
        // A 10 × 10 grid of points at integer coordinates.
        std::vector<float> xy;
        for (int y = 0; y < 10; ++y)
            for (int x = 0; x < 10; ++x) xy.push_back(float(x)), xy.push_back(float(y));
        plot.setPoints(xy, std::vector<int>(100, 0), {Qt::blue});
        const QPolygonF square({{1.5, 1.5}, {4.5, 1.5}, {4.5, 3.5}, {1.5, 3.5}});
        const QVector<qint64> inside = plot.featuresInside(square);
        QCOMPARE(inside, (QVector<qint64>{22, 23, 24, 32, 33, 34}));  // id = 10·y + x
        QVERIFY(QTest::qWaitForWindowExposed(&plot));
        plot.plot()->replot();
        QCOMPARE(plot.featureAt(plot.toPixel({7, 2})), qint64(27));
        QCOMPARE(plot.featureAt(plot.toPixel({7.5, 2.5}), 2), qint64(-1));
        // Shift-drag draws a lasso; the plot neither pans nor loses it.
        const QCPRange before = plot.plot()->xAxis->range();
        QSignalSpy lasso(&plot, &FeatureMapPlot::lassoSelected);
        QPolygonF pixels;
        for (const QPointF& c : square) pixels << plot.toPixel(c);
        dragLasso(&plot, pixels, Qt::ShiftModifier);
        QCOMPARE(lasso.count(), 1);
        QCOMPARE(lasso.at(0).at(0).value<QVector<qint64>>(), inside);
        QCOMPARE(plot.selection(), inside);
        QVERIFY(plot.plot()->xAxis->range() == before);
    }

    void lassoFiltersTheList() {
        MONO_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        m_root = test::tempDir();
        auto built = test::buildUiWorkspace(m_root);
        QVERIFY2(built.ok(), qPrintable(QString::fromStdString(built.status().toString())));
        m_ws = *built;

        auto window = std::make_unique<MainWindow>();
        window->setRememberRecent(false);
        QStringList errors;
        window->setErrorReporter([&errors](const QString& t, const QString& m) {
            errors << t + QStringLiteral(": ") + m;
        });
        window->resize(1400, 900);
        window->show();
        QVERIFY(window->openWorkspace(qpath(m_ws.dir)));
        QVERIFY(QTest::qWaitFor([&] { return window->workspace()->store()->isOpen(); }, 30000));
        window->showView(QStringLiteral("features"));
        FeaturesView* view = window->featuresView();
        FeatureMapView* map = view->mapView();
        FeatureBrowser* browser = view->browser();
        view->showMap();
        QVERIFY(QTest::qWaitForWindowExposed(window.get()));

        // No map yet: the view says so and computes one on request.
        QVERIFY(!map->hasMap());
        QVERIFY(map->message().contains(QStringLiteral("No map")));
        QTest::mouseClick(map->computeButton(), Qt::LeftButton);
        QVERIFY(QTest::qWaitFor([&] { return !map->runner()->isBusy(); }, 120000));
        QVERIFY2(map->hasMap(), qPrintable(map->message()));
        QCOMPARE(map->plot()->pointCount(), int64_t(256));
        const auto stored = window->workspace()->store()->store()->featureMap();
        MONO_VERIFY_OK(stored.status());
        map->plot()->plot()->replot();

        // A lasso around the middle of the map, drawn with the lasso button on.
        const QRectF box = map->plot()->plot()->axisRect()->rect();
        const QPointF c = box.center();
        const double rx = box.width() * 0.22, ry = box.height() * 0.22;
        QPolygonF pixels;
        for (int k = 0; k < 24; ++k) {
            const double t = 2 * M_PI * k / 24, r = k % 2 ? 1.0 : 0.7;  // a star, not a box
            pixels << QPointF(std::round(c.x() + r * rx * std::cos(t)),
                              std::round(c.y() + r * ry * std::sin(t)));
        }
        const auto want = expectedInside(stored->xy, map->plot(), pixels);
        QVERIFY2(!want.empty() && want.size() < 256, qPrintable(QString::number(want.size())));
        map->lassoButton()->click();
        dragLasso(map->plot(), pixels, Qt::NoModifier);
        QCOMPARE(listedIds(browser->model()), want);
        QVERIFY(browser->hasMapSelection());
        QVERIFY(map->clearButton()->isEnabled());

        // Clicking a point (lasso off) selects its feature, in list and dashboard.
        map->lassoButton()->click();
        const qint64 target = want.front();
        const QPoint at = map->plot()->toPixel(map->plot()->position(target)).toPoint();
        const qint64 nearest = map->plot()->featureAt(at);
        QVERIFY(nearest >= 0);
        QTest::mouseClick(map->plot()->plot(), Qt::LeftButton, {}, at);
        QTRY_COMPARE(view->dashboard()->currentFeature(), nearest);
        QCOMPARE(map->plot()->currentFeature(), nearest);

        // Clear selection: the whole list again.
        QTest::mouseClick(map->clearButton(), Qt::LeftButton);
        QCOMPARE(browser->model()->rowCount(), 256);
        QVERIFY(!browser->hasMapSelection());
        QVERIFY(map->plot()->selection().isEmpty());

        // A lasso around nothing empties the list and says why.
        const QPointF corner = box.topLeft() + QPointF(2, 2);
        map->lassoButton()->click();
        dragLasso(map->plot(), QPolygonF({corner, corner + QPointF(3, 0), corner + QPointF(3, 3)}),
                  Qt::NoModifier);
        QCOMPARE(browser->model()->rowCount(), 0);
        QVERIFY(browser->emptyMessage().contains(QStringLiteral("lasso")));
        map->clearSelection();
        QCOMPARE(browser->model()->rowCount(), 256);

        // Colour modes: labelled-or-not is two colours.
        map->colourBox()->setCurrentIndex(2);
        QCOMPARE(map->plot()->plot()->graphCount(), 2 + 2);  // + selection and current marks
        QVERIFY(errors.isEmpty());

        // MONO_KEEP_WORKSPACE=DIR keeps a copy of the workspace, map included
        // (for `monoscope DIR --screenshot ... --shots feature-map`).
        const QString keep = qEnvironmentVariable("MONO_KEEP_WORKSPACE");
        if (!keep.isEmpty()) {
            std::error_code ec;
            fs::copy(m_ws.dir, keep.toStdString(), fs::copy_options::recursive, ec);
            QVERIFY2(!ec, ec.message().c_str());
        }
    }
};

QTEST_MAIN(TestFeatureMapView)
#include "test_feature_map_view.moc"
