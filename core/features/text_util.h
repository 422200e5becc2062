#pragma once
// Text helpers shared by the feature analysis, store and exports (internal).

#include <string>
#include <string_view>

namespace mono::features {

// Valid UTF-8 as it is; every byte that does not start or continue a valid
// sequence becomes U+FFFD, so the result is always safe for JSON and FTS5.
std::string sanitizeUtf8(std::string_view bytes);

// "2026-11-29T08:30:00Z"
std::string isoNowUtc();

}  // namespace mono::features
