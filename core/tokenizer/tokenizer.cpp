#include "core/tokenizer/tokenizer.h"

#include "core/tokenizer/unicode.h"

namespace mono::tok {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Byte length a UTF-8 lead byte announces; 0 for a byte that cannot start one.
int announcedLength(uint8_t b) {
    if (b < 0x80) return 1;
    if (b >= 0xC2 && b <= 0xDF) return 2;
    if ((b & 0xF0) == 0xE0) return 3;
    if (b >= 0xF0 && b <= 0xF4) return 4;
    return 0;
}

}  // namespace

std::string Tokenizer::decode(const std::vector<TokenId>& ids) const {
    std::string out;
    for (TokenId id : ids) out += tokenBytes(id);
    if (stripsLeadingSpace() && !out.empty() && out[0] == ' ') out.erase(0, 1);
    return out;
}

std::string StreamingDecoder::push(TokenId id) {
    std::string bytes = m_tokenizer.tokenBytes(id);
    if (m_first && !bytes.empty()) {
        m_first = false;
        if (m_tokenizer.stripsLeadingSpace() && bytes[0] == ' ') bytes.erase(0, 1);
    }
    m_pending += bytes;
    std::string out;
    size_t i = 0;
    const size_t n = m_pending.size();
    while (i < n) {
        const auto b = static_cast<uint8_t>(m_pending[i]);
        const int need = announcedLength(b);
        if (need == 1) {
            out += static_cast<char>(b);
            ++i;
            continue;
        }
        if (need == 0) {
            out += kReplacement;
            ++i;
            continue;
        }
        if (i + need > n) {
            // Hold back a sequence that is still complete-able; reject one that is not.
            bool prefixOk = true;
            for (size_t k = i + 1; k < n; ++k)
                prefixOk = prefixOk && (static_cast<uint8_t>(m_pending[k]) & 0xC0) == 0x80;
            if (prefixOk) break;
            out += kReplacement;
            ++i;
            continue;
        }
        int len;
        if (detail::decodeUtf8(m_pending.data(), n, i, &len) == detail::kInvalidCodePoint) {
            out += kReplacement;
            ++i;
            continue;
        }
        out.append(m_pending, i, len);
        i += len;
    }
    m_pending.erase(0, i);
    return out;
}

std::string StreamingDecoder::flush() {
    std::string out;
    if (!m_pending.empty()) out = kReplacement;
    m_pending.clear();
    return out;
}

std::string escapeBytes(std::string_view bytes) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    size_t i = 0;
    while (i < bytes.size()) {
        const auto b = static_cast<uint8_t>(bytes[i]);
        if (b == '\n') {
            out += "\\n";
        } else if (b == '\t') {
            out += "\\t";
        } else if (b == '\r') {
            out += "\\r";
        } else if (b == '\\') {
            out += "\\\\";
        } else if (b >= 0x20 && b < 0x7F) {
            out += static_cast<char>(b);
        } else {
            int len = 1;
            if (b >= 0x80 && detail::decodeUtf8(bytes.data(), bytes.size(), i, &len) !=
                                 detail::kInvalidCodePoint) {
                out.append(bytes.substr(i, len));
                i += len;
                continue;
            }
            out += "\\x";
            out += kHex[b >> 4];
            out += kHex[b & 15];
        }
        ++i;
    }
    return out;
}

}  // namespace mono::tok
