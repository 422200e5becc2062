#include "ui/panels/features/dashboard_text.h"

#include <QObject>
#include <QStringList>

#include "core/sae/quality_record.h"
#include "ui/widgets/display_format.h"

namespace mono::ui {

namespace {

constexpr int kCaptionChars = 22;

QString escapedToken(const QString& token, int maxChars) {
    return visibleToken(token, maxChars)
        .toHtmlEscaped()
        .replace(QLatin1Char(' '), QStringLiteral("&nbsp;"));
}

// "#12 ‹label›" or "#12 “token”": a link that says what the feature is.
QString linkTo(qint64 id, const QHash<qint64, FeatureCaption>& captions) {
    const FeatureCaption c = captions.value(id);
    QString caption;
    if (!c.label.isEmpty()) {
        QString label = c.label;
        if (label.size() > kCaptionChars)
            label = label.left(kCaptionChars - 1) + QStringLiteral("…");
        caption = label.toHtmlEscaped();
    } else if (!c.topToken.isEmpty()) {
        caption = QStringLiteral("“%1”").arg(escapedToken(c.topToken, kCaptionChars));
    }
    return QStringLiteral("<a href='feature:%1'>#%1</a>%2")
        .arg(id)
        .arg(caption.isEmpty() ? QString() : QStringLiteral("&nbsp;") + caption);
}

}  // namespace

QString topTokenOf(const std::string& topSnippet) {
    const QString s = QString::fromStdString(topSnippet);
    const qsizetype open = s.indexOf(QStringLiteral("«"));
    const qsizetype close = open < 0 ? -1 : s.indexOf(QStringLiteral("»"), open + 1);
    if (open < 0 || close < 0) return {};
    return s.mid(open + 1, close - open - 1);
}

QString logitEffectsHtml(const std::vector<features::LogitEffect>& effects, bool positive) {
    if (effects.empty()) return QObject::tr("<i>not computed</i>");
    QString html = QStringLiteral("<table cellspacing='0' cellpadding='1'>");
    const QString color = positive ? QStringLiteral("#059669") : QStringLiteral("#dc2626");
    for (const features::LogitEffect& e : effects) {
        // A token that is not text on its own (a byte of a longer character) has no glyph: its id
        // says which.
        QString token = escapedToken(QString::fromStdString(e.text), kLogitTokenChars);
        if (e.text.empty() || QString::fromStdString(e.text).contains(QChar(0xFFFD)))
            token += QStringLiteral(" <span style='color:gray'>#%1</span>").arg(e.token);
        html += QStringLiteral(
                    "<tr><td><code>%1</code></td><td align='right' style='color:%2'>"
                    "&nbsp;&nbsp;%3</td></tr>")
                    .arg(token, color, formatFixed(e.value, 3));
    }
    return html + QStringLiteral("</table>");
}

QString neighbourLinksHtml(const std::vector<features::RelatedFeature>& neighbours,
                           const QHash<qint64, FeatureCaption>& captions) {
    if (neighbours.empty()) return QObject::tr("<i>none</i>");
    QStringList rows;
    for (const features::RelatedFeature& r : neighbours)
        rows.append(QStringLiteral("%1 <span style='color:gray'>cos %2</span>")
                        .arg(linkTo(r.id, captions), formatFixed(r.value, 2)));
    return rows.join(QStringLiteral("<br>"));
}

QString coFiringLinksHtml(const std::vector<features::CoFiringMeasure>& coFiring,
                          const QHash<qint64, FeatureCaption>& captions) {
    if (coFiring.empty()) return QObject::tr("<i>none</i>");
    QStringList rows;
    for (const features::CoFiringMeasure& m : coFiring)
        rows.append(QStringLiteral("%1 <span style='color:gray'>J %2 · %3 of its firings</span>")
                        .arg(linkTo(m.id, captions), formatFixed(m.jaccard, 2),
                             QString::number(m.share * 100, 'f', 0) + QStringLiteral(" %")));
    return rows.join(QStringLiteral("<br>"));
}

QString featureQualityText(const sae::QualityRecord* record, qint64 id) {
    if (!record || id < 0) return {};
    const auto i = static_cast<size_t>(id);
    QStringList parts;
    if (i < record->maxDecoderCosine.size())
        parts.append(QObject::tr("max decoder cosine %1")
                         .arg(static_cast<double>(record->maxDecoderCosine[i]), 0, 'f', 3));
    auto letter = [](int8_t l) { return QChar(QLatin1Char(static_cast<char>('a' + l))); };
    if (i < record->mainLetter.size() && record->mainLetter[i] >= 0)
        parts.append(
            QObject::tr("first-letter feature for ‘%1’").arg(letter(record->mainLetter[i])));
    if (i < record->absorbedCount.size() && record->absorbedCount[i] > 0 &&
        i < record->absorbedLetter.size() && record->absorbedLetter[i] >= 0) {
        const QChar l = letter(record->absorbedLetter[i]);
        const int n = record->absorbedCount[i];
        parts.append(n == 1 ? QObject::tr("absorbs ‘%1’ on 1 word").arg(l)
                            : QObject::tr("absorbs ‘%1’ on %2 words").arg(l).arg(n));
    } else if (i < record->absorbedCount.size())
        parts.append(QObject::tr("absorbs no first letter"));
    return parts.join(QStringLiteral(" · "));
}

}  // namespace mono::ui
