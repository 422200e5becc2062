// Forward and backward of the toy GPT-2 (letters and layout in gpt.h). Every
// activation the backward pass needs is kept from the forward; nothing is
// recomputed except tanh inside the GELU derivative.

#include "core/lmtrain/gpt.h"

#include <omp.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <random>

namespace mono::lmtrain {

Status GptShape::validate() const {
    if (vocab <= 0 || ctx <= 0 || dModel <= 0 || layers <= 0 || heads <= 0)
        return Status::invalidArgument(
            "model shape: every size must be positive (vocab " + std::to_string(vocab) + ", ctx " +
            std::to_string(ctx) + ", d_model " + std::to_string(dModel) + ", layers " +
            std::to_string(layers) + ", heads " + std::to_string(heads) + ")");
    if (dModel % heads != 0)
        return Status::invalidArgument("model shape: d_model " + std::to_string(dModel) +
                                       " is not a multiple of the head count " +
                                       std::to_string(heads));
    return Status::success();
}

int64_t GptShape::parameterCount() const {
    int64_t n = 0;
    for (const ParamTensor& t : paramLayout(*this)) n += t.size;
    return n;
}

std::vector<ParamTensor> paramLayout(const GptShape& s) {
    const int64_t V = s.vocab, T = s.ctx, C = s.dModel, F = s.dMlp();
    std::vector<ParamTensor> out;
    int64_t offset = 0;
    auto add = [&](std::string name, std::vector<int64_t> shape, bool decay, bool linear) {
        int64_t size = 1;
        for (int64_t d : shape) size *= d;
        out.push_back({std::move(name), std::move(shape), offset, size, decay, linear});
        offset += size;
    };
    add("wte", {V, C}, true, false);
    add("wpe", {T, C}, true, false);
    for (int l = 0; l < s.layers; ++l) {
        const std::string p = "h." + std::to_string(l) + ".";
        add(p + "ln_1.weight", {C}, false, false);
        add(p + "ln_1.bias", {C}, false, false);
        add(p + "attn.c_attn.weight", {3 * C, C}, true, true);
        add(p + "attn.c_attn.bias", {3 * C}, false, false);
        add(p + "attn.c_proj.weight", {C, C}, true, true);
        add(p + "attn.c_proj.bias", {C}, false, false);
        add(p + "ln_2.weight", {C}, false, false);
        add(p + "ln_2.bias", {C}, false, false);
        add(p + "mlp.c_fc.weight", {F, C}, true, true);
        add(p + "mlp.c_fc.bias", {F}, false, false);
        add(p + "mlp.c_proj.weight", {C, F}, true, true);
        add(p + "mlp.c_proj.bias", {C}, false, false);
    }
    add("ln_f.weight", {C}, false, false);
    add("ln_f.bias", {C}, false, false);
    return out;
}

namespace {

constexpr int kTensorsPerLayer = 12;
constexpr double kLayerNormEps = 1e-5;
// Loops over fewer elements than this run on one thread: waking the OpenMP team
// costs more than it saves, most of all on a busy machine.
constexpr int64_t kParallelMin = int64_t{1} << 15;
// GEMMs of fewer multiply-adds than this run on one thread.
constexpr int64_t kParallelGemmMin = int64_t{1} << 20;

template <class S>
using Mat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class S>
using MapM = Eigen::Map<Mat<S>>;
template <class S>
using CMapM = Eigen::Map<const Mat<S>>;
template <class S>
using SMapM = Eigen::Map<Mat<S>, 0, Eigen::OuterStride<>>;
template <class S>
using CSMapM = Eigen::Map<const Mat<S>, 0, Eigen::OuterStride<>>;
template <class S>
using RowVec = Eigen::Matrix<S, 1, Eigen::Dynamic>;

// Pointers to one layer's tensors inside a flat vector (params or grads).
template <class S>
struct LayerView {
    S *ln1w, *ln1b, *qkvw, *qkvb, *projw, *projb, *ln2w, *ln2b, *fcw, *fcb, *fc2w, *fc2b;
};
template <class S>
struct View {
    S* wte;
    S* wpe;
    std::vector<LayerView<S>> layers;
    S* lnfw;
    S* lnfb;
};
template <class S>
View<S> makeView(S* base, const std::vector<ParamTensor>& layout, int L) {
    auto at = [&](size_t i) { return base + layout[i].offset; };
    View<S> v;
    v.wte = at(0);
    v.wpe = at(1);
    for (int l = 0; l < L; ++l) {
        const size_t b = 2 + static_cast<size_t>(l) * kTensorsPerLayer;
        v.layers.push_back({at(b), at(b + 1), at(b + 2), at(b + 3), at(b + 4), at(b + 5), at(b + 6),
                            at(b + 7), at(b + 8), at(b + 9), at(b + 10), at(b + 11)});
    }
    v.lnfw = at(layout.size() - 2);
    v.lnfb = at(layout.size() - 1);
    return v;
}

// Runs f(begin, end) over [0, n) cut into one contiguous range per OpenMP
// thread, or as one range when `work` is small. GEMMs are split this way rather
// than by Eigen: Eigen's GEMM threads wait for each other by spinning, which
// stalls for whole time slices when the machine is busy and a thread loses its
// core; an OpenMP team only meets at the end of the region.
template <class F>
void parallelRanges(int64_t n, int64_t work, F&& f) {
    if (work < kParallelGemmMin || n < 2 || omp_get_max_threads() == 1) {
        f(int64_t{0}, n);
        return;
    }
#pragma omp parallel
    {
        const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
        const int64_t begin = n * t / nt, end = n * (t + 1) / nt;
        if (end > begin) f(begin, end);
    }
}

// Keeps Eigen on one thread while alive (the parallelism is ours, above).
class SerialEigen {
public:
    SerialEigen() : m_saved(Eigen::nbThreads()) { Eigen::setNbThreads(1); }
    ~SerialEigen() { Eigen::setNbThreads(m_saved); }
    SerialEigen(const SerialEigen&) = delete;
    SerialEigen& operator=(const SerialEigen&) = delete;

private:
    int m_saved;
};

// Y[N, out] = X[N, in] · W[out, in]ᵀ + b[out] (b may be null)
template <class S>
void linearForward(const S* X, int64_t N, int64_t in, const S* W, const S* b, int64_t out, S* Y) {
    parallelRanges(N, N * in * out, [&](int64_t r0, int64_t r1) {
        MapM<S> y(Y + r0 * out, r1 - r0, out);
        y.noalias() = CMapM<S>(X + r0 * in, r1 - r0, in) * CMapM<S>(W, out, in).transpose();
        if (b) y.rowwise() += Eigen::Map<const RowVec<S>>(b, out);
    });
}

// dX[N, in] = dY · W (overwritten; skipped when null), dW += dYᵀ · X, db += Σ_rows dY
// (skipped when null).
template <class S>
void linearBackward(const S* dY, const S* X, const S* W, int64_t N, int64_t in, int64_t out, S* dX,
                    S* dW, S* db) {
    const CMapM<S> dy(dY, N, out);
    if (dX)
        parallelRanges(N, N * in * out, [&](int64_t r0, int64_t r1) {
            MapM<S>(dX + r0 * in, r1 - r0, in).noalias() =
                dy.middleRows(r0, r1 - r0) * CMapM<S>(W, out, in);
        });
    parallelRanges(out, N * in * out, [&](int64_t o0, int64_t o1) {
        MapM<S>(dW + o0 * in, o1 - o0, in).noalias() +=
            dy.middleCols(o0, o1 - o0).transpose() * CMapM<S>(X, N, in);
        if (db)
            Eigen::Map<RowVec<S>>(db + o0, o1 - o0) += dy.middleCols(o0, o1 - o0).colwise().sum();
    });
}

// out[N, C] = (x − mean) · rstd · w + b, keeping mean[N] and rstd[N].
template <class S>
void layerNormForward(S* out, S* mean, S* rstd, const S* x, const S* w, const S* b, int64_t N,
                      int64_t C) {
#pragma omp parallel for schedule(static) if (N * C >= kParallelMin)
    for (int64_t i = 0; i < N; ++i) {
        const S* xi = x + i * C;
        S m = 0;
        for (int64_t c = 0; c < C; ++c) m += xi[c];
        m /= static_cast<S>(C);
        S var = 0;
        for (int64_t c = 0; c < C; ++c) var += (xi[c] - m) * (xi[c] - m);
        var /= static_cast<S>(C);
        const S r = S(1) / std::sqrt(var + static_cast<S>(kLayerNormEps));
        S* oi = out + i * C;
        for (int64_t c = 0; c < C; ++c) oi[c] = (xi[c] - m) * r * w[c] + b[c];
        mean[i] = m;
        rstd[i] = r;
    }
}

// dx += ∂/∂x, dw += Σ dout·x̂, db += Σ dout, where x̂ = (x − mean)·rstd.
template <class S>
void layerNormBackward(S* dx, S* dw, S* db, const S* dout, const S* x, const S* mean, const S* rstd,
                       const S* w, int64_t N, int64_t C) {
#pragma omp parallel for schedule(static) if (N * C >= kParallelMin)
    for (int64_t i = 0; i < N; ++i) {
        const S* xi = x + i * C;
        const S* di = dout + i * C;
        const S m = mean[i], r = rstd[i];
        S meanD = 0, meanDN = 0;
        for (int64_t c = 0; c < C; ++c) {
            const S dn = di[c] * w[c];
            meanD += dn;
            meanDN += dn * (xi[c] - m) * r;
        }
        meanD /= static_cast<S>(C);
        meanDN /= static_cast<S>(C);
        S* dxi = dx + i * C;
        for (int64_t c = 0; c < C; ++c) {
            const S n = (xi[c] - m) * r;
            dxi[c] += r * (di[c] * w[c] - meanD - n * meanDN);
        }
    }
    // The parameter sums are N·C adds: cheap enough to keep serial and race-free.
    for (int64_t i = 0; i < N; ++i) {
        const S* xi = x + i * C;
        const S* di = dout + i * C;
        const S m = mean[i], r = rstd[i];
        for (int64_t c = 0; c < C; ++c) {
            dw[c] += di[c] * (xi[c] - m) * r;
            db[c] += di[c];
        }
    }
}

// GPT-2's gelu_new: 0.5·h·(1 + tanh(k·(h + 0.044715·h³))), k = sqrt(2/π).
template <class S>
void geluForward(S* g, const S* h, int64_t n) {
    const S k = static_cast<S>(0.7978845608028654);
    constexpr int64_t kChunk = 4096;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t s = 0; s < n; s += kChunk) {
        const int64_t len = std::min(kChunk, n - s);
        const auto a = Eigen::Map<const Eigen::Array<S, Eigen::Dynamic, 1>>(h + s, len);
        Eigen::Map<Eigen::Array<S, Eigen::Dynamic, 1>>(g + s, len) =
            S(0.5) * a * (S(1) + (k * (a + S(0.044715) * a.cube())).tanh());
    }
}

// dh = dg · gelu'(h), in place over dg.
template <class S>
void geluBackward(S* dg, const S* h, int64_t n) {
    const S k = static_cast<S>(0.7978845608028654);
    constexpr int64_t kChunk = 4096;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t s = 0; s < n; s += kChunk) {
        const int64_t len = std::min(kChunk, n - s);
        const auto a = Eigen::Map<const Eigen::Array<S, Eigen::Dynamic, 1>>(h + s, len);
        auto d = Eigen::Map<Eigen::Array<S, Eigen::Dynamic, 1>>(dg + s, len);
        const Eigen::Array<S, Eigen::Dynamic, 1> t = (k * (a + S(0.044715) * a.cube())).tanh();
        d *= S(0.5) * (S(1) + t) +
             S(0.5) * a * (S(1) - t.square()) * k * (S(1) + S(3 * 0.044715) * a.square());
    }
}

}  // namespace

