#include "ui/panels/features/map_colouring.h"

#include <QCoreApplication>

#include <algorithm>
#include <cmath>

namespace mono::ui {
namespace {

constexpr int kScaleBins = 8;

QString tr(const char* text) {
    return QCoreApplication::translate("MapColouring", text);
}

// Eight viridis bins over log10(value) of the features with value > 0, bin 8 grey.
MapColouring byLogValue(const std::vector<double>& values, const QString& what) {
    MapColouring c;
    double lo = INFINITY, hi = -INFINITY;
    for (double v : values)
        if (v > 0) lo = std::min(lo, std::log10(v)), hi = std::max(hi, std::log10(v));
    for (int b = 0; b < kScaleBins; ++b) c.colours << viridis((b + 0.5) / kScaleBins);
    c.colours << QColor(150, 150, 150, 160);
    const double width = hi > lo ? (hi - lo) / kScaleBins : 1.0;
    c.bins.reserve(values.size());
    for (double v : values) {
        if (!(v > 0)) {
            c.bins.push_back(kScaleBins);
            continue;
        }
        const int b = static_cast<int>((std::log10(v) - lo) / width);
        c.bins.push_back(std::clamp(b, 0, kScaleBins - 1));
    }
    c.caption = std::isfinite(lo)
                    ? tr("%1: log10 from %2 (purple) to %3 (yellow); grey: never fired")
                          .arg(what)
                          .arg(lo, 0, 'f', 1)
                          .arg(hi, 0, 'f', 1)
                    : tr("%1: no feature fired").arg(what);
    return c;
}

}  // namespace

QColor viridis(double t) {
    // Five anchors of viridis, linearly interpolated (QCustomPlot 2.1.0 has no preset).
    static const QColor kStops[] = {
        {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
    const double x = std::clamp(t, 0.0, 1.0) * 4.0;
    const int i = std::min(3, static_cast<int>(x));
    const double f = x - i;
    const QColor& a = kStops[i];
    const QColor& b = kStops[i + 1];
    return QColor::fromRgbF(float(a.redF() + f * (b.redF() - a.redF())),
                            float(a.greenF() + f * (b.greenF() - a.greenF())),
                            float(a.blueF() + f * (b.blueF() - a.blueF())));
}

MapColouring colourFeatures(const std::vector<features::FeatureSummary>& summaries, MapColour by) {
    if (by == MapColour::kLabel) {
        MapColouring c;
        c.colours << QColor(150, 150, 150, 160) << QColor(230, 120, 20);
        for (const auto& s : summaries) c.bins.push_back(s.label.empty() ? 0 : 1);
        c.caption = tr("orange: labelled; grey: not labelled");
        return c;
    }
    std::vector<double> values;
    values.reserve(summaries.size());
    for (const auto& s : summaries)
        values.push_back(by == MapColour::kDensity ? s.density : double(s.maxActivation));
    return byLogValue(values, by == MapColour::kDensity ? tr("density") : tr("max activation"));
}

}  // namespace mono::ui
