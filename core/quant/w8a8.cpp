#include "core/quant/w8a8.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/kernels/sgemm.h"
#include "core/model/weights.h"

namespace mono::quant {

using model::HookSite;

std::string W8A8Scheme::describe() const {
    char bits[32];
    std::snprintf(bits, sizeof bits, "W%dA%d ", weightBits, actBits);
    return bits + std::string(actSchemeName(act)) + ", weights " + weightSchemeName(weight) +
           (quantizeAttnInputs ? ", attention inputs int8" : "");
}

HookSite moduleSite(const LinearInput& input, size_t index) {
    if (input.site == HookSite::kAttnIn && input.modules.size() == 3)
        return index == 0 ? HookSite::kAttnIn : index == 1 ? HookSite::kKIn : HookSite::kVIn;
    if (input.site == HookSite::kMlpIn && input.modules.size() == 2)
        return index == 0 ? HookSite::kMlpIn : HookSite::kUpIn;
    return input.site;
}

void fakeQuantizeActivations(float* x, int64_t rows, int64_t cols, int64_t ld, ActScheme act,
                             const std::vector<model::SeqRows>* seqs, float staticScale,
                             float levels) {
    switch (act) {
        case ActScheme::kPerToken:
            fakeQuantizeRows(x, rows, cols, ld, levels);
            return;
        case ActScheme::kPerTokenGroup:
            fakeQuantizeRowGroups(x, rows, cols, ld, levels);
            return;
        case ActScheme::kPerTensorStatic:
            for (int64_t r = 0; r < rows; ++r) fakeQuantize(x + r * ld, cols, staticScale, levels);
            return;
        case ActScheme::kPerTensorDynamic: {
            auto block = [&](int64_t r0, int64_t n) {
                float m = 0.0f;
                for (int64_t r = r0; r < r0 + n; ++r) m = std::max(m, maxAbs(x + r * ld, cols));
                const float s = scaleForMax(m, levels);
                for (int64_t r = r0; r < r0 + n; ++r) fakeQuantize(x + r * ld, cols, s, levels);
            };
            if (!seqs) return block(0, rows);
            for (const model::SeqRows& s : *seqs) block(s.row0, s.rows);
            return;
        }
    }
}

void quantizeWeights(float* w, int64_t out, int64_t in, WeightScheme scheme, std::vector<int8_t>* q,
                     std::vector<float>* scales, float levels) {
    q->resize(size_t(out * in));
    const int64_t group = scheme == WeightScheme::kPerGroup ? kGroupSize : in;
    const int64_t groups = (in + group - 1) / group;
    scales->resize(size_t(out * groups));
    const float tensorScale = scaleForMax(maxAbs(w, out * in), levels);
    for (int64_t o = 0; o < out; ++o)
        for (int64_t g = 0; g < groups; ++g) {
            float* part = w + o * in + g * group;
            int8_t* qp = q->data() + o * in + g * group;
            const int64_t n = std::min(group, in - g * group);
            const float s = scheme == WeightScheme::kPerTensor
                                ? tensorScale
                                : scaleForMax(maxAbs(part, n), levels);
            (*scales)[size_t(o * groups + g)] = s;
            quantize(part, n, s, qp, levels);
            for (int64_t i = 0; i < n; ++i) part[i] = float(qp[i]) * s;
        }
}

Result<std::unique_ptr<W8A8Model>> W8A8Model::build(const model::Model& fp,
                                                    const Calibration& calibration,
                                                    const SmoothingPlan* plan,
                                                    const W8A8Scheme& scheme) {
    MONO_RETURN_IF_ERROR(fp.requireF32Weights("W8A8 fake quantization"));
    const model::ModelConfig& cfg = fp.config();
    std::unique_ptr<W8A8Model> m(new W8A8Model());
    m->m_scheme = scheme;
    m->m_fusedQkv = cfg.fusedQkv();
    model::ModelWeights weights = fp.weights();
    if (plan) {
        MONO_RETURN_IF_ERROR(applySmoothing(weights, *plan));
        m->m_plan = *plan;
        m->m_hasPlan = true;
    }
    MONO_ASSIGN_OR_RETURN(m->m_model, model::Model::fromWeights(cfg, std::move(weights)));

    for (const LinearInput& in : linearInputs(cfg)) {
        const InputStats* st = calibration.find(in.layer, in.site);
        if (!st || int(st->channelMax.size()) != in.channels)
            return Status::invalidArgument("calibration of \"" + calibration.model +
                                           "\" does not match model \"" + cfg.name + "\" at " +
                                           in.hook);
        const std::vector<float>* s = plan ? plan->scalesFor(in.layer, in.site) : nullptr;
        float staticMax = 0.0f;
        for (size_t j = 0; j < st->channelMax.size(); ++j)
            staticMax = std::max(staticMax, st->channelMax[j] / (s ? (*s)[j] : 1.0f));
        for (size_t i = 0; i < in.modules.size(); ++i) {
            MONO_ASSIGN_OR_RETURN(model::LinearRef ref,
                                  m->m_model->linear(in.layer, in.modules[i]));
            Module mod;
            std::vector<int8_t> q;
            float* w = ref.linear->w.data() + ref.rowBegin * ref.linear->w.cols();
            quantizeWeights(w, ref.rows, ref.linear->w.cols(), scheme.weight, &q, &mod.wScale,
                            levelsForBits(scheme.weightBits));
            if (scheme.int8Capable())
                mod.w = kernels::PackedInt8::pack(q.data(), ref.rows, ref.linear->w.cols());
            auto b = ref.bias();
            mod.bias.assign(b.data(), b.data() + b.size());
            mod.staticScale = scaleForMax(staticMax, levelsForBits(scheme.actBits));
            const HookSite site = moduleSite(in, i);
            m->m_modules[key(in.layer, site)] = std::move(mod);

            const std::string hook = model::hookName(cfg, model::HookId{in.layer, site});
            const float stat = m->m_modules[key(in.layer, site)].staticScale;
            const ActScheme act = scheme.act;
            const float levels = levelsForBits(scheme.actBits);
            m->m_hooks.add(
                hook, [act, stat, levels](const model::HookContext& ctx, model::ActivationBlock a) {
                    fakeQuantizeActivations(a.data, a.rows, a.cols, a.cols, act, ctx.seqs, stat,
                                            levels);
                });
        }
    }
    m->m_model->weightsChanged();
    W8A8Model* self = m.get();
    m->m_int8Fn = [self](const model::LinearCall& c) { return self->runInt8(c); };
    m->m_attnFn = [self](const model::LinearCall& c) { return self->runAttnFake(c); };
    return m;
}

float W8A8Model::staticScale(int layer, HookSite site) const {
    auto it = m_modules.find(key(layer, site));
    return it == m_modules.end() ? 1.0f : it->second.staticScale;
}

model::ForwardOptions W8A8Model::forwardOptions(bool int8) const {
    model::ForwardOptions o;
    if (int8 && m_scheme.int8Capable()) {
        o.linearFn = &m_int8Fn;
    } else {
        o.hooks = &m_hooks;
        if (m_scheme.quantizeAttnInputs) o.linearFn = &m_attnFn;
    }
    return o;
}

namespace {
bool isQkv(HookSite s) {
    return s == HookSite::kAttnIn || s == HookSite::kKIn || s == HookSite::kVIn;
}
}  // namespace

void W8A8Model::quantizeAttnOutput(const model::LinearCall& c) const {
    if (!m_scheme.quantizeAttnInputs || !isQkv(c.id.site)) return;
    // A fused qkv module (GPT-2 c_attn, NeoX query_key_value, regrouped at load)
    // writes q | k | v side by side: each gets its own per-token scale.
    const int parts = m_fusedQkv ? 3 : 1;
    const int64_t width = c.out / parts;
    for (int p = 0; p < parts; ++p) fakeQuantizeRows(c.y + p * width, c.rows, width, c.ldy);
}

bool W8A8Model::runAttnFake(const model::LinearCall& c) const {
    if (!isQkv(c.id.site)) return false;
    using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using Strided = Eigen::Map<RowMat, Eigen::Unaligned, Eigen::OuterStride<>>;
    using CStrided = Eigen::Map<const RowMat, Eigen::Unaligned, Eigen::OuterStride<>>;
    CStrided X(c.x, c.rows, c.in, Eigen::OuterStride<>(c.ldx));
    Eigen::Map<const RowMat> W(c.w, c.out, c.in);
    Strided Y(c.y, c.rows, c.out, Eigen::OuterStride<>(c.ldy));
    kernels::gemm(X, kernels::Op::kN, W, kernels::Op::kT, Y);
    if (c.bias) Y.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(c.bias, c.out);
    quantizeAttnOutput(c);
    return true;
}

bool W8A8Model::runInt8(const model::LinearCall& c) {
    auto it = m_modules.find(key(c.id.layer, c.id.site));
    if (it == m_modules.end()) return false;
    const Module& mod = it->second;
    const int64_t R = c.rows, K = c.in, N = c.out;
    m_a.resize(size_t(R * K));
    m_rowScale.resize(size_t(R));
    m_acc.resize(size_t(R * N));
    const float levels = levelsForBits(m_scheme.actBits);
    // The row scales, as fakeQuantizeActivations picks them.
    switch (m_scheme.act) {
        case ActScheme::kPerToken:
        case ActScheme::kPerTokenGroup:  // not int8Capable: never reached
            for (int64_t r = 0; r < R; ++r)
                m_rowScale[size_t(r)] = scaleForMax(maxAbs(c.x + r * c.ldx, K), levels);
            break;
        case ActScheme::kPerTensorStatic:
            std::fill(m_rowScale.begin(), m_rowScale.end(), mod.staticScale);
            break;
        case ActScheme::kPerTensorDynamic: {
            auto block = [&](int64_t r0, int64_t n) {
                float mx = 0.0f;
                for (int64_t r = r0; r < r0 + n; ++r) mx = std::max(mx, maxAbs(c.x + r * c.ldx, K));
                for (int64_t r = r0; r < r0 + n; ++r)
                    m_rowScale[size_t(r)] = scaleForMax(mx, levels);
            };
            if (!c.seqs) {
                block(0, R);
            } else {
                for (const model::SeqRows& s : *c.seqs) block(s.row0, s.rows);
            }
            break;
        }
    }
    for (int64_t r = 0; r < R; ++r)
        quantize(c.x + r * c.ldx, K, m_rowScale[size_t(r)], m_a.data() + r * K, levels);
    kernels::gemmInt8(m_a.data(), K, R, mod.w, m_acc.data(), N);
    for (int64_t r = 0; r < R; ++r) {
        float* y = c.y + r * c.ldy;
        const int32_t* acc = m_acc.data() + r * N;
        const float sx = m_rowScale[size_t(r)];
        for (int64_t o = 0; o < N; ++o) {
            y[o] = float(acc[o]) * (sx * mod.wScale[size_t(o)]);
            if (!mod.bias.empty()) y[o] += mod.bias[size_t(o)];
        }
    }
    quantizeAttnOutput(c);
    return true;
}

}  // namespace mono::quant
