// bench_ui_feature_browser: how the explorer's feature browser and dashboard
// feel on a large store — 100k features written through core's feature store
// API — driven through the real widgets on the offscreen platform.
//
//   bench_ui_feature_browser [--features 100000] [--store PATH] [--reuse]
//
// Timed (medians), each including the synchronous repaint of what the user
// sees, so the figure is the time until the screen shows the answer:
//   sort      FeatureTableModel::sort on a column + the visible rows fetched and painted
//   filter    density range (a histogram bar), alive-only, text match, typed search
//   scroll    jumping to a far row (a page not yet fetched)
//   dashboard FeatureDashboard::showFeature on features with full example sets
//             (20 top + 50 interval examples of 24 tokens) + laid out and painted
// Most features carry a lighter record (10 top + 6 interval examples of 16
// tokens) so the store stays near 0.5 GB; the dashboard features carry the full one.

#include <QApplication>
#include <QHeaderView>
#include <QLineEdit>
#include <QTableView>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <random>

#include "bench/bench_common.h"
#include "core/features/feature_store.h"
#include "ui/main/style.h"
#include "ui/models/feature_table_model.h"
#include "ui/panels/features/feature_browser.h"
#include "ui/panels/features/feature_dashboard.h"
#include "ui/panels/features/features_view.h"
#include "ui/session/feature_store_handle.h"
#include "ui/widgets/density_histogram_view.h"

using namespace mono;
namespace fs = std::filesystem;

namespace {

bool hasFlag(int argc, char** argv, const char* name) {
    for (int i = 1; i < argc; ++i)
        if (!std::strcmp(argv[i], name)) return true;
    return false;
}

std::string option(int argc, char** argv, const char* name, const std::string& fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (!std::strcmp(argv[i], name)) return argv[i + 1];
    return fallback;
}

void check(const Status& st, const char* what) {
    if (!st.ok()) {
        std::fprintf(stderr, "%s: %s\n", what, st.toString().c_str());
        std::exit(1);
    }
}

// Made-up words with a Zipf-like frequency, so text filters have common and rare hits.
struct Words {
    std::vector<std::string> text;
    std::discrete_distribution<int> pick;
    Words() {
        const char* syllables[] = {"ka", "lo", "mi", "ru", "te", "sa",
                                   "no", "bi", "ge", "po", "vu", "da"};
        std::vector<double> weights;
        for (int i = 0; i < 1728; ++i) {
            std::string w = " ";
            w += syllables[i % 12];
            w += syllables[(i / 12) % 12];
            if (i >= 144) w += syllables[(i / 144) % 12];
            text.push_back(w);
            weights.push_back(1.0 / (i + 1));
        }
        pick = std::discrete_distribution<int>(weights.begin(), weights.end());
    }
};

void writeStore(const std::string& path, int64_t n, int64_t fullEvery) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix, ec);
    auto store = features::FeatureStore::open(path, features::FeatureStore::Mode::kReadWrite);
    check(store.status(), "open");
    features::RunInfo run;
    run.model = "synthetic";
    run.hook = "blocks.6.hook_resid_post";
    run.saeHash = "0";
    run.dIn = 768;
    run.dSae = n;
    run.tokensAnalysed = 10'000'000;
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> unit(0, 1);
    Words words;
    const double t0 = bench::nowSeconds();
    auto st = store->replaceAnalysis(run, n, [&](int64_t id, features::FeatureRecord* r) {
        const bool full = id % fullEvery == 0;
        const int ctx = full ? 24 : 16, top = full ? 20 : 10, bins = full ? 10 : 3,
                  perBin = full ? 5 : 2;
        const bool dead = unit(rng) < 0.03;
        const double logDensity = -6.0 + 5.5 * unit(rng);
        r->summary.density = dead ? 0 : std::pow(10.0, logDensity);
        r->summary.fireCount = static_cast<int64_t>(r->summary.density * 1e7);
        if (dead) return Status::success();
        r->summary.maxActivation = static_cast<float>(1 + 20 * unit(rng));
        r->summary.meanActivation = r->summary.maxActivation / 4;
        r->histogram.binWidth = r->summary.maxActivation / 64.0;
        r->histogram.counts.assign(64, 0);
        for (auto& c : r->histogram.counts) c = static_cast<int64_t>(1000 * unit(rng));
        r->intervalBinWidth = r->summary.maxActivation / bins;
        auto example = [&](int bin, int rank) {
            features::Example e;
            e.bin = bin;
            e.rank = rank;
            e.row = static_cast<int64_t>(unit(rng) * 1e7);
            e.tokenIndex = ctx - 4;
            for (int t = 0; t < ctx; ++t) {
                const int w = words.pick(rng);
                e.tokens.push_back(w);
                e.strings.push_back(words.text[static_cast<size_t>(w)]);
                e.values.push_back(t == e.tokenIndex ? r->summary.maxActivation
                                                     : (unit(rng) < 0.2 ? float(unit(rng)) : 0.f));
            }
            e.activation = r->summary.maxActivation;
            return e;
        };
        for (int k = 0; k < top; ++k) r->topExamples.push_back(example(-1, k));
        for (int b = 0; b < bins; ++b)
            for (int k = 0; k < perBin; ++k) r->intervalExamples.push_back(example(b, k));
        for (int k = 0; k < 10; ++k) {
            const int p = words.pick(rng), q = words.pick(rng);
            r->positiveLogits.push_back({p, words.text[static_cast<size_t>(p)], float(unit(rng))});
            r->negativeLogits.push_back({q, words.text[static_cast<size_t>(q)], -float(unit(rng))});
            r->neighbours.push_back({(id + k + 1) % n, float(unit(rng)), 0});
            r->coFiring.push_back({(id + 7 * k + 3) % n, float(unit(rng)), 10});
        }
        return Status::success();
    });
    check(st, "replaceAnalysis");
    for (int64_t id = 0; id < n; id += 211)
        check(store->setLabel(id, "label " + std::to_string(id)), "label");
    std::printf("wrote %lld features in %.1f s (%.0f MB)\n", (long long)n, bench::nowSeconds() - t0,
                fs::file_size(path) / 1e6);
}

