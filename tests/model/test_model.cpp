// The transformer runtime against real models: stories260K (llama2.c and GGUF)
// logits from run.c, greedy generations, TinyStories-656K (HF Llama),
// tiny-random-gpt2 against tests/reference/gpt2_reference.py, and the
// properties the rest of Monoscope relies on: hooks that read and replace,
// KV cache = full forward, batch = per-sequence forwards, clear errors.

#include <omp.h>
#include <QProcess>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <numeric>
#include <sstream>

#include "core/io/npy.h"
#include "core/io/safetensors.h"
#include "core/model/generate.h"
#include "core/model/model.h"
#include "core/model/weights.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/support/test_support.h"

using namespace mono;
using namespace mono::model;
namespace fs = std::filesystem;

namespace {

// Tolerances, named once: run.c golden logits (fp32 vs fp32, different op
// order), the float64 GPT-2 reference (relative to the array's max |value|),
// KV cache and batching (same math in another grouping: decode runs its
// linears as GEMVs, prefill as GEMMs, so sums round differently; relative to
// the largest |logit|, about 20 for stories260K, i.e. a few float32 ulps).
constexpr float kGoldenTol = 1e-4f;
constexpr float kGpt2RelTol = 1e-4f;
constexpr float kCacheRelTol = 1e-5f;

float maxAbs(const std::vector<float>& v) {
    float m = 0;
    for (float x : v) m = std::max(m, std::fabs(x));
    return m;
}

struct Diff {
    float maxAbs = 0;
    int64_t at = -1;
};
Diff maxDiff(const float* a, const float* b, int64_t n) {
    Diff d;
    for (int64_t i = 0; i < n; ++i) {
        const float e = std::fabs(a[i] - b[i]);
        if (!(e <= d.maxAbs)) d = {e, i};  // NaN counts as the worst
    }
    return d;
}

std::shared_ptr<Model> loadOrFail(const fs::path& p) {
    auto m = Model::load(p.string());
    if (!m.ok()) qWarning("%s", m.status().toString().c_str());
    return m.ok() ? *m : nullptr;
}

// The 64 inputs of the golden run: BOS, then each greedy token but the last.
std::vector<TokenId> goldenInputs(const fs::path& idsFile) {
    std::vector<TokenId> ids{1};
    std::istringstream in(test::readFile(idsFile));
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        int pos = 0, next = 0;
        if (std::sscanf(line.c_str(), "%d %d", &pos, &next) == 2) ids.push_back(next);
    }
    ids.pop_back();
    return ids;
}

Logits forwardAll(Model& m, const std::vector<TokenId>& ids, const Hooks* hooks = nullptr) {
    ForwardOptions o;
    o.hooks = hooks;
    Logits out;
    Status s = m.forward(Batch::single(ids), o, &out);
    if (!s.ok()) qWarning("%s", s.toString().c_str());
    return out;
}

std::string generateText(Model& m, const tok::Tokenizer& t, int n) {
    GenerateOptions g;
    g.maxNewTokens = n;
    auto r = generate(m, t, {t.bos() >= 0 ? t.bos() : m.config().bosId}, g);
    if (!r.ok()) return "error: " + r.status().toString();
    return r->text;
}

