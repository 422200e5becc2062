#include "core/model/generate.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mono::model {

namespace {

// A uniform double in [0, 1) from 53 random bits: the same on every standard library.
double uniform01(std::mt19937_64& rng) {
    return double(rng() >> 11) * (1.0 / 9007199254740992.0);
}

TokenId argmax(const float* x, int n) {
    int best = 0;
    for (int i = 1; i < n; ++i)
        if (x[i] > x[best]) best = i;
    return best;
}

// log Σ exp(x) computed stably in double.
double logSumExp(const float* x, int n) {
    float m = x[0];
    for (int i = 1; i < n; ++i) m = std::max(m, x[i]);
    double s = 0.0;
    for (int i = 0; i < n; ++i) s += std::exp(double(x[i]) - m);
    return m + std::log(s);
}

}  // namespace

Sampler::Sampler(SamplingOptions options) : m_options(options), m_rng(options.seed) {}

TokenId Sampler::sample(const float* logits, int vocab, const std::vector<int>* counts) {
    const bool penalty =
        m_options.frequencyPenalty != 0.0f && counts && static_cast<int>(counts->size()) >= vocab;
    if (m_options.temperature <= 0.0f && !penalty) return argmax(logits, vocab);
    m_work.assign(logits, logits + vocab);
    if (penalty)
        for (int i = 0; i < vocab; ++i) m_work[i] -= m_options.frequencyPenalty * (*counts)[i];
    if (m_options.temperature <= 0.0f) return argmax(m_work.data(), vocab);

    // Candidates sorted by logit, highest first, cut to top-k.
    m_index.resize(vocab);
    std::iota(m_index.begin(), m_index.end(), 0);
    auto higher = [this](int a, int b) {
        return m_work[a] > m_work[b] || (m_work[a] == m_work[b] && a < b);
    };
    int n = vocab;
    if (m_options.topK > 0 && m_options.topK < vocab) {
        n = m_options.topK;
        std::partial_sort(m_index.begin(), m_index.begin() + n, m_index.end(), higher);
    } else if (m_options.topP < 1.0f) {
        std::sort(m_index.begin(), m_index.end(), higher);
    } else {
        // Neither cut: no order needed; start at the maximum for a stable softmax.
        std::swap(m_index[0], m_index[argmax(m_work.data(), vocab)]);
    }
    const float inv = 1.0f / m_options.temperature;
    const float top = m_work[m_index[0]];
    double sum = 0.0;
    for (int i = 0; i < n; ++i) {
        const int id = m_index[i];
        m_work[id] = std::exp((m_work[id] - top) * inv);  // unnormalised probability
        sum += m_work[id];
    }
    if (m_options.topP < 1.0f) {
        // Nucleus (candidates are sorted here): the smallest prefix reaching topP.
        double cum = 0.0;
        int keep = n;
        for (int i = 0; i < n; ++i) {
            cum += m_work[m_index[i]];
            if (cum >= m_options.topP * sum) {
                keep = i + 1;
                break;
            }
        }
        n = keep;
        sum = cum;
    }
    const double r = uniform01(m_rng) * sum;
    double acc = 0.0;
    for (int i = 0; i < n; ++i) {
        acc += m_work[m_index[i]];
        if (r < acc) return m_index[i];
    }
    return m_index[n - 1];
}

void logSoftmax(float* logits, int vocab) {
    const double lse = logSumExp(logits, vocab);
    for (int i = 0; i < vocab; ++i) logits[i] = static_cast<float>(logits[i] - lse);
}

