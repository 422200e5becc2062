// Byte-level BPE training. The merge loop keeps a count for every adjacent pair
// over the distinct words and, per pair, the words it occurs in; a merge only
// revisits those words and updates the counts by difference, so one merge costs
// about the number of words that hold the pair, not the corpus size. The best
// pair comes from a max-heap with lazy deletion: an entry whose count is out of
// date is re-queued with the current count when it surfaces.

#include "core/tokenizer/bpe_trainer.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <queue>

#include "core/base/atomic_file.h"
#include "core/io/corpus.h"
#include "core/tokenizer/bpe_detail.h"
#include "core/tokenizer/unicode.h"

namespace mono::tok {
namespace {

uint64_t pairKey(int32_t l, int32_t r) {
    return (uint64_t{static_cast<uint32_t>(l)} << 32) | static_cast<uint32_t>(r);
}
int32_t keyLeft(uint64_t k) {
    return static_cast<int32_t>(k >> 32);
}
int32_t keyRight(uint64_t k) {
    return static_cast<int32_t>(k & 0xFFFFFFFFu);
}

struct HeapEntry {
    int64_t count;
    uint64_t key;
};
// Higher count first; on ties the smaller (left, right), which the packed key orders.
struct HeapLess {
    bool operator()(const HeapEntry& a, const HeapEntry& b) const {
        return a.count < b.count || (a.count == b.count && a.key > b.key);
    }
};

struct Word {
    std::vector<int32_t> syms;
    int64_t count;
};

// GPT-2 piece of raw token bytes: every byte as its printable code point.
std::string bytesToPiece(const std::string& bytes) {
    std::string out;
    for (char c : bytes) detail::appendUtf8(out, detail::byteToUnicode(static_cast<uint8_t>(c)));
    return out;
}

}  // namespace

void BpeTrainer::addText(std::string_view text) {
    std::vector<uint32_t> ends;
    size_t start = 0;
    const std::string_view eot(kEndOfText);
    while (start <= text.size()) {
        size_t stop = text.find(eot, start);
        if (stop == std::string_view::npos) stop = text.size();
        const std::string_view part = text.substr(start, stop - start);
        ends.clear();
        detail::preTokenize(PreTokenizer::kGpt2, part, ends);
        uint32_t from = 0;
        for (uint32_t end : ends) {
            const std::string_view word = part.substr(from, end - from);
            from = end;
            if (word.empty()) continue;
            auto it = m_counts.find(std::string(word));
            if (it == m_counts.end())
                m_counts.emplace(std::string(word), 1);
            else
                ++it->second;
        }
        m_bytes += static_cast<int64_t>(part.size());
        start = stop + eot.size();
    }
}

Status BpeTrainer::addCorpus(const std::vector<std::string>& files, Progress& progress,
                             StopToken stop) {
    uint64_t total = 0;
    for (const std::string& f : files) {
        std::error_code ec;
        const auto size = std::filesystem::file_size(f, ec);
        if (!ec) total += size;
    }
    MONO_ASSIGN_OR_RETURN(io::CorpusReader reader, io::CorpusReader::open(files));
    std::string doc;
    const int64_t startBytes = m_bytes;
    for (;;) {
        if (stop.stopRequested()) return Status::cancelled("BPE corpus counting stopped");
        MONO_ASSIGN_OR_RETURN(bool more, reader.next(doc));
        if (!more) break;
        addText(doc);
        if (reader.documentsRead() % 256 == 0 && total > 0)
            progress.report(std::min(1.0, static_cast<double>(m_bytes - startBytes) /
                                              static_cast<double>(total)),
                            "counting words: " + std::to_string(m_counts.size()) + " distinct");
    }
    return Status::success();
}

Result<LearnedBpe> BpeTrainer::train(int vocabSize) const {
    Progress quiet;
    return train(vocabSize, quiet, StopToken());
}

Result<LearnedBpe> BpeTrainer::train(int vocabSize, Progress& progress, StopToken stop) const {
    if (vocabSize < 257)
        return Status::invalidArgument("BPE vocabulary size " + std::to_string(vocabSize) +
                                       " is too small: it needs the 256 bytes and <|endoftext|>");
    LearnedBpe out;
    std::unordered_map<std::string, int32_t> idOf;
    for (int b = 0; b < 256; ++b) {
        out.tokens.emplace_back(1, static_cast<char>(b));
        idOf.emplace(out.tokens.back(), b);
    }

    // Distinct words in a fixed order, so that the run is the same for any hash order.
    std::vector<std::pair<std::string_view, int64_t>> sorted;
    sorted.reserve(m_counts.size());
    for (const auto& [w, c] : m_counts) sorted.emplace_back(w, c);
    std::sort(sorted.begin(), sorted.end());
    std::vector<Word> words(sorted.size());
    std::unordered_map<uint64_t, int64_t> pairCount;
    std::unordered_map<uint64_t, std::vector<int32_t>> pairWords;
    for (size_t w = 0; w < sorted.size(); ++w) {
        Word& word = words[w];
        word.count = sorted[w].second;
        for (char c : sorted[w].first) word.syms.push_back(static_cast<uint8_t>(c));
        for (size_t i = 0; i + 1 < word.syms.size(); ++i) {
            const uint64_t k = pairKey(word.syms[i], word.syms[i + 1]);
            pairCount[k] += word.count;
            auto& list = pairWords[k];
            if (list.empty() || list.back() != static_cast<int32_t>(w))
                list.push_back(static_cast<int32_t>(w));
        }
    }
    std::priority_queue<HeapEntry, std::vector<HeapEntry>, HeapLess> heap;
    for (const auto& [k, c] : pairCount) heap.push({c, k});

    const size_t wanted = static_cast<size_t>(vocabSize) - 1;  // the last id is <|endoftext|>
    std::vector<uint32_t> visited(words.size(), 0);
    uint32_t stamp = 0;
    std::unordered_map<uint64_t, int64_t> delta;
    std::vector<int32_t> merged;
    while (out.tokens.size() < wanted && !heap.empty()) {
        const HeapEntry top = heap.top();
        heap.pop();
        auto countIt = pairCount.find(top.key);
        const int64_t current = countIt == pairCount.end() ? 0 : countIt->second;
        if (current != top.count) {  // stale: re-queue with the live count
            if (current > 0) heap.push({current, top.key});
            continue;
        }
        if (stop.stopRequested()) return Status::cancelled("BPE training stopped");
        const int32_t left = keyLeft(top.key), right = keyRight(top.key);
        std::string text = out.tokens[left] + out.tokens[right];
        int32_t id;
        if (auto it = idOf.find(text); it != idOf.end()) {
            id = it->second;  // the same bytes were already made by another merge
        } else {
            id = static_cast<int32_t>(out.tokens.size());
            idOf.emplace(text, id);
            out.tokens.push_back(std::move(text));
        }
        out.merges.emplace_back(left, right);

        std::vector<int32_t> holders = std::move(pairWords[top.key]);
        pairWords.erase(top.key);
        ++stamp;
        delta.clear();
        for (int32_t w : holders) {
            if (visited[w] == stamp) continue;
            visited[w] = stamp;
            Word& word = words[w];
            std::vector<int32_t>& s = word.syms;
            merged.clear();
            bool hit = false;
            for (size_t i = 0; i < s.size(); ++i) {
                if (i + 1 < s.size() && s[i] == left && s[i + 1] == right) {
                    merged.push_back(id);
                    ++i;
                    hit = true;
                } else {
                    merged.push_back(s[i]);
                }
            }
            if (!hit) continue;  // an out-of-date entry of the word list
            for (size_t i = 0; i + 1 < s.size(); ++i) delta[pairKey(s[i], s[i + 1])] -= word.count;
            for (size_t i = 0; i + 1 < merged.size(); ++i) {
                const uint64_t k = pairKey(merged[i], merged[i + 1]);
                delta[k] += word.count;
                if (merged[i] == id || merged[i + 1] == id) {
                    auto& list = pairWords[k];
                    if (list.empty() || list.back() != w) list.push_back(w);
                }
            }
            s.swap(merged);
        }
        // Apply in key order so that heap pushes (and so ties) never follow hash order.
        std::vector<std::pair<uint64_t, int64_t>> changes(delta.begin(), delta.end());
        std::sort(changes.begin(), changes.end());
        for (const auto& [k, d] : changes) {
            if (d == 0) continue;
            int64_t& c = pairCount[k];
            c += d;
            if (c <= 0)
                pairCount.erase(k);
            else if (d > 0)
                heap.push({c, k});
        }
        if (out.merges.size() % 64 == 0)
            progress.report(static_cast<double>(out.tokens.size()) / static_cast<double>(wanted),
                            "learning merges: " + std::to_string(out.tokens.size()) + " of " +
                                std::to_string(wanted) + " tokens");
    }
    out.endOfText = static_cast<int32_t>(out.tokens.size());
    out.tokens.emplace_back(kEndOfText);
    progress.report(1.0, "learned " + std::to_string(out.merges.size()) + " merges");
    return out;
}

std::string tokenizerJson(const LearnedBpe& bpe) {
    using ojson = nlohmann::ordered_json;
    ojson vocab = ojson::object();
    std::vector<std::string> pieces(bpe.tokens.size());
    for (size_t id = 0; id < bpe.tokens.size(); ++id) {
        pieces[id] = static_cast<int32_t>(id) == bpe.endOfText ? bpe.tokens[id]
                                                               : bytesToPiece(bpe.tokens[id]);
        vocab[pieces[id]] = id;
    }
    ojson merges = ojson::array();
    for (const auto& [l, r] : bpe.merges) merges.push_back(pieces[l] + " " + pieces[r]);
    const ojson byteLevel = {{"type", "ByteLevel"},
                             {"add_prefix_space", false},
                             {"trim_offsets", true},
                             {"use_regex", true}};
    ojson j;
    j["version"] = "1.0";
    j["truncation"] = nullptr;
    j["padding"] = nullptr;
    j["added_tokens"] = ojson::array({{{"id", bpe.endOfText},
                                       {"content", kEndOfText},
                                       {"single_word", false},
                                       {"lstrip", false},
                                       {"rstrip", false},
                                       {"normalized", true},
                                       {"special", true}}});
    j["normalizer"] = nullptr;
    j["pre_tokenizer"] = byteLevel;
    j["post_processor"] = byteLevel;
    j["decoder"] = byteLevel;
    j["model"] = {{"type", "BPE"},
                  {"dropout", nullptr},
                  {"unk_token", nullptr},
                  {"continuing_subword_prefix", ""},
                  {"end_of_word_suffix", ""},
                  {"fuse_unk", false},
                  {"byte_fallback", false},
                  {"vocab", std::move(vocab)},
                  {"merges", std::move(merges)}};
    return j.dump(1) + "\n";
}

Status writeTokenizerJson(const LearnedBpe& bpe, const std::string& path) {
    return writeFileAtomic(path, tokenizerJson(bpe));
}

}  // namespace mono::tok