template <class S>
struct Gpt<S>::Acts {
    int B = 0, T = 0;
    bool haveTargets = false;
    AlignedVector<int32_t> tokens;  // [N]
    // Per layer l, each block is [L, N, ·]; resid has L + 1 blocks (the input of each layer
    // and the final output).
    AlignedVector<S> resid, ln1, ln1Mean, ln1Rstd, qkv, att, atty, mid, ln2, ln2Mean, ln2Rstd,
        fcPre, fcAct;
    AlignedVector<S> lnf, lnfMean, lnfRstd;  // [N, C], [N], [N]
    AlignedVector<S> logits;                 // [N, V]
    AlignedVector<S> dlogits;                // [N, V] (softmax − onehot) / N
    // Backward scratch.
    AlignedVector<S> dx, dtmp, datty, dqkv, dfc;  // [N, C] ×3, [N, 3C], [N, F]
    AlignedVector<S> dAtt;                        // [threads, T, T]

    void resize(const GptShape& s, int b, int t) {
        if (b == B && t == T) return;
        B = b;
        T = t;
        const size_t N = static_cast<size_t>(b) * t, C = s.dModel, F = s.dMlp(), L = s.layers,
                     V = s.vocab, NH = s.heads;
        tokens.resize(N);
        resid.resize((L + 1) * N * C);
        for (auto* v : {&ln1, &atty, &mid, &ln2}) v->resize(L * N * C);
        for (auto* v : {&ln1Mean, &ln1Rstd, &ln2Mean, &ln2Rstd}) v->resize(L * N);
        qkv.resize(L * N * 3 * C);
        att.resize(L * b * NH * static_cast<size_t>(t) * t);
        fcPre.resize(L * N * F);
        fcAct.resize(L * N * F);
        lnf.resize(N * C);
        lnfMean.resize(N);
        lnfRstd.resize(N);
        logits.resize(N * V);
        dlogits.resize(N * V);
        dx.resize(N * C);
        dtmp.resize(N * C);
        datty.resize(N * C);
        dqkv.resize(N * 3 * C);
        dfc.resize(N * F);
        dAtt.resize(static_cast<size_t>(omp_get_max_threads()) * t * t);
    }
};

