// The Outliers tab of the Quantization view on a model with planted outlier
// channels (a random Llama; no shared data needed): the heatmap has the
// input's dimensions, the outlier table is sorted by ratio with the planted
// channels on top, selecting a row moves both plots to that channel (sorted
// or not), the rotation toggle changes the maxima drawn (and flattens them),
// the heatmap hover names token, channel and value, and export writes every
// plot and table. Offscreen; with MONO_SCREENSHOT_DIR set it saves the panel.

#include <QCheckBox>
#include <QTableWidget>
#include <QtTest>

#include <qcustomplot.h>
#include <algorithm>
#include <random>

#include "core/model/model.h"
#include "core/quant/outliers.h"
#include "core/quant/planted.h"
#include "core/quant/report.h"
#include "core/sae/sae.h"
#include "tests/support/test_support.h"
#include "ui/panels/quant/attention_sink_plot.h"
#include "ui/panels/quant/channel_feature_list.h"
#include "ui/panels/quant/outlier_panel.h"
#include "ui/panels/quant/report_panel.h"

using namespace mono;

namespace {
std::shared_ptr<const quant::OutlierData> plantedData() {
    const model::ModelConfig cfg = model::llamaConfig(
        "planted", {.dModel = 64, .nLayers = 2, .nHeads = 4, .nKvHeads = 2, .dMlp = 128});
    auto base = model::Model::random(cfg, 11);
    if (!base.ok()) return nullptr;
    auto w = (*base)->weights();
    if (!quant::plantOutlierChannels(w, cfg, {}).ok()) return nullptr;
    auto planted = model::Model::fromWeights(cfg, w);
    if (!planted.ok()) return nullptr;
    std::mt19937 rng(3);
    std::vector<std::vector<model::TokenId>> windows(4, std::vector<model::TokenId>(48));
    for (auto& win : windows)
        for (auto& t : win) t = model::TokenId(rng() % 256);
    auto d = quant::buildOutlierData(**planted, windows, nullptr, 40);
    return d.ok() ? std::make_shared<const quant::OutlierData>(std::move(*d)) : nullptr;
}
}  // namespace

class TestUiOutliers : public QObject {
    Q_OBJECT
private slots:
    void panelShowsPlantedOutliers();
    void reportPanelShowsEveryConfig();
    void attentionSinkMap();
    void plantedFeatureWritesTheChannel();
};

void TestUiOutliers::panelShowsPlantedOutliers() {
    auto data = plantedData();
    QVERIFY(data);
    ui::OutlierPanel panel;
    panel.resize(1200, 800);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    panel.setData(data);

    // Heatmap: 64 channels × 40 tokens.
    QCOMPARE(panel.heatmap()->data()->keySize(), 64);
    QCOMPARE(panel.heatmap()->data()->valueSize(), 40);
    QCOMPARE(panel.shownMaxima().size(), size_t(64));

    // The table: sorted by ratio, the planted channels first.
    QTableWidget* t = panel.outlierTable();
    QCOMPARE(t->rowCount(), 64);
    for (int r = 1; r < t->rowCount(); ++r)
        QVERIFY(t->item(r - 1, 2)->text().toDouble() >= t->item(r, 2)->text().toDouble());
    std::vector<int> top;
    for (int r = 0; r < 3; ++r) top.push_back(t->item(r, 0)->text().toInt());
    std::sort(top.begin(), top.end());
    QCOMPARE(top, (std::vector<int>{3, 17, 40}));
    QVERIFY(t->item(0, 4)->text().contains(QStringLiteral("0")));  // stands out in layer 0

    // Selecting a row moves both plots to its channel, unsorted and sorted.
    t->selectRow(1);
    const int ch = t->item(1, 0)->text().toInt();
    QCOMPARE(panel.channel(), ch);
    QCOMPARE(panel.channelColumn(), ch);
    panel.sortedToggle()->setChecked(true);
    QCOMPARE(panel.channel(), ch);
    QVERIFY(panel.channelColumn() < 3);  // a planted channel sorts among the first three
    bool marked = false;
    for (int i = 0; i < panel.maximaPlot()->itemCount(); ++i)
        if (auto* l = qobject_cast<QCPItemStraightLine*>(panel.maximaPlot()->item(i)))
            marked |= l->visible() && int(l->point1->coords().x()) == panel.channelColumn();
    QVERIFY(marked);
    panel.sortedToggle()->setChecked(false);

    // Hover on the heatmap names the token, channel and value.
    const QRect area = panel.heatmapPlot()->axisRect()->rect();
    const QString hover = panel.heatmapHoverText(QPointF(area.center()));
    QVERIFY2(hover.contains(QStringLiteral("channel")), qPrintable(hover));
    QVERIFY(panel.heatmapHoverText(QPointF(-5, -5)).isEmpty());

    // The rotation toggle shows the rotated model's input: other, flatter maxima.
    const std::vector<float> before = panel.shownMaxima();
    QVERIFY(panel.rotationToggle()->isEnabled());
    panel.rotationToggle()->setChecked(true);
    const std::vector<float> after = panel.shownMaxima();
    QCOMPARE(after.size(), before.size());
    QVERIFY(after != before);
    auto ratio = [](std::vector<float> v) {
        const float mx = *std::max_element(v.begin(), v.end());
        std::nth_element(v.begin(), v.begin() + long(v.size() / 2), v.end());
        return mx / v[v.size() / 2];
    };
    qInfo("max/median channel: %.1f before rotation, %.1f after", ratio(before), ratio(after));
    QVERIFY(ratio(after) < ratio(before) / 4);

    // Export: four plots as PNG and SVG, three CSV tables.
    const auto dir = test::tempDir() / "export";
    const QStringList files = panel.exportTo(QString::fromStdString(dir.string()));
    QCOMPARE(files.size(), 11);
    for (const QString& f : files) QVERIFY2(QFileInfo(f).size() > 0, qPrintable(f));
    const QString csv = QString::fromStdString(test::readFile(dir / "outliers.csv"));
    QVERIFY(csv.startsWith(QStringLiteral("channel,")));
    QCOMPARE(csv.count(QLatin1Char('\n')), 65);

    if (qEnvironmentVariableIsSet("MONO_SCREENSHOT_DIR")) {
        panel.rotationToggle()->setChecked(false);
        panel.grab().save(QDir(qEnvironmentVariable("MONO_SCREENSHOT_DIR"))
                              .filePath(QStringLiteral("quant-outliers-planted.png")));
    }
}

