// The model families beyond GPT-2 and Llama (Gemma 2/3, GPT-NeoX, Qwen 2/3,
// Mistral), each a tiny random model in its Hugging Face layout, against the
// float64 PyTorch reference in tests/reference/families_reference.py
// (golden outputs committed under tests/data/families/<model>/golden.npz):
// logits and hook activations, decoding with a KV cache, SmoothQuant folds,
// and the load errors (unknown model_type, missing / mis-shaped tensor,
// missing shard, a config key of the wrong type).

#include <QtTest>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "core/io/npy.h"
#include "core/io/safetensors.h"
#include "core/model/model.h"
#include "core/model/weights.h"
#include "core/quant/smoothing.h"
#include "tests/io/io_builders.h"
#include "tests/support/test_support.h"

using namespace mono;
using namespace mono::model;
namespace fs = std::filesystem;

namespace {

// max |got - want| / max |want|: float32 compute against a float64 reference.
constexpr double kRelTol = 1e-4;

fs::path familyDir(const std::string& name) {
    return test::sourceDir() / "tests/data/families" / name;
}

double relError(const float* got, const float* want, int64_t n) {
    double maxAbs = 0, maxDiff = 0;
    for (int64_t i = 0; i < n; ++i) {
        maxAbs = std::max(maxAbs, double(std::fabs(want[i])));
        const double d = std::fabs(double(got[i]) - double(want[i]));
        maxDiff = std::isnan(d) ? INFINITY : std::max(maxDiff, d);
    }
    return maxAbs > 0 ? maxDiff / maxAbs : maxDiff;
}

std::vector<TokenId> goldenTokens(const std::map<std::string, io::NpyArray>& golden) {
    const auto& t = golden.at("tokens");
    std::vector<TokenId> ids(t.bytes.size() / 4);
    std::memcpy(ids.data(), t.bytes.data(), t.bytes.size());
    return ids;
}

const float* floats(const io::NpyArray& a) {
    return reinterpret_cast<const float*>(a.bytes.data());
}

Logits forwardAll(Model& m, const std::vector<TokenId>& ids, const Hooks* hooks = nullptr) {
    ForwardOptions opt;
    opt.hooks = hooks;
    Logits out;
    Status s = m.forward(Batch::single(ids), opt, &out);
    if (!s.ok()) qWarning("%s", s.toString().c_str());
    return out;
}

std::string loadError(const fs::path& dir) {
    auto m = Model::load(dir.string());
    return m.ok() ? std::string("(loaded)") : m.status().toString();
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// Copies a family's folder into a fresh temporary one to damage it.
fs::path copyFamily(const std::string& name) {
    const fs::path dst = test::tempDir() / name;
    fs::create_directories(dst);
    for (const auto& e : fs::directory_iterator(familyDir(name)))
        fs::copy_file(e.path(), dst / e.path().filename(), fs::copy_options::overwrite_existing);
    return dst;
}

// Rewrites `file` without `drop`, and with `reshape` given a new shape of the same size.
void rewriteSafetensors(const fs::path& file, const std::string& drop, const std::string& reshape,
                        const std::vector<int64_t>& newShape) {
    const fs::path tmp = file.string() + ".new";
    {
        auto f = io::SafetensorsFile::open(file.string());
        QVERIFY(f.ok());
        std::vector<io::TensorToWrite> out;
        for (const io::TensorView& t : f->tensors()) {
            if (t.name == drop) continue;
            out.push_back(
                {t.name, t.dtype, t.name == reshape ? newShape : t.shape, t.data, t.nbytes});
        }
        MONO_VERIFY_OK(io::writeSafetensors(tmp.string(), out));
    }  // unmapped before the file is replaced
    fs::rename(tmp, file);
}

// The name and shape of the last 2-D tensor of `file` with an even row count.
std::pair<std::string, std::vector<int64_t>> evenMatrix(const fs::path& file) {
    auto f = io::SafetensorsFile::open(file.string());
    std::pair<std::string, std::vector<int64_t>> found;
    if (!f.ok()) return found;
    for (const io::TensorView& t : f->tensors())
        if (t.shape.size() == 2 && t.shape[0] % 2 == 0) found = {t.name, t.shape};
    return found;
}

// The llama.cpp name of a Hugging Face tensor of a gemma2 / qwen2 model.
std::string ggufName(const std::string& hf, bool gemma) {
    if (hf == "model.embed_tokens.weight") return "token_embd.weight";
    if (hf == "model.norm.weight") return "output_norm.weight";
    if (hf == "lm_head.weight") return "output.weight";
    const std::string prefix = "model.layers.";
    const size_t dot = hf.find('.', prefix.size());
    const std::string blk = "blk." + hf.substr(prefix.size(), dot - prefix.size()) + ".";
    const std::string rest = hf.substr(dot + 1);
    const std::pair<const char*, const char*> map[] = {
        {"input_layernorm.weight", "attn_norm.weight"},
        {"post_attention_layernorm.weight",
         gemma ? "post_attention_norm.weight" : "ffn_norm.weight"},
        {"pre_feedforward_layernorm.weight", "ffn_norm.weight"},
        {"post_feedforward_layernorm.weight", "post_ffw_norm.weight"},
        {"self_attn.q_proj.weight", "attn_q.weight"},
        {"self_attn.q_proj.bias", "attn_q.bias"},
        {"self_attn.k_proj.weight", "attn_k.weight"},
        {"self_attn.k_proj.bias", "attn_k.bias"},
        {"self_attn.v_proj.weight", "attn_v.weight"},
        {"self_attn.v_proj.bias", "attn_v.bias"},
        {"self_attn.o_proj.weight", "attn_output.weight"},
        {"mlp.gate_proj.weight", "ffn_gate.weight"},
        {"mlp.up_proj.weight", "ffn_up.weight"},
        {"mlp.down_proj.weight", "ffn_down.weight"},
    };
    for (const auto& [from, to] : map)
        if (rest == from) return blk + to;
    return {};
}

// Converts a family folder to GGUF the way llama.cpp's converter does: F32
// tensors under llama.cpp names (Gemma norm weights + 1), "<arch>." metadata.
std::string ggufFromFolder(const fs::path& folder, const ModelConfig& c, const std::string& arch) {
    using B = test::GgufBuilder;
    const bool gemma = arch == "gemma2";
    auto u32 = [](int v) { return B::u32v(uint32_t(v)); };
    auto f32 = [](float v) {
        std::string s;
        test::put(s, v);
        return s;
    };
    B g;
    g.kvs.push_back({"general.architecture", 8, B::strv(arch)});
    g.kvs.push_back({"general.alignment", 4, u32(32)});
    const std::pair<std::string, int> counts[] = {
        {"context_length", c.maxSeqLen},     {"embedding_length", c.dModel},
        {"block_count", c.nLayers},          {"feed_forward_length", c.dMlp},
        {"attention.head_count", c.nHeads},  {"attention.head_count_kv", c.nKvHeads},
        {"attention.key_length", c.headDim}, {"attention.value_length", c.headDim}};
    for (const auto& [key, v] : counts) g.kvs.push_back({arch + "." + key, 4, u32(v)});
    g.kvs.push_back({arch + ".attention.layer_norm_rms_epsilon", 6, f32(c.normEps)});
    g.kvs.push_back({arch + ".rope.freq_base", 6, f32(c.ropeTheta)});
    if (gemma) {
        g.kvs.push_back({arch + ".attn_logit_softcapping", 6, f32(c.attnSoftcap)});
        g.kvs.push_back({arch + ".final_logit_softcapping", 6, f32(c.finalSoftcap)});
        g.kvs.push_back({arch + ".attention.sliding_window", 4, u32(c.slidingWindow)});
    }
    for (const auto& entry : fs::directory_iterator(folder)) {
        if (entry.path().extension() != ".safetensors") continue;
        auto f = io::SafetensorsFile::open(entry.path().string());
        if (!f.ok()) return {};
        for (const io::TensorView& t : f->tensors()) {
            const std::string name = ggufName(t.name, gemma);
            auto values = io::toFloat(t);
            if (name.empty() || !values.ok()) return {};
            if (gemma && name.size() > 11 && name.compare(name.size() - 11, 11, "norm.weight") == 0)
                for (float& v : *values) v += 1.0f;
            g.data.append((32 - g.data.size() % 32) % 32, '\0');
            g.tensors.push_back({name, std::vector<uint64_t>(t.shape.rbegin(), t.shape.rend()), 0,
                                 uint64_t(g.data.size())});
            g.data.append(reinterpret_cast<const char*>(values->data()), values->size() * 4);
        }
    }
    return g.build();
}

}  // namespace

class TestFamilies : public QObject {
    Q_OBJECT

private slots:
    void matchesReference_data() {
        QTest::addColumn<QString>("folder");
        QTest::addColumn<QString>("family");
        QTest::newRow("gemma2 (bf16, soft-caps, sliding)") << "gemma2"
                                                           << "gemma2";
        QTest::newRow("gemma3_text") << "gemma3_text"
                                     << "gemma3_text";
        QTest::newRow("gemma3 multimodal config") << "gemma3_multimodal"
                                                  << "gemma3_text";
        QTest::newRow("gpt_neox parallel residual") << "neox_parallel"
                                                    << "gpt_neox";
        QTest::newRow("gpt_neox sequential residual") << "neox_sequential"
                                                      << "gpt_neox";
        QTest::newRow("qwen2 (sharded, biases)") << "qwen2"
                                                 << "qwen2";
        QTest::newRow("qwen3 (q/k norm, tied)") << "qwen3"
                                                << "qwen3";
        QTest::newRow("mistral (sliding window)") << "mistral"
                                                  << "mistral";
    }

