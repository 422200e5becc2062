#include "core/tokenizer/bpe_detail.h"

#include <array>

#include "core/tokenizer/unicode.h"

namespace mono::tok::detail {

void PairMap::reserve(size_t n) {
    size_t cap = 16;
    int bits = 4;
    while (cap < n * 2) cap <<= 1, ++bits;
    m_slots.assign(cap, Slot{kEmpty, 0, 0});
    m_mask = cap - 1;
    m_shift = 64 - bits;
    m_count = 0;
}

void PairMap::insert(TokenId left, TokenId right, uint32_t rank, TokenId merged) {
    if ((m_count + 1) * 2 > m_slots.size()) {
        std::vector<Slot> old = std::move(m_slots);
        reserve(std::max<size_t>(16, (m_count + 1) * 2));
        for (const Slot& s : old)
            if (s.key != kEmpty)
                insert(static_cast<TokenId>(s.key >> 32), static_cast<TokenId>(s.key & 0xFFFFFFFFu),
                       s.rank, s.merged);
    }
    const uint64_t key = pack(left, right);
    for (size_t i = slotOf(key);; i = (i + 1) & m_mask) {
        Slot& s = m_slots[i];
        if (s.key == key) return;
        if (s.key == kEmpty) {
            s = Slot{key, rank, merged};
            ++m_count;
            return;
        }
    }
}

void SpecialMatcher::add(std::string text, TokenId id, bool control) {
    if (text.empty()) return;
    m_firstByte[static_cast<uint8_t>(text[0])] = true;
    m_entries.push_back({std::move(text), id, control});
}

void SpecialMatcher::finish() {
    std::stable_sort(m_entries.begin(), m_entries.end(),
                     [](const Entry& a, const Entry& b) { return a.text.size() > b.text.size(); });
}

namespace {

CharClass classAt(const char* s, size_t n, size_t i, int* len) {
    const auto b = static_cast<uint8_t>(s[i]);
    if (b < 0x80) {
        *len = 1;
        return charClass(b);
    }
    return charClass(decodeUtf8(s, n, i, len));
}

// GPT-2 groups punctuation and symbols together: [^\s\p{L}\p{N}].
inline bool isOtherClass(CharClass c) {
    return c == CharClass::kOther || c == CharClass::kPunct;
}

void gpt2Split(const char* s, size_t begin, size_t end, std::vector<uint32_t>& ends) {
    // The scanner sees s[begin, end) as the whole string: llama.cpp applies each
    // regex of a sequence to the fragments the previous one left.
    const char* base = s + begin;
    const size_t n = end - begin;
    size_t i = 0;
    while (i < n) {
        i = gpt2PieceEnd(base, n, i);
        ends.push_back(static_cast<uint32_t>(begin + i));
    }
}

bool isFalconPunct(const char* s, size_t n, size_t i, int* len) {
    const auto b = static_cast<uint8_t>(s[i]);
    if (b < 0x80) {
        *len = 1;
        switch (b) {
            case '$':
            case '+':
            case '<':
            case '=':
            case '>':
            case '^':
            case '~':
            case '|':
            case '`':
                return true;
            default:
                return charClass(b) == CharClass::kPunct;
        }
    }
    return charClass(decodeUtf8(s, n, i, len)) == CharClass::kPunct;
}

void splitThreeDigits(const char* s, size_t begin, size_t end, std::vector<uint32_t>& ends) {
    auto digit = [&](size_t k) { return s[k] >= '0' && s[k] <= '9'; };
    size_t plain = begin;
    size_t i = begin;
    while (i + 3 <= end) {
        if (digit(i) && digit(i + 1) && digit(i + 2)) {
            if (i > plain) ends.push_back(static_cast<uint32_t>(i));
            i += 3;
            ends.push_back(static_cast<uint32_t>(i));
            plain = i;
        } else {
            ++i;
        }
    }
    if (end > plain) ends.push_back(static_cast<uint32_t>(end));
}

}  // namespace

size_t gpt2PieceEnd(const char* s, size_t n, size_t i) {
    if (s[i] == '\'' && i + 1 < n) {
        const char c1 = s[i + 1];
        if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return i + 2;
        if (i + 2 < n) {
            const char c2 = s[i + 2];
            if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l'))
                return i + 3;
        }
    }
    int len;
    CharClass run = classAt(s, n, i, &len);
    size_t k = i + len;
    if (s[i] == ' ' && k < n) {
        // " ?X+": the optional space joins a following letter, number or other run.
        int len1;
        const CharClass next = classAt(s, n, k, &len1);
        if (next != CharClass::kSpace) {
            run = next;
            k += len1;
        }
    }
    if (run == CharClass::kSpace) {
        // \s+(?!\S)|\s+ : a run of spaces gives up its last one to the word that follows.
        size_t lastStart = i;
        int count = 1;
        while (k < n) {
            int l;
            if (classAt(s, n, k, &l) != CharClass::kSpace) break;
            lastStart = k;
            k += l;
            ++count;
        }
        if (k < n && count >= 2) return lastStart;
        return k;
    }
    const bool other = isOtherClass(run);
    while (k < n) {
        const auto b = static_cast<uint8_t>(s[k]);
        int l;
        const CharClass c = b < 0x80 ? (l = 1, charClass(b)) : classAt(s, n, k, &l);
        if (other ? !isOtherClass(c) : c != run) break;
        k += l;
    }
    return k;
}

void preTokenize(PreTokenizer kind, std::string_view text, std::vector<uint32_t>& ends) {
    const char* s = text.data();
    const size_t n = text.size();
    switch (kind) {
        case PreTokenizer::kGpt2:
            gpt2Split(s, 0, n, ends);
            return;
        case PreTokenizer::kDigitsGpt2: {
            size_t start = 0;
            size_t i = 0;
            while (i < n) {
                int len;
                if (classAt(s, n, i, &len) == CharClass::kNumber) {
                    if (i > start) gpt2Split(s, start, i, ends);
                    ends.push_back(static_cast<uint32_t>(i + len));
                    start = i + len;
                }
                i += len;
            }
            if (n > start) gpt2Split(s, start, n, ends);
            return;
        }
        case PreTokenizer::kFalcon: {
            std::vector<uint32_t> mid;
            size_t start = 0;
            size_t i = 0;
            while (i < n) {
                int len;
                if (!isFalconPunct(s, n, i, &len)) {
                    i += len;
                    continue;
                }
                if (i > start) gpt2Split(s, start, i, mid);
                size_t k = i + len;
                while (k < n && isFalconPunct(s, n, k, &len)) k += len;
                mid.push_back(static_cast<uint32_t>(k));
                start = i = k;
            }
            if (n > start) gpt2Split(s, start, n, mid);
            size_t prev = 0;
            for (uint32_t e : mid) {
                splitThreeDigits(s, prev, e, ends);
                prev = e;
            }
            return;
        }
    }
}

namespace {
struct ByteMaps {
    std::array<uint32_t, 256> toUnicode{};
    std::array<int16_t, 512> toByte{};
    ByteMaps() {
        toByte.fill(-1);
        uint32_t extra = 256;
        for (int b = 0; b < 256; ++b) {
            const bool printable =
                (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
            toUnicode[b] = printable ? static_cast<uint32_t>(b) : extra++;
            toByte[toUnicode[b]] = static_cast<int16_t>(b);
        }
    }
};
const ByteMaps& byteMaps() {
    static const ByteMaps maps;
    return maps;
}
}  // namespace

uint32_t byteToUnicode(uint8_t b) {
    return byteMaps().toUnicode[b];
}

int unicodeToByte(uint32_t cp) {
    return cp < 512 ? byteMaps().toByte[cp] : -1;
}

int parseByteToken(std::string_view piece) {
    if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return -1;
    auto hex = [](char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    const int hi = hex(piece[3]);
    const int lo = hex(piece[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

}  // namespace mono::tok::detail