// The End-to-end tab: its controls make the spec, a report fills the table and
// both bar charts (one bar per quantized configuration), export writes them.
void TestUiOutliers::reportPanelShowsEveryConfig() {
    ui::ReportPanel panel;
    panel.resize(1200, 700);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    panel.schemeBox()->setCurrentText(QStringLiteral("O2"));
    panel.weightsBox()->setCurrentText(QStringLiteral("per-tensor"));
    panel.alphaMode()->setCurrentIndex(2);
    quant::QuantReportSpec spec = panel.spec();
    QCOMPARE(spec.scheme.act, quant::ActScheme::kPerTensorDynamic);
    QCOMPARE(spec.scheme.weight, quant::WeightScheme::kPerTensor);
    QVERIFY(spec.autoAlpha);
    QCOMPARE(spec.rotation, quant::RotationKind::kHadamard);

    const model::ModelConfig cfg = model::llamaConfig(
        "planted", {.dModel = 64, .nLayers = 1, .nHeads = 4, .nKvHeads = 2, .dMlp = 128});
    auto base = model::Model::random(cfg, 5);
    MONO_VERIFY_RESULT(base);
    std::mt19937 rng(4);
    std::vector<std::vector<model::TokenId>> cw(2, std::vector<model::TokenId>(32)), ew = cw;
    for (auto* set : {&cw, &ew})
        for (auto& win : *set)
            for (auto& t : win) t = model::TokenId(rng() % 256);
    auto calib = quant::calibrate(**base, cw);
    MONO_VERIFY_RESULT(calib);
    spec.autoAlpha = false;
    auto rep = quant::buildQuantReport(**base, *calib, cw, ew, spec);
    MONO_VERIFY_RESULT(rep);
    panel.setReport(std::make_shared<const quant::QuantReport>(std::move(*rep)));
    QCOMPARE(panel.table()->rowCount(), 16);  // fp32 + 15 quantized configurations
    QCOMPARE(panel.table()->item(0, 0)->text(), QStringLiteral("fp32"));
    QCOMPARE(panel.klPlot()->plottable(0)->interface1D()->dataCount(), 15);
    QCOMPARE(panel.top1Plot()->plottable(0)->interface1D()->dataCount(), 15);
    const auto dir = test::tempDir() / "report";
    const QStringList files = panel.exportTo(QString::fromStdString(dir.string()));
    QCOMPARE(files.size(), 5);
    QCOMPARE(
        QString::fromStdString(test::readFile(dir / "end_to_end.csv")).count(QLatin1Char('\n')),
        17);
}

