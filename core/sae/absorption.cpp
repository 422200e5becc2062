// First-letter absorption (see absorption.h). Legend: N words, D = d_in,
// F = d_sae, C = 26 letters. The probe and the scores are in float64 so that
// the NumPy reference (tests/reference/quality_reference.py) agrees closely.

#include "core/sae/absorption.h"

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>

namespace mono::sae {
namespace {

constexpr int kLetters = 26;
using MatrixD = Eigen::MatrixXd;
using VectorD = Eigen::VectorXd;

bool isTrain(int64_t i, int testEvery) {
    return i % testEvery != testEvery - 1;
}

struct Probe {
    MatrixD w;  // [D, C] in the centred, scaled space; columns are the directions
    VectorD b;  // [C]
    VectorD mean;
    double scale = 1;
    // Held-out predictions (argmax), −1 for training words.
    std::vector<int> predicted;
};

// Softmax regression by full-batch gradient descent from zero, step 1/λ_max of
// the training Gram matrix (a safe step for the softmax cross-entropy).
Probe trainProbe(const MatrixD& x, const std::vector<int>& letters, const AbsorptionOptions& o) {
    const int64_t N = x.rows(), D = x.cols();
    std::vector<int64_t> train;
    for (int64_t i = 0; i < N; ++i)
        if (isTrain(i, o.testEvery)) train.push_back(i);
    const int64_t T = static_cast<int64_t>(train.size());
    Probe p;
    p.mean = VectorD::Zero(D);
    for (int64_t i : train) p.mean += x.row(i).transpose();
    p.mean /= static_cast<double>(T);
    MatrixD xs = x.rowwise() - p.mean.transpose();  // [N, D]
    double ss = 0;
    for (int64_t i : train) ss += xs.row(i).squaredNorm();
    p.scale = std::sqrt(ss / static_cast<double>(T * D));
    if (!(p.scale > 0)) p.scale = 1;
    xs /= p.scale;
    MatrixD xt(T, D), y = MatrixD::Zero(T, kLetters);
    for (int64_t r = 0; r < T; ++r) {
        xt.row(r) = xs.row(train[r]);
        y(r, letters[train[r]]) = 1;
    }
    const MatrixD gram = xt.transpose() * xt / static_cast<double>(T);
    const double lambda = Eigen::SelfAdjointEigenSolver<MatrixD>(gram).eigenvalues().maxCoeff();
    const double lr = 1.0 / std::max(lambda, 1e-12);
    p.w = MatrixD::Zero(D, kLetters);
    p.b = VectorD::Zero(kLetters);
    for (int step = 0; step < o.probeSteps; ++step) {
        MatrixD z = (xt * p.w).rowwise() + p.b.transpose();  // [T, C]
        for (int64_t r = 0; r < T; ++r) {
            const double m = z.row(r).maxCoeff();
            z.row(r) = (z.row(r).array() - m).exp();
            z.row(r) /= z.row(r).sum();
        }
        const MatrixD g = (z - y) / static_cast<double>(T);
        p.w -= lr * (xt.transpose() * g + o.probeL2 * p.w);
        p.b -= lr * g.colwise().sum().transpose();
    }
    p.predicted.assign(static_cast<size_t>(N), -1);
    for (int64_t i = 0; i < N; ++i) {
        if (isTrain(i, o.testEvery)) continue;
        const VectorD z = p.w.transpose() * xs.row(i).transpose() + p.b;
        Eigen::Index best = 0;
        z.maxCoeff(&best);
        p.predicted[i] = static_cast<int>(best);
    }
    return p;
}

double f1Score(int64_t tp, int64_t fp, int64_t fn) {
    const int64_t den = 2 * tp + fp + fn;
    return den > 0 ? 2.0 * static_cast<double>(tp) / static_cast<double>(den) : 0.0;
}

// The main features of `letter` (see absorption.h, step 4). `codes` [N, F].
std::vector<int32_t> mainFeatures(const MatrixD& codes, const std::vector<int>& letters, int letter,
                                  const AbsorptionOptions& o) {
    const int64_t N = codes.rows(), F = codes.cols();
    VectorD pos = VectorD::Zero(F), neg = VectorD::Zero(F);
    int64_t nPos = 0, nNeg = 0;
    for (int64_t i = 0; i < N; ++i) {
        if (!isTrain(i, o.testEvery)) continue;
        if (letters[i] == letter) {
            pos += codes.row(i).transpose();
            ++nPos;
        } else {
            neg += codes.row(i).transpose();
            ++nNeg;
        }
    }
    const VectorD score = pos / static_cast<double>(std::max<int64_t>(nPos, 1)) -
                          neg / static_cast<double>(std::max<int64_t>(nNeg, 1));
    std::vector<int32_t> order(static_cast<size_t>(F));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t a, int32_t b) { return score[a] > score[b]; });
    const int maxK = static_cast<int>(std::min<int64_t>(o.maxK, F));
    VectorD sum = VectorD::Zero(N);
    double previous = 0;
    int chosen = 1;
    for (int k = 1; k <= maxK; ++k) {
        sum += codes.col(order[k - 1]);
        int64_t tp = 0, fp = 0, fn = 0;
        for (int64_t i = 0; i < N; ++i) {
            if (!isTrain(i, o.testEvery)) continue;
            const bool predicted = sum[i] > 0, actual = letters[i] == letter;
            tp += predicted && actual;
            fp += predicted && !actual;
            fn += !predicted && actual;
        }
        const double f1 = f1Score(tp, fp, fn);
        if (k == 1) {
            previous = f1;
            continue;
        }
        if (f1 - previous <= o.f1Jump) break;
        chosen = k;
        previous = f1;
    }
    return {order.begin(), order.begin() + chosen};
}

