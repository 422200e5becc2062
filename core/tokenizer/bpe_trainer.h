#pragma once
// Learns a GPT-2-style byte-level BPE vocabulary from text and writes it as a
// Hugging Face tokenizer.json that loadTokenizerJson reads back.
//
//   BpeTrainer trainer;
//   trainer.addText(document);                 // as often as needed
//   auto vocab = trainer.train(4096, progress, stop);
//   MONO_RETURN_IF_ERROR(writeTokenizerJson(*vocab, "out/tokenizer.json"));
//
// Text is split by GPT-2's pre-tokenizer regex and pre-tokens are counted; the
// merges are learned over the distinct pre-tokens with their counts. Each step
// merges the most frequent adjacent pair (ties: the smaller left id, then the
// smaller right id, so the result never depends on hash order). Ids: 0..255 are
// the single bytes in byte order, then one id per merge result in the order
// learned, and "<|endoftext|>" (a special token) takes the last id.
// Not thread-safe; one trainer per thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/base/progress.h"
#include "core/base/result.h"

namespace mono::tok {

inline constexpr const char* kEndOfText = "<|endoftext|>";

struct LearnedBpe {
    std::vector<std::string> tokens;  // [vocab] raw bytes of each token; the last is kEndOfText
    std::vector<std::pair<int32_t, int32_t>> merges;  // (left id, right id), in priority order
    int32_t endOfText = -1;                           // id of kEndOfText
};

class BpeTrainer {
public:
    // Counts the pre-tokens of `text`. A literal "<|endoftext|>" in it separates
    // pieces and is not learned from.
    void addText(std::string_view text);
    // Counts the pre-tokens of every document of the corpus files (plain text
    // with "<|endoftext|>" separator lines, or .jsonl); errors name the file.
    Status addCorpus(const std::vector<std::string>& files, Progress& progress, StopToken stop);

    // Learns merges until the vocabulary has `vocabSize` tokens (256 bytes +
    // merges + "<|endoftext|>"), or fewer when no pair occurs any more.
    // InvalidArgument for vocabSize < 257; Cancelled when stopped.
    Result<LearnedBpe> train(int vocabSize, Progress& progress, StopToken stop) const;
    Result<LearnedBpe> train(int vocabSize) const;

    int64_t distinctWords() const { return static_cast<int64_t>(m_counts.size()); }
    int64_t bytesSeen() const { return m_bytes; }

private:
    std::unordered_map<std::string, int64_t> m_counts;  // pre-token -> occurrences
    int64_t m_bytes = 0;
};

// The tokenizer.json text of a learned vocabulary (ByteLevel pre-tokenizer and
// decoder, BPE model, "<|endoftext|>" as a special added token).
std::string tokenizerJson(const LearnedBpe& bpe);
// Writes tokenizerJson(bpe) atomically; IoError naming the path.
Status writeTokenizerJson(const LearnedBpe& bpe, const std::string& path);

}  // namespace mono::tok