// The attention-sink map: one cell per (head, layer), the core's numbers,
// and a hover that names them.
void TestUiOutliers::attentionSinkMap() {
    auto data = plantedData();
    QVERIFY(data);
    QVERIFY2(data->sinksNote.empty(), data->sinksNote.c_str());
    QCOMPARE(data->sinks.layers, 2);
    QCOMPARE(data->sinks.heads, 4);
    ui::OutlierPanel panel;
    panel.resize(1400, 800);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    panel.setData(data);
    QCPColorMap* map = panel.sinkPlot()->map();
    QCOMPARE(map->data()->keySize(), 4);
    QCOMPARE(map->data()->valueSize(), 2);
    for (int L = 0; L < 2; ++L)
        for (int h = 0; h < 4; ++h) {
            const double v = map->data()->cell(h, L);
            QCOMPARE(v, double(data->sinks.at(L, h)));
            QVERIFY(v > 0 && v <= 1);
        }
    const QRect area = panel.sinkPlot()->axisRect()->rect();
    const QString hover = panel.sinkPlot()->hoverText(QPointF(area.center()));
    QVERIFY2(hover.contains(QStringLiteral("first token")), qPrintable(hover));
}

// Outliers meet features: an SAE whose feature 21 writes planted channel 17
// hardest lists it first when that channel's row is selected, and activating
// it asks for that feature's dashboard.
void TestUiOutliers::plantedFeatureWritesTheChannel() {
    auto data = plantedData();
    QVERIFY(data);
    const int64_t dIn = 64, dSae = 48;
    std::mt19937 rng(8);
    std::normal_distribution<float> n(0.0f, 0.05f);
    Matrix wEnc(dIn, dSae), wDec(dSae, dIn);
    for (int64_t i = 0; i < wEnc.size(); ++i) wEnc.data()[i] = n(rng);
    for (int64_t i = 0; i < wDec.size(); ++i) wDec.data()[i] = n(rng);
    wDec(21, 17) = 2.0f;
    sae::SaeConfig cfg;
    cfg.dIn = dIn;
    cfg.dSae = dSae;
    cfg.metadata.hookName = "blocks.0.hook_resid_post";
    auto sae = sae::Sae::create(cfg, wEnc, wDec, Vector::Zero(dSae), Vector::Zero(dIn));
    MONO_VERIFY_RESULT(sae);

    ui::OutlierPanel panel;
    panel.resize(1400, 900);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    panel.setData(data);
    QTableWidget* list = panel.featureList()->table();
    QCOMPARE(list->rowCount(), 0);  // no SAE yet
    panel.setFeatureSource(std::make_shared<const sae::Sae>(std::move(*sae)), nullptr,
                           QStringLiteral("planted-sae"));
    QTableWidget* t = panel.outlierTable();
    int row = -1;
    for (int r = 0; r < t->rowCount(); ++r)
        if (t->item(r, 0)->text() == QStringLiteral("17")) row = r;
    QVERIFY(row >= 0);
    t->selectRow(row);
    QCOMPARE(panel.channel(), 17);
    QCOMPARE(list->rowCount(), 10);
    QCOMPARE(list->item(0, 0)->text(), QStringLiteral("21"));
    QCOMPARE(list->item(0, 2)->text().toDouble(), 2.0);
    QVERIFY(panel.featureList()->message().contains(QStringLiteral("channel 17")));

    QSignalSpy spy(&panel, &ui::OutlierPanel::featureRequested);
    list->setFocus();
    list->setCurrentCell(0, 0);
    QTest::keyClick(list, Qt::Key_Return);  // activates the row, as a double-click does
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.front().front().toLongLong(), qint64(21));

    // The rotated basis is not the decoder's: the list empties.
    panel.rotationToggle()->setChecked(true);
    QCOMPARE(list->rowCount(), 0);
    panel.rotationToggle()->setChecked(false);
    QCOMPARE(list->item(0, 0)->text(), QStringLiteral("21"));

    // An SAE of another width is refused with a message naming both widths.
    sae::SaeConfig narrow = cfg;
    narrow.dIn = 32;
    auto other = sae::Sae::create(narrow, Matrix::Zero(32, dSae), Matrix::Zero(dSae, 32),
                                  Vector::Zero(dSae), Vector::Zero(32));
    MONO_VERIFY_RESULT(other);
    panel.setFeatureSource(std::make_shared<const sae::Sae>(std::move(*other)), nullptr,
                           QStringLiteral("narrow"));
    QCOMPARE(list->rowCount(), 0);
    QVERIFY2(panel.featureList()->message().contains(QStringLiteral("width 32")),
             qPrintable(panel.featureList()->message()));
}

QTEST_MAIN(TestUiOutliers)
#include "test_ui_outliers.moc"