struct WordScore {
    double fraction = 0;
    bool full = false;
    int32_t absorber = -1;  // the top projecting feature when full
};

// SAEBench's absorption fraction and full absorption for one word.
// `proj` [F] = a_f · cos(p, W_dec[f]); `probeProj` = ⟨x, p̂⟩.
WordScore scoreWord(const VectorD& codes, const VectorD& cos, const std::vector<int32_t>& main,
                    double probeProj, const AbsorptionOptions& o) {
    const int64_t F = codes.size();
    const VectorD proj = codes.cwiseProduct(cos);
    std::vector<char> isMain(static_cast<size_t>(F), 0);
    double mainProj = 0;
    bool mainSilent = true;
    for (int32_t f : main) {
        isMain[f] = 1;
        mainProj += proj[f];
        mainSilent = mainSilent && std::abs(codes[f]) < 1e-8;
    }
    std::vector<double> candidates;
    for (int64_t f = 0; f < F; ++f)
        if (!isMain[f] && cos[f] >= o.fractionCosThreshold && proj[f] > 0)
            candidates.push_back(proj[f]);
    std::sort(candidates.begin(), candidates.end(), std::greater<>());
    double absorbers = 0;
    for (size_t j = 0; j < candidates.size() && j < static_cast<size_t>(o.maxAbsorbers); ++j)
        absorbers += candidates[j];
    WordScore s;
    if (mainProj >= probeProj || absorbers / probeProj < o.projectionShare) {
        s.fraction = 0;
    } else if (mainProj <= 0) {
        s.fraction = 1;
    } else {
        const double absorbed = std::min(absorbers, probeProj - mainProj);
        s.fraction = std::clamp(absorbed / (absorbed + mainProj), 0.0, 1.0);
    }
    Eigen::Index top = 0;
    proj.maxCoeff(&top);  // the first of equal maxima: the lowest id
    // SAEBench divides by the probe projection; one of 0 is no absorption here.
    s.full = mainSilent && cos[top] >= o.fullCosThreshold && probeProj > 0 &&
             proj[top] / probeProj >= o.projectionShare;
    if (s.full) s.absorber = static_cast<int32_t>(top);
    return s;
}

}  // namespace

FirstLetterWords firstLetterVocabulary(const tok::Tokenizer& tokenizer, int64_t maxWords) {
    std::vector<int32_t> all;
    for (int32_t id = 0; id < tokenizer.vocabSize(); ++id) {
        if (tokenizer.isSpecial(id)) continue;
        std::string text = tokenizer.tokenBytes(id);
        if (!text.empty() && text[0] == ' ') text.erase(0, 1);
        if (text.size() < 2) continue;
        bool letters = true;
        for (char c : text) letters = letters && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
        if (letters) all.push_back(id);
    }
    FirstLetterWords out;
    const int64_t n = static_cast<int64_t>(all.size());
    const int64_t take = std::min(n, std::max<int64_t>(maxWords, 1));
    for (int64_t j = 0; j < take; ++j) {
        const int32_t id = all[static_cast<size_t>(j * n / take)];
        std::string text = tokenizer.tokenBytes(id);
        if (text[0] == ' ') text.erase(0, 1);
        out.tokens.push_back(id);
        out.letters.push_back(std::tolower(static_cast<unsigned char>(text[0])) - 'a');
    }
    return out;
}

Result<Matrix> wordActivations(model::Model& model, const std::string& hook, int32_t bos,
                               const std::vector<int32_t>& tokens, StopToken stop) {
    MONO_ASSIGN_OR_RETURN(model::HookId id, model::parseHookName(model.config(), hook));
    const int width = model::hookWidth(model.config(), id);
    Matrix out(static_cast<int64_t>(tokens.size()), width);
    int64_t next = 0;
    model::Hooks hooks;
    hooks.add(hook, [&](const model::HookContext& ctx, model::ActivationBlock block) {
        for (const model::SeqRows& s : *ctx.seqs)
            out.row(next + s.seq) = Eigen::Map<const Vector>(block.row(s.row0 + 1), width);
    });
    model::ForwardOptions options;
    options.hooks = &hooks;
    options.logits = model::LogitsWanted::kNone;
    constexpr int64_t kBatch = 256;
    model::Batch batch;
    for (; next < static_cast<int64_t>(tokens.size()); next += kBatch) {
        batch.clear();
        for (int64_t i = next; i < std::min<int64_t>(next + kBatch, out.rows()); ++i) {
            const int32_t seq[2] = {bos, tokens[static_cast<size_t>(i)]};
            batch.add(seq, 2);
        }
        MONO_RETURN_IF_ERROR(model.forward(batch, options, nullptr));
        if (stop.stopRequested()) return Status::cancelled("absorption stopped");
    }
    return out;
}

