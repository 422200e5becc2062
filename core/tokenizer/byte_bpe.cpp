// Byte-level BPE (GPT-2 family). The vocabulary is kept as raw bytes: GPT-2's
// byte-to-unicode mapping only exists so that tokens are printable, so pieces
// are translated once at load time and encoding never builds unicode strings.

#include <atomic>
#include <cstring>
#include <unordered_map>

#include "core/tokenizer/bpe_detail.h"
#include "core/tokenizer/unicode.h"
#include "core/tokenizer/vocab.h"

namespace mono::tok {
namespace {

using detail::MergeCandidate;
using detail::MergeSymbol;

std::atomic<uint64_t> g_nextInstance{1};

// Per-thread memo of pre-token -> ids. Natural text repeats a small set of
// words, so most pre-tokens skip BPE entirely. Direct-mapped with short keys
// and ids stored inline: one 32-byte slot, compared as two 64-bit words, small
// enough (2 MiB) to stay in cache. Per thread, so concurrent encodes never lock;
// it belongs to one tokenizer at a time.
class WordCache {
public:
    static constexpr size_t kMaxWordBytes = 15;
    static constexpr size_t kMaxIds = 4;

    void bind(uint64_t owner) {
        if (m_owner != owner) {
            m_owner = owner;
            m_slots.assign(kSlots, Slot{});
        }
    }
    // The key of a word of at most kMaxWordBytes bytes: its bytes, zero padded,
    // with the length in the last byte (so no two words share a key).
    static void makeKey(std::string_view word, uint64_t key[2]) {
        char buf[16] = {};
        std::memcpy(buf, word.data(), word.size());
        buf[15] = static_cast<char>(word.size());
        std::memcpy(key, buf, 16);
    }
    // Appends the cached ids of the word with `key` to `out`; false on a miss.
    bool lookup(const uint64_t key[2], std::vector<TokenId>& out) const {
        const Slot& s = m_slots[slotOf(key)];
        if (s.key[0] != key[0] || s.key[1] != key[1]) return false;
        for (size_t i = 0; i < kMaxIds && s.ids[i] >= 0; ++i) out.push_back(s.ids[i]);
        return true;
    }
    void insert(const uint64_t key[2], const TokenId* ids, size_t count) {
        if (count > kMaxIds) return;
        Slot& s = m_slots[slotOf(key)];
        s.key[0] = key[0];
        s.key[1] = key[1];
        for (size_t i = 0; i < kMaxIds; ++i) s.ids[i] = i < count ? ids[i] : -1;
    }

private:
    static constexpr size_t kSlots = size_t{1} << 16;
    struct Slot {
        uint64_t key[2] = {0, 0};  // an all-zero key is never a real word's
        TokenId ids[kMaxIds] = {-1, -1, -1, -1};
    };
    static size_t slotOf(const uint64_t key[2]) {
        const uint64_t h = (key[0] * 0x9E3779B97F4A7C15ull) ^ (key[1] * 0xC2B2AE3D27D4EB4Full);
        return static_cast<size_t>(h >> 48) & (kSlots - 1);
    }
    uint64_t m_owner = 0;
    std::vector<Slot> m_slots;
};

struct Scratch {
    WordCache cache;
    std::vector<MergeSymbol> syms;
    std::vector<MergeCandidate> heap;
    std::vector<TokenId> ids;
    std::vector<uint32_t> ends;
};

Scratch& scratch() {
    thread_local Scratch s;
    return s;
}

class ByteBpeTokenizer final : public detail::VocabTokenizer {
public:
    static Result<std::shared_ptr<const Tokenizer>> create(ByteBpeVocab v);

    std::vector<TokenId> encode(std::string_view text, bool addBos,
                                bool parseSpecial) const override;
    std::string describe() const override;

private:
    void encodePlain(std::string_view text, Scratch& s, std::vector<TokenId>& out) const;
    void encodeWord(std::string_view word, Scratch& s, std::vector<TokenId>& out) const;
    bool mergeShort(std::string_view word, std::vector<TokenId>& ids) const;

    // Words up to this many bytes are merged by a linear scan over small arrays:
    // no heap, no allocation; longer ones use the heap-based merge.
    static constexpr size_t kShortWord = 48;

