// Writes small valid inputs, one folder per fuzz target, to seed the corpora
// next to the real files scripts/fuzz copies from ../shared. Small seeds keep
// executions fast; the real files show the fuzzer what full-size inputs hold.
//
// usage: fuzz_make_seeds OUT_DIR

#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/features/feature_store.h"
#include "core/io/npy.h"
#include "core/io/safetensors.h"
#include "tests/io/io_builders.h"

using namespace mono;
namespace fs = std::filesystem;
using test::put;
using test::putStr;

namespace {

void writeFile(const fs::path& path, const std::string& bytes) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << bytes;
}

std::string readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string strArray(const std::vector<std::string>& items) {
    std::string s;
    for (const auto& i : items) putStr(s, i);
    return test::GgufBuilder::arrv(8, items.size(), s);
}

// A GGUF holding a tokenizer of `model` ("llama" or "gpt2") and llama hyperparameters.
std::string tokenizerGguf(const std::string& model) {
    test::GgufBuilder g;
    g.kvs.push_back({"general.architecture", 8, test::GgufBuilder::strv("llama")});
    for (const char* key : {"llama.embedding_length", "llama.block_count", "llama.context_length",
                            "llama.feed_forward_length"})
        g.kvs.push_back({key, 4, test::GgufBuilder::u32v(8)});
    g.kvs.push_back({"llama.attention.head_count", 4, test::GgufBuilder::u32v(2)});
    g.kvs.push_back({"llama.attention.head_count_kv", 4, test::GgufBuilder::u32v(1)});
    std::string eps;
    put<float>(eps, 1e-5f);
    g.kvs.push_back({"llama.attention.layer_norm_rms_epsilon", 6, eps});
    g.kvs.push_back({"tokenizer.ggml.model", 8, test::GgufBuilder::strv(model)});
    std::vector<std::string> tokens;
    std::string types, scores;
    if (model == "llama") {
        tokens = {"<unk>",
                  "<s>",
                  "</s>",
                  "<0x0A>",
                  "<0x41>",
                  "\xE2\x96\x81",
                  "a",
                  "b",
                  "\xE2\x96\x81"
                  "a",
                  "ab"};
        for (int i = 0; i < 10; ++i) {
            put<int32_t>(types, i == 0 ? 2 : i < 3 ? 3 : i < 5 ? 6 : 1);
            put<float>(scores, -static_cast<float>(i));
        }
        g.kvs.push_back({"tokenizer.ggml.scores", 9, test::GgufBuilder::arrv(6, 10, scores)});
    } else {
        tokens = {"<|endoftext|>",
                  "a",
                  "b",
                  "\xC4\xA0",
                  "\xC4\xA0"
                  "a",
                  "ab"};
        for (int i = 0; i < 6; ++i) put<int32_t>(types, i == 0 ? 3 : 1);
        g.kvs.push_back({"tokenizer.ggml.merges", 9, strArray({"\xC4\xA0 a", "a b"})});
    }
    g.kvs.push_back({"tokenizer.ggml.tokens", 9, strArray(tokens)});
    g.kvs.push_back(
        {"tokenizer.ggml.token_type", 9, test::GgufBuilder::arrv(5, tokens.size(), types)});
    g.kvs.push_back({"tokenizer.ggml.bos_token_id", 4, test::GgufBuilder::u32v(model == "llama")});
    g.kvs.push_back(
        {"tokenizer.ggml.eos_token_id", 4, test::GgufBuilder::u32v(model == "llama" ? 2 : 0)});
    return g.build();
}

// llama2.c tokenizer.bin: max_token_length, then (score, length, bytes) per token.
std::string llama2cTokenizer() {
    std::string s;
    put<int32_t>(s, 8);
    std::vector<std::string> pieces = {"<unk>", "\n<s>\n", "\n</s>\n"};
    for (int b = 0; b < 256; ++b) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "<0x%02X>", b);
        pieces.push_back(hex);
    }
    for (const char* p : {" ", "a", "b", " a", "ab", " ab"}) pieces.push_back(p);
    for (size_t i = 0; i < pieces.size(); ++i) {
        put<float>(s, i < 259 ? 0.f : -static_cast<float>(i - 259));
        put<int32_t>(s, static_cast<int32_t>(pieces[i].size()));
        s += pieces[i];
    }
    return s;
}

