#include "core/io/format_detect.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/io/byte_reader.h"
#include "core/io/mapped_file.h"
#include "core/io/zip.h"

namespace mono::io {

namespace {

bool endsWith(const std::string& s, const char* suffix) {
    const size_t n = std::strlen(suffix);
    if (s.size() < n) return false;
    for (size_t i = 0; i < n; ++i) {
        char c = s[s.size() - n + i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != suffix[i]) return false;
    }
    return true;
}

Status pickleRefusal(const std::string& path, const std::string& why) {
    return Status::unsupported(
        path + ": " + why +
        ". Monoscope does not load pickle files because unpickling can execute arbitrary "
        "code. Convert the checkpoint to safetensors (e.g. in Python: "
        "safetensors.torch.save_file(torch.load(path, weights_only=True), 'model.safetensors')) "
        "and open that instead");
}

// The header's seven int32 imply an exact file size (see llama2c.cpp).
bool llama2cSizeMatches(const uint8_t* d, uint64_t size) {
    if (size < 28) return false;
    int32_t h[7];
    std::memcpy(h, d, 28);
    for (int i = 0; i < 7; ++i)
        if (h[i] == 0 || (i != 5 && (h[i] < 0 || h[i] > (1 << 20)))) return false;
    if (h[5] < -(1 << 20) || h[5] > (1 << 20) || h[2] > 4096) return false;
    if (h[0] % h[3] != 0 || h[3] % h[4] != 0) return false;
    const uint64_t dim = h[0], hidden = h[1], layers = h[2], vocab = h[5] < 0 ? -h[5] : h[5];
    const uint64_t hd = dim / h[3], q = h[3] * hd, kv = h[4] * hd;
    const uint64_t floats = vocab * dim +
                            layers * (2 * dim + 2 * q * dim + 2 * kv * dim + 3 * hidden * dim) +
                            dim + 2 * (uint64_t(h[6]) * hd / 2) + (h[5] < 0 ? vocab * dim : 0);
    return 28 + 4 * floats == size;
}

// The first bytes, printable ones as they are and the rest as \xNN.
std::string firstBytes(const uint8_t* d, uint64_t n) {
    std::string out;
    for (uint64_t i = 0; i < std::min<uint64_t>(n, 8); ++i) {
        if (d[i] >= 0x20 && d[i] < 0x7f) {
            out += static_cast<char>(d[i]);
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", d[i]);
            out += hex;
        }
    }
    return out;
}

Status mislabelled(const std::string& path, const char* format, const char* magic, const uint8_t* d,
                   uint64_t n) {
    return Status::corruption(path + ": named like a " + format + " file, but a " + format +
                              " file " + magic + " and this one starts with '" + firstBytes(d, n) +
                              "'" + (n == 0 ? " (it is empty)" : ""));
}

}  // namespace

Result<FileFormat> detectFileFormat(const std::string& path) {
    MONO_ASSIGN_OR_RETURN(MappedFile map, MappedFile::open(path));
    const uint8_t* d = map.data();
    const uint64_t n = map.size();
    auto starts = [&](const char* magic, size_t len) {
        return n >= len && std::memcmp(d, magic, len) == 0;
    };
    if (starts("GGUF", 4)) return FileFormat::kGguf;
    if (starts("\x93NUMPY", 6)) return FileFormat::kNpy;
    if (starts("PK\x03\x04", 4) || starts("PK\x05\x06", 4)) {
        auto entries = listZip(d, n, path);
        if (entries.ok()) {
            for (const auto& e : *entries)
                if (e.name == "data.pkl" || endsWith(e.name, "/data.pkl"))
                    return pickleRefusal(path, "this is a PyTorch zip checkpoint (it holds " +
                                                   detail::quoteName(e.name) + ")");
        }
        if (endsWith(path, ".npz") || !entries.ok()) return FileFormat::kNpz;
        for (const auto& e : *entries)
            if (!endsWith(e.name, ".npy"))
                return Status::unsupported(path + ": a zip archive whose member '" + e.name +
                                           "' is not an .npy array; not a format Monoscope "
                                           "reads");
        return FileFormat::kNpz;
    }
    // safetensors: u64 header length, then '{'.
    if (n >= 10 && d[8] == '{') {
        uint64_t len;
        std::memcpy(&len, d, 8);
        if (len <= n - 8) return FileFormat::kSafetensors;
    }
    if (llama2cSizeMatches(d, n)) return FileFormat::kLlama2c;
    // A pickle stream starts with PROTO (0x80) and a protocol number 2..5; legacy
    // torch.save files are such streams.
    if (n >= 3 && d[0] == 0x80 && d[1] >= 2 && d[1] <= 5 && d[2] != 0)
        return pickleRefusal(path, "this is a pickle file (a legacy PyTorch checkpoint)");
    // The name only decides among formats without a magic number of their own;
    // a name that promises a magic the bytes lack is a mislabelled file.
    if (endsWith(path, ".safetensors")) return FileFormat::kSafetensors;
    if (endsWith(path, ".gguf"))
        return mislabelled(path, "GGUF", "starts with the bytes 'GGUF'", d, n);
    if (endsWith(path, ".npy"))
        return mislabelled(path, "npy", "starts with the bytes '\\x93NUMPY'", d, n);
    if (endsWith(path, ".npz"))
        return mislabelled(path, "npz", "is a zip archive (starts with 'PK')", d, n);
    if (endsWith(path, ".bin")) return FileFormat::kLlama2c;
    if (endsWith(path, ".pt") || endsWith(path, ".pth") || endsWith(path, ".pkl") ||
        endsWith(path, ".ckpt"))
        return pickleRefusal(path, "this looks like a PyTorch pickle checkpoint");
    return Status::unsupported(path +
                               ": not a recognised format (safetensors, GGUF, npy, npz, "
                               "llama2.c .bin)");
}

}  // namespace mono::io
