// llama2.c legacy checkpoint, as run.c's read_checkpoint/memory_map_weights read it:
//   i32 dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len   (28 bytes)
//   f32 token_embedding_table [vocab, dim]
//   f32 rms_att_weight [L, dim]
//   f32 wq [L, n_heads*hd, dim]      wk, wv [L, n_kv*hd, dim]      wo [L, dim, n_heads*hd]
//   f32 rms_ffn_weight [L, dim]
//   f32 w1 [L, hidden, dim]          w2 [L, dim, hidden]           w3 [L, hidden, dim]
//   f32 rms_final_weight [dim]
//   f32 freq_cis_real, freq_cis_imag: seq_len*hd/2 values each (unused, skipped)
//   f32 wcls [vocab, dim]            only when vocab_size < 0
// hd = dim / n_heads. run.c's matmul(xout, x, w, n, d) computes W(d,n) @ x, so
// each matrix is stored as out-rows of in-columns: nn.Linear's [out, in].

#include "core/io/llama2c.h"

#include <cstring>
#include <unordered_map>

#include "core/io/byte_reader.h"
#include "core/io/mapped_file.h"

namespace mono::io {

namespace {

constexpr int kHeaderInts = 7;
constexpr uint64_t kHeaderBytes = kHeaderInts * 4;
// Far above any llama2.c model, small enough that sizes cannot overflow.
constexpr int kMaxDim = 1 << 20;
constexpr int kMaxLayers = 4096;
// llama2.c's newer export versions start with this magic ("ak42" little-endian).
constexpr uint32_t kExportMagic = 0x616b3432;

}  // namespace

struct Llama2cFile::Impl {
    MappedFile map;
    Llama2cConfig config;
    std::vector<TensorView> tensors;
    std::unordered_map<std::string, size_t> index;
};

Llama2cFile::Llama2cFile(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Llama2cFile::Llama2cFile(Llama2cFile&&) noexcept = default;
Llama2cFile& Llama2cFile::operator=(Llama2cFile&&) noexcept = default;
Llama2cFile::~Llama2cFile() = default;

Result<Llama2cFile> Llama2cFile::open(const std::string& path) {
    auto impl = std::make_unique<Impl>();
    MONO_ASSIGN_OR_RETURN(impl->map, MappedFile::open(path));
    const uint8_t* base = impl->map.data();
    const uint64_t fileSize = impl->map.size();
    if (fileSize < kHeaderBytes)
        return Status::corruption(path + ": " + std::to_string(fileSize) +
                                  " bytes is too short for the 28-byte llama2.c header");
    int32_t h[kHeaderInts];
    std::memcpy(h, base, kHeaderBytes);
    if (static_cast<uint32_t>(h[0]) == kExportMagic)
        return Status::unsupported(path +
                                   ": llama2.c export version 1/2 (magic \"ak42\") is not "
                                   "supported; export with the legacy (version 0) layout");
    const char* names[kHeaderInts] = {"dim",        "hidden_dim", "n_layers", "n_heads",
                                      "n_kv_heads", "vocab_size", "seq_len"};
    for (int i = 0; i < kHeaderInts; ++i) {
        const int64_t v = i == 5 ? (h[i] < 0 ? -int64_t{h[i]} : int64_t{h[i]}) : h[i];
        const int64_t limit = i == 2 ? kMaxLayers : kMaxDim;
        if (v <= 0 || v > limit)
            return Status::corruption(path + ": header field " + names[i] + " = " +
                                      std::to_string(h[i]) + " at offset " + std::to_string(4 * i) +
                                      " is outside 1.." + std::to_string(limit));
    }
    Llama2cConfig& c = impl->config;
    c.dim = h[0];
    c.hiddenDim = h[1];
    c.nLayers = h[2];
    c.nHeads = h[3];
    c.nKvHeads = h[4];
    c.sharedClassifier = h[5] > 0;
    c.vocabSize = h[5] > 0 ? h[5] : -h[5];
    c.seqLen = h[6];
    if (c.dim % c.nHeads != 0)
        return Status::corruption(path + ": dim " + std::to_string(c.dim) +
                                  " is not divisible by n_heads " + std::to_string(c.nHeads));
    if (c.nKvHeads > c.nHeads || c.nHeads % c.nKvHeads != 0)
        return Status::corruption(path + ": n_heads " + std::to_string(c.nHeads) +
                                  " is not a multiple of n_kv_heads " + std::to_string(c.nKvHeads));

    // All sizes below are < 2^20 · 2^20 · 2^12 floats, so uint64 arithmetic is exact.
    const uint64_t dim = c.dim, hidden = c.hiddenDim, layers = c.nLayers, vocab = c.vocabSize;
    const uint64_t hd = dim / c.nHeads, qDim = c.nHeads * hd, kvDim = c.nKvHeads * hd;
    const uint64_t rope = uint64_t(c.seqLen) * hd / 2;  // as run.c computes it
    const uint64_t perLayer =
        dim + qDim * dim + 2 * kvDim * dim + dim * qDim + dim + 3 * hidden * dim;
    const uint64_t floats =
        vocab * dim + layers * perLayer + dim + 2 * rope + (c.sharedClassifier ? 0 : vocab * dim);
    const uint64_t expected = kHeaderBytes + 4 * floats;
    if (expected != fileSize)
        return Status::corruption(
            path + ": the header (dim " + std::to_string(c.dim) + ", hidden " +
            std::to_string(c.hiddenDim) + ", layers " + std::to_string(c.nLayers) + ", heads " +
            std::to_string(c.nHeads) + "/" + std::to_string(c.nKvHeads) + ", vocab " +
            std::to_string(h[5]) + ", seq_len " + std::to_string(c.seqLen) + ") implies " +
            std::to_string(expected) + " bytes, the file has " + std::to_string(fileSize));

    // Views in file order; a per-layer tensor is slice L of its stacked array.
    const uint8_t* p = base + kHeaderBytes;
    auto add = [&](std::string name, std::vector<int64_t> shape, const uint8_t* data) {
        TensorView t;
        t.name = std::move(name);
        t.dtype = DType::kF32;
        t.shape = std::move(shape);
        t.data = data;
        t.nbytes = 4 * t.numel();
        impl->index[t.name] = impl->tensors.size();
        impl->tensors.push_back(std::move(t));
    };
    auto stacked = [&](const char* suffix, std::vector<int64_t> shape) {
        uint64_t each = 1;
        for (int64_t d : shape) each *= static_cast<uint64_t>(d);
        for (uint64_t l = 0; l < layers; ++l)
            add("blk." + std::to_string(l) + "." + suffix, shape, p + 4 * each * l);
        p += 4 * each * layers;
    };
    const auto D = static_cast<int64_t>(dim), H = static_cast<int64_t>(hidden);
    const auto Q = static_cast<int64_t>(qDim), KV = static_cast<int64_t>(kvDim);
    add("token_embd.weight", {static_cast<int64_t>(vocab), D}, p);
    p += 4 * vocab * dim;
    stacked("attn_norm.weight", {D});
    stacked("attn_q.weight", {Q, D});
    stacked("attn_k.weight", {KV, D});
    stacked("attn_v.weight", {KV, D});
    stacked("attn_output.weight", {D, Q});
    stacked("ffn_norm.weight", {D});
    stacked("ffn_gate.weight", {H, D});
    stacked("ffn_down.weight", {D, H});
    stacked("ffn_up.weight", {H, D});
    add("output_norm.weight", {D}, p);
    p += 4 * dim + 4 * 2 * rope;
    if (!c.sharedClassifier) add("output.weight", {static_cast<int64_t>(vocab), D}, p);
    return Llama2cFile(std::move(impl));
}

const std::string& Llama2cFile::path() const {
    return m_impl->map.path();
}
const Llama2cConfig& Llama2cFile::config() const {
    return m_impl->config;
}
const std::vector<TensorView>& Llama2cFile::tensors() const {
    return m_impl->tensors;
}

const TensorView* Llama2cFile::find(const std::string& name) const {
    auto it = m_impl->index.find(name);
    return it == m_impl->index.end() ? nullptr : &m_impl->tensors[it->second];
}

}  // namespace mono::io