const char kTokenizerJsonBpe[] =
    R"({"version":"1.0","added_tokens":[{"id":0,"content":"<|endoftext|>","special":true}],
"normalizer":null,"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true},
"decoder":{"type":"ByteLevel"},"model":{"type":"BPE","dropout":null,"unk_token":null,"byte_fallback":false,
"vocab":{"<|endoftext|>":0,"a":1,"b":2,"Ġ":3,"Ġa":4,"ab":5},"merges":["Ġ a","a b"]}})";

const char kTokenizerJsonSpm[] =
    R"({"version":"1.0","added_tokens":[{"id":0,"content":"<unk>","special":true},
{"id":1,"content":"<s>","special":true},{"id":2,"content":"</s>","special":true}],
"normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]},
"pre_tokenizer":null,"decoder":{"type":"Sequence","decoders":[]},
"model":{"type":"BPE","unk_token":"<unk>","byte_fallback":true,"fuse_unk":true,
"vocab":{"<unk>":0,"<s>":1,"</s>":2,"<0x0A>":3,"▁":4,"a":5,"b":6,"▁a":7,"ab":8},"merges":["▁ a","a b"]}})";

const char kConfigGpt2[] =
    R"({"model_type":"gpt2","n_embd":8,"n_layer":2,"n_head":2,"n_positions":16,
"vocab_size":16,"layer_norm_epsilon":1e-5,"activation_function":"gelu_new","bos_token_id":0,"eos_token_id":0})";
const char kConfigLlama[] =
    R"({"model_type":"llama","hidden_size":8,"intermediate_size":16,"num_hidden_layers":2,
"num_attention_heads":2,"num_key_value_heads":1,"max_position_embeddings":32,"vocab_size":16,"rms_norm_eps":1e-5,
"rope_theta":10000.0,"hidden_act":"silu","tie_word_embeddings":false,"bos_token_id":1,"eos_token_id":2})";

const char kSaeCfgV6[] = R"({"d_in":4,"d_sae":8,"dtype":"float32","architecture":"jumprelu",
"apply_b_dec_to_input":true,"normalize_activations":"none",
"metadata":{"model_name":"m","hook_name":"blocks.0.hook_resid_post","context_size":16,"prepend_bos":true}})";
const char kSaeCfgTopK[] =
    R"({"d_in":4,"d_sae":8,"architecture":"topk","k":2,"hook_name":"blocks.1.hook_resid_pre"})";

bool fillFeatureStore(const fs::path& path) {
    fs::create_directories(path.parent_path());
    fs::remove(path);
    auto store =
        features::FeatureStore::open(path.string(), features::FeatureStore::Mode::kReadWrite);
    if (!store.ok()) return false;
    features::RunInfo run;
    run.model = "m";
    run.hook = "blocks.0.hook_resid_post";
    run.dIn = 4;
    run.dSae = 3;
    run.tokensAnalysed = 10;
    run.settingsJson = "{}";
    auto st = store->replaceAnalysis(run, 3, [](int64_t id, features::FeatureRecord* r) {
        r->summary.fireCount = id;
        r->summary.density = id / 10.0;
        r->summary.maxActivation = static_cast<float>(id);
        r->summary.meanActivation = static_cast<float>(id) / 2;
        r->summary.topSnippet = "once «upon» a";
        r->histogram.binWidth = 0.5;
        r->histogram.counts = {id, 0};
        if (id > 0) {
            features::Example e;
            e.activation = 1.f;
            e.tokens = {1, 2};
            e.strings = {"once", " upon"};
            e.values = {0.f, 1.f};
            e.tokenIndex = 1;
            r->topExamples.push_back(e);
            r->positiveLogits.push_back({3, " a", 0.5f});
            r->neighbours.push_back({0, 0.25f, 0});
        }
        return Status::success();
    });
    if (!st.ok()) return false;
    return store->setLabel(1, "upon").ok() && store->setNotes(1, "fires on upon").ok();
}