Result<AbsorptionReport> computeAbsorption(const Sae& sae, const Matrix& x,
                                           const std::vector<int>& letters,
                                           const AbsorptionOptions& o) {
    const int64_t N = x.rows(), F = sae.dSae();
    if (static_cast<int64_t>(letters.size()) != N || x.cols() != sae.dIn())
        return Status::invalidArgument(
            "absorption: " + std::to_string(N) + " activation rows of width " +
            std::to_string(x.cols()) + " for " + std::to_string(letters.size()) +
            " letters and an SAE with d_in=" + std::to_string(sae.dIn()));
    for (int l : letters)
        if (l < 0 || l >= kLetters)
            return Status::invalidArgument("absorption: letter index " + std::to_string(l) +
                                           " is not 0..25");
    if (o.testEvery < 2) return Status::invalidArgument("absorption: testEvery must be ≥ 2");
    const MatrixD xd = x.cast<double>();
    MONO_ASSIGN_OR_RETURN(Matrix codesF, sae.encode(x));
    const MatrixD codes = codesF.cast<double>();
    const Probe probe = trainProbe(xd, letters, o);
    MatrixD unitDec = sae.wDec().cast<double>();  // [F, D]
    for (int64_t f = 0; f < F; ++f)
        if (unitDec.row(f).norm() > 0) unitDec.row(f).normalize();

    AbsorptionReport report;
    report.words = N;
    report.absorbedCount.assign(static_cast<size_t>(F), 0);
    report.absorbedLetter.assign(static_cast<size_t>(F), -1);
    report.mainLetter.assign(static_cast<size_t>(F), -1);
    std::vector<std::vector<int32_t>> absorbedBy(static_cast<size_t>(F));  // [F][C] counts
    int64_t tested = 0, correct = 0;
    for (int letter = 0; letter < kLetters; ++letter) {
        std::vector<int64_t> truePositives;
        bool trained = false;
        for (int64_t i = 0; i < N; ++i) {
            if (letters[i] != letter) continue;
            if (isTrain(i, o.testEvery))
                trained = true;
            else if (probe.predicted[i] == letter)
                truePositives.push_back(i);
        }
        for (int64_t i = 0; i < N; ++i)
            if (!isTrain(i, o.testEvery) && letters[i] == letter) {
                ++tested;
                correct += probe.predicted[i] == letter;
            }
        if (!trained || truePositives.empty()) continue;
        LetterAbsorption la;
        la.letter = letter;
        la.mainFeatures = mainFeatures(codes, letters, letter, o);
        for (int32_t f : la.mainFeatures)
            if (report.mainLetter[f] < 0) report.mainLetter[f] = static_cast<int8_t>(letter);
        const VectorD dir = probe.w.col(letter).normalized();  // [D]
        const VectorD cos = unitDec * dir;                     // [F]
        double fractions = 0;
        for (int64_t i : truePositives) {
            const WordScore s =
                scoreWord(codes.row(i).transpose(), cos, la.mainFeatures, xd.row(i).dot(dir), o);
            fractions += s.fraction;
            if (s.full) {
                ++la.fullAbsorptions;
                ++report.absorbedCount[s.absorber];
                auto& counts = absorbedBy[s.absorber];
                if (counts.empty()) counts.assign(kLetters, 0);
                ++counts[letter];
            }
        }
        la.probeTruePositives = static_cast<int64_t>(truePositives.size());
        la.meanAbsorptionFraction = fractions / static_cast<double>(la.probeTruePositives);
        la.fullAbsorptionRate =
            static_cast<double>(la.fullAbsorptions) / static_cast<double>(la.probeTruePositives);
        report.letters.push_back(std::move(la));
    }
    if (report.letters.empty())
        return Status::invalidArgument(
            "absorption: no letter has training words and a held-out word the probe gets right (" +
            std::to_string(N) + " words)");
    report.probeTestAccuracy =
        tested ? static_cast<double>(correct) / static_cast<double>(tested) : 0;
    for (const LetterAbsorption& la : report.letters) {
        report.meanAbsorptionFraction += la.meanAbsorptionFraction;
        report.meanFullAbsorption += la.fullAbsorptionRate;
        report.meanSplitFeatures += static_cast<double>(la.mainFeatures.size());
    }
    const double L = static_cast<double>(report.letters.size());
    report.meanAbsorptionFraction /= L;
    report.meanFullAbsorption /= L;
    report.meanSplitFeatures /= L;
    for (int64_t f = 0; f < F; ++f) {
        const auto& counts = absorbedBy[f];
        if (counts.empty()) continue;
        report.absorbedLetter[f] =
            static_cast<int8_t>(std::max_element(counts.begin(), counts.end()) - counts.begin());
    }
    return report;
}

}  // namespace mono::sae