// float32 → IEEE half, round to nearest even (subnormals included).
uint16_t toHalf(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const int32_t exp = int32_t((x >> 23) & 0xFF) - 127 + 15;
    uint32_t mant = x & 0x7FFFFFu;
    if (exp >= 31) return uint16_t(sign | 0x7C00u);  // overflow → inf
    if (exp <= 0) {                                  // subnormal or zero
        if (exp < -10) return uint16_t(sign);
        mant |= 0x800000u;
        const int shift = 14 - exp;
        uint32_t h = mant >> shift;
        const uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) ++h;
        return uint16_t(sign | h);
    }
    uint32_t h = (uint32_t(exp) << 10) | (mant >> 13);
    const uint32_t rem = mant & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) ++h;  // may carry into the exponent: fine
    return uint16_t(sign | h);
}
uint16_t toBf16(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    return uint16_t((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

struct CliRun {
    int code = -1;
    QByteArray out, err;
};
// Runs monoscope-cli from the same build tree (build/app/monoscope-cli).
CliRun runCli(const QStringList& args) {
    CliRun r;
    const QString exe = QCoreApplication::applicationDirPath() + "/../../app/monoscope-cli";
    QProcess p;
    p.start(exe, args);
    if (!p.waitForFinished(60000)) return r;
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}
bool haveCli() {
    return QFileInfo::exists(QCoreApplication::applicationDirPath() + "/../../app/monoscope-cli");
}
QString qs(const fs::path& p) {
    return QString::fromStdString(p.string());
}

}  // namespace

class TestModel : public QObject {
    Q_OBJECT

    void checkStoriesLogits(const fs::path& modelFile) {
        MONO_REQUIRE_SHARED(dir, "models/stories260K");
        auto m = loadOrFail(modelFile);
        QVERIFY(m);
        QCOMPARE(m->config().nKvHeads, 4);
        const auto ids = goldenInputs(dir / "golden_greedy_ids_n64.txt");
        QCOMPARE(int(ids.size()), 64);
        const std::string golden = test::readFile(dir / "golden_logits_n64x512.f32");
        QCOMPARE(golden.size(), size_t(64 * 512 * 4));
        Logits out = forwardAll(*m, ids);
        QCOMPARE(out.rows, int64_t(64));
        QCOMPARE(out.vocab, int64_t(512));
        const Diff d =
            maxDiff(out.data.data(), reinterpret_cast<const float*>(golden.data()), 64 * 512);
        qInfo("%s: max |logit - run.c| = %.3g at [%lld, %lld]", modelFile.filename().c_str(),
              d.maxAbs, (long long)(d.at / 512), (long long)(d.at % 512));
        QVERIFY2(d.maxAbs <= kGoldenTol, qPrintable(QString::number(d.maxAbs)));
    }

private slots:
    void storiesBinLogitsMatchRunC() {
        MONO_REQUIRE_SHARED(f, "models/stories260K/stories260K.bin");
        checkStoriesLogits(f);
    }
    void storiesGgufLogitsMatchRunC() {
        MONO_REQUIRE_SHARED(f, "models/stories260K/stories260K.gguf");
        checkStoriesLogits(f);
    }

    void storiesGreedyGenerationPrintsExpectedText() {
        MONO_REQUIRE_SHARED(dir, "models/stories260K");
        const std::string expected = test::readFile(dir / "expected_greedy_t0_n256.txt");
        for (const char* file : {"stories260K.bin", "stories260K.gguf"}) {
            auto m = loadOrFail(dir / file);
            QVERIFY(m);
            auto tok = tok::loadTokenizer(
                (std::string(file).ends_with(".bin") ? dir / "tok512.bin" : dir / file).string());
            MONO_VERIFY_RESULT(tok);
            // run.c -n 256 samples 256 tokens after BOS and ends with a newline.
            QCOMPARE(QString::fromStdString(generateText(*m, **tok, 256) + "\n"),
                     QString::fromStdString(expected));
            // With a prompt, run.c's 64 steps count the prompt's positions too.
            const std::string prompt = "Once upon a time";
            const auto ids = (*tok)->encode(prompt, true);
            QCOMPARE(ids.front(), 1);
            GenerateOptions g;
            g.maxNewTokens = 65 - int(ids.size());
            std::string streamed;
            auto r = generate(*m, **tok, ids, g, [&](TokenId, const std::string& piece) {
                streamed += piece;
                return true;
            });
            MONO_VERIFY_RESULT(r);
            QCOMPARE(streamed, r->text);
            QCOMPARE(QString::fromStdString(prompt + r->text + "\n"),
                     QString::fromStdString(
                         test::readFile(dir / "expected_greedy_prompt_OnceUponATime_n64.txt")));
        }
    }

    void tinyStoriesGreedyFromBos() {
        MONO_REQUIRE_SHARED(dir, "models/TinyStories-656K");
        auto m = loadOrFail(dir);
        QVERIFY(m);
        QCOMPARE(m->config().rope, RopeLayout::kRotateHalf);
        QVERIFY(m->config().tiedEmbeddings);
        auto tok = tok::loadTokenizer(dir.string());
        MONO_VERIFY_RESULT(tok);
        const std::string expected = test::readFile(dir / "expected_greedy_from_BOS_n100.txt");
        QCOMPARE(QString::fromStdString(generateText(*m, **tok, 100) + "\n"),
                 QString::fromStdString(expected));
    }

    // Every hook point and the logits of tiny-random-gpt2 against the float64 PyTorch reference.
    void gpt2MatchesReferenceAtEveryHook() {
        MONO_REQUIRE_SHARED(dir, "models/tiny-random-gpt2");
        auto golden = io::readNpz((test::sourceDir() / "tests/data/tiny_gpt2/golden.npz").string());
        MONO_VERIFY_RESULT(golden);
        auto m = loadOrFail(dir);
        QVERIFY(m);
        const auto& tokArr = golden->at("tokens");
        std::vector<TokenId> ids(tokArr.bytes.size() / 4);
        std::memcpy(ids.data(), tokArr.bytes.data(), tokArr.bytes.size());
        QCOMPARE(int(ids.size()), 12);

        const auto names = listHookNames(m->config());
        std::map<std::string, std::vector<float>> seen;
        Hooks hooks;
        for (const auto& name : names)
            hooks.add(name, [&seen](const HookContext& c, ActivationBlock a) {
                seen[std::string(c.name)].assign(a.data, a.data + a.rows * a.cols);
            });
        Logits out = forwardAll(*m, ids, &hooks);
        seen["logits"] = out.data;
        QCOMPARE(int(seen.size()), int(names.size()) + 1);
        int compared = 0;
        for (const auto& [name, arr] : *golden) {
            if (name == "tokens") continue;
            QVERIFY2(seen.count(name), qPrintable(QString::fromStdString("not reached: " + name)));
            const auto& got = seen[name];
            const float* ref = reinterpret_cast<const float*>(arr.bytes.data());
            const int64_t n = int64_t(arr.bytes.size() / 4);
            QCOMPARE(int64_t(got.size()), n);
            float scale = 0;
            for (int64_t i = 0; i < n; ++i) scale = std::max(scale, std::fabs(ref[i]));
            const Diff d = maxDiff(got.data(), ref, n);
            QVERIFY2(d.maxAbs <= kGpt2RelTol * scale,
                     qPrintable(QStringLiteral("%1: max diff %2 at %3 (scale %4): got %5, want %6")
                                    .arg(QString::fromStdString(name))
                                    .arg(d.maxAbs)
                                    .arg(d.at)
                                    .arg(scale)
                                    .arg(got[d.at])
                                    .arg(ref[d.at])));
            ++compared;
        }
        QCOMPARE(compared, int(names.size()) + 1);  // every hook has a golden
    }

    void hookReplacementChangesTheForward() {
        MONO_REQUIRE_SHARED(f, "models/stories260K/stories260K.bin");
        auto m = loadOrFail(f);
        QVERIFY(m);
        const std::vector<TokenId> ids{1, 403, 407, 261, 378, 432, 383};
        const Logits clean = forwardAll(*m, ids);

        // Replacing with itself (through a copy) changes nothing.
        Hooks same;
        same.add("blocks.1.hook_resid_post", [](const HookContext&, ActivationBlock a) {
            std::vector<float> copy(a.data, a.data + a.rows * a.cols);
            std::memcpy(a.data, copy.data(), copy.size() * sizeof(float));
        });
        QCOMPARE(maxDiff(forwardAll(*m, ids, &same).data.data(), clean.data.data(),
                         int64_t(clean.data.size()))
                     .maxAbs,
                 0.0f);

        // Zeros change the logits; only the rows replaced, and only from that point on.
        Hooks zero;
        zero.add("blocks.1.hook_resid_post", [](const HookContext& c, ActivationBlock a) {
            QCOMPARE(c.seqs->size(), size_t(1));
            std::fill(a.row(3), a.row(4), 0.0f);  // position 3 only
        });
        const Logits z = forwardAll(*m, ids, &zero);
        QCOMPARE(maxDiff(z.row(0), clean.row(0), 3 * 512).maxAbs, 0.0f);  // earlier rows intact
        QVERIFY(maxDiff(z.row(3), clean.row(3), 512).maxAbs > 1e-3f);

        // A capture equals what the forward used: resid_post of L is resid_pre of L+1,
        // and a capture-only pass (no logits, early stop) sees the same values.
        std::vector<float> post1, pre2, early;
        Hooks cap;
        cap.add("blocks.1.hook_resid_post", [&](const HookContext&, ActivationBlock a) {
            post1.assign(a.data, a.data + a.rows * a.cols);
        });
        cap.add("blocks.2.hook_resid_pre", [&](const HookContext&, ActivationBlock a) {
            pre2.assign(a.data, a.data + a.rows * a.cols);
        });
        forwardAll(*m, ids, &cap);
        QCOMPARE(post1.size(), size_t(ids.size() * 64));
        QVERIFY(post1 == pre2);
        Hooks only;
        int lastLayerSeen = -1;
        only.add("blocks.1.hook_resid_post", [&](const HookContext& c, ActivationBlock a) {
            early.assign(a.data, a.data + a.rows * a.cols);
            lastLayerSeen = c.id.layer;
        });
        ForwardOptions o;
        o.hooks = &only;
        o.logits = LogitsWanted::kNone;
        MONO_VERIFY_OK(m->forward(Batch::single(ids), o, nullptr));
        QVERIFY(early == post1);
        QCOMPARE(lastLayerSeen, 1);

        // Replacing a captured activation with itself from another pass = clean logits.
        Hooks splice;
        splice.add("blocks.1.hook_resid_post", [&](const HookContext&, ActivationBlock a) {
            std::memcpy(a.data, post1.data(), post1.size() * sizeof(float));
        });
        QCOMPARE(maxDiff(forwardAll(*m, ids, &splice).data.data(), clean.data.data(),
                         int64_t(clean.data.size()))
                     .maxAbs,
                 0.0f);
    }

    // A hook on q_proj's input gets its own copy: k_proj and v_proj still read the norm output.
    void sharedLinearInputsAreIndependent() {
        MONO_REQUIRE_SHARED(f, "models/stories260K/stories260K.bin");
        auto m = loadOrFail(f);
        QVERIFY(m);
        const std::vector<TokenId> ids{1, 403, 407, 261};
        std::vector<float> qIn, kInClean, kInHooked;
        Hooks cap;
        cap.add("blocks.0.attn.q_proj", [&](const HookContext&, ActivationBlock a) {
            qIn.assign(a.data, a.data + a.rows * a.cols);
        });
        cap.add("blocks.0.attn.k_proj", [&](const HookContext&, ActivationBlock a) {
            kInClean.assign(a.data, a.data + a.rows * a.cols);
        });
        const Logits clean = forwardAll(*m, ids, &cap);
        QVERIFY(!qIn.empty() && qIn == kInClean);
        // Hooks that only read change nothing (the split q/k/v path equals the fused one).
        QCOMPARE(
            maxDiff(forwardAll(*m, ids).data.data(), clean.data.data(), int64_t(clean.data.size()))
                .maxAbs,
            0.0f);
        Hooks zq;
        zq.add("blocks.0.attn.q_proj", [](const HookContext&, ActivationBlock a) {
            std::fill(a.data, a.data + a.rows * a.cols, 0.0f);
        });
        zq.add("blocks.0.attn.k_proj", [&](const HookContext&, ActivationBlock a) {
            kInHooked.assign(a.data, a.data + a.rows * a.cols);
        });
        const Logits hooked = forwardAll(*m, ids, &zq);
        QVERIFY(kInHooked == kInClean);
        QVERIFY(maxDiff(hooked.data.data(), clean.data.data(), int64_t(clean.data.size())).maxAbs >
                1e-3f);
    }

    void kvCacheEqualsFullForward() {
        MONO_REQUIRE_SHARED(sdir, "models/stories260K/stories260K.bin");
        MONO_REQUIRE_SHARED(gdir, "models/tiny-random-gpt2");
        for (const fs::path& p : {sdir, gdir}) {
            auto m = loadOrFail(p);
            QVERIFY(m);
            std::vector<TokenId> ids;
            for (int i = 0; i < 40; ++i) ids.push_back((i * 37 + 1) % m->config().vocabSize);
            const Logits full = forwardAll(*m, ids);
            // Prefill 10 tokens, then one at a time, then a chunk of 5, then singles.
            KvCache cache = m->newKvCache(1, 64);
            ForwardOptions o;
            o.cache = &cache;
            Logits step;
            size_t pos = 0;
            float worst = 0;
            while (pos < ids.size()) {
                const size_t n = pos == 0 ? 10 : (pos == 20 ? 5 : 1);
                Batch b;
                b.add(ids.data() + pos, int64_t(n));
                MONO_VERIFY_OK(m->forward(b, o, &step));
                QCOMPARE(step.rows, int64_t(n));
                worst = std::max(worst, maxDiff(step.data.data(), full.row(int64_t(pos)),
                                                int64_t(n) * full.vocab)
                                            .maxAbs);
                pos += n;
            }
            QCOMPARE(cache.length(0), int(ids.size()));
            qInfo("%s: KV cache vs full forward: max diff %.3g (max |logit| %.3g)",
                  p.filename().c_str(), worst, maxAbs(full.data));
            QVERIFY(worst <= kCacheRelTol * std::max(1.0f, maxAbs(full.data)));
            // Past the capacity is an error, not a crash.
            Batch more = Batch::single(std::vector<TokenId>(30, 1));
            QCOMPARE(m->forward(more, o, &step).code(), StatusCode::kOutOfRange);
        }
    }

    void batchOfDifferentLengthsEqualsSingleForwards() {
        MONO_REQUIRE_SHARED(sdir, "models/stories260K/stories260K.gguf");
        MONO_REQUIRE_SHARED(gdir, "models/tiny-random-gpt2");
        for (const fs::path& p : {sdir, gdir}) {
            auto m = loadOrFail(p);
            QVERIFY(m);
            std::vector<std::vector<TokenId>> seqs;
            for (int len : {7, 1, 33, 0, 20}) {
                std::vector<TokenId> s;
                for (int i = 0; i < len; ++i) s.push_back((i * 13 + len * 7 + 1) % 500);
                seqs.push_back(s);
            }
            Logits batched;
            ForwardOptions o;
            MONO_VERIFY_OK(m->forward(Batch::fromSequences(seqs), o, &batched));
            Logits last;
            o.logits = LogitsWanted::kLast;
            MONO_VERIFY_OK(m->forward(Batch::fromSequences({seqs[0], seqs[2]}), o, &last));
            QCOMPARE(last.rows, int64_t(2));
            int64_t row = 0;
            float worst = 0;
            for (size_t s = 0; s < seqs.size(); ++s) {
                if (seqs[s].empty()) continue;
                const Logits single = forwardAll(*m, seqs[s]);
                worst = std::max(worst, maxDiff(batched.row(row), single.data.data(),
                                                int64_t(single.data.size()))
                                            .maxAbs);
                if (s == 0 || s == 2)
                    worst = std::max(worst, maxDiff(last.row(s == 0 ? 0 : 1),
                                                    single.row(single.rows - 1), single.vocab)
                                                .maxAbs);
                row += int64_t(seqs[s].size());
            }
            QCOMPARE(row, batched.rows);
            QVERIFY2(worst <= kCacheRelTol * std::max(1.0f, maxAbs(batched.data)),
                     qPrintable(QString::number(worst)));
        }
    }

    void perplexityAgreesWithGoldenLogits() {
        MONO_REQUIRE_SHARED(dir, "models/stories260K");
        auto m = loadOrFail(dir / "stories260K.bin");
        QVERIFY(m);
        const auto ids = goldenInputs(dir / "golden_greedy_ids_n64.txt");
        const std::string golden = test::readFile(dir / "golden_logits_n64x512.f32");
        const float* g = reinterpret_cast<const float*>(golden.data());
        // Windows of 32: positions 0..31 and 32..63, each predicting its own next 31 tokens.
        double nll = 0;
        int n = 0;
        for (int w = 0; w < 2; ++w)
            for (int i = 0; i < 31; ++i) {
                const int r = w * 32 + i;
                const float* row = g + r * 512;
                double mx = row[0], s = 0;
                for (int v = 1; v < 512; ++v) mx = std::max<double>(mx, row[v]);
                for (int v = 0; v < 512; ++v) s += std::exp(row[v] - mx);
                nll += mx + std::log(s) - row[ids[r + 1]];
                ++n;
            }
        // The second window starts fresh at position 0, unlike the golden run; so
        // compare the first window exactly and check the whole run is sane.
        auto first =
            perplexity(*m, std::vector<TokenId>(ids.begin(), ids.begin() + 32), 32, 1, false);
        MONO_VERIFY_RESULT(first);
        double nll0 = 0;
        for (int i = 0; i < 31; ++i) {
            const float* row = g + i * 512;
            double mx = row[0], s = 0;
            for (int v = 1; v < 512; ++v) mx = std::max<double>(mx, row[v]);
            for (int v = 0; v < 512; ++v) s += std::exp(row[v] - mx);
            nll0 += mx + std::log(s) - row[ids[i + 1]];
        }
        QCOMPARE(first->predicted, int64_t(31));
        QVERIFY(std::fabs(first->meanNll - nll0 / 31) < 1e-5);
        auto both = perplexity(*m, ids, 32, 1, false);
        MONO_VERIFY_RESULT(both);
        QCOMPARE(both->windows, 2);
        QCOMPARE(both->predicted, int64_t(n));
        QVERIFY(both->perplexity > 1.0 && both->perplexity < 20.0);
        QVERIFY(std::fabs(both->meanNll - nll / n) < 0.5);
    }

    void samplingIsSeededAndHonoursTopK() {
        std::vector<float> logits(50);
        for (int i = 0; i < 50; ++i) logits[i] = std::sin(float(i)) * 2.0f;
        const int best = int(std::max_element(logits.begin(), logits.end()) - logits.begin());
        auto draw = [&](SamplingOptions o, int n) {
            Sampler s(o);
            std::vector<int> out;
            for (int i = 0; i < n; ++i) out.push_back(s.sample(logits.data(), 50));
            return out;
        };
        SamplingOptions o;
        QCOMPARE(draw(o, 3), std::vector<int>(3, best));  // greedy
        o.temperature = 1.0f;
        o.seed = 7;
        QCOMPARE(draw(o, 200), draw(o, 200));
        auto a = draw(o, 200);
        o.seed = 8;
        QVERIFY(draw(o, 200) != a);
        o.topK = 1;
        QCOMPARE(draw(o, 20), std::vector<int>(20, best));
        o.topK = 3;
        std::vector<int> idx(50);
        std::iota(idx.begin(), idx.end(), 0);
        std::sort(idx.begin(), idx.end(), [&](int x, int y) { return logits[x] > logits[y]; });
        for (int t : draw(o, 300)) QVERIFY(t == idx[0] || t == idx[1] || t == idx[2]);
        o.topK = 0;
        o.topP = 1e-6f;  // nucleus of one token
        QCOMPARE(draw(o, 20), std::vector<int>(20, best));
        // The frequency penalty pushes the repeated argmax away.
        SamplingOptions p;
        p.frequencyPenalty = 100.0f;
        Sampler s(p);
        std::vector<int> counts(50, 0);
        counts[best] = 1;
        QVERIFY(s.sample(logits.data(), 50, &counts) != best);
    }

    void hookNamesListParseAndReject() {
        MONO_REQUIRE_SHARED(dir, "models/tiny-random-gpt2");
        auto m = loadOrFail(dir);
        QVERIFY(m);
        const auto names = listHookNames(m->config());
        QCOMPARE(int(names.size()), 5 * 10 + 1);
        for (const auto& n : names) {
            auto id = parseHookName(m->config(), n);
            MONO_VERIFY_RESULT(id);
            QCOMPARE(hookName(m->config(), *id), n);
        }
        QVERIFY(std::find(names.begin(), names.end(), "blocks.4.mlp.c_proj") != names.end());
        for (const char* bad : {"blocks.5.hook_resid_post", "blocks.0.attn.q_proj", "blocks.x",
                                "hook_resid_post", "blocks.1.hook_resid_postX"}) {
            auto id = parseHookName(m->config(), bad);
            QVERIFY(!id.ok());
            QVERIFY(id.status().message().find(bad) != std::string::npos);
        }
        Hooks h;
        h.add("blocks.9.hook_resid_pre", [](const HookContext&, ActivationBlock) {});
        ForwardOptions o;
        o.hooks = &h;
        Logits out;
        QCOMPARE(m->forward(Batch::single({1, 2}), o, &out).code(), StatusCode::kInvalidArgument);
        QCOMPARE(m->forward(Batch::single({1, 5000}), {}, &out).code(),
                 StatusCode::kInvalidArgument);
        // Llama names, and linear() finds the rows of a fused module.
        MONO_REQUIRE_SHARED(sf, "models/stories260K/stories260K.bin");
        auto s = loadOrFail(sf);
        QVERIFY(s);
        QCOMPARE(int(listHookNames(s->config()).size()), 5 * 13 + 1);
        auto k = s->linear(2, "attn.k_proj");
        MONO_VERIFY_RESULT(k);
        QCOMPARE(k->rowBegin, int64_t(64));
        QCOMPARE(k->rows, int64_t(32));
        QCOMPARE(k->weight().cols(), Eigen::Index(64));
        QVERIFY(!s->linear(2, "attn.c_attn").ok());
    }

    void editedWeightsTakeEffect() {
        MONO_REQUIRE_SHARED(f, "models/stories260K/stories260K.bin");
        auto m = loadOrFail(f);
        QVERIFY(m);
        const std::vector<TokenId> ids{1, 403, 407};
        const Logits before = forwardAll(*m, ids);
        // SmoothQuant's identity: scale a norm weight down and the reading columns up.
        auto gate = m->linear(0, "mlp.gate_proj");
        auto up = m->linear(0, "mlp.up_proj");
        MONO_VERIFY_RESULT(gate);
        m->weights().layers[0].ln2.weight[5] *= 0.25f;
        gate->weight().col(5) *= 4.0f;
        up->weight().col(5) *= 4.0f;
        m->weightsChanged();
        QVERIFY(maxDiff(forwardAll(*m, ids).data.data(), before.data.data(),
                        int64_t(before.data.size()))
                    .maxAbs < 1e-4f);
        gate->weight().col(5) *= 0.0f;
        QVERIFY(maxDiff(forwardAll(*m, ids).data.data(), before.data.data(),
                        int64_t(before.data.size()))
                    .maxAbs > 1e-4f);
    }

    void randomModelIsDeterministic() {
        ModelConfig c = gpt2SmallConfig();
        c.nLayers = 2;
        c.dModel = 64;
        c.nHeads = c.nKvHeads = 4;
        c.headDim = 16;
        c.dMlp = 256;
        c.vocabSize = 300;
        c.maxSeqLen = 32;
        auto a = Model::random(c, 3), b = Model::random(c, 3), d = Model::random(c, 4);
        MONO_VERIFY_RESULT(a);
        MONO_VERIFY_RESULT(d);
        const std::vector<TokenId> ids{5, 6, 7};
        const Logits la = forwardAll(**a, ids), lb = forwardAll(**b, ids),
                     ld = forwardAll(**d, ids);
        QCOMPARE(la.rows, int64_t(3));
        QVERIFY(la.data == lb.data);
        QVERIFY(la.data != ld.data);
        QCOMPARE(gpt2SmallConfig().parameterCount(), int64_t(124439808));
        ModelConfig bad = c;
        bad.nHeads = 5;
        QVERIFY(!Model::random(bad, 0).ok());
    }

    // The loader converts F16 and BF16 safetensors to float32: tiny-random-gpt2
    // rewritten in each precision gives the float32 logits up to that rounding.
    void halfPrecisionSafetensorsLoad() {
        MONO_REQUIRE_SHARED(gdir, "models/tiny-random-gpt2");
        auto src = io::SafetensorsFile::open((gdir / "model.safetensors").string());
        MONO_VERIFY_RESULT(src);
        auto ref = loadOrFail(gdir);
        QVERIFY(ref);
        const std::vector<TokenId> ids{98, 5, 17, 300, 999, 0, 42};
        const Logits want = forwardAll(*ref, ids);
        for (io::DType dt : {io::DType::kF16, io::DType::kBF16}) {
            const fs::path d = test::tempDir();
            fs::create_symlink(gdir / "config.json", d / "config.json");
            std::vector<std::vector<uint16_t>> halves;
            std::vector<io::TensorToWrite> out;
            for (const io::TensorView& t : src->tensors()) {
                auto f = io::toFloat(t);
                MONO_VERIFY_RESULT(f);
                std::vector<uint16_t> h(f->size());
                for (size_t i = 0; i < h.size(); ++i)
                    h[i] = dt == io::DType::kF16 ? toHalf((*f)[i]) : toBf16((*f)[i]);
                halves.push_back(std::move(h));
                out.push_back(
                    {t.name, dt, t.shape, halves.back().data(), halves.back().size() * 2});
            }
            MONO_VERIFY_OK(io::writeSafetensors((d / "model.safetensors").string(), out));
            auto m = loadOrFail(d);
            QVERIFY(m);
            const Logits got = forwardAll(*m, ids);
            const float diff =
                maxDiff(got.data.data(), want.data.data(), int64_t(want.data.size())).maxAbs;
            qInfo("%s: max |logit - f32 logit| = %.3g (max |logit| %.3g)", io::dtypeName(dt), diff,
                  maxAbs(want.data));
            // Half keeps 11 significant bits, bfloat16 8: the logits move accordingly, not more.
            const float tol = (dt == io::DType::kF16 ? 2e-3f : 2e-2f) * maxAbs(want.data);
            QVERIFY(diff > 0.0f && diff <= tol);
        }
    }

    // The CLI drives the same engine: its outputs equal the in-process results.
    void cliCommands() {
        MONO_REQUIRE_SHARED(sdir, "models/stories260K");
        MONO_REQUIRE_SHARED(tdir, "models/TinyStories-656K");
        if (!haveCli()) QSKIP("monoscope-cli is not built beside this test");
        const fs::path bin = sdir / "stories260K.bin", tok = sdir / "tok512.bin";

        CliRun g =
            runCli({"generate", qs(bin), "--tokenizer", qs(tok), "--prompt", "", "-n", "256"});
        QCOMPARE(g.code, 0);
        QCOMPARE(QString::fromUtf8(g.out),
                 QString::fromStdString(test::readFile(sdir / "expected_greedy_t0_n256.txt")));

        const auto ids = goldenInputs(sdir / "golden_greedy_ids_n64.txt");
        QString list;
        for (TokenId t : ids) list += (list.isEmpty() ? "" : ",") + QString::number(t);
        const fs::path npy = test::tempDir() / "logits.npy";
        CliRun l = runCli({"logits", qs(bin), "--tokens", list, "--out", qs(npy)});
        QCOMPARE(l.code, 0);
        auto arr = io::readNpy(npy.string());
        MONO_VERIFY_RESULT(arr);
        QCOMPARE(arr->shape, (std::vector<int64_t>{64, 512}));
        const std::string golden = test::readFile(sdir / "golden_logits_n64x512.f32");
        QVERIFY(maxDiff(reinterpret_cast<const float*>(arr->bytes.data()),
                        reinterpret_cast<const float*>(golden.data()), 64 * 512)
                    .maxAbs <= kGoldenTol);

        // hook --bos on TinyStories equals an in-process capture of the same tokens.
        auto m = loadOrFail(tdir);
        QVERIFY(m);
        auto t = tok::loadTokenizer(tdir.string());
        MONO_VERIFY_RESULT(t);
        const auto tids = (*t)->encode("Once upon a time", true);
        std::vector<float> want;
        Hooks hooks;
        hooks.add("blocks.1.mlp.hook_post", [&](const HookContext&, ActivationBlock a) {
            want.assign(a.data, a.data + a.rows * a.cols);
        });
        forwardAll(*m, tids, &hooks);
        const fs::path hnpy = test::tempDir() / "hook.npy";
        CliRun h = runCli({"hook", qs(tdir), "--text", "Once upon a time", "--bos", "--hook",
                           "blocks.1.mlp.hook_post", "--out", qs(hnpy)});
        QCOMPARE(h.code, 0);
        auto harr = io::readNpy(hnpy.string());
        MONO_VERIFY_RESULT(harr);
        QCOMPARE(harr->shape, (std::vector<int64_t>{int64_t(tids.size()), 384}));
        QVERIFY(std::memcmp(harr->bytes.data(), want.data(), want.size() * 4) == 0);

        CliRun i = runCli({"info", qs(tdir)});
        QCOMPARE(i.code, 0);
        QVERIFY(i.out.contains("rotate_half"));
        QVERIFY(i.out.contains("blocks.0.mlp.down_proj"));
        QVERIFY(i.out.contains("weights in memory float32"));
        CliRun ib = runCli({"info", qs(tdir), "--weights", "bf16"});
        QCOMPARE(ib.code, 0);
        QVERIFY(ib.out.contains("weights in memory bf16 (resident)"));
        CliRun iw = runCli({"info", qs(tdir), "--weights", "f16"});
        QCOMPARE(iw.code, 1);
        QVERIFY(iw.err.contains("--weights must be f32 or bf16"));

        CliRun bad = runCli({"hook", qs(tdir), "--text", "x", "--hook", "blocks.2.hook_resid_pre",
                             "--out", qs(hnpy)});
        QCOMPARE(bad.code, 2);
        QVERIFY(bad.err.contains("blocks.2.hook_resid_pre"));
        // A checkpoint's tokenizer is found beside it; alone, the error says what to pass.
        CliRun beside = runCli({"generate", qs(bin), "--prompt", "Once upon a time", "-n", "5"});
        QCOMPARE(beside.code, 0);
        QVERIFY(beside.out.startsWith("Once upon a time"));
        const fs::path lonely = test::tempDir() / "stories260K.bin";
        fs::create_symlink(bin, lonely);
        CliRun noTok = runCli({"generate", qs(lonely), "--prompt", "x"});
        QCOMPARE(noTok.code, 1);
        QVERIFY(noTok.err.contains("--tokenizer"));
    }

    // The backend picks one or all threads by timing; the numbers must not change with it.
    void resultsDoNotDependOnThreadCount() {
        ModelConfig c = gpt2SmallConfig();
        c.nLayers = 2;
        c.dModel = 256;
        c.nHeads = c.nKvHeads = 4;
        c.headDim = 64;
        c.dMlp = 1024;
        c.vocabSize = 3000;
        c.maxSeqLen = 256;
        auto m = Model::random(c, 11);
        MONO_VERIFY_RESULT(m);
        std::vector<TokenId> ids;
        for (int i = 0; i < 200; ++i) ids.push_back((i * 131 + 7) % 3000);
        const int saved = omp_get_max_threads();
        std::vector<std::vector<float>> prefill, decode;
        for (int threads : {1, 2, 1, 2}) {
            omp_set_num_threads(threads);
            for (int rep = 0; rep < 3; ++rep) {  // the backend's own choice varies too
                prefill.push_back(forwardAll(**m, ids).data);
                KvCache cache = (*m)->newKvCache(1, 256);
                ForwardOptions o;
                o.cache = &cache;
                o.logits = LogitsWanted::kLast;
                Logits out;
                MONO_VERIFY_OK((*m)->forward(Batch::single(ids), o, &out));
                for (TokenId t : {5, 6, 7})
                    MONO_VERIFY_OK((*m)->forward(Batch::single({t}), o, &out));
                decode.push_back(out.data);
            }
        }
        omp_set_num_threads(saved);
        for (size_t i = 1; i < prefill.size(); ++i) {
            QVERIFY(prefill[i] == prefill[0]);
            QVERIFY(decode[i] == decode[0]);
        }
    }

    void badConfigsGiveClearErrors() {
        MONO_REQUIRE_SHARED(gdir, "models/tiny-random-gpt2");
        const std::string cfg = test::readFile(gdir / "config.json");
        auto folder = [&](const std::string& config) {
            const fs::path d = test::tempDir();
            test::writeFile(d / "config.json", config);
            fs::create_symlink(gdir / "model.safetensors", d / "model.safetensors");
            return d;
        };
        auto expectError = [&](const fs::path& d, StatusCode code,
                               std::vector<std::string> mentions) {
            auto m = Model::load(d.string());
            QVERIFY(!m.ok());
            const std::string msg = m.status().toString();
            qInfo("%s", msg.c_str());
            QCOMPARE(m.status().code(), code);
            for (const auto& s : mentions)
                QVERIFY2(msg.find(s) != std::string::npos,
                         qPrintable(QString::fromStdString(msg + " lacks " + s)));
        };
        auto replaced = [&](const std::string& from, const std::string& to) {
            std::string s = cfg;
            const size_t at = s.find(from);
            if (at != std::string::npos) s.replace(at, from.size(), to);
            return s;
        };
        expectError(folder(replaced("\"model_type\": \"gpt2\"", "\"model_type\": \"bert\"")),
                    StatusCode::kUnsupported, {"config.json", "model_type", "bert"});
        expectError(folder(replaced("\"n_embd\": 32,", "")), StatusCode::kNotFound,
                    {"config.json", "n_embd"});
        expectError(folder(replaced("\"n_inner\": null", "\"n_inner\": 64")),
                    StatusCode::kInvalidArgument,
                    {"model.safetensors", "h.0.mlp.c_fc.weight", "[32, 64]", "[32, 128]"});
        expectError(folder(replaced("\"n_layer\": 5", "\"n_layer\": 6")), StatusCode::kNotFound,
                    {"h.5.ln_1.weight"});
        expectError(folder("{not json"), StatusCode::kCorruption, {"config.json", "JSON"});
        expectError(folder(replaced("\"n_head\": 4", "\"n_head\": 5")),
                    StatusCode::kInvalidArgument, {"d_model 32", "head count 5"});
        QCOMPARE(Model::load((test::tempDir() / "nothing").string()).status().code(),
                 StatusCode::kNotFound);

        // Llama: a kv-head count the tensors do not have, and RoPE scaling we do not implement.
        MONO_REQUIRE_SHARED(ldir, "models/TinyStories-656K");
        const std::string lcfg = test::readFile(ldir / "config.json");
        auto llama = [&](const std::string& from, const std::string& to) {
            std::string s = lcfg;
            const size_t at = s.find(from);
            if (at != std::string::npos) s.replace(at, from.size(), to);
            const fs::path d = test::tempDir();
            test::writeFile(d / "config.json", s);
            fs::create_symlink(ldir / "model.safetensors", d / "model.safetensors");
            return d;
        };
        expectError(llama("\"num_key_value_heads\": 4", "\"num_key_value_heads\": 8"),
                    StatusCode::kInvalidArgument,
                    {"model.layers.0.self_attn.k_proj.weight", "[128, 128]", "[64, 128]"});
        expectError(llama("\"rope_scaling\": null", "\"rope_scaling\": {\"type\": \"linear\"}"),
                    StatusCode::kUnsupported, {"rope_scaling"});
        expectError(llama("\"hidden_act\": \"silu\"", "\"hidden_act\": \"gelu\""),
                    StatusCode::kUnsupported, {"hidden_act", "gelu"});
    }
};

QTEST_GUILESS_MAIN(TestModel)
#include "test_model.moc"