Result<GenerateResult> generate(Model& model, const tok::Tokenizer& tokenizer,
                                const std::vector<TokenId>& prompt, const GenerateOptions& options,
                                const TokenCallback& onToken, StopToken stop,
                                GenerateResult* partial) {
    const ModelConfig& cfg = model.config();
    if (prompt.empty())
        return Status::invalidArgument("generate: the prompt is empty (start it with BOS)");
    if (static_cast<int>(prompt.size()) >= cfg.maxSeqLen)
        return Status::outOfRange("generate: the prompt has " + std::to_string(prompt.size()) +
                                  " tokens, the model's context is " +
                                  std::to_string(cfg.maxSeqLen));
    const int capacity = static_cast<int>(std::min<int64_t>(
        cfg.maxSeqLen, static_cast<int64_t>(prompt.size()) + std::max(options.maxNewTokens, 0)));
    KvCache cache = model.newKvCache(1, capacity);
    ForwardOptions fo;
    fo.logits = LogitsWanted::kLast;
    fo.hooks = options.hooks;
    fo.cache = &cache;
    Logits logits;
    Batch batch = Batch::single(prompt);
    MONO_RETURN_IF_ERROR(model.forward(batch, fo, &logits));

    const TokenId eos = tokenizer.eos() >= 0 ? tokenizer.eos() : cfg.eosId;
    Sampler sampler(options.sampling);
    std::vector<int> counts(cfg.vocabSize, 0);
    tok::StreamingDecoder decoder(tokenizer);
    // The prompt goes through the decoder first, so the continuation keeps its leading
    // space (a Llama decoder drops the space of the first text token only).
    for (TokenId id : prompt) (void)decoder.push(id);
    GenerateResult result;
    bool cancelled = false;
    for (int i = 0; i < options.maxNewTokens; ++i) {
        if (stop.stopRequested()) {
            cancelled = true;
            break;
        }
        const TokenId next = sampler.sample(logits.row(0), cfg.vocabSize, &counts);
        if (options.stopAtEos && next == eos) {
            result.stoppedAtEos = true;
            break;
        }
        result.tokens.push_back(next);
        ++counts[next];
        const std::string piece = decoder.push(next);
        result.text += piece;
        if (onToken && !onToken(next, piece)) break;
        if (i + 1 == options.maxNewTokens || cache.length(0) >= capacity) break;
        batch.clear();
        batch.add(&next, 1);
        MONO_RETURN_IF_ERROR(model.forward(batch, fo, &logits));
    }
    const std::string tail = decoder.flush();
    if (!tail.empty()) {
        result.text += tail;
        if (onToken) onToken(-1, tail);
    }
    if (cancelled) {
        if (partial) *partial = std::move(result);
        return Status::cancelled("generation stopped");
    }
    return result;
}

Result<PerplexityResult> perplexity(Model& model, const std::vector<TokenId>& tokens, int ctx,
                                    TokenId bos, bool bosEachWindow, const Progress& progress,
                                    StopToken stop) {
    const ModelConfig& cfg = model.config();
    if (ctx < 2 || ctx > cfg.maxSeqLen)
        return Status::invalidArgument("perplexity: context " + std::to_string(ctx) +
                                       " must be in [2, " + std::to_string(cfg.maxSeqLen) + "]");
    if (bosEachWindow && (bos < 0 || bos >= cfg.vocabSize))
        return Status::invalidArgument("perplexity: the model has no BOS token to start windows");
    const int64_t textPerWindow = bosEachWindow ? ctx - 1 : ctx;
    const int64_t total = static_cast<int64_t>(tokens.size());
    const int64_t nWindows = (total + textPerWindow - 1) / textPerWindow;
    // Enough windows per forward to fill the GEMMs while the logits stay small
    // (512 rows of a 50k vocabulary are 100 MB).
    const int64_t perBatch = std::max<int64_t>(1, 512 / ctx);

    PerplexityResult res;
    double nll = 0.0;
    Batch batch;
    Logits logits;
    ForwardOptions fo;
    fo.logits = LogitsWanted::kAll;
    std::vector<TokenId> window;
    for (int64_t w0 = 0; w0 < nWindows; w0 += perBatch) {
        if (stop.stopRequested()) return Status::cancelled("perplexity stopped");
        batch.clear();
        for (int64_t w = w0; w < std::min(nWindows, w0 + perBatch); ++w) {
            const int64_t b = w * textPerWindow, e = std::min(total, b + textPerWindow);
            window.clear();
            if (bosEachWindow) window.push_back(bos);
            window.insert(window.end(), tokens.begin() + b, tokens.begin() + e);
            if (window.size() < 2) continue;  // nothing to predict
            batch.add(window.data(), static_cast<int64_t>(window.size()));
        }
        if (batch.numSeqs() == 0) continue;
        MONO_RETURN_IF_ERROR(model.forward(batch, fo, &logits));
        for (int s = 0; s < batch.numSeqs(); ++s) {
            for (int64_t r = batch.offsets[s]; r + 1 < batch.offsets[s + 1]; ++r) {
                const float* row = logits.row(r);
                nll += logSumExp(row, cfg.vocabSize) - row[batch.tokens[r + 1]];
                ++res.predicted;
            }
            ++res.windows;
        }
        ProgressUpdate u;
        u.fraction = double(std::min(nWindows, w0 + perBatch)) / double(nWindows);
        u.message = "perplexity";
        if (res.predicted) u.metrics["ppl"] = std::exp(nll / double(res.predicted));
        progress.report(u);
    }
    if (res.predicted == 0)
        return Status::invalidArgument("perplexity: the text has fewer than 2 tokens");
    res.meanNll = nll / double(res.predicted);
    res.perplexity = std::exp(res.meanNll);
    return res;
}

}  // namespace mono::model
