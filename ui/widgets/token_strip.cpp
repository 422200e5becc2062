#include "ui/widgets/token_strip.h"

#include <QApplication>
#include <QClipboard>
#include <QContextMenuEvent>
#include <QHelpEvent>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>
#include <cmath>
#include <limits>

namespace mono::ui {

namespace {
constexpr double kPadX = 0.5;  // inside a token's box: tokens of one word stay readable
constexpr double kGapY = 3.0;  // between lines
constexpr double kMargin = 2.0;
}  // namespace

TokenStrip::TokenStrip(QWidget* parent) : QWidget(parent) {
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Minimum);
    setMouseTracking(true);
}

void TokenStrip::setTokens(const QStringList& tokens, const QVector<float>& values, float scale,
                           int marked) {
    m_tokens = tokens;
    m_effects.clear();  // they belonged to the previous tokens
    m_values = values;
    m_values.resize(tokens.size());
    float top = 0;
    for (float v : m_values) top = std::max(top, v);
    m_scale = scale > 0 ? scale : (top > 0 ? top : 1.f);
    m_marked = marked;
    markHighlights();
    relayout();
}

void TokenStrip::setEffects(const QVector<float>& deltas) {
    m_effects = deltas;
    m_effects.resize(m_tokens.size(), std::numeric_limits<float>::quiet_NaN());
    m_effectScale = 0;
    for (float d : m_effects)
        if (std::isfinite(d)) m_effectScale = std::max(m_effectScale, std::abs(d));
    if (m_effectScale <= 0) m_effectScale = 1;
    update();
}

void TokenStrip::clearEffects() {
    if (m_effects.isEmpty()) return;
    m_effects.clear();
    update();
}

float TokenStrip::effect(int i) const {
    return i >= 0 && i < m_effects.size() ? m_effects[i] : std::numeric_limits<float>::quiet_NaN();
}

void TokenStrip::setHighlight(const QStringList& words) {
    m_highlightWords.clear();
    for (const QString& w : words)
        if (!w.trimmed().isEmpty()) m_highlightWords.append(w.trimmed());
    markHighlights();
    update();
}

void TokenStrip::markHighlights() {
    m_highlighted.fill(false, m_tokens.size());
    if (m_highlightWords.isEmpty()) return;
    const QString text = plainText();
    // Token i covers [start[i], start[i+1]) of the joined text.
    QVector<qsizetype> start(m_tokens.size() + 1, 0);
    for (int i = 0; i < m_tokens.size(); ++i) start[i + 1] = start[i] + m_tokens[i].size();
    for (const QString& word : m_highlightWords) {
        for (qsizetype at = text.indexOf(word, 0, Qt::CaseInsensitive); at >= 0;
             at = text.indexOf(word, at + 1, Qt::CaseInsensitive)) {
            const qsizetype end = at + word.size();
            for (int i = 0; i < m_tokens.size(); ++i)
                if (start[i] < end && start[i + 1] > at) m_highlighted[i] = true;
        }
    }
}

void TokenStrip::setCaption(const QString& caption) {
    m_caption = caption;
    relayout();
}

QColor TokenStrip::shade(const QColor& base, double strength) {
    // Orange reads as "hot" on both light and dark backgrounds.
    const QColor hot(0xf9, 0x73, 0x16);
    const double s = std::clamp(strength, 0.0, 1.0) * 0.85;
    return QColor::fromRgbF(static_cast<float>(base.redF() * (1 - s) + hot.redF() * s),
                            static_cast<float>(base.greenF() * (1 - s) + hot.greenF() * s),
                            static_cast<float>(base.blueF() * (1 - s) + hot.blueF() * s));
}

QString TokenStrip::displayText(const QString& token) {
    // Make whitespace visible without changing the width much.
    QString t = token;
    t.replace(QLatin1Char('\n'), QStringLiteral("↵"));
    t.replace(QLatin1Char('\t'), QStringLiteral("→"));
    if (t.isEmpty()) t = QStringLiteral("∅");
    return t;
}

void TokenStrip::measure() {
    const QFontMetricsF fm(font());
    m_lineHeight = fm.height() + 2;
    m_captionWidth = m_caption.isEmpty() ? 0 : fm.horizontalAdvance(m_caption) + 10;
    m_widths.resize(m_tokens.size());
    m_texts.resize(m_tokens.size());
    for (int i = 0; i < m_tokens.size(); ++i) {
        QStaticText& text = m_texts[i];
        text.setText(displayText(m_tokens[i]));
        text.setTextFormat(Qt::PlainText);
        text.setPerformanceHint(QStaticText::AggressiveCaching);
        text.prepare(QTransform(), font());
        m_widths[i] = text.size().width() + 2 * kPadX;
    }
    m_hfwWidth = -1;
}

int TokenStrip::layoutFor(int width, QVector<QRectF>* rects, QRectF* captionRect) const {
    double x = kMargin, y = kMargin;
    const double right = std::max(40.0, width - kMargin);
    *captionRect = {};
    if (m_captionWidth > 0) {
        *captionRect = QRectF(x, y, m_captionWidth, m_lineHeight);
        x += m_captionWidth;
    }
    if (rects) {
        rects->clear();
        rects->reserve(m_widths.size());
    }
    for (double w : m_widths) {
        if (x + w > right && x > kMargin + m_captionWidth) {
            x = kMargin + m_captionWidth;
            y += m_lineHeight + kGapY;
        }
        if (rects) rects->append(QRectF(x, y, w, m_lineHeight));
        x += w;
    }
    return static_cast<int>(y + m_lineHeight + kMargin + 0.999);
}