bool writeFeatureStore(const fs::path& path) {
    if (!fillFeatureStore(path)) return false;
    // Rewrite it with 512-byte pages and a rollback journal: a quarter of the
    // size, so the fuzzer mutates tables rather than empty page space.
    sqlite3* db = nullptr;
    bool ok = sqlite3_open(path.c_str(), &db) == SQLITE_OK &&
              sqlite3_exec(db, "PRAGMA journal_mode=DELETE; PRAGMA page_size=512; VACUUM;", nullptr,
                           nullptr, nullptr) == SQLITE_OK;
    sqlite3_close(db);
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 2;
    }
    const fs::path out = argv[1];

    // safetensors: two tensors and metadata.
    {
        const std::vector<float> a = {1, 2, 3, 4, 5, 6};
        const std::vector<uint16_t> b = {0x3C00, 0xC000};
        std::vector<io::TensorToWrite> t = {{"a", io::DType::kF32, {2, 3}, a.data(), 24},
                                            {"b", io::DType::kF16, {2}, b.data(), 4}};
        fs::create_directories(out / "safetensors");
        if (!io::writeSafetensors((out / "safetensors/small.safetensors").string(), t,
                                  {{"format", "pt"}})
                 .ok())
            return 1;
    }
    // GGUF: the varied-metadata sample and two tokenizer files.
    writeFile(out / "gguf/sample.gguf", test::sampleGguf().build());
    writeFile(out / "gguf/llama_tokenizer.gguf", tokenizerGguf("llama"));
    writeFile(out / "gguf/gpt2_tokenizer.gguf", tokenizerGguf("gpt2"));
    // npy: every version and a few dtypes.
    writeFile(out / "npy/f32.npy",
              test::buildNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
                             std::string(16, '\1')));
    writeFile(out / "npy/f16_v2.npy",
              test::buildNpy("{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }",
                             std::string(6, '\2'), 2));
    writeFile(out / "npy/i64_v3.npy",
              test::buildNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (), }",
                             std::string(8, '\3'), 3));
    // npz: stored and deflated members; a PyTorch zip checkpoint to be refused.
    {
        test::ZipBuilder z;
        z.members.push_back({"x.npy", readFile(out / "npy/f32.npy"), false});
        z.members.push_back({"y.npy", readFile(out / "npy/f16_v2.npy"), true});
        writeFile(out / "npz/two.npz", z.build());
        test::ZipBuilder pt;
        pt.members.push_back({"archive/data.pkl", "\x80\x02}q\x00.", false});
        pt.members.push_back({"archive/data/0", std::string(16, '\0'), false});
        writeFile(out / "npz/torch_zip.pt", pt.build());
        writeFile(out / "npz/torch_legacy.pt", std::string("\x80\x02\x8a\x0a", 4) + "pickle");
    }
    // llama2.c: shared and separate classifier.
    writeFile(out / "llama2c/shared.bin", test::buildLlama2c({}));
    {
        test::Llama2cDims d;
        d.vocab = -16;
        d.layers = 1;
        writeFile(out / "llama2c/separate.bin", test::buildLlama2c(d));
    }
    writeFile(out / "llama2c_tokenizer/tokenizer.bin", llama2cTokenizer());
    writeFile(out / "tokenizer_json/bpe.json", kTokenizerJsonBpe);
    writeFile(out / "tokenizer_json/spm.json", kTokenizerJsonSpm);
    writeFile(out / "config_json/gpt2.json", kConfigGpt2);
    writeFile(out / "config_json/llama.json", kConfigLlama);
    writeFile(out / "sae_cfg/v6_jumprelu.json", kSaeCfgV6);
    writeFile(out / "sae_cfg/topk.json", kSaeCfgTopK);
    if (!writeFeatureStore(out / "feature_store/small.sqlite")) return 1;
    return 0;
}
