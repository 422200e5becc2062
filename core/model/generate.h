#pragma once
// Sampling, streaming generation, log-probabilities and perplexity on top of
// Model::forward.

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/model/model.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::model {

struct SamplingOptions {
    float temperature = 0.0f;       // 0 → greedy (argmax; ties → lowest id)
    int topK = 0;                   // 0 → off
    float topP = 1.0f;              // 1 → off (nucleus)
    float frequencyPenalty = 0.0f;  // logit -= penalty × count of the token so far
    uint64_t seed = 0;
};

// Picks tokens from logits. Deterministic for a seed (std::mt19937_64).
// Holds its scratch buffers, so sampling allocates nothing after the first call.
class Sampler {
public:
    explicit Sampler(SamplingOptions options);
    // `counts` (may be null) holds how often each token occurred, for the frequency penalty.
    TokenId sample(const float* logits, int vocab, const std::vector<int>* counts = nullptr);
    const SamplingOptions& options() const { return m_options; }

private:
    SamplingOptions m_options;
    std::mt19937_64 m_rng;
    std::vector<float> m_work;
    std::vector<int> m_index;
};

struct GenerateOptions {
    SamplingOptions sampling;
    int maxNewTokens = 256;
    bool stopAtEos = true;
    const Hooks* hooks = nullptr;  // applied at every step (prompt and generated positions)
};

struct GenerateResult {
    std::vector<TokenId> tokens;  // the generated ids (without the prompt)
    std::string text;             // their decoded text
    bool stoppedAtEos = false;
};

// Called with each new token and the text it completes (possibly empty: a
// partial UTF-8 character is held back). Return false to stop.
using TokenCallback = std::function<bool(TokenId id, const std::string& text)>;

// Generates after `prompt` (ids, typically starting with BOS; must not be empty).
// Streams through `onToken` (may be null). Stops at EOS (not printed), after
// maxNewTokens, or when `stop` is requested (then the Status is Cancelled and
// `partial`, when given, holds what was generated).
Result<GenerateResult> generate(Model& model, const tok::Tokenizer& tokenizer,
                                const std::vector<TokenId>& prompt, const GenerateOptions& options,
                                const TokenCallback& onToken = {}, StopToken stop = {},
                                GenerateResult* partial = nullptr);

// log-softmax of one row of logits, in place.
void logSoftmax(float* logits, int vocab);

struct PerplexityResult {
    double meanNll = 0.0;     // nats per predicted token
    double perplexity = 0.0;  // exp(meanNll)
    int64_t predicted = 0;    // tokens scored
    int windows = 0;
};

// Perplexity of `tokens` in consecutive non-overlapping windows of `ctx`
// tokens; inside each window every token after the first is predicted from
// those before it. With `bosEachWindow` each window starts with BOS (then it
// holds ctx-1 text tokens). Windows are batched. Reports progress per batch.
Result<PerplexityResult> perplexity(Model& model, const std::vector<TokenId>& tokens, int ctx,
                                    TokenId bos, bool bosEachWindow, const Progress& progress = {},
                                    StopToken stop = {});

}  // namespace mono::model
