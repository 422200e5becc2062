// SentencePiece-style BPE with byte fallback (Llama family). Text is normalized
// as SentencePiece does (a dummy "▁" prefix, spaces become "▁"), split into
// UTF-8 characters, merged, and whatever is not a token falls back to its
// <0xXX> byte tokens.

#include <cmath>
#include <unordered_map>

#include "core/tokenizer/bpe_detail.h"
#include "core/tokenizer/unicode.h"
#include "core/tokenizer/vocab.h"

namespace mono::tok {
namespace {

using detail::MergeCandidate;
using detail::MergeSymbol;

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581 "▁"

std::string replaceAll(std::string_view s, std::string_view from, std::string_view to) {
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    while (true) {
        const size_t j = s.find(from, i);
        if (j == std::string_view::npos) break;
        out.append(s.substr(i, j - i));
        out.append(to);
        i = j + from.size();
    }
    out.append(s.substr(i));
    return out;
}

class SpmTokenizer final : public detail::VocabTokenizer {
public:
    static Result<std::shared_ptr<const Tokenizer>> create(SpmVocab v);

    std::vector<TokenId> encode(std::string_view text, bool addBos,
                                bool parseSpecial) const override;
    bool stripsLeadingSpace() const override { return m_addSpacePrefix; }
    std::string describe() const override;

private:
    void encodeFragment(std::string_view text, std::vector<TokenId>& out) const;
    void appendBytesOf(std::string_view bytes, std::vector<TokenId>& out) const;

