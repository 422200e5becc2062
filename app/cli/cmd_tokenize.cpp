// monoscope-cli tokenize: how a tokenizer splits a text, token by token.

#include <cstdio>

#include "app/cli/command.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::cli {
namespace {

// Pads to `width` characters (not bytes) so that columns line up with UTF-8 pieces.
std::string padded(const std::string& s, size_t width) {
    size_t chars = 0;
    for (char c : s) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return chars >= width ? s : s + std::string(width - chars, ' ');
}

int runTokenize(CliArgs& args) {
    const auto path = args.option("tokenizer");
    const auto text = args.option("text");
    if (!path || !text) return fail("tokenize", "--tokenizer and --text are required", 2);
    auto loaded = tok::loadTokenizer(*path);
    if (!loaded.ok()) return fail("tokenize", loaded.status().toString());
    const tok::Tokenizer& t = **loaded;
    const auto ids = t.encode(*text, args.flag("bos"), !args.flag("no-special"));

    std::printf("%s\n\nids:", t.describe().c_str());
    for (tok::TokenId id : ids) std::printf(" %d", id);
    std::printf("\n\n%5s  %7s  %-24s  %s\n", "index", "id", "piece", "bytes");
    for (size_t i = 0; i < ids.size(); ++i) {
        const std::string piece = tok::escapeBytes(t.piece(ids[i]));
        const std::string bytes = tok::escapeBytes(t.tokenBytes(ids[i]));
        std::printf("%5zu  %7d  %s  \"%s\"%s\n", i, ids[i], padded(piece, 24).c_str(),
                    bytes.c_str(), t.isSpecial(ids[i]) ? "  (special)" : "");
    }
    std::printf("\n%zu tokens for %zu bytes\n", ids.size(), text->size());
    return 0;
}

const RegisterCommand kRegister(
    {"tokenize",
     "show the token ids and pieces of a text",
     "usage: monoscope-cli tokenize --tokenizer PATH --text TEXT [--bos] [--no-special]\n"
     "  PATH: a folder with tokenizer.json (or vocab.json + merges.txt), a .gguf, or a\n"
     "  llama2.c tokenizer .bin. --bos prepends BOS; --no-special reads special tokens\n"
     "  such as <|endoftext|> as plain text.",
     {"bos", "no-special"},
     {"tokenizer", "text"},
     &runTokenize});

}  // namespace
}  // namespace mono::cli
