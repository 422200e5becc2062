#pragma once
// UTF-8 checks and repair, and timestamps: small text helpers every module uses.

#include <cstddef>
#include <string>
#include <string_view>

namespace mono {

// Length (1-4) of the strictly valid UTF-8 sequence starting at s[i], or 0 when
// the bytes there are not one (overlong forms, surrogates and values above
// U+10FFFF are invalid).
size_t utf8SequenceLength(std::string_view s, size_t i);

// True when every byte of `s` belongs to a strictly valid UTF-8 sequence.
bool isValidUtf8(std::string_view s);

// Valid UTF-8 as it is; each byte that does not start a valid sequence becomes
// U+FFFD, and NUL becomes U+FFFD too (it would cut C strings short), so the
// result is always safe for JSON, SQLite text and display.
std::string sanitizeUtf8(std::string_view bytes);

// The current time as "2026-11-29T08:30:00Z".
std::string isoNowUtc();

}  // namespace mono
