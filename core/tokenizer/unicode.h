#pragma once
// UTF-8 and the few Unicode character classes the pre-tokenizers need. Internal to
// core/tokenizer. Invalid UTF-8 never stops a scanner: a bad byte reads as one
// code point of class kOther and length 1.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mono::tok::detail {

enum class CharClass : uint8_t { kOther, kLetter, kNumber, kPunct, kSpace };

struct UnicodeRange {
    uint32_t start;
    uint32_t end;  // inclusive
    CharClass cls;
};

extern const char* const kUnicodeVersion;
extern const UnicodeRange kUnicodeRanges[];
extern const size_t kUnicodeRangeCount;

constexpr uint32_t kInvalidCodePoint = 0xFFFFFFFFu;

// Decodes the code point starting at s[i] (i < n). Sets *len to its byte length
// (1 for an invalid or truncated sequence, which returns kInvalidCodePoint).
uint32_t decodeUtf8(const char* s, size_t n, size_t i, int* len);

// Unicode White_Space (what \s means in the GPT-2 regex).
bool isWhitespace(uint32_t cp);

// kLetter (\p{L}), kNumber (\p{N}), kSpace (\s); kPunct (\p{P}) only when no other
// applies. ASCII is a table lookup.
CharClass charClass(uint32_t cp);

// Byte offset of the first invalid UTF-8 sequence, or npos when valid.
size_t findInvalidUtf8(std::string_view s);

void appendUtf8(std::string& out, uint32_t cp);

}  // namespace mono::tok::detail