    // Logits, the attention output of block 0 and the last resid_post against the reference.
    void matchesReference() {
        QFETCH(QString, folder);
        QFETCH(QString, family);
        const fs::path dir = familyDir(folder.toStdString());
        auto golden = io::readNpz((dir / "golden.npz").string());
        MONO_VERIFY_RESULT(golden);
        auto m = Model::load(dir.string());
        MONO_VERIFY_RESULT(m);
        const ModelConfig& c = (*m)->config();
        QCOMPARE(QString::fromLatin1(archName(c.arch)), family);
        const std::vector<TokenId> ids = goldenTokens(*golden);
        QCOMPARE(int(ids.size()), 12);

        const std::string last = "blocks." + std::to_string(c.nLayers - 1) + ".hook_resid_post";
        std::map<std::string, std::vector<float>> seen;
        Hooks hooks;
        for (const std::string& name : {last, std::string("blocks.0.hook_attn_out")})
            hooks.add(name, [&seen](const HookContext& ctx, ActivationBlock a) {
                seen[std::string(ctx.name)].assign(a.data, a.data + a.rows * a.cols);
            });
        Logits out = forwardAll(**m, ids, &hooks);
        seen["logits"] = out.data;
        for (const std::string& name :
             {std::string("logits"), last, std::string("blocks.0.hook_attn_out")}) {
            const io::NpyArray& want = golden->at(name);
            const int64_t n = int64_t(want.bytes.size() / 4);
            QCOMPARE(int64_t(seen[name].size()), n);
            const double err = relError(seen[name].data(), floats(want), n);
            qInfo("%s %s: max relative error %.3g", folder.toLatin1().constData(), name.c_str(),
                  err);
            QVERIFY2(err <= kRelTol, qPrintable(QStringLiteral("%1: relative error %2")
                                                    .arg(QString::fromStdString(name))
                                                    .arg(err)));
        }
    }