    std::vector<float> m_scores;
    std::unordered_map<std::string_view, TokenId> m_byPiece;  // views into m_pieces
    TokenId m_byteToken[256];
    detail::PairMap m_merges;
    detail::SpecialMatcher m_specials;
    bool m_useMerges = false;
    bool m_addSpacePrefix = true;
    bool m_fuseUnknown = false;
    TokenId m_unk = -1;
};

Result<std::shared_ptr<const Tokenizer>> SpmTokenizer::create(SpmVocab v) {
    auto fail = [&](const std::string& m) { return Status::corruption(v.source + ": " + m); };
    const size_t n = v.pieces.size();
    if (n == 0) return fail("the vocabulary is empty");
    if (n > (size_t{1} << 30)) return fail("absurd vocabulary size " + std::to_string(n));
    if (!v.kinds.empty() && v.kinds.size() != n)
        return fail("token types: expected " + std::to_string(n) +
                    " entries (one per token), found " + std::to_string(v.kinds.size()));
    if (!v.useMerges && v.scores.size() != n)
        return fail("scores: expected " + std::to_string(n) + " entries (one per token), found " +
                    std::to_string(v.scores.size()));
    for (TokenId special : {v.bos, v.eos, v.unk})
        if (special < -1 || special >= static_cast<TokenId>(n))
            return fail("special token id " + std::to_string(special) +
                        " outside the vocabulary of " + std::to_string(n));
    if (v.kinds.empty()) {
        v.kinds.resize(n);
        for (size_t id = 0; id < n; ++id)
            v.kinds[id] =
                detail::parseByteToken(v.pieces[id]) >= 0 ? TokenKind::kByte : TokenKind::kNormal;
    }
    if (v.unk >= 0) v.kinds[v.unk] = TokenKind::kUnknown;
    for (TokenId special : {v.bos, v.eos})
        if (special >= 0 && v.kinds[special] == TokenKind::kNormal)
            v.kinds[special] = TokenKind::kControl;

    auto t = std::make_shared<SpmTokenizer>();
    t->m_source = v.source;
    t->m_useMerges = v.useMerges;
    t->m_addSpacePrefix = v.addSpacePrefix;
    t->m_fuseUnknown = v.fuseUnknown;
    t->m_bos = v.bos;
    t->m_eos = v.eos;
    t->m_unk = v.unk;
    t->m_pieces = std::move(v.pieces);
    t->m_kinds = std::move(v.kinds);
    t->m_scores = std::move(v.scores);
    std::fill(std::begin(t->m_byteToken), std::end(t->m_byteToken), -1);
    t->m_bytes.resize(n);
    t->m_byPiece.reserve(n);
    for (size_t id = 0; id < n; ++id) {
        const std::string& p = t->m_pieces[id];
        if (p.empty()) return fail("token " + std::to_string(id) + " is empty");
        const size_t bad = detail::findInvalidUtf8(p);
        if (bad != std::string_view::npos)
            return fail("token " + std::to_string(id) + " is not valid UTF-8 (byte " +
                        std::to_string(bad) + ")");
        if (!t->m_useMerges && !std::isfinite(t->m_scores[id]))
            return fail("token " + std::to_string(id) + " has a score that is not finite");
        t->m_byPiece.emplace(p, static_cast<TokenId>(id));
        const TokenKind kind = t->m_kinds[id];
        switch (kind) {
            case TokenKind::kControl:
                break;
            case TokenKind::kByte: {
                const int b = detail::parseByteToken(p);
                if (b < 0)
                    return fail("token " + std::to_string(id) + " '" + p +
                                "' is typed as a byte token but is not of the form <0xXX>");
                t->m_bytes[id] = std::string(1, static_cast<char>(b));
                if (t->m_byteToken[b] < 0) t->m_byteToken[b] = static_cast<TokenId>(id);
                break;
            }
            default:
                t->m_bytes[id] = replaceAll(p, kSpaceMark, " ");
        }
        // llama.cpp matches control and unknown tokens only when parsing specials,
        // user-defined ones always.
        if (kind == TokenKind::kControl || kind == TokenKind::kUnknown)
            t->m_specials.add(p, static_cast<TokenId>(id), true);
        else if (kind == TokenKind::kUserDefined)
            t->m_specials.add(p, static_cast<TokenId>(id), false);
    }
    t->m_specials.finish();

    if (t->m_useMerges) {
        t->m_merges.reserve(v.merges.size());
        for (size_t r = 0; r < v.merges.size(); ++r) {
            const auto& [a, b] = v.merges[r];
            auto ia = t->m_byPiece.find(a);
            auto ib = t->m_byPiece.find(b);
            if (ia == t->m_byPiece.end() || ib == t->m_byPiece.end())
                return fail("merge " + std::to_string(r) + " ('" + a + "' '" + b + "'): token '" +
                            (ia == t->m_byPiece.end() ? a : b) + "' is not in the vocabulary");
            auto im = t->m_byPiece.find(a + b);
            if (im == t->m_byPiece.end())
                return fail("merge " + std::to_string(r) + " ('" + a + "' '" + b +
                            "'): the result '" + a + b + "' is not in the vocabulary");
            t->m_merges.insert(ia->second, ib->second, static_cast<uint32_t>(r), im->second);
        }
    }
    return std::shared_ptr<const Tokenizer>(std::move(t));
}

std::string SpmTokenizer::describe() const {
    return std::string("SentencePiece-style BPE with byte fallback, ") +
           std::to_string(m_pieces.size()) + " tokens, merged by " +
           (m_useMerges ? std::to_string(m_merges.size()) + " ranked merges" : "score") + " (" +
           m_source + ")";
}

std::vector<TokenId> SpmTokenizer::encode(std::string_view text, bool addBos,
                                          bool parseSpecial) const {
    std::vector<TokenId> out;
    out.reserve(text.size() / 3 + 2);
    if (addBos && m_bos >= 0) out.push_back(m_bos);
    // As llama.cpp: the dummy prefix goes before the first text and before text
    // that follows a special token.
    bool afterSpecial = true;
    m_specials.split(
        text, parseSpecial,
        [&](std::string_view plain) {
            std::string normalized;
            normalized.reserve(plain.size() + 3);
            if (m_addSpacePrefix && afterSpecial) normalized += ' ';
            normalized += plain;
            encodeFragment(replaceAll(normalized, " ", kSpaceMark), out);
            afterSpecial = false;
        },
        [&](TokenId id) {
            out.push_back(id);
            afterSpecial = true;
        });
    return out;
}

void SpmTokenizer::appendBytesOf(std::string_view bytes, std::vector<TokenId>& out) const {
    for (char c : bytes) {
        const TokenId id = m_byteToken[static_cast<uint8_t>(c)];
        if (id >= 0)
            out.push_back(id);
        else if (m_unk >= 0)
            out.push_back(m_unk);
    }
}

void SpmTokenizer::encodeFragment(std::string_view text, std::vector<TokenId>& out) const {
    thread_local std::vector<MergeSymbol> syms;
    thread_local std::vector<MergeCandidate> heap;
    syms.clear();
    auto add = [&](TokenId id, size_t start, size_t len) {
        const auto k = static_cast<int32_t>(syms.size());
        syms.push_back(
            {id, k - 1, k + 1, static_cast<uint32_t>(start), static_cast<uint32_t>(len)});
    };
    size_t i = 0;
    while (i < text.size()) {
        int len;
        detail::decodeUtf8(text.data(), text.size(), i, &len);
        auto it = m_byPiece.find(text.substr(i, len));
        const TokenId id = it == m_byPiece.end() ? -1 : it->second;
        if (m_useMerges && id < 0) {
            // Hugging Face: byte tokens when all exist, else <unk> (fused if asked).
            bool allBytes = true;
            for (int k = 0; k < len; ++k)
                allBytes = allBytes && m_byteToken[static_cast<uint8_t>(text[i + k])] >= 0;
            if (allBytes) {
                for (int k = 0; k < len; ++k)
                    add(m_byteToken[static_cast<uint8_t>(text[i + k])], i + k, 1);
            } else if (m_unk >= 0) {
                if (m_fuseUnknown && !syms.empty() && syms.back().id == m_unk &&
                    syms.back().start + syms.back().len == i)
                    syms.back().len += len;
                else
                    add(m_unk, i, len);
            }
        } else {
            add(id, i, len);
        }
        i += len;
    }
    if (syms.empty()) return;
    syms.back().next = -1;

    if (m_useMerges) {
        detail::mergeSymbols(
            syms, heap,
            [this](const MergeSymbol& l, const MergeSymbol& r, float* prio, TokenId* merged) {
                uint32_t rank;
                if (!m_merges.find(l.id, r.id, &rank, merged)) return false;
                *prio = static_cast<float>(rank);
                return true;
            });
        for (int32_t k = 0; k >= 0; k = syms[k].next) out.push_back(syms[k].id);
        return;
    }
    detail::mergeSymbols(
        syms, heap,
        [this, text](const MergeSymbol& l, const MergeSymbol& r, float* prio, TokenId* merged) {
            auto it = m_byPiece.find(text.substr(l.start, l.len + r.len));
            if (it == m_byPiece.end()) return false;
            *prio = -m_scores[it->second];
            *merged = it->second;
            return true;
        });
    for (int32_t k = 0; k >= 0; k = syms[k].next) {
        if (syms[k].id >= 0)
            out.push_back(syms[k].id);
        else
            appendBytesOf(text.substr(syms[k].start, syms[k].len), out);
    }
}

}  // namespace

Result<std::shared_ptr<const Tokenizer>> makeSpmTokenizer(SpmVocab vocab) {
    return SpmTokenizer::create(std::move(vocab));
}

}  // namespace mono::tok
