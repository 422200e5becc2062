#pragma once
// TokenStrip: a run of tokens drawn as text, each token's background shaded by
// a value (a feature's activation on it), wrapping like a paragraph. Hovering
// a token shows its text and value. Used for dashboard examples and the
// prompt inspector's heatmap. Optional token effects (the change of each
// token's log-probability when the feature is ablated) are drawn as a thin
// bar under the token — red where the feature helped predict it, blue where
// it hurt — and added to the token's tooltip.

#include <QRectF>
#include <QStaticText>
#include <QStringList>
#include <QVector>
#include <QWidget>

namespace mono::ui {

class TokenStrip : public QWidget {
    Q_OBJECT
public:
    explicit TokenStrip(QWidget* parent = nullptr);

    // `values` has one entry per token (missing ones count as 0); shading is
    // value / `scale` (scale ≤ 0: the largest value). `marked` (-1: none) is
    // outlined: the example's own token.
    void setTokens(const QStringList& tokens, const QVector<float>& values, float scale = 0,
                   int marked = -1);
    // An optional caption drawn before the tokens ("3.21").
    void setCaption(const QString& caption);
    // Underlines the tokens that are part of a case-insensitive match of any of
    // `words` in the strip's text (search matches); empty: none.
    void setHighlight(const QStringList& words);
    bool isHighlighted(int i) const { return m_highlighted.value(i, false); }
    // One Δ log p per token (NaN: none), from core/steer/token_effects.h.
    void setEffects(const QVector<float>& deltas);
    void clearEffects();
    bool hasEffects() const { return !m_effects.isEmpty(); }
    // Token i's Δ log p, NaN when there is none.
    float effect(int i) const;

    int tokenCount() const { return static_cast<int>(m_tokens.size()); }
    QString token(int i) const { return m_tokens.value(i); }
    float value(int i) const { return i >= 0 && i < m_values.size() ? m_values[i] : 0.f; }
    // The tokens' text joined, as the strip reads.
    QString plainText() const { return m_tokens.join(QString()); }
    // The token under `pos`, or -1.
    int tokenAt(const QPoint& pos) const;
    // What hovering token `i` shows.
    QString toolTipFor(int i) const;
    // The shade of a value in 0..1 over `base`.
    static QColor shade(const QColor& base, double strength);

    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override;
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

signals:
    void tokenClicked(int index);
    // The pointer entered the strip (owners compute token effects lazily on it).
    void hovered();

protected:
    void paintEvent(QPaintEvent* event) override;
    bool event(QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void contextMenuEvent(QContextMenuEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    static QString displayText(const QString& token);
    // Lays out the tokens in `width`; returns the height used.
    int layoutFor(int width, QVector<QRectF>* rects, QRectF* captionRect) const;
    void relayout();
    void markHighlights();
    // Text measurement is the expensive part of layout, and layouts ask for
    // heightForWidth many times: widths are measured once per text and font.
    void measure();

    QStringList m_tokens;
    QVector<float> m_values;
    float m_scale = 1;
    int m_marked = -1;
    QStringList m_highlightWords;
    QVector<bool> m_highlighted;  // per token
    QVector<float> m_effects;     // per token Δ log p, or empty
    float m_effectScale = 1;      // the largest |Δ|
    QString m_caption;
    QVector<QStaticText> m_texts;  // shaped once, drawn many times
    QVector<double> m_widths;      // each token's box width
    double m_captionWidth = 0;
    double m_lineHeight = 0;
    mutable int m_hfwWidth = -1, m_hfwHeight = 0;  // the last heightForWidth answer
    QVector<QRectF> m_rects;
    QRectF m_captionRect;
};

}  // namespace mono::ui