    // Prefill then one token at a time through the KV cache gives the full
    // forward's logits (sliding windows measured in positions, not rows).
    void cacheDecodeMatchesFullForward_data() { matchesReference_data(); }
    void cacheDecodeMatchesFullForward() {
        QFETCH(QString, folder);
        const fs::path dir = familyDir(folder.toStdString());
        auto golden = io::readNpz((dir / "golden.npz").string());
        MONO_VERIFY_RESULT(golden);
        auto m = Model::load(dir.string());
        MONO_VERIFY_RESULT(m);
        const std::vector<TokenId> ids = goldenTokens(*golden);
        const Logits full = forwardAll(**m, ids);
        KvCache cache = (*m)->newKvCache(1, int(ids.size()));
        ForwardOptions opt;
        opt.cache = &cache;
        opt.logits = LogitsWanted::kLast;
        Logits step;
        const int prefill = 5;
        MONO_VERIFY_OK((*m)->forward(
            Batch::single(std::vector<TokenId>(ids.begin(), ids.begin() + prefill)), opt, &step));
        for (size_t t = prefill; t <= ids.size(); ++t) {
            const double err = relError(step.row(0), full.row(int64_t(t) - 1), full.vocab);
            QVERIFY2(err <= kRelTol, qPrintable(QStringLiteral("position %1: %2").arg(t).arg(err)));
            if (t < ids.size()) MONO_VERIFY_OK((*m)->forward(Batch::single({ids[t]}), opt, &step));
        }
    }

