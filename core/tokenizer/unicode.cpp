#include "core/tokenizer/unicode.h"

#include <algorithm>
#include <array>

namespace mono::tok::detail {
namespace {

constexpr std::array<CharClass, 128> makeAsciiTable() {
    std::array<CharClass, 128> t{};
    for (int c = 0; c < 128; ++c) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            t[c] = CharClass::kLetter;
        else if (c >= '0' && c <= '9')
            t[c] = CharClass::kNumber;
        else if (c == ' ' || (c >= 0x09 && c <= 0x0D))
            t[c] = CharClass::kSpace;
        else
            t[c] = CharClass::kOther;
    }
    // Unicode category P; $ + < = > ^ ` | ~ are symbols (S), not punctuation.
    for (char c : std::string_view("!\"#%&'()*,-./:;?@[\\]_{}"))
        t[static_cast<uint8_t>(c)] = CharClass::kPunct;
    return t;
}

constexpr std::array<CharClass, 128> kAscii = makeAsciiTable();

}  // namespace

uint32_t decodeUtf8(const char* s, size_t n, size_t i, int* len) {
    const auto b0 = static_cast<uint8_t>(s[i]);
    if (b0 < 0x80) {
        *len = 1;
        return b0;
    }
    int need;
    uint32_t cp;
    uint32_t min;
    if ((b0 & 0xE0) == 0xC0) {
        need = 1, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        need = 2, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        need = 3, cp = b0 & 0x07, min = 0x10000;
    } else {
        *len = 1;
        return kInvalidCodePoint;
    }
    if (n - i <= static_cast<size_t>(need)) {
        *len = 1;
        return kInvalidCodePoint;
    }
    for (int k = 1; k <= need; ++k) {
        const auto b = static_cast<uint8_t>(s[i + k]);
        if ((b & 0xC0) != 0x80) {
            *len = 1;
            return kInvalidCodePoint;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        *len = 1;
        return kInvalidCodePoint;
    }
    *len = need + 1;
    return cp;
}

bool isWhitespace(uint32_t cp) {
    if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

CharClass charClass(uint32_t cp) {
    if (cp < 0x80) return kAscii[cp];
    if (cp == kInvalidCodePoint) return CharClass::kOther;
    if (isWhitespace(cp)) return CharClass::kSpace;
    const UnicodeRange* end = kUnicodeRanges + kUnicodeRangeCount;
    const UnicodeRange* it = std::upper_bound(
        kUnicodeRanges, end, cp, [](uint32_t v, const UnicodeRange& r) { return v < r.start; });
    if (it == kUnicodeRanges) return CharClass::kOther;
    --it;
    return cp <= it->end ? it->cls : CharClass::kOther;
}

size_t findInvalidUtf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        int len;
        if (decodeUtf8(s.data(), s.size(), i, &len) == kInvalidCodePoint) return i;
        i += len;
    }
    return std::string_view::npos;
}

void appendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

}  // namespace mono::tok::detail
