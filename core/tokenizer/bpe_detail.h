#pragma once
// Internals shared by the byte-level and SentencePiece-style tokenizers: the pair
// table, the merge engine, special-token splitting and the pre-tokenizer scanners.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/tokenizer/tokenizer.h"
#include "core/tokenizer/vocab.h"

namespace mono::tok::detail {

// (left id, right id) -> (rank, merged id). Open addressing, linear probing: the
// merge loop looks pairs up millions of times, so no std::unordered_map here.
class PairMap {
public:
    void reserve(size_t n);
    // Keeps the first insertion of a pair (the better rank).
    void insert(TokenId left, TokenId right, uint32_t rank, TokenId merged);
    bool find(TokenId left, TokenId right, uint32_t* rank, TokenId* merged) const {
        if (m_slots.empty()) return false;
        const uint64_t key = pack(left, right);
        for (size_t i = slotOf(key);; i = (i + 1) & m_mask) {
            const Slot& s = m_slots[i];
            if (s.key == key) {
                *rank = s.rank;
                *merged = s.merged;
                return true;
            }
            if (s.key == kEmpty) return false;
        }
    }
    size_t size() const { return m_count; }

private:
    struct Slot {
        uint64_t key;
        uint32_t rank;
        TokenId merged;
    };
    static constexpr uint64_t kEmpty = ~uint64_t{0};
    static uint64_t pack(TokenId l, TokenId r) {
        return (uint64_t{static_cast<uint32_t>(l)} << 32) | static_cast<uint32_t>(r);
    }
    size_t slotOf(uint64_t key) const {
        return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> m_shift) & m_mask;
    }
    std::vector<Slot> m_slots;
    size_t m_mask = 0;
    int m_shift = 64;
    size_t m_count = 0;
};

// One symbol of a word being merged: a contiguous byte span of the input.
struct MergeSymbol {
    TokenId id;
    int32_t prev;
    int32_t next;
    uint32_t start;
    uint32_t len;  // 0 once merged into its left neighbour
};

struct MergeCandidate {
    float priority;  // lower merges first
    int32_t left;
    int32_t right;
    uint32_t len;  // len(left) + len(right) when queued; a mismatch means stale
    TokenId merged;
};

// Runs BPE over `syms` (linked in order). `lookup(l, r, &priority, &merged)` says
// whether two adjacent symbols merge. Ties go to the leftmost pair, as in
// llama.cpp, SentencePiece and Hugging Face. `heap` is scratch space.
template <class Lookup>
void mergeSymbols(std::vector<MergeSymbol>& syms, std::vector<MergeCandidate>& heap,
                  Lookup&& lookup) {
    auto worse = [](const MergeCandidate& a, const MergeCandidate& b) {
        return a.priority > b.priority || (a.priority == b.priority && a.left > b.left);
    };
    heap.clear();
    auto consider = [&](int32_t l) {
        if (l < 0) return;
        const int32_t r = syms[l].next;
        if (r < 0) return;
        float priority;
        TokenId merged;
        if (!lookup(syms[l], syms[r], &priority, &merged)) return;
        heap.push_back({priority, l, r, syms[l].len + syms[r].len, merged});
        std::push_heap(heap.begin(), heap.end(), worse);
    };
    for (int32_t i = 0; i + 1 < static_cast<int32_t>(syms.size()); ++i) consider(i);
    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), worse);
        const MergeCandidate c = heap.back();
        heap.pop_back();
        MergeSymbol& l = syms[c.left];
        MergeSymbol& r = syms[c.right];
        if (l.len == 0 || r.len == 0 || l.next != c.right || l.len + r.len != c.len) continue;
        l.len += r.len;
        l.id = c.merged;
        l.next = r.next;
        if (r.next >= 0) syms[r.next].prev = c.left;
        r.len = 0;
        consider(l.prev);
        consider(c.left);
    }
}

// Special tokens found in text: longest match at the earliest position.
class SpecialMatcher {
public:
    void add(std::string text, TokenId id, bool control);
    void finish();  // call once after the last add()
    bool empty() const { return m_entries.empty(); }
    // Splits `text` into plain segments and special ids, in order:
    // onText(std::string_view) and onSpecial(TokenId).
    template <class OnText, class OnSpecial>
    void split(std::string_view text, bool parseControl, OnText&& onText,
               OnSpecial&& onSpecial) const {
        size_t plainStart = 0;
        size_t i = 0;
        while (i < text.size()) {
            const auto b = static_cast<uint8_t>(text[i]);
            if (!m_firstByte[b]) {
                ++i;
                continue;
            }
            const Entry* hit = nullptr;
            for (const Entry& e : m_entries) {  // longest first
                if ((e.control && !parseControl) || e.text.size() > text.size() - i) continue;
                if (text.compare(i, e.text.size(), e.text) == 0) {
                    hit = &e;
                    break;
                }
            }
            if (!hit) {
                ++i;
                continue;
            }
            if (i > plainStart) onText(text.substr(plainStart, i - plainStart));
            onSpecial(hit->id);
            i += hit->text.size();
            plainStart = i;
        }
        if (plainStart < text.size()) onText(text.substr(plainStart));
    }

private:
    struct Entry {
        std::string text;
        TokenId id;
        bool control;
    };
    std::vector<Entry> m_entries;
    bool m_firstByte[256] = {};
};

// Appends the end offsets of the pre-tokens of `text` to `ends`.
void preTokenize(PreTokenizer kind, std::string_view text, std::vector<uint32_t>& ends);

// One GPT-2 pre-token starting at `i` of s[0, n): its end offset.
size_t gpt2PieceEnd(const char* s, size_t n, size_t i);

// GPT-2's bytes_to_unicode: every byte has a printable code point.
uint32_t byteToUnicode(uint8_t b);
// The inverse; -1 for a code point no byte maps to.
int unicodeToByte(uint32_t cp);

// "<0x0A>" -> 0x0A; -1 when `piece` is not of that form.
int parseByteToken(std::string_view piece);

// The vocabulary tables and the accessors both BPE tokenizers share; each
// subclass adds its own merge rules and encode().
class VocabTokenizer : public Tokenizer {
public:
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

protected:
    bool valid(TokenId id) const { return id >= 0 && id < static_cast<TokenId>(m_pieces.size()); }

    std::string m_source;               // the file the vocabulary came from
    std::vector<std::string> m_pieces;  // [vocab] as stored
    std::vector<std::string> m_bytes;   // [vocab] what each token adds to decoded text
    std::vector<TokenKind> m_kinds;     // [vocab]
    TokenId m_bos = -1;
    TokenId m_eos = -1;
};

}  // namespace mono::tok::detail