    // Folding random SmoothQuant scales into each group leaves the logits unchanged:
    // every family's norm feeds its linears directly (Gemma's (1 + w) held as the factor).
    void smoothingFoldKeepsLogits_data() { matchesReference_data(); }
    void smoothingFoldKeepsLogits() {
        QFETCH(QString, folder);
        auto m = Model::load(familyDir(folder.toStdString()).string());
        MONO_VERIFY_RESULT(m);
        const std::vector<TokenId> ids = {3, 17, 42, 5, 60, 9, 33, 1};
        const Logits before = forwardAll(**m, ids);
        std::mt19937 rng(7);
        std::uniform_real_distribution<float> scale(0.25f, 4.0f);
        for (const quant::SmoothGroup& g : quant::smoothGroups((*m)->config())) {
            std::vector<float> s(size_t((*m)->config().dModel));
            for (float& v : s) v = scale(rng);
            MONO_VERIFY_OK(quant::foldSmoothing((*m)->weights(), g, s));
        }
        (*m)->weightsChanged();
        const Logits after = forwardAll(**m, ids);
        const double err =
            relError(after.data.data(), before.data.data(), int64_t(before.data.size()));
        QVERIFY2(err <= kRelTol, qPrintable(QString::number(err)));
    }

    // parameterCount() counts exactly the values the loader read.
    void parameterCountMatchesWeights_data() { matchesReference_data(); }
    void parameterCountMatchesWeights() {
        QFETCH(QString, folder);
        auto m = Model::load(familyDir(folder.toStdString()).string());
        MONO_VERIFY_RESULT(m);
        const ModelWeights& w = (*m)->weights();
        int64_t n = w.tokenEmbedding.size() + w.unembedding.size() + w.lnFinal.weight.size() +
                    w.lnFinal.bias.size();
        auto norm = [](const Norm& x) { return x.weight.size() + x.bias.size(); };
        auto lin = [](const Linear& x) { return x.w.size() + x.b.size(); };
        for (const LayerWeights& l : w.layers)
            n += norm(l.ln1) + norm(l.ln2) + norm(l.postAttn) + norm(l.postMlp) + l.qNorm.size() +
                 l.kNorm.size() + lin(l.qkv) + lin(l.attnOut) + lin(l.up) + lin(l.down);
        QCOMPARE((*m)->config().parameterCount(), n);
    }