// CPU seconds of this (the GUI) thread: on a machine shared with other jobs the
// wall time mostly measures the wait for a core; the thread's CPU time is what
// the same work costs on an idle machine (all of it runs on the GUI thread).
double threadCpuSeconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

struct Sample {
    double wall = 0, cpu = 0;
};

// Runs `fn`, then lets the widgets process what it posted (layout, paint) and
// repaints `paint`: the time until the screen shows the answer.
template <class Fn>
Sample timed(QWidget* paint, Fn fn) {
    const double w0 = bench::nowSeconds(), c0 = threadCpuSeconds();
    fn();
    QCoreApplication::sendPostedEvents();
    paint->repaint();
    return {bench::nowSeconds() - w0, threadCpuSeconds() - c0};
}

void report(const char* name, const std::vector<Sample>& samples) {
    std::vector<double> wall, cpu;
    for (const Sample& s : samples) {
        wall.push_back(s.wall);
        cpu.push_back(s.cpu);
    }
    const bench::Timing w = bench::summarize(wall), c = bench::summarize(cpu);
    std::printf(
        "%-22s GUI-thread CPU median %7.2f ms (max %7.2f)   wall median %7.2f ms (max %7.2f)  "
        "n=%d\n",
        name, c.median * 1e3, c.max * 1e3, w.median * 1e3, w.max * 1e3, w.reps);
    bench::printResult(std::string("ui_") + name + "_cpu", c.median * 1e3, "ms");
    bench::printResult(std::string("ui_") + name + "_wall", w.median * 1e3, "ms");
}

}  // namespace

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    ui::applyLightStyle(app);
    const int64_t n = std::stoll(option(argc, argv, "--features", "100000"));
    const std::string path = option(argc, argv, "--store", "/tmp/bench_ui_feature_browser.sqlite");
    const int64_t fullEvery = 1000;
    if (!hasFlag(argc, argv, "--reuse") || !fs::exists(path)) writeStore(path, n, fullEvery);
    std::printf("load average %.1f\n", bench::loadAverage());

    ui::FeatureStoreHandle handle;
    ui::FeaturesView view(&handle);
    view.resize(1400, 900);
    view.show();
    ui::FeatureBrowser* browser = view.browser();
    ui::FeatureTableModel* model = browser->model();
    QTableView* table = browser->table();
    QCoreApplication::processEvents();

    const Sample open =
        timed(table, [&] { check(handle.open(QString::fromStdString(path)), "open"); });
    std::printf("open store, first page and histogram: CPU %.1f ms, wall %.1f ms; %d rows\n",
                open.cpu * 1e3, open.wall * 1e3, model->rowCount());

    const int reps = 7;
    std::vector<Sample> sorts, sortsDesc, filters, texts, scrolls, dashboards, kinds;
    const int columns[] = {ui::FeatureTableModel::kDensityColumn, ui::FeatureTableModel::kMaxColumn,
                           ui::FeatureTableModel::kLabelColumn, ui::FeatureTableModel::kIdColumn};
    for (int r = 0; r < reps; ++r)
        for (int c : columns) {
            sorts.push_back(timed(table, [&] { table->sortByColumn(c, Qt::AscendingOrder); }));
            sortsDesc.push_back(timed(table, [&] { table->sortByColumn(c, Qt::DescendingOrder); }));
        }
    report("sort_ascending", sorts);
    report("sort_descending", sortsDesc);

    table->sortByColumn(ui::FeatureTableModel::kDensityColumn, Qt::DescendingOrder);
    ui::DensityHistogramView* histogram = browser->histogram();
    for (int r = 0; r < reps; ++r)
        for (int bar = 0; bar < histogram->barCount(); bar += 3) {
            filters.push_back(timed(table, [&] { histogram->selectBar(bar); }));
            filters.push_back(timed(table, [&] { histogram->clearSelection(); }));
        }
    report("filter_density_bar", filters);
    for (int r = 0; r < reps; ++r) {
        kinds.push_back(timed(table, [&] { browser->setKind(ui::FeatureBrowser::Kind::kAlive); }));
        kinds.push_back(
            timed(table, [&] { browser->setKind(ui::FeatureBrowser::Kind::kLabelled); }));
        kinds.push_back(timed(table, [&] { browser->setKind(ui::FeatureBrowser::Kind::kAll); }));
    }
    report("filter_kind", kinds);
    const char* queries[] = {"kalo", "miru", "tesa bino", "vupo", "label"};
    for (int r = 0; r < reps; ++r)
        for (const char* q : queries) {
            texts.push_back(timed(table, [&] {
                browser->searchBox()->setText(QString::fromLatin1(q));
                browser->applyFilterNow();
            }));
            texts.push_back(timed(table, [&] {
                browser->searchBox()->clear();
                browser->applyFilterNow();
            }));
        }
    report("filter_text", texts);

    std::mt19937 rng(3);
    for (int r = 0; r < 30; ++r) {
        const int row = std::uniform_int_distribution<int>(0, model->rowCount() - 1)(rng);
        scrolls.push_back(timed(table, [&] { table->scrollTo(model->index(row, 0)); }));
    }
    report("scroll_far", scrolls);

    ui::FeatureDashboard* dashboard = view.dashboard();
    for (int r = 0; r < 30; ++r) {
        const qint64 id = (r * 7 % (n / fullEvery)) * fullEvery;
        dashboards.push_back(timed(dashboard, [&] {
            if (!dashboard->showFeature(id))
                std::fprintf(stderr, "feature %lld not shown\n", (long long)id);
        }));
    }
    report("dashboard_open_full", dashboards);
    std::vector<Sample> light;
    for (int r = 0; r < 30; ++r) {
        const qint64 id = 1 + r * 3331 % (n - 1);
        light.push_back(timed(dashboard, [&] { dashboard->showFeature(id); }));
    }
    report("dashboard_open_light", light);
    std::printf("load average %.1f\n", bench::loadAverage());
    return 0;
}