void TokenStrip::relayout() {
    measure();
    layoutFor(width(), &m_rects, &m_captionRect);
    updateGeometry();
    update();
}

void TokenStrip::changeEvent(QEvent* event) {
    if (event->type() == QEvent::FontChange) relayout();
    QWidget::changeEvent(event);
}

int TokenStrip::heightForWidth(int width) const {
    if (width != m_hfwWidth) {
        QRectF caption;
        m_hfwHeight = layoutFor(width, nullptr, &caption);
        m_hfwWidth = width;
    }
    return m_hfwHeight;
}

QSize TokenStrip::sizeHint() const {
    const int w = std::max(200, width());
    return {w, heightForWidth(w)};
}

QSize TokenStrip::minimumSizeHint() const {
    return {100, heightForWidth(std::max(100, width()))};
}

void TokenStrip::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    const int before = m_rects.isEmpty() ? 0 : static_cast<int>(m_rects.last().bottom());
    layoutFor(width(), &m_rects, &m_captionRect);
    const int after = m_rects.isEmpty() ? 0 : static_cast<int>(m_rects.last().bottom());
    if (before != after) updateGeometry();
}

void TokenStrip::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QPalette pal = palette();
    const QColor base = pal.color(QPalette::Base);
    const QColor text = pal.color(QPalette::Text);
    if (!m_caption.isEmpty()) {
        p.setPen(pal.color(QPalette::PlaceholderText));
        p.drawText(m_captionRect, Qt::AlignLeft | Qt::AlignVCenter, m_caption);
    }
    for (int i = 0; i < m_rects.size() && i < m_tokens.size(); ++i) {
        const QRectF r = m_rects[i];
        const double strength = m_values[i] > 0 ? m_values[i] / m_scale : 0.0;
        if (strength > 0) {
            p.setPen(Qt::NoPen);
            p.setBrush(shade(base, strength));
            p.drawRoundedRect(r.adjusted(0, 1, 0, -1), 2, 2);
        }
        if (i == m_marked) {
            p.setBrush(Qt::NoBrush);
            p.setPen(QPen(QColor(0xc2, 0x41, 0x0c), 1.2));
            p.drawRoundedRect(r.adjusted(0.5, 1.5, -0.5, -1.5), 2, 2);
        }
        if (m_highlighted.value(i, false)) {
            // A search match: underlined in the palette's highlight colour.
            p.setPen(QPen(pal.color(QPalette::Highlight), 2));
            p.drawLine(QPointF(r.left(), r.bottom() - 0.5), QPointF(r.right(), r.bottom() - 0.5));
        }
        const float delta = effect(i);
        if (std::isfinite(delta) && std::abs(delta) > 1e-4f) {
            // The token effect: red where ablating the feature lowers log p (it helped).
            QColor c = delta < 0 ? QColor(0xdc, 0x26, 0x26) : QColor(0x25, 0x63, 0xeb);
            c.setAlphaF(0.25 + 0.75 * std::min(1.0f, std::abs(delta) / m_effectScale));
            p.setPen(QPen(c, 3));
            p.drawLine(QPointF(r.left() + 1, r.bottom() - 1.5),
                       QPointF(r.right() - 1, r.bottom() - 1.5));
        }
        p.setPen(strength > 0.6 ? QColor(0x11, 0x18, 0x27) : text);
        const QStaticText& t = m_texts[i];
        p.drawStaticText(QPointF(r.x() + kPadX, r.y() + (r.height() - t.size().height()) / 2), t);
    }
}

int TokenStrip::tokenAt(const QPoint& pos) const {
    for (int i = 0; i < m_rects.size(); ++i)
        if (m_rects[i].contains(pos)) return i;
    return -1;
}

QString TokenStrip::toolTipFor(int i) const {
    if (i < 0 || i >= m_tokens.size()) return {};
    QString tip = tr("“%1”  activation %2").arg(displayText(m_tokens[i])).arg(value(i), 0, 'f', 3);
    const float delta = effect(i);
    if (std::isfinite(delta))
        tip += tr("\nAblating the feature: Δ log p %1%2")
                   .arg(delta >= 0 ? QStringLiteral("+") : QString())
                   .arg(delta, 0, 'f', 3);
    return tip;
}

bool TokenStrip::event(QEvent* event) {
    if (event->type() == QEvent::Enter) emit hovered();
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const int i = tokenAt(help->pos());
        if (i >= 0)
            QToolTip::showText(help->globalPos(), toolTipFor(i), this, m_rects[i].toRect());
        else
            QToolTip::hideText();
        return true;
    }
    return QWidget::event(event);
}

void TokenStrip::contextMenuEvent(QContextMenuEvent* event) {
    QMenu menu(this);
    menu.addAction(tr("Copy the text"), this,
                   [this] { QApplication::clipboard()->setText(plainText()); });
    const int i = tokenAt(event->pos());
    if (i >= 0)
        menu.addAction(tr("Copy the token “%1”").arg(displayText(m_tokens[i])), this,
                       [this, i] { QApplication::clipboard()->setText(m_tokens[i]); });
    menu.exec(event->globalPos());
}

void TokenStrip::mousePressEvent(QMouseEvent* event) {
    const int i = tokenAt(event->position().toPoint());
    if (i >= 0) emit tokenClicked(i);
    QWidget::mousePressEvent(event);
}

}  // namespace mono::ui