    void hookNamesPerFamily() {
        auto par = Model::load(familyDir("neox_parallel").string());
        auto seq = Model::load(familyDir("neox_sequential").string());
        auto gemma = Model::load(familyDir("gemma2").string());
        MONO_VERIFY_RESULT(par);
        MONO_VERIFY_RESULT(seq);
        MONO_VERIFY_RESULT(gemma);
        // A parallel residual has no stream between attention and MLP.
        QVERIFY(!parseHookName((*par)->config(), "blocks.0.hook_resid_mid").ok());
        QVERIFY(parseHookName((*seq)->config(), "blocks.0.hook_resid_mid").ok());
        QVERIFY(parseHookName((*par)->config(), "blocks.1.attn.query_key_value").ok());
        QVERIFY(parseHookName((*par)->config(), "blocks.1.mlp.dense_4h_to_h").ok());
        QVERIFY(!parseHookName((*par)->config(), "blocks.1.attn.q_proj").ok());
        QCOMPARE(int(listHookNames((*par)->config()).size()), 2 * 9 + 1);
        QCOMPARE(int(listHookNames((*seq)->config()).size()), 2 * 10 + 1);
        // Gemma's o_proj input is heads · head_dim wide, and hook_z names it too.
        const ModelConfig& gc = (*gemma)->config();
        auto z = parseHookName(gc, "blocks.2.attn.hook_z");
        MONO_VERIFY_RESULT(z);
        QCOMPARE(QString::fromStdString(hookName(gc, *z)), QStringLiteral("blocks.2.attn.o_proj"));
        QCOMPARE(hookWidth(gc, *z), gc.nHeads * gc.headDim);
        QVERIFY(gc.nHeads * gc.headDim != gc.dModel);
        std::vector<float> viaZ, viaModule;
        Hooks hooks;
        hooks.add("blocks.1.attn.hook_z", [&](const HookContext&, ActivationBlock a) {
            viaZ.assign(a.data, a.data + a.rows * a.cols);
        });
        hooks.add("blocks.1.attn.o_proj", [&](const HookContext&, ActivationBlock a) {
            viaModule.assign(a.data, a.data + a.rows * a.cols);
        });
        forwardAll(**gemma, {1, 2, 3, 4}, &hooks);
        QCOMPARE(int(viaZ.size()), 4 * gc.nHeads * gc.headDim);
        QVERIFY(viaZ == viaModule);
    }

    void linearRefsNameFamilyModules() {
        auto neox = Model::load(familyDir("neox_parallel").string());
        auto qwen = Model::load(familyDir("qwen3").string());
        MONO_VERIFY_RESULT(neox);
        MONO_VERIFY_RESULT(qwen);
        auto qkv = (*neox)->linear(0, "attn.query_key_value");
        MONO_VERIFY_RESULT(qkv);
        QCOMPARE(qkv->rows, int64_t(3 * 32));
        QCOMPARE(qkv->bias().size(), Eigen::Index(3 * 32));
        QVERIFY(!(*neox)->linear(0, "mlp.up_proj").ok());
        auto k = (*qwen)->linear(1, "attn.k_proj");
        MONO_VERIFY_RESULT(k);
        QCOMPARE(k->rowBegin, int64_t(4 * 12));
        QCOMPARE(k->rows, int64_t(2 * 12));
        QCOMPARE(k->bias().size(), Eigen::Index(0));
    }

