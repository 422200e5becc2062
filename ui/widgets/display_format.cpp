#include "ui/widgets/display_format.h"

#include <algorithm>
#include <cmath>

namespace mono::ui {

QString formatDensity(double density) {
    if (!(density > 0)) return QStringLiteral("0 %");
    const double pct = density * 100.0;
    // Decimals enough for three significant digits, so that small densities
    // keep their unit instead of switching to an exponent.
    const int decimals = std::clamp(2 - static_cast<int>(std::floor(std::log10(pct))), 0, 8);
    if (pct < 1e-8) return QStringLiteral("< 0.00000001 %");
    QString text = QString::number(pct, 'f', decimals);
    if (text.contains(QLatin1Char('.'))) {
        while (text.endsWith(QLatin1Char('0'))) text.chop(1);
        if (text.endsWith(QLatin1Char('.'))) text.chop(1);
    }
    return text + QStringLiteral(" %");
}

QString formatActivation(double value) {
    return formatFixed(value, std::fabs(value) < 10 ? 3 : 2);
}

QString formatFixed(double value, int decimals) {
    const double unit = std::pow(10.0, -decimals);
    if (std::fabs(value) < unit / 2) value = 0.0;  // drops the sign of a rounded-away negative
    return QString::number(value, 'f', decimals);
}

QString visibleToken(const QString& token, int maxChars) {
    if (token.isEmpty()) return QStringLiteral("∅");
    QString t = token;
    // Spaces inside a word-bearing token read as spaces; a token of nothing
    // but whitespace would read as a blank, so its spaces become ␣.
    if (t.trimmed().isEmpty()) t.replace(QLatin1Char(' '), QStringLiteral("␣"));
    t.replace(QLatin1Char('\n'), QStringLiteral("↵"));
    t.replace(QLatin1Char('\t'), QStringLiteral("→"));
    t.replace(QChar(0xFFFD), QStringLiteral("⟨byte⟩"));
    if (maxChars > 1 && t.size() > maxChars) {
        const qsizetype head = (maxChars - 1) / 2 + (maxChars - 1) % 2;
        const qsizetype tail = maxChars - 1 - head;
        t = t.left(head) + QStringLiteral("…") + t.right(tail);
    }
    return t;
}

}  // namespace mono::ui