template <class S>
Gpt<S>::Gpt(const GptShape& shape)
    : m_shape(shape), m_layout(paramLayout(shape)), m_acts(std::make_unique<Acts>()) {
    const int64_t n = m_layout.back().offset + m_layout.back().size;
    params.assign(static_cast<size_t>(n), S(0));
    grads.assign(static_cast<size_t>(n), S(0));
}

template <class S>
Gpt<S>::~Gpt() = default;

template <class S>
void Gpt<S>::initialize(uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    const double residStd = 0.02 / std::sqrt(2.0 * m_shape.layers);
    for (const ParamTensor& t : m_layout) {
        S* p = params.data() + t.offset;
        const bool bias = t.name.size() > 5 && t.name.compare(t.name.size() - 5, 5, ".bias") == 0;
        const bool gain = t.name.find("ln_") != std::string::npos && !bias;
        if (bias || gain) {
            std::fill(p, p + t.size, bias ? S(0) : S(1));
            continue;
        }
        const bool residProj = t.name.find("c_proj.weight") != std::string::npos;
        const double sd = residProj ? residStd : 0.02;
        for (int64_t i = 0; i < t.size; ++i) p[i] = static_cast<S>(normal(rng) * sd);
    }
}

template <class S>
S Gpt<S>::forward(const int32_t* tokens, const int32_t* targets, int B, int T) {
    const int64_t C = m_shape.dModel, F = m_shape.dMlp(), V = m_shape.vocab, NH = m_shape.heads,
                  hs = C / NH, L = m_shape.layers, N = static_cast<int64_t>(B) * T;
    const SerialEigen serial;
    Acts& a = *m_acts;
    a.resize(m_shape, B, T);
    a.haveTargets = targets != nullptr;
    std::copy(tokens, tokens + N, a.tokens.begin());
    const View<S> p = makeView(params.data(), m_layout, m_shape.layers);

    // Embeddings: resid[0] = wte[token] + wpe[position].
    S* x0 = a.resid.data();
#pragma omp parallel for schedule(static) if (N * C >= kParallelMin)
    for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < C; ++c)
            x0[n * C + c] = p.wte[tokens[n] * C + c] + p.wpe[(n % T) * C + c];

    const S scale = S(1) / std::sqrt(static_cast<S>(hs));
    for (int64_t l = 0; l < L; ++l) {
        const LayerView<S>& w = p.layers[l];
        const S* x = a.resid.data() + l * N * C;
        S* ln1 = a.ln1.data() + l * N * C;
        S* qkv = a.qkv.data() + l * N * 3 * C;
        S* att = a.att.data() + l * B * NH * T * T;
        S* atty = a.atty.data() + l * N * C;
        S* mid = a.mid.data() + l * N * C;
        S* ln2 = a.ln2.data() + l * N * C;
        S* fcPre = a.fcPre.data() + l * N * F;
        S* fcAct = a.fcAct.data() + l * N * F;
        S* out = a.resid.data() + (l + 1) * N * C;

        layerNormForward(ln1, a.ln1Mean.data() + l * N, a.ln1Rstd.data() + l * N, x, w.ln1w, w.ln1b,
                         N, C);
        linearForward(ln1, N, C, w.qkvw, w.qkvb, 3 * C, qkv);
        // Causal attention per (sequence, head): P = softmax(scale·Q·Kᵀ) masked, Y = P·V.
#pragma omp parallel for schedule(static) if (N * T * C >= kParallelMin)
        for (int64_t bh = 0; bh < B * NH; ++bh) {
            const int64_t b = bh / NH, h = bh % NH;
            const S* base = qkv + b * T * 3 * C;
            const CSMapM<S> Q(base + h * hs, T, hs, Eigen::OuterStride<>(3 * C));
            const CSMapM<S> K(base + C + h * hs, T, hs, Eigen::OuterStride<>(3 * C));
            const CSMapM<S> Vv(base + 2 * C + h * hs, T, hs, Eigen::OuterStride<>(3 * C));
            MapM<S> P(att + bh * T * T, T, T);
            P.noalias() = scale * (Q * K.transpose());
            for (int64_t i = 0; i < T; ++i) {
                S* row = P.row(i).data();
                S mx = row[0];
                for (int64_t j = 1; j <= i; ++j) mx = std::max(mx, row[j]);
                S sum = 0;
                for (int64_t j = 0; j <= i; ++j) {
                    row[j] = std::exp(row[j] - mx);
                    sum += row[j];
                }
                const S inv = S(1) / sum;
                for (int64_t j = 0; j <= i; ++j) row[j] *= inv;
                for (int64_t j = i + 1; j < T; ++j) row[j] = 0;
            }
            SMapM<S>(atty + b * T * C + h * hs, T, hs, Eigen::OuterStride<>(C)).noalias() =
                P.template triangularView<Eigen::Lower>() * Vv;
        }
        linearForward(atty, N, C, w.projw, w.projb, C, mid);
        MapM<S>(mid, N, C) += CMapM<S>(x, N, C);
        layerNormForward(ln2, a.ln2Mean.data() + l * N, a.ln2Rstd.data() + l * N, mid, w.ln2w,
                         w.ln2b, N, C);
        linearForward(ln2, N, C, w.fcw, w.fcb, F, fcPre);
        geluForward(fcAct, fcPre, N * F);
        linearForward(fcAct, N, F, w.fc2w, w.fc2b, C, out);
        MapM<S>(out, N, C) += CMapM<S>(mid, N, C);
    }
    layerNormForward(a.lnf.data(), a.lnfMean.data(), a.lnfRstd.data(), a.resid.data() + L * N * C,
                     p.lnfw, p.lnfb, N, C);
    linearForward<S>(a.lnf.data(), N, C, p.wte, nullptr, V, a.logits.data());
    if (!targets) return S(0);

    // Cross-entropy; dlogits = (softmax − onehot) / N for the backward pass.
    AlignedVector<S> rowLoss(static_cast<size_t>(N));
    const S invN = S(1) / static_cast<S>(N);