    // transformers 5 writes RoPE settings as rope_parameters per layer type; the
    // same Gemma 3 model described that way gives the same logits.
    void ropeParametersConfigMatchesReference() {
        const fs::path dir = copyFamily("gemma3_text");
        auto cfg = nlohmann::json::parse(test::readFile(dir / "config.json"));
        for (const char* k : {"rope_theta", "rope_local_base_freq", "rope_scaling"}) cfg.erase(k);
        cfg["rope_parameters"] = {
            {"full_attention", {{"rope_type", "linear"}, {"factor", 4.0}, {"rope_theta", 1000.0}}},
            {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 50.0}}}};
        test::writeFile(dir / "config.json", cfg.dump());
        auto m = Model::load(dir.string());
        MONO_VERIFY_RESULT(m);
        QCOMPARE((*m)->config().ropeTheta, 1000.0f);
        QCOMPARE((*m)->config().ropeLocalTheta, 50.0f);
        QCOMPARE((*m)->config().ropeScale, 4.0f);
        auto golden = io::readNpz((dir / "golden.npz").string());
        MONO_VERIFY_RESULT(golden);
        const Logits out = forwardAll(**m, goldenTokens(*golden));
        const double err =
            relError(out.data.data(), floats(golden->at("logits")), int64_t(out.data.size()));
        QVERIFY2(err <= kRelTol, qPrintable(QString::number(err)));
    }

    // ---- GGUF (llama.cpp names and keys) ----

    // Qwen 2 converted to GGUF gives the reference's logits.
    void qwen2GgufMatchesReference() {
        auto hf = Model::load(familyDir("qwen2").string());
        MONO_VERIFY_RESULT(hf);
        const fs::path file = test::tempDir() / "qwen2.gguf";
        const std::string bytes = ggufFromFolder(familyDir("qwen2"), (*hf)->config(), "qwen2");
        QVERIFY(!bytes.empty());
        test::writeFile(file, bytes);
        auto m = Model::load(file.string());
        MONO_VERIFY_RESULT(m);
        QVERIFY((*m)->config().arch == Arch::kQwen2);
        auto golden = io::readNpz((familyDir("qwen2") / "golden.npz").string());
        MONO_VERIFY_RESULT(golden);
        const Logits out = forwardAll(**m, goldenTokens(*golden));
        const io::NpyArray& want = golden->at("logits");
        QCOMPARE(int64_t(out.data.size()), int64_t(want.bytes.size() / 4));
        const double err = relError(out.data.data(), floats(want), int64_t(out.data.size()));
        qInfo("qwen2 GGUF logits: max relative error %.3g", err);
        QVERIFY2(err <= kRelTol, qPrintable(QString::number(err)));
    }

    // Gemma 2 through GGUF follows llama.cpp, which scales q by 1/sqrt(head_dim)
    // (query_pre_attn_scalar is not stored): it must agree with the HF folder
    // whose query_pre_attn_scalar is head_dim.
    void gemma2GgufMatchesHfFolder() {
        const fs::path dir = copyFamily("gemma2");
        std::string cfg = test::readFile(dir / "config.json");
        const std::string key = "\"query_pre_attn_scalar\": 12";
        const size_t at = cfg.find(key);
        QVERIFY(at != std::string::npos);
        cfg.replace(at, key.size(), "\"query_pre_attn_scalar\": 16");
        test::writeFile(dir / "config.json", cfg);
        auto hf = Model::load(dir.string());
        MONO_VERIFY_RESULT(hf);
        const fs::path file = test::tempDir() / "gemma2.gguf";
        const std::string bytes = ggufFromFolder(dir, (*hf)->config(), "gemma2");
        QVERIFY(!bytes.empty());
        test::writeFile(file, bytes);
        auto m = Model::load(file.string());
        MONO_VERIFY_RESULT(m);
        const ModelConfig& c = (*m)->config();
        QVERIFY(c.arch == Arch::kGemma2);
        QCOMPARE(c.attnScale, (*hf)->config().attnScale);
        QVERIFY(c.isSliding(0) && !c.isSliding(1) && c.slidingWindow == 3);
        QCOMPARE(c.attnSoftcap, 4.0f);
        QCOMPARE(c.finalSoftcap, 3.0f);
        const std::vector<TokenId> ids = {3, 17, 42, 5, 60, 9, 33, 1, 48, 21, 7, 55};
        const Logits a = forwardAll(**m, ids), b = forwardAll(**hf, ids);
        const double err = relError(a.data.data(), b.data.data(), int64_t(b.data.size()));
        qInfo("gemma2 GGUF vs HF folder: max relative difference %.3g", err);
        QVERIFY2(err <= 1e-5, qPrintable(QString::number(err)));
    }

    // ---- load errors name the file, the tensor or key, and what is wrong ----

    void unknownModelTypeListsSupported() {
        const fs::path dir = copyFamily("qwen3");
        std::string cfg = test::readFile(dir / "config.json");
        const size_t at = cfg.find("\"qwen3\"");
        QVERIFY(at != std::string::npos);
        cfg.replace(at, 7, "\"mamba\"");
        test::writeFile(dir / "config.json", cfg);
        const std::string e = loadError(dir);
        QVERIFY2(contains(e, "config.json") && contains(e, "'mamba'") && contains(e, "gemma2") &&
                     contains(e, "gpt_neox") && contains(e, "qwen3"),
                 e.c_str());
    }

    void wrongKeyTypeNamesKey() {
        const fs::path dir = copyFamily("gemma2");
        std::string cfg = test::readFile(dir / "config.json");
        const std::string key = "\"query_pre_attn_scalar\": 12";
        const size_t at = cfg.find(key);
        QVERIFY(at != std::string::npos);
        cfg.replace(at, key.size(), "\"query_pre_attn_scalar\": \"12\"");
        test::writeFile(dir / "config.json", cfg);
        const std::string e = loadError(dir);
        QVERIFY2(contains(e, "config.json") && contains(e, "query_pre_attn_scalar") &&
                     contains(e, "expected an integer"),
                 e.c_str());
    }

    void missingTensorNamed() {
        const fs::path dir = copyFamily("gemma3_text");
        rewriteSafetensors(dir / "model.safetensors", "model.layers.2.self_attn.k_norm.weight", "",
                           {});
        const std::string e = loadError(dir);
        QVERIFY2(contains(e, "model.safetensors") &&
                     contains(e, "missing tensor 'model.layers.2.self_attn.k_norm.weight'"),
                 e.c_str());
    }

    void misshapedTensorNamed() {
        const fs::path dir = copyFamily("neox_sequential");
        rewriteSafetensors(dir / "model.safetensors", "",
                           "gpt_neox.layers.1.mlp.dense_h_to_4h.weight", {32, 64});
        const std::string e = loadError(dir);
        QVERIFY2(contains(e, "model.safetensors") &&
                     contains(e, "'gpt_neox.layers.1.mlp.dense_h_to_4h.weight'") &&
                     contains(e, "expected shape [64, 32], found [32, 64]"),
                 e.c_str());
    }

    void misshapedTensorInShardNamesShard() {
        const fs::path dir = copyFamily("qwen2");
        const std::string shard = "model-00002-of-00002.safetensors";
        const auto [victim, shape] = evenMatrix(dir / shard);
        QVERIFY(!victim.empty());
        rewriteSafetensors(dir / shard, "", victim, {shape[0] / 2, shape[1] * 2});
        const std::string e = loadError(dir);
        QVERIFY2(
            contains(e, shard) && contains(e, "'" + victim + "'") && contains(e, "expected shape"),
            e.c_str());
    }

    void missingShardNamed() {
        const fs::path dir = copyFamily("qwen2");
        fs::remove(dir / "model-00002-of-00002.safetensors");
        const std::string e = loadError(dir);
        QVERIFY2(contains(e, "model.safetensors.index.json") &&
                     contains(e, "model-00002-of-00002.safetensors") && contains(e, "missing"),
                 e.c_str());
    }

    void indexedTensorAbsentFromShardNamed() {
        const fs::path dir = copyFamily("qwen2");
        const std::string shard = "model-00001-of-00002.safetensors";
        const std::string victim = evenMatrix(dir / shard).first;
        QVERIFY(!victim.empty());
        rewriteSafetensors(dir / shard, victim, "", {});
        const std::string e = loadError(dir);
        QVERIFY2(contains(e, shard) && contains(e, "'" + victim + "'") &&
                     contains(e, "does not hold it"),
                 e.c_str());
    }
};

QTEST_GUILESS_MAIN(TestFamilies)
#include "test_families.moc"
