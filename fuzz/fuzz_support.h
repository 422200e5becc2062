#pragma once
// Helpers shared by the fuzz targets. Parsers that only take a path get the
// input written to a per-process scratch folder on tmpfs (/dev/shm when it
// exists), so writing it costs no disk I/O and parallel fuzzers never collide.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/tokenizer/tokenizer.h"

namespace mono::fuzz {

// Created on first use and removed when the process exits normally.
inline const std::filesystem::path& scratchDir() {
    static const std::filesystem::path dir = [] {
        std::error_code ec;
        std::filesystem::path base = "/dev/shm";
        if (!std::filesystem::is_directory(base, ec)) base = std::filesystem::temp_directory_path();
        std::filesystem::path d = base / ("monoscope-fuzz-" + std::to_string(getpid()));
        std::filesystem::create_directories(d);
        std::atexit([] {
            std::error_code ignored;
            std::filesystem::remove_all(scratchDir(), ignored);
        });
        return d;
    }();
    return dir;
}

// Writes `size` bytes to scratchDir()/name (replacing it) and returns the path.
// Aborts when the scratch folder is unusable: that is the harness failing, not
// the parser.
inline std::string writeInput(const std::string& name, const uint8_t* data, size_t size) {
    const std::string path = (scratchDir() / name).string();
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) std::abort();
    if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
    if (std::fclose(f) != 0) std::abort();
    return path;
}

// Runs a loaded tokenizer over a fixed text and every id it knows (bounded), so
// the vocabulary tables a hostile file produced are read, not only built.
inline void exerciseTokenizer(const tok::Tokenizer& t) {
    static const char kText[] =
        "Once upon a time, <s> there was\n\ta caf\xC3\xA9 \xE2\x96\x81 \xF0\x9F\x98\x80 123 "
        "don't <|endoftext|> \xFF\xFE end";
    const auto ids = t.encode(kText, true, true);
    for (tok::TokenId id : ids)
        if (id < 0 || id >= t.vocabSize()) std::abort();  // encode promised ids in range
    (void)t.decode(ids);
    const int n = t.vocabSize() < 512 ? t.vocabSize() : 512;
    std::vector<tok::TokenId> all;
    for (int id = -1; id <= n; ++id) {
        (void)t.tokenBytes(id);
        (void)t.piece(id);
        (void)t.isSpecial(id);
        all.push_back(id);
    }
    tok::StreamingDecoder stream(t);
    for (tok::TokenId id : all) (void)stream.push(id);
    (void)stream.flush();
    (void)t.describe();
}

}  // namespace mono::fuzz
