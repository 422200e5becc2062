#include "core/model/corpus_sampler.h"

#include <chrono>

#include "core/base/atomic_file.h"

namespace mono::model {

Result<CorpusSampleSummary> sampleCorpus(Model& model, const tok::Tokenizer& tokenizer,
                                         const CorpusSampleSpec& spec, const Progress& progress,
                                         StopToken stop) {
    const ModelConfig& cfg = model.config();
    const TokenId bos = tokenizer.bos() >= 0 ? tokenizer.bos() : cfg.bosId;
    const TokenId eos = tokenizer.eos() >= 0 ? tokenizer.eos() : cfg.eosId;
    if (bos < 0)
        return Status::unsupported("sample-corpus: the model has no BOS token to start from");
    if (spec.parallel < 1 || spec.tokens < 1 || spec.outPath.empty())
        return Status::invalidArgument(
            "sample-corpus: parallel, tokens and an output path are required");
    const int maxLength =
        spec.maxLength > 0 ? std::min(spec.maxLength, cfg.maxSeqLen) : cfg.maxSeqLen;
    const int slots = spec.parallel;
    const auto start = std::chrono::steady_clock::now();

    KvCache cache = model.newKvCache(slots, maxLength);
    Sampler sampler(spec.sampling);
    std::vector<std::vector<TokenId>> docs(slots);  // generated ids of each slot's document
    std::vector<TokenId> next(slots, bos);          // the token each slot feeds next
    std::vector<int> allSlots(slots);
    for (int s = 0; s < slots; ++s) allSlots[s] = s;

    std::string text;
    CorpusSampleSummary summary;
    ForwardOptions options;
    options.cache = &cache;
    options.cacheSlots = allSlots;
    options.logits = LogitsWanted::kLast;
    Logits logits;
    Batch batch;
    auto finishDocument = [&](int s) {
        text += tokenizer.decode(docs[s]);
        if (text.empty() || text.back() != '\n') text += '\n';
        text += "<|endoftext|>\n";
        ++summary.documents;
        docs[s].clear();
        cache.reset(s);
        next[s] = bos;
    };

    while (summary.tokens < spec.tokens) {
        batch.clear();
        for (int s = 0; s < slots; ++s) batch.add(&next[s], 1);
        MONO_RETURN_IF_ERROR(model.forward(batch, options, &logits));
        for (int s = 0; s < slots && summary.tokens < spec.tokens; ++s) {
            const TokenId id = sampler.sample(logits.row(s), cfg.vocabSize);
            if (id == eos || id == bos) {
                if (!docs[s].empty())
                    finishDocument(s);
                else
                    cache.reset(s), next[s] = bos;
                continue;
            }
            docs[s].push_back(id);
            next[s] = id;
            ++summary.tokens;
            if (cache.length(s) + 1 >= maxLength) finishDocument(s);
        }
        if (stop.stopRequested()) return Status::cancelled("corpus sampling stopped");
        ProgressUpdate update;
        update.fraction = double(summary.tokens) / spec.tokens;
        update.message = "sampled " + std::to_string(summary.tokens) + " tokens";
        progress.report(update);
    }
    for (int s = 0; s < slots; ++s)
        if (!docs[s].empty()) finishDocument(s);
    MONO_RETURN_IF_ERROR(writeFileAtomic(spec.outPath, text));
    summary.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return summary;
}

}  // namespace mono::model
