// monoscope-cli inspect FILE: the tensors and metadata of a model or array file
// (safetensors, GGUF, npy, npz, llama2.c), detected by its magic bytes.

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <string>
#include <variant>

#include "app/cli/command.h"
#include "core/io/format_detect.h"
#include "core/io/gguf.h"
#include "core/io/llama2c.h"
#include "core/io/npy.h"
#include "core/io/safetensors.h"

namespace mono::cli {
namespace {

constexpr const char* kName = "inspect";
constexpr size_t kArrayPreview = 4;
constexpr size_t kStringPreview = 60;

std::string printable(const std::string& s, size_t limit = kStringPreview) {
    std::string out = "\"";
    for (size_t i = 0; i < s.size() && i < limit; ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    out += s.size() > limit ? "\"…" : "\"";
    return out;
}

std::string scalarText(const io::GgufValue& v) {
    if (const auto* u = std::get_if<uint64_t>(&v.value)) return std::to_string(*u);
    if (const auto* i = std::get_if<int64_t>(&v.value)) return std::to_string(*i);
    if (const auto* d = std::get_if<double>(&v.value)) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.9g", *d);
        return buf;
    }
    if (const auto* b = std::get_if<bool>(&v.value)) return *b ? "true" : "false";
    if (const auto* s = std::get_if<std::string>(&v.value)) return printable(*s);
    return "?";
}

// Short arrays print in full; long ones as "[string × 32000] first values …".
std::string valueText(const io::GgufValue& v) {
    const auto* a = v.asArray();
    if (!a) return scalarText(v);
    const char* elem = a->empty() ? "?" : io::ggufTypeName((*a)[0].type);
    const bool full = a->size() <= 2 * kArrayPreview;
    std::string out(1, '[');
    if (!full) out.append(elem).append(" × ").append(std::to_string(a->size())).append("] ");
    const size_t n = full ? a->size() : kArrayPreview;
    for (size_t i = 0; i < n; ++i) {
        if (i) out += ", ";
        out += valueText((*a)[i]);
    }
    out += full ? "]" : ", …";
    return out;
}

struct Row {
    std::string name, dtype, shape;
    uint64_t bytes;
};

void printTensors(const std::vector<Row>& rows) {
    size_t wName = 4, wType = 5, wShape = 5;
    uint64_t total = 0;
    for (const auto& r : rows) {
        wName = std::max(wName, r.name.size());
        wType = std::max(wType, r.dtype.size());
        wShape = std::max(wShape, r.shape.size());
        total += r.bytes;
    }
    std::printf("%-*s  %-*s  %-*s  %12s\n", int(wName), "name", int(wType), "dtype", int(wShape),
                "shape", "bytes");
    for (const auto& r : rows)
        std::printf("%-*s  %-*s  %-*s  %12" PRIu64 "\n", int(wName), r.name.c_str(), int(wType),
                    r.dtype.c_str(), int(wShape), r.shape.c_str(), r.bytes);
    std::printf("%zu tensors, %" PRIu64 " bytes\n", rows.size(), total);
}

Row rowOf(const io::TensorView& t) {
    return {t.name, io::dtypeName(t.dtype), io::shapeString(t.shape), t.nbytes};
}

int inspectGguf(const std::string& path) {
    auto f = io::GgufFile::open(path);
    if (!f.ok()) return fail(kName, f.status().toString());
    std::printf("%s: GGUF v%u, alignment %" PRIu64 "\n\n", path.c_str(), f->version(),
                f->alignment());
    std::vector<Row> rows;
    for (const auto& t : f->tensors()) rows.push_back(rowOf(t));
    printTensors(rows);
    std::printf("\nmetadata (%zu keys)\n", f->metadata().size());
    size_t wKey = 3;
    for (const auto& [k, v] : f->metadata()) wKey = std::max(wKey, k.size());
    for (const auto& [k, v] : f->metadata())
        std::printf("%-*s  %-6s  %s\n", int(wKey), k.c_str(), io::ggufTypeName(v.type),
                    valueText(v).c_str());
    return 0;
}

int inspectSafetensors(const std::string& path) {
    auto f = io::SafetensorsFile::open(path);
    if (!f.ok()) return fail(kName, f.status().toString());
    std::printf("%s: safetensors\n\n", path.c_str());
    std::vector<Row> rows;
    for (const auto& t : f->tensors()) rows.push_back(rowOf(t));
    printTensors(rows);
    if (!f->metadata().empty()) {
        std::printf("\nmetadata (%zu keys)\n", f->metadata().size());
        for (const auto& [k, v] : f->metadata())
            std::printf("%s = %s\n", k.c_str(), printable(v, 200).c_str());
    }
    return 0;
}

int inspectLlama2c(const std::string& path) {
    auto f = io::Llama2cFile::open(path);
    if (!f.ok()) return fail(kName, f.status().toString());
    std::printf("%s: llama2.c checkpoint (legacy version 0)\n\n", path.c_str());
    std::vector<Row> rows;
    for (const auto& t : f->tensors()) rows.push_back(rowOf(t));
    printTensors(rows);
    const auto& c = f->config();
    std::printf("\nheader\n");
    std::printf(
        "dim         %d\nhidden_dim  %d\nn_layers    %d\nn_heads     %d\n"
        "n_kv_heads  %d\nvocab_size  %d\nseq_len     %d\nclassifier  %s\n",
        c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKvHeads, c.vocabSize, c.seqLen,
        c.sharedClassifier ? "shared with token_embd" : "stored separately");
    return 0;
}

int inspectNpy(const std::string& path) {
    auto a = io::readNpy(path);
    if (!a.ok()) return fail(kName, a.status().toString());
    std::printf("%s: npy\n\n", path.c_str());
    printTensors({rowOf(a->view(std::filesystem::path(path).stem().string()))});
    return 0;
}

int inspectNpz(const std::string& path) {
    auto z = io::readNpz(path);
    if (!z.ok()) return fail(kName, z.status().toString());
    std::printf("%s: npz\n\n", path.c_str());
    std::vector<Row> rows;
    for (const auto& [name, a] : *z) rows.push_back(rowOf(a.view(name)));
    printTensors(rows);
    return 0;
}

int runInspect(CliArgs& args) {
    if (args.positionals().size() != 1)
        return fail(kName, "expected one FILE\nusage: monoscope-cli inspect FILE", 2);
    const std::string& path = args.positionals()[0];
    auto format = io::detectFileFormat(path);
    if (!format.ok()) return fail(kName, format.status().toString());
    switch (*format) {
        case io::FileFormat::kGguf:
            return inspectGguf(path);
        case io::FileFormat::kSafetensors:
            return inspectSafetensors(path);
        case io::FileFormat::kLlama2c:
            return inspectLlama2c(path);
        case io::FileFormat::kNpy:
            return inspectNpy(path);
        case io::FileFormat::kNpz:
            return inspectNpz(path);
    }
    return fail(kName, "unhandled format");
}

const RegisterCommand kRegister(
    {"inspect",
     "list the tensors and metadata of a model or array file",
     "usage: monoscope-cli inspect FILE\n\n"
     "Prints every tensor (name, dtype, shape, bytes) and the metadata of a safetensors,\n"
     "GGUF, npy, npz or llama2.c checkpoint file. The format is detected from the file's\n"
     "magic bytes. Pickle-based PyTorch checkpoints are refused: unpickling can execute code.",
     {},
     {},
     &runInspect});

}  // namespace
}  // namespace mono::cli