    TokenId m_byteToken[256];
    detail::PairMap m_merges;
    detail::SpecialMatcher m_specials;
    PreTokenizer m_pre = PreTokenizer::kGpt2;
    uint64_t m_instance = 0;
};

// Turns a byte-level piece back into the bytes it stands for. Pieces of added
// tokens may hold characters outside the mapping; those stand for themselves.
std::string pieceToBytes(const std::string& piece) {
    std::string out;
    out.reserve(piece.size());
    size_t i = 0;
    while (i < piece.size()) {
        int len;
        const uint32_t cp = detail::decodeUtf8(piece.data(), piece.size(), i, &len);
        const int b = cp == detail::kInvalidCodePoint ? -1 : detail::unicodeToByte(cp);
        if (b >= 0)
            out += static_cast<char>(b);
        else
            out.append(piece, i, len);
        i += len;
    }
    return out;
}

Result<std::shared_ptr<const Tokenizer>> ByteBpeTokenizer::create(ByteBpeVocab v) {
    auto fail = [&](const std::string& m) { return Status::corruption(v.source + ": " + m); };
    const size_t n = v.pieces.size();
    if (n == 0) return fail("the vocabulary is empty");
    if (n > (size_t{1} << 30)) return fail("absurd vocabulary size " + std::to_string(n));
    if (!v.kinds.empty() && v.kinds.size() != n)
        return fail("token types: expected " + std::to_string(n) +
                    " entries (one per token), found " + std::to_string(v.kinds.size()));
    if (v.kinds.empty()) v.kinds.assign(n, TokenKind::kNormal);
    for (TokenId special : {v.bos, v.eos})
        if (special < -1 || special >= static_cast<TokenId>(n))
            return fail("special token id " + std::to_string(special) +
                        " outside the vocabulary of " + std::to_string(n));

    auto t = std::make_shared<ByteBpeTokenizer>();
    t->m_source = v.source;
    t->m_bos = v.bos;
    t->m_eos = v.eos;
    t->m_pre = v.pre;
    t->m_instance = g_nextInstance.fetch_add(1);
    std::fill(std::begin(t->m_byteToken), std::end(t->m_byteToken), -1);

    std::unordered_map<std::string_view, TokenId> byPiece;
    byPiece.reserve(n);
    t->m_bytes.resize(n);
    for (size_t id = 0; id < n; ++id) {
        const std::string& p = v.pieces[id];
        if (p.empty()) return fail("token " + std::to_string(id) + " is empty");
        const size_t bad = detail::findInvalidUtf8(p);
        if (bad != std::string_view::npos)
            return fail("token " + std::to_string(id) + " is not valid UTF-8 (byte " +
                        std::to_string(bad) + ")");
        byPiece.emplace(p, static_cast<TokenId>(id));  // first occurrence wins
        const TokenKind kind = v.kinds[id];
        if (kind == TokenKind::kControl)
            t->m_bytes[id].clear();
        else if (kind == TokenKind::kUserDefined)
            t->m_bytes[id] = p;
        else
            t->m_bytes[id] = pieceToBytes(p);
        if (kind == TokenKind::kNormal || kind == TokenKind::kByte) {
            const std::string& b = t->m_bytes[id];
            if (b.size() == 1 && t->m_byteToken[static_cast<uint8_t>(b[0])] < 0)
                t->m_byteToken[static_cast<uint8_t>(b[0])] = static_cast<TokenId>(id);
        }
        if (kind == TokenKind::kControl || kind == TokenKind::kUserDefined)
            t->m_specials.add(kind == TokenKind::kControl ? p : t->m_bytes[id],
                              static_cast<TokenId>(id), kind == TokenKind::kControl);
    }
    t->m_specials.finish();

    t->m_merges.reserve(v.merges.size());
    for (size_t r = 0; r < v.merges.size(); ++r) {
        const auto& [a, b] = v.merges[r];
        auto ia = byPiece.find(a);
        auto ib = byPiece.find(b);
        if (ia == byPiece.end() || ib == byPiece.end())
            return fail("merge " + std::to_string(r) + " ('" + a + "' '" + b + "'): token '" +
                        (ia == byPiece.end() ? a : b) + "' is not in the vocabulary");
        auto im = byPiece.find(a + b);
        if (im == byPiece.end())
            return fail("merge " + std::to_string(r) + " ('" + a + "' '" + b + "'): the result '" +
                        a + b + "' is not in the vocabulary");
        t->m_merges.insert(ia->second, ib->second, static_cast<uint32_t>(r), im->second);
    }
    t->m_pieces = std::move(v.pieces);
    t->m_kinds = std::move(v.kinds);
    return std::shared_ptr<const Tokenizer>(std::move(t));
}

std::string ByteBpeTokenizer::describe() const {
    const char* pre = m_pre == PreTokenizer::kGpt2         ? "gpt-2"
                      : m_pre == PreTokenizer::kDigitsGpt2 ? "gpt-2 with single digits"
                                                           : "falcon";
    return "byte-level BPE, " + std::to_string(m_pieces.size()) + " tokens, " +
           std::to_string(m_merges.size()) + " merges, " + pre + " pre-tokenizer (" + m_source +
           ")";
}

std::vector<TokenId> ByteBpeTokenizer::encode(std::string_view text, bool addBos,
                                              bool parseSpecial) const {
    std::vector<TokenId> out;
    out.reserve(text.size() / 4 + 2);
    if (addBos && m_bos >= 0) out.push_back(m_bos);
    Scratch& s = scratch();
    s.cache.bind(m_instance);
    if (m_specials.empty()) {
        encodePlain(text, s, out);
    } else {
        m_specials.split(
            text, parseSpecial, [&](std::string_view plain) { encodePlain(plain, s, out); },
            [&](TokenId id) { out.push_back(id); });
    }
    return out;
}

void ByteBpeTokenizer::encodePlain(std::string_view text, Scratch& s,
                                   std::vector<TokenId>& out) const {
    if (m_pre == PreTokenizer::kGpt2) {
        const char* p = text.data();
        const size_t n = text.size();
        size_t i = 0;
        while (i < n) {
            const size_t e = detail::gpt2PieceEnd(p, n, i);
            encodeWord(text.substr(i, e - i), s, out);
            i = e;
        }
        return;
    }
    s.ends.clear();
    detail::preTokenize(m_pre, text, s.ends);
    size_t start = 0;
    for (uint32_t e : s.ends) {
        encodeWord(text.substr(start, e - start), s, out);
        start = e;
    }
}

void ByteBpeTokenizer::encodeWord(std::string_view word, Scratch& s,
                                  std::vector<TokenId>& out) const {
    if (word.size() == 1) {
        const TokenId id = m_byteToken[static_cast<uint8_t>(word[0])];
        if (id >= 0) out.push_back(id);
        return;
    }
    const bool cacheable = word.size() <= WordCache::kMaxWordBytes;
    uint64_t key[2];
    if (cacheable) {
        WordCache::makeKey(word, key);
        if (s.cache.lookup(key, out)) return;
    }
    if (word.size() <= kShortWord && mergeShort(word, s.ids)) {
        out.insert(out.end(), s.ids.begin(), s.ids.end());
        if (cacheable) s.cache.insert(key, s.ids.data(), s.ids.size());
        return;
    }
    // Bytes without a token (possible in small vocabularies) are dropped, as
    // Hugging Face does without an unk token.
    s.syms.clear();
    for (size_t i = 0; i < word.size(); ++i) {
        const TokenId id = m_byteToken[static_cast<uint8_t>(word[i])];
        const auto k = static_cast<int32_t>(s.syms.size());
        s.syms.push_back({id, k - 1, k + 1, static_cast<uint32_t>(i), 1});
    }
    s.syms.back().next = -1;
    detail::mergeSymbols(
        s.syms, s.heap,
        [this](const MergeSymbol& l, const MergeSymbol& r, float* prio, TokenId* merged) {
            uint32_t rank;
            if (l.id < 0 || r.id < 0 || !m_merges.find(l.id, r.id, &rank, merged)) return false;
            *prio = static_cast<float>(rank);
            return true;
        });
    s.ids.clear();
    for (int32_t k = 0; k >= 0; k = s.syms[k].next)
        if (s.syms[k].id >= 0) s.ids.push_back(s.syms[k].id);
    out.insert(out.end(), s.ids.begin(), s.ids.end());
    if (cacheable) s.cache.insert(key, s.ids.data(), s.ids.size());
}

// BPE over a short word: repeatedly merge the lowest-ranked adjacent pair, the
// leftmost one on ties. False (nothing written) when a byte has no token.
bool ByteBpeTokenizer::mergeShort(std::string_view word, std::vector<TokenId>& ids) const {
    TokenId sym[kShortWord];
    uint32_t rank[kShortWord];  // rank of the pair (sym[i], sym[i + 1])
    TokenId merged[kShortWord];
    constexpr uint32_t kNone = ~uint32_t{0};
    size_t n = word.size();
    for (size_t i = 0; i < n; ++i) {
        sym[i] = m_byteToken[static_cast<uint8_t>(word[i])];
        if (sym[i] < 0) return false;
    }
    auto pairAt = [&](size_t i) {
        if (!m_merges.find(sym[i], sym[i + 1], &rank[i], &merged[i])) rank[i] = kNone;
    };
    for (size_t i = 0; i + 1 < n; ++i) pairAt(i);
    while (n > 1) {
        size_t best = 0;
        for (size_t i = 1; i + 1 < n; ++i)
            if (rank[i] < rank[best]) best = i;
        if (rank[best] == kNone) break;
        sym[best] = merged[best];
        for (size_t i = best + 1; i + 1 < n; ++i) {
            sym[i] = sym[i + 1];
            rank[i] = rank[i + 1];
            merged[i] = merged[i + 1];
        }
        --n;
        if (best + 1 < n) pairAt(best);
        if (best > 0) pairAt(best - 1);
    }
    ids.assign(sym, sym + n);
    return true;
}

}  // namespace

Result<std::shared_ptr<const Tokenizer>> makeByteBpeTokenizer(ByteBpeVocab vocab) {
    return ByteBpeTokenizer::create(std::move(vocab));
}

}  // namespace mono::tok