#pragma omp parallel for schedule(static) if (N * V >= kParallelMin)
    for (int64_t n = 0; n < N; ++n) {
        const auto z =
            Eigen::Map<const Eigen::Array<S, 1, Eigen::Dynamic>>(a.logits.data() + n * V, V);
        auto d = Eigen::Map<Eigen::Array<S, 1, Eigen::Dynamic>>(a.dlogits.data() + n * V, V);
        const S mx = z.maxCoeff();
        d = (z - mx).exp();
        const S sum = d.sum();
        rowLoss[n] = std::log(sum) + mx - z(targets[n]);
        d *= invN / sum;
        d(targets[n]) -= invN;
    }
    S loss = 0;
    for (S v : rowLoss) loss += v;
    return loss * invN;
}

template <class S>
const S* Gpt<S>::logits() const {
    return m_acts->logits.data();
}

template <class S>
void Gpt<S>::backward() {
    Acts& a = *m_acts;
    const int64_t B = a.B, T = a.T, C = m_shape.dModel, F = m_shape.dMlp(), V = m_shape.vocab,
                  NH = m_shape.heads, hs = C / NH, L = m_shape.layers, N = B * T;
    const SerialEigen serial;
    std::fill(grads.begin(), grads.end(), S(0));
    const View<S> p = makeView(params.data(), m_layout, m_shape.layers);
    const View<S> g = makeView(grads.data(), m_layout, m_shape.layers);
    S* dx = a.dx.data();      // [N, C] gradient of the residual stream
    S* dtmp = a.dtmp.data();  // [N, C]

    // Unembedding (tied): dlnf = dlogits · wte, dwte += dlogitsᵀ · lnf.
    linearBackward<S>(a.dlogits.data(), a.lnf.data(), p.wte, N, C, V, dtmp, g.wte, nullptr);
    std::fill(a.dx.begin(), a.dx.end(), S(0));
    layerNormBackward(dx, g.lnfw, g.lnfb, dtmp, a.resid.data() + L * N * C, a.lnfMean.data(),
                      a.lnfRstd.data(), p.lnfw, N, C);

    const S scale = S(1) / std::sqrt(static_cast<S>(hs));
    for (int64_t l = L - 1; l >= 0; --l) {
        const LayerView<S>& w = p.layers[l];
        const LayerView<S>& gw = g.layers[l];
        const S* x = a.resid.data() + l * N * C;
        const S* ln1 = a.ln1.data() + l * N * C;
        const S* qkv = a.qkv.data() + l * N * 3 * C;
        const S* att = a.att.data() + l * B * NH * T * T;
        const S* atty = a.atty.data() + l * N * C;
        const S* mid = a.mid.data() + l * N * C;
        const S* ln2 = a.ln2.data() + l * N * C;
        const S* fcPre = a.fcPre.data() + l * N * F;
        const S* fcAct = a.fcAct.data() + l * N * F;

        // out = mid + c_proj(gelu(c_fc(LN2(mid)))); dx holds ∂/∂out.
        linearBackward(dx, fcAct, w.fc2w, N, F, C, a.dfc.data(), gw.fc2w, gw.fc2b);
        geluBackward(a.dfc.data(), fcPre, N * F);
        linearBackward(a.dfc.data(), ln2, w.fcw, N, C, F, dtmp, gw.fcw, gw.fcb);
        layerNormBackward(dx, gw.ln2w, gw.ln2b, dtmp, mid, a.ln2Mean.data() + l * N,
                          a.ln2Rstd.data() + l * N, w.ln2w, N, C);
        // mid = x + c_proj(attn(LN1(x))); dx now holds ∂/∂mid.
        linearBackward(dx, atty, w.projw, N, C, C, a.datty.data(), gw.projw, gw.projb);
        S* dqkv = a.dqkv.data();
        const S* datty = a.datty.data();
#pragma omp parallel for schedule(static) if (N * T * C >= kParallelMin)
        for (int64_t bh = 0; bh < B * NH; ++bh) {
            const int64_t b = bh / NH, h = bh % NH;
            const S* base = qkv + b * T * 3 * C;
            S* dbase = dqkv + b * T * 3 * C;
            const CSMapM<S> Q(base + h * hs, T, hs, Eigen::OuterStride<>(3 * C));
            const CSMapM<S> K(base + C + h * hs, T, hs, Eigen::OuterStride<>(3 * C));
            const CSMapM<S> Vv(base + 2 * C + h * hs, T, hs, Eigen::OuterStride<>(3 * C));
            const CSMapM<S> dY(datty + b * T * C + h * hs, T, hs, Eigen::OuterStride<>(C));
            const CMapM<S> P(att + bh * T * T, T, T);
            MapM<S> dS(a.dAtt.data() + static_cast<int64_t>(omp_get_thread_num()) * T * T, T, T);
            SMapM<S>(dbase + 2 * C + h * hs, T, hs, Eigen::OuterStride<>(3 * C)).noalias() =
                P.transpose().template triangularView<Eigen::Upper>() * dY;
            dS.noalias() = dY * Vv.transpose();  // dP
            // Softmax backward: dS_ij = P_ij (dP_ij − Σ_k P_ik dP_ik), then the score scale.
            for (int64_t i = 0; i < T; ++i) {
                const S* pr = P.row(i).data();
                S* dr = dS.row(i).data();
                S dot = 0;
                for (int64_t j = 0; j <= i; ++j) dot += pr[j] * dr[j];
                for (int64_t j = 0; j <= i; ++j) dr[j] = pr[j] * (dr[j] - dot) * scale;
                for (int64_t j = i + 1; j < T; ++j) dr[j] = 0;
            }
            SMapM<S>(dbase + h * hs, T, hs, Eigen::OuterStride<>(3 * C)).noalias() =
                dS.template triangularView<Eigen::Lower>() * K;
            SMapM<S>(dbase + C + h * hs, T, hs, Eigen::OuterStride<>(3 * C)).noalias() =
                dS.transpose().template triangularView<Eigen::Upper>() * Q;
        }
        linearBackward(dqkv, ln1, w.qkvw, N, C, 3 * C, dtmp, gw.qkvw, gw.qkvb);
        layerNormBackward(dx, gw.ln1w, gw.ln1b, dtmp, x, a.ln1Mean.data() + l * N,
                          a.ln1Rstd.data() + l * N, w.ln1w, N, C);
    }
    // Embeddings: scatter-add (serial: tokens repeat, so rows would race).
    for (int64_t n = 0; n < N; ++n) {
        S* gt = g.wte + static_cast<int64_t>(a.tokens[n]) * C;
        S* gp = g.wpe + (n % T) * C;
        for (int64_t c = 0; c < C; ++c) {
            gt[c] += dx[n * C + c];
            gp[c] += dx[n * C + c];
        }
    }
}

template class Gpt<float>;
template class Gpt<double>;

}  // namespace mono::lmtrain
