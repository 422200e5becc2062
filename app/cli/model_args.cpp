#include "app/cli/model_args.h"

#include <cstdlib>

#include "core/model/model_files.h"

namespace mono::cli {

Result<LoadedModel> loadModelArgs(CliArgs& args, bool needTokenizer) {
    if (args.positionals().empty())
        return Status::invalidArgument(
            "missing MODEL (a Hugging Face folder, .gguf or llama2.c .bin)");
    const std::string path = args.positionals()[0];
    LoadedModel out;
    model::LoadOptions load;
    if (auto weights = args.option("weights"); weights && *weights != "f32") {
        if (*weights != "bf16")
            return Status::invalidArgument("--weights must be f32 or bf16, got '" + *weights + "'");
        load.storage = model::WeightStorage::kBf16;
    }
    MONO_ASSIGN_OR_RETURN(out.model, model::Model::load(path, load));
    if (auto precision = args.option("precision"); precision && *precision != "f32") {
        if (*precision != "bf16")
            return Status::invalidArgument("--precision must be f32 or bf16, got '" + *precision +
                                           "'");
        MONO_ASSIGN_OR_RETURN(auto backend, model::makeCpuBf16Backend());
        out.model->setBackend(std::move(backend));
    }
    auto tokPath = args.option("tokenizer");
    if (!needTokenizer && !tokPath) return out;
    MONO_ASSIGN_OR_RETURN(std::string from, model::findModelTokenizer(path, tokPath.value_or("")));
    MONO_ASSIGN_OR_RETURN(out.tokenizer, tok::loadTokenizer(from));
    return out;
}

Result<std::vector<model::TokenId>> parseTokenList(const std::string& text) {
    std::vector<model::TokenId> ids;
    size_t i = 0;
    while (i <= text.size()) {
        size_t j = text.find(',', i);
        if (j == std::string::npos) j = text.size();
        const std::string item = text.substr(i, j - i);
        char* end = nullptr;
        const long v = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || v < 0 || v > INT32_MAX)
            return Status::invalidArgument("--tokens: '" + item +
                                           "' is not a token id (expected e.g. 1,2,3)");
        ids.push_back(static_cast<model::TokenId>(v));
        i = j + 1;
    }
    return ids;
}

Result<std::vector<model::TokenId>> inputTokens(CliArgs& args, const LoadedModel& m, bool bos) {
    const auto tokens = args.option("tokens");
    const auto text = args.option("text");
    if (tokens.has_value() == text.has_value())
        return Status::invalidArgument("give exactly one of --tokens 1,2,3 or --text TEXT");
    std::vector<model::TokenId> ids;
    if (tokens) {
        MONO_ASSIGN_OR_RETURN(ids, parseTokenList(*tokens));
    } else {
        if (!m.tokenizer) return Status::invalidArgument("--text needs a tokenizer");
        ids = m.tokenizer->encode(*text, false);
    }
    if (bos) {
        const model::TokenId b =
            m.tokenizer && m.tokenizer->bos() >= 0 ? m.tokenizer->bos() : m.model->config().bosId;
        if (b < 0) return Status::invalidArgument("--bos: the model has no BOS token");
        ids.insert(ids.begin(), b);
    }
    if (ids.empty()) return Status::invalidArgument("no input tokens");
    return ids;
}

}  // namespace mono::cli
