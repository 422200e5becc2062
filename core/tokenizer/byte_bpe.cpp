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
// words, so after warm-up most pre-tokens skip BPE entirely. Per thread, so
// concurrent encodes never lock; it belongs to one tokenizer at a time.
class WordCache {
public:
    static constexpr size_t kMaxWordBytes = 64;

    void bind(uint64_t owner) {
        if (m_owner != owner) {
            m_owner = owner;
            clear();
        }
    }
    // Appends the cached ids of `word` to `out`; false on a miss.
    bool lookup(std::string_view word, uint64_t hash, std::vector<TokenId>& out) const {
        for (size_t i = hash & kMask;; i = (i + 1) & kMask) {
            const Slot& s = m_slots[i];
            if (s.keyLen == 0) return false;
            if (s.hash == hash && s.keyLen == word.size() &&
                std::memcmp(m_keys.data() + s.keyOff, word.data(), word.size()) == 0) {
                out.insert(out.end(), m_ids.begin() + s.idOff, m_ids.begin() + s.idOff + s.idLen);
                return true;
            }
        }
    }
    void insert(std::string_view word, uint64_t hash, const TokenId* ids, size_t count) {
        if (m_used + 1 > kSlots / 2 || m_keys.size() > (64u << 20)) clear();
        for (size_t i = hash & kMask;; i = (i + 1) & kMask) {
            Slot& s = m_slots[i];
            if (s.keyLen != 0) continue;
            s.hash = hash;
            s.keyOff = static_cast<uint32_t>(m_keys.size());
            s.keyLen = static_cast<uint16_t>(word.size());
            s.idOff = static_cast<uint32_t>(m_ids.size());
            s.idLen = static_cast<uint16_t>(count);
            m_keys.append(word);
            m_ids.insert(m_ids.end(), ids, ids + count);
            ++m_used;
            return;
        }
    }

private:
    static constexpr size_t kSlots = size_t{1} << 17;
    static constexpr size_t kMask = kSlots - 1;
    struct Slot {
        uint64_t hash = 0;
        uint32_t keyOff = 0;
        uint32_t idOff = 0;
        uint16_t keyLen = 0;  // 0 = empty (empty words are never cached)
        uint16_t idLen = 0;
    };
    void clear() {
        m_slots.assign(kSlots, Slot{});
        m_keys.clear();
        m_ids.clear();
        m_used = 0;
    }
    uint64_t m_owner = 0;
    std::vector<Slot> m_slots;
    std::string m_keys;
    std::vector<TokenId> m_ids;
    size_t m_used = 0;
};

inline uint64_t hashBytes(std::string_view s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

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

class ByteBpeTokenizer final : public Tokenizer {
public:
    static Result<std::shared_ptr<const Tokenizer>> create(ByteBpeVocab v);

    std::vector<TokenId> encode(std::string_view text, bool addBos,
                                bool parseSpecial) const override;
    std::string tokenBytes(TokenId id) const override {
        return valid(id) ? m_bytes[id] : std::string();
    }
    std::string piece(TokenId id) const override {
        return valid(id) ? m_pieces[id] : std::string();
    }
    int vocabSize() const override { return static_cast<int>(m_pieces.size()); }
    TokenId bos() const override { return m_bos; }
    TokenId eos() const override { return m_eos; }
    bool isSpecial(TokenId id) const override {
        return valid(id) && m_kinds[id] != TokenKind::kNormal && m_kinds[id] != TokenKind::kByte;
    }
    std::string describe() const override;

private:
    bool valid(TokenId id) const { return id >= 0 && id < static_cast<TokenId>(m_pieces.size()); }
    void encodePlain(std::string_view text, Scratch& s, std::vector<TokenId>& out) const;
    void encodeWord(std::string_view word, Scratch& s, std::vector<TokenId>& out) const;

    std::string m_source;
    std::vector<std::string> m_pieces;
    std::vector<std::string> m_bytes;
    std::vector<TokenKind> m_kinds;
    TokenId m_byteToken[256];
    detail::PairMap m_merges;
    detail::SpecialMatcher m_specials;
    TokenId m_bos = -1;
    TokenId m_eos = -1;
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
    uint64_t hash = 0;
    if (cacheable) {
        hash = hashBytes(word);
        if (s.cache.lookup(word, hash, out)) return;
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
    if (cacheable) s.cache.insert(word, hash, s.ids.data(), s.ids.size());
}

}  // namespace

Result<std::shared_ptr<const Tokenizer>> makeByteBpeTokenizer(ByteBpeVocab vocab) {
    return ByteBpeTokenizer::create(std::move(vocab));
}

}  // namespace mono::tok
