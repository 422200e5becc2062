#include "core/quant/rotation.h"

#include <cmath>
#include <random>
#include <string>

namespace mono::quant {

using model::Linear;
using model::Norm;

const char* rotationName(RotationKind k) {
    switch (k) {
        case RotationKind::kNone:
            return "none";
        case RotationKind::kHadamard:
            return "hadamard";
        case RotationKind::kRandomHadamard:
            return "random-hadamard";
    }
    return "?";
}

Result<RotationKind> parseRotation(std::string_view text) {
    for (RotationKind k :
         {RotationKind::kNone, RotationKind::kHadamard, RotationKind::kRandomHadamard})
        if (text == rotationName(k)) return k;
    return Status::invalidArgument("rotation \"" + std::string(text) +
                                   "\": expected none, hadamard or random-hadamard");
}

void fwht(float* x, int64_t n) {
    for (int64_t h = 1; h < n; h *= 2)
        for (int64_t i = 0; i < n; i += 2 * h)
            for (int64_t j = i; j < i + h; ++j) {
                const float a = x[j], b = x[j + h];
                x[j] = a + b;
                x[j + h] = a - b;
            }
    const float norm = 1.0f / std::sqrt(float(n));
    for (int64_t i = 0; i < n; ++i) x[i] *= norm;
}

int64_t hadamardBlock(int64_t n) {
    return n > 0 ? (n & -n) : 1;
}

Result<ResidualRotation> ResidualRotation::make(int64_t dModel, RotationKind kind,
                                                bool keepOnesVector, uint64_t seed) {
    if (dModel <= 0)
        return Status::invalidArgument("rotation: width " + std::to_string(dModel) +
                                       " is not positive");
    ResidualRotation r;
    r.m_signs.assign(size_t(dModel), 1.0f);
    r.m_block = kind == RotationKind::kNone ? 1 : hadamardBlock(dModel);
    // With all signs +1 the Hadamard maps the ones vector onto channel 0, and the
    // reflection that brings it back would leave channel 0 unspread: families
    // that keep the ones vector always get the random signs.
    if (kind == RotationKind::kRandomHadamard ||
        (keepOnesVector && kind == RotationKind::kHadamard)) {
        std::mt19937_64 rng(seed);
        for (float& s : r.m_signs) s = (rng() & 1) ? -1.0f : 1.0f;
    }
    if (!keepOnesVector) return r;
    // 1ᵀ·D·H = m; the reflection R with v ∝ m − 1 maps m back onto 1.
    std::vector<float> m = r.m_signs;
    for (int64_t b = 0; b < dModel; b += r.m_block) fwht(m.data() + b, r.m_block);
    double norm2 = 0.0;
    for (float& v : m) {
        v -= 1.0f;
        norm2 += double(v) * double(v);
    }
    if (norm2 > 1e-8 * double(dModel)) {
        const float inv = float(1.0 / std::sqrt(norm2));
        for (float& v : m) v *= inv;
        r.m_reflect = std::move(m);
    }
    return r;
}

void ResidualRotation::apply(float* row) const {
    const int64_t d = dModel();
    for (int64_t i = 0; i < d; ++i) row[i] *= m_signs[size_t(i)];
    if (m_block > 1)
        for (int64_t b = 0; b < d; b += m_block) fwht(row + b, m_block);
    if (m_reflect.empty()) return;
    double dot = 0.0;
    for (int64_t i = 0; i < d; ++i) dot += double(row[i]) * double(m_reflect[size_t(i)]);
    const float k = float(2.0 * dot);
    for (int64_t i = 0; i < d; ++i) row[i] -= k * m_reflect[size_t(i)];
}

void ResidualRotation::applyRows(model::RowMatrix& m) const {
    for (int64_t r = 0; r < m.rows(); ++r) apply(m.row(r).data());
}

model::RowMatrix ResidualRotation::matrix() const {
    model::RowMatrix q = model::RowMatrix::Identity(dModel(), dModel());
    applyRows(q);
    return q;
}

Status checkRotatable(const model::ModelConfig& config) {
    if (config.sandwichNorms)
        return Status::invalidArgument(
            "model \"" + config.name + "\" (" + model::archName(config.arch) +
            ") cannot be rotated exactly: its post-attention and post-MLP norms act on what "
            "is added to the residual stream, and no linear follows them to carry the rotation");
    return Status::success();
}

namespace {

// Folds the norm's scale (and LayerNorm bias) into the linear that reads it,
// then rotates that linear's input: W → diag-scaled W·Q.
void foldNormAndRotate(Norm& n, Linear& lin, const ResidualRotation& rot) {
    const int64_t d = n.weight.size();
    Eigen::VectorXf wBeta;
    if (n.bias.size()) wBeta = lin.w * n.bias;
    lin.w.array().rowwise() *= n.weight.transpose().array();
    Eigen::VectorXf rankOne;
    if (n.bias.size()) {
        if (lin.b.size()) {
            lin.b += wBeta;
            n.bias.setZero();
        } else {
            // No bias to carry Wβ: the norm adds 1 to every channel instead, and
            // the row sums it meets are replaced by Wβ (LN₀·Q sums to zero).
            rankOne = (wBeta - lin.w.rowwise().sum()) / float(d);
            n.bias.setOnes();
        }
    }
    n.weight.setOnes();
    rot.applyRows(lin.w);
    if (rankOne.size()) lin.w.colwise() += rankOne;
}

// A linear that writes the residual stream: W → Qᵀ·W, b → Qᵀ·b.
void rotateWriter(Linear& lin, const ResidualRotation& rot) {
    model::RowMatrix t = lin.w.transpose();
    rot.applyRows(t);
    lin.w = t.transpose();
    if (lin.b.size()) rot.apply(lin.b.data());
}

}  // namespace

Status rotateWeights(model::ModelWeights& w, model::ModelConfig& config,
                     const ResidualRotation& rot) {
    MONO_RETURN_IF_ERROR(checkRotatable(config));
    if (rot.dModel() != config.dModel)
        return Status::invalidArgument("rotation of width " + std::to_string(rot.dModel()) +
                                       " for model \"" + config.name + "\" of width " +
                                       std::to_string(config.dModel));
    if (!w.unembedding.size()) w.unembedding = w.tokenEmbedding;
    config.tiedEmbeddings = false;
    for (model::LayerWeights& lw : w.layers) {
        foldNormAndRotate(lw.ln1, lw.qkv, rot);
        foldNormAndRotate(lw.ln2, lw.up, rot);
        rotateWriter(lw.attnOut, rot);
        rotateWriter(lw.down, rot);
    }
    Linear head;
    head.w = std::move(w.unembedding);
    foldNormAndRotate(w.lnFinal, head, rot);
    w.unembedding = std::move(head.w);
    rot.applyRows(w.tokenEmbedding);
    if (w.positionEmbedding.size()) rot.applyRows(w.positionEmbedding);
    return Status::success();
}

Result<std::shared_ptr<model::Model>> rotateModel(const model::Model& fp, RotationKind kind,
                                                  uint64_t seed) {
    MONO_RETURN_IF_ERROR(fp.requireF32Weights("the Hadamard rotation"));
    model::ModelConfig cfg = fp.config();
    MONO_RETURN_IF_ERROR(checkRotatable(cfg));
    MONO_ASSIGN_OR_RETURN(ResidualRotation rot,
                          ResidualRotation::make(cfg.dModel, kind, cfg.layerNorm(), seed));
    model::ModelWeights w = fp.weights();
    MONO_RETURN_IF_ERROR(rotateWeights(w, cfg, rot));
    return model::Model::fromWeights(cfg, std::move(w));
}

}  // namespace mono::quant
