#pragma once
// How numbers and tokens read everywhere in the GUI, so that one quantity has
// one form: density always in percent, whitespace tokens made visible with the
// glyphs the example strips use, long tokens elided, no "-0.000".

#include <QString>

namespace mono::ui {

// A firing density (a fraction, 0..1) as a percentage with about three
// significant digits and never an exponent: 0.154 → "15.4 %", 3.9e-5 →
// "0.0039 %". 0 → "0 %".
QString formatDensity(double density);
// An activation value: three decimals below 10, two above.
QString formatActivation(double value);
// `value` with `decimals` decimals; a value that rounds to zero prints without
// a sign ("0.000", never "-0.000").
QString formatFixed(double value, int decimals);

// A token as it should read on its own (in a list, a tooltip): newline ↵,
// tab →, a token of only spaces as ␣ per space, "" as ∅, and the replacement
// character U+FFFD (a byte that is not UTF-8 on its own) as "⟨byte⟩".
// Longer than `maxChars` (> 0): elided in the middle with "…".
QString visibleToken(const QString& token, int maxChars = 0);

}  // namespace mono::ui
