// bench_ui_feature_map: how the feature map's scatter feels at 100 k points,
// on the offscreen platform at 1200 × 800 (the widget the Map tab shows).
//
//   bench_ui_feature_map [--points 100000]
//
// Positions: 1000 Gaussian blobs (what a UMAP layout of clustered features
// looks like), coloured in 9 bins as the density colouring does. Timed,
// medians over repetitions:
//   set       FeatureMapPlot::setPoints (graphs built, sorted by x)
//   replot    a full synchronous replot of every point (the whole map in view)
//   zoomed    a replot zoomed in 4× on the centre (a wheel step or a pan)
//   lasso     the points inside a 64-vertex lasso around a quarter of the map
//   hit       the feature under the mouse (a click)

#include <QApplication>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>

#include <qcustomplot.h>

#include "bench/bench_common.h"
#include "ui/panels/features/map_colouring.h"
#include "ui/widgets/feature_map_plot.h"

using namespace mono;

namespace {

// CPU seconds of the calling thread: what the work costs on an idle core, as
// all of it runs on the GUI thread (wall times on a shared machine mostly
// measure the wait for a core).
double threadCpuSeconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Median wall and GUI-thread CPU milliseconds of `fn` over `reps` calls.
template <class F>
void timeBoth(const char* name, F&& fn, int reps) {
    fn();
    std::vector<double> wall, cpu;
    for (int r = 0; r < reps; ++r) {
        const double w0 = bench::nowSeconds(), c0 = threadCpuSeconds();
        fn();
        wall.push_back(bench::nowSeconds() - w0);
        cpu.push_back(threadCpuSeconds() - c0);
    }
    bench::printResult(std::string(name) + "_ms", 1e3 * bench::summarize(wall).median, "ms");
    bench::printResult(std::string(name) + "_cpu_ms", 1e3 * bench::summarize(cpu).median, "ms");
}

}  // namespace

int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    int64_t points = 100000;
    for (int i = 1; i + 1 < argc; ++i)
        if (!std::strcmp(argv[i], "--points")) points = std::atoll(argv[i + 1]);

    std::mt19937_64 rng(5);
    std::uniform_real_distribution<float> centre(0.f, 40.f);
    std::normal_distribution<float> spread(0.f, 0.4f);
    std::vector<float> xy(static_cast<size_t>(2 * points));
    std::vector<float> cx(1000), cy(1000);
    for (int c = 0; c < 1000; ++c) cx[c] = centre(rng), cy[c] = centre(rng);
    std::vector<int> bins(static_cast<size_t>(points));
    for (int64_t i = 0; i < points; ++i) {
        const int64_t c = i % 1000;
        xy[2 * i] = cx[c] + spread(rng);
        xy[2 * i + 1] = cy[c] + spread(rng);
        bins[i] = static_cast<int>(c % 9);
    }
    QVector<QColor> colours;
    for (int b = 0; b < 9; ++b) colours << ui::viridis(b / 8.0);

    ui::FeatureMapPlot plot;
    plot.resize(1200, 800);
    plot.show();
    app.processEvents();
    std::printf("feature map scatter: %lld points, %d colour bins, 1200x800 offscreen\n",
                (long long)points, int(colours.size()));

    timeBoth(
        "map_set_points", [&] { plot.setPoints(xy, bins, colours); }, 5);
    QCustomPlot* p = plot.plot();
    timeBoth(
        "map_replot", [&] { p->replot(QCustomPlot::rpImmediateRefresh); }, 10);
    p->xAxis->setRange(15, 25);
    p->yAxis->setRange(15, 25);
    timeBoth(
        "map_replot_zoomed", [&] { p->replot(QCustomPlot::rpImmediateRefresh); }, 10);
    plot.resetZoom();
    p->replot(QCustomPlot::rpImmediateRefresh);

    QPolygonF lasso;
    for (int k = 0; k < 64; ++k) {
        const double t = 2 * M_PI * k / 64;
        lasso << QPointF(20 + 11.3 * std::cos(t), 20 + 11.3 * std::sin(t));
    }
    QVector<qint64> inside;
    timeBoth(
        "map_lasso", [&] { inside = plot.featuresInside(lasso); }, 10);
    std::printf("lasso holds %lld points\n", (long long)inside.size());
    const QPointF at = plot.toPixel({xy[0], xy[1]});
    timeBoth(
        "map_click", [&] { (void)plot.featureAt(at); }, 10);
    return 0;
}
