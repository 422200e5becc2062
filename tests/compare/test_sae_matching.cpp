// Matching two SAEs by decoder cosine: the blocked top-n against brute force,
// two seeds on one planted dictionary agreeing, and a wider SAE splitting the
// features of a narrower one on a planted hierarchy.

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <random>

#include "core/acts/batch_provider.h"
#include "core/compare/sae_matching.h"
#include "core/sae/trainer.h"
#include "tests/features/feature_test_data.h"
#include "tests/sae/planted_dictionary.h"
#include "tests/support/test_support.h"

using namespace mono;

namespace {

Matrix randomRows(int64_t rows, int64_t cols, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.f, 1.f);
    Matrix m(rows, cols);
    for (int64_t i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
    return m;
}

// A TopK SAE trained with every other setting at its default.
sae::Sae trainTopK(const Matrix& x, int64_t features, int k, int64_t tokens, uint64_t seed,
                   const std::string& name) {
    acts::MatrixBatchProvider data(x, seed);
    sae::TrainSpec spec;
    spec.architecture = sae::Architecture::kTopK;
    spec.dSae = features;
    spec.k = k;
    spec.totalTokens = tokens;
    spec.seed = seed;
    spec.reportEverySteps = 1000000;
    spec.outDir = (test::tempDir() / name).string();
    Progress quiet;
    auto r = sae::trainSae(spec, data, quiet, StopToken());
    if (!r.ok()) qFatal("training failed: %s", r.status().toString().c_str());
    return std::move(r->sae);
}

// Index of the row of `dirs` of largest cosine with `v`, and that cosine.
std::pair<int64_t, float> bestRow(const Matrix& dirs, const Eigen::RowVectorXf& v) {
    Matrix unit = dirs;
    unit.rowwise().normalize();
    const Eigen::VectorXf cos = unit * v.transpose().normalized();
    Eigen::Index at = 0;
    const float best = cos.maxCoeff(&at);
    return {static_cast<int64_t>(at), best};
}

}  // namespace

class TestSaeMatching : public QObject {
    Q_OBJECT

private slots:
    // The blocked running top-n is exactly the brute-force answer, across block
    // boundaries, with ties to the lower id, zero rows and self-exclusion.
    void topCosinesMatchBruteForce() {
        Matrix a = randomRows(700, 16, 1), b = randomRows(300, 16, 2);
        b.row(7) = b.row(3) * 2.f;  // same direction: a tie
        b.row(11).setZero();
        for (bool same : {false, true}) {
            const Matrix& other = same ? a : b;
            const auto got = sae::topDecoderCosines(a, other, 4, same);
            QCOMPARE(int64_t(got.size()), a.rows());
            for (int64_t i = 0; i < a.rows(); ++i) {
                std::vector<std::pair<float, int32_t>> all;
                for (int64_t j = 0; j < other.rows(); ++j) {
                    if (same && j == i) continue;
                    const float n = a.row(i).norm() * other.row(j).norm();
                    all.push_back({n > 0 ? a.row(i).dot(other.row(j)) / n : 0.f, int32_t(j)});
                }
                std::sort(all.begin(), all.end(), [](auto& x, auto& y) {
                    return x.first > y.first || (x.first == y.first && x.second < y.second);
                });
                QCOMPARE(got[i].size(), size_t(4));
                for (size_t r = 0; r < 4; ++r) {
                    QVERIFY(std::abs(got[i][r].cosine - all[r].first) < 1e-5f);
                    const bool nearTie =
                        (r > 0 && std::abs(all[r].first - all[r - 1].first) < 1e-6f) ||
                        std::abs(all[r].first - all[r + 1].first) < 1e-6f;
                    if (!nearTie) QCOMPARE(got[i][r].id, all[r].second);
                }
            }
        }
        auto wrong =
            compare::matchDecoders(test::randomSae(16, 8, 1), test::randomSae(32, 8, 2), 3);
        QVERIFY(!wrong.ok());
        QVERIFY(wrong.status().message().find("16 and 32") != std::string::npos);
    }

    // Two seeds on one planted dictionary: the features each recovers match
    // each other at cosine ≥ 0.9, and their activations correlate.
    void differentSeedsMatch() {
        test::PlantedSpec ps;
        ps.atoms = 256;
        const test::PlantedDictionary g = test::makePlantedDictionary(ps);
        const sae::Sae a = trainTopK(g.x, 512, 5, 1'000'000, 1, "seed1");
        const sae::Sae b = trainTopK(g.x, 512, 5, 1'000'000, 2, "seed2");
        auto m = compare::matchDecoders(a, b, 3);
        MONO_VERIFY_RESULT(m);
        int64_t recovered = 0, matched = 0;
        for (int64_t i = 0; i < a.dSae(); ++i) {
            if (bestRow(g.atoms, a.wDec().row(i)).second < 0.9f) continue;
            ++recovered;
            matched += m->aToB[i][0].cosine >= 0.9f;
        }
        const compare::MatchCounts c = compare::countMatches(*m, 0.9f);
        qInfo(
            "%lld A features recover a planted atom; %lld of them match B at cos >= 0.9; %lld "
            "mutual pairs",
            (long long)recovered, (long long)matched, (long long)c.mutualPairs);
        QVERIFY(recovered >= 200);
        QVERIFY2(matched >= 0.9 * recovered, qPrintable(QString::number(matched)));
        QVERIFY(c.mutualPairs >= 0.9 * recovered);

        auto corr = compare::activationCorrelations(a, b, *m, g.x.topRows(8192));
        MONO_VERIFY_RESULT(corr);
        int64_t correlated = 0, pairs = 0;
        for (int64_t i = 0; i < a.dSae(); ++i)
            if (m->aToB[i][0].cosine >= 0.95f) {
                ++pairs;
                correlated += (*corr)[i][0] >= 0.9f;
            }
        QVERIFY(pairs > 0 && correlated >= 0.9 * pairs);
    }

    // A planted hierarchy: 64 parents, each seen through one of two children
    // (cosine 0.857 with the parent). A 64-latent SAE learns parents, a
    // 128-latent one splits some of them into their children; wherever both
    // did, the matching finds that family, and the families it reports are true.
    void widerSaeSplitsFamilies() {
        constexpr int64_t kD = 64, kParents = 64, kRows = 65536;
        constexpr float kOffset = 0.6f;  // child · parent = 1 / sqrt(1.36) = 0.857
        std::mt19937_64 rng(5);
        std::normal_distribution<float> normal(0.f, 1.f);
        Matrix parents = randomRows(kParents, kD, 3);
        parents.rowwise().normalize();
        Matrix children(2 * kParents, kD);
        for (int64_t p = 0; p < kParents; ++p)
            for (int c = 0; c < 2; ++c) {
                Eigen::RowVectorXf u = randomRows(1, kD, 100 + 2 * p + c).row(0);
                u -= u.dot(parents.row(p)) * parents.row(p);
                children.row(2 * p + c) = (parents.row(p) + kOffset * u.normalized()).normalized();
            }
        Matrix x = Matrix::Zero(kRows, kD);
        std::uniform_int_distribution<int64_t> pick(0, kParents - 1);
        std::uniform_real_distribution<float> code(0.5f, 2.f);
        for (int64_t r = 0; r < kRows; ++r) {
            std::vector<int64_t> chosen;
            while (chosen.size() < 4) {
                const int64_t p = pick(rng);
                if (std::find(chosen.begin(), chosen.end(), p) == chosen.end()) chosen.push_back(p);
            }
            for (int64_t p : chosen) x.row(r) += code(rng) * children.row(2 * p + (rng() & 1));
            for (int64_t d = 0; d < kD; ++d) x(r, d) += 0.01f * normal(rng);
        }
        const sae::Sae narrow = trainTopK(x, kParents, 4, 3'000'000, 7, "narrow");
        const sae::Sae wide = trainTopK(x, 2 * kParents, 4, 3'000'000, 8, "wide");
        auto m = compare::matchDecoders(narrow, wide, 3);
        MONO_VERIFY_RESULT(m);
        const auto families = compare::splitFamilies(*m, true, 0.8f);
        int found = 0, learnt = 0;
        for (int64_t p = 0; p < kParents; ++p) {
            const auto [parentFeature, parentCos] = bestRow(narrow.wDec(), parents.row(p));
            const auto [child0, cos0] = bestRow(wide.wDec(), children.row(2 * p));
            const auto [child1, cos1] = bestRow(wide.wDec(), children.row(2 * p + 1));
            if (parentCos < 0.9f || cos0 < 0.95f || cos1 < 0.95f || child0 == child1) continue;
            ++learnt;
            for (const auto& f : families) {
                if (f.parent != parentFeature) continue;
                auto has = [&](int64_t id) {
                    return std::any_of(f.children.begin(), f.children.end(),
                                       [&](const sae::CosineMatch& c) { return c.id == id; });
                };
                found += has(child0) && has(child1);
            }
        }
        // Precision: a family's children stand for children of its parent's planted parent.
        int truthful = 0;
        for (const auto& f : families) {
            const int64_t planted = bestRow(parents, narrow.wDec().row(f.parent)).first;
            truthful += std::all_of(f.children.begin(), f.children.end(), [&](const auto& c) {
                return bestRow(children, wide.wDec().row(c.id)).first / 2 == planted;
            });
        }
        qInfo(
            "%zu families (%d true); %d of the %d planted parents that both SAEs learnt "
            "(narrow cos >= 0.9 with the parent, wide >= 0.95 with each child) found",
            families.size(), truthful, found, learnt);
        QVERIFY2(learnt >= 12, qPrintable(QString::number(learnt)));
        QCOMPARE(found, learnt);
        QVERIFY(truthful >= 0.9 * double(families.size()));
        // The other way round (children as parents) finds no splits.
        QVERIFY(compare::splitFamilies(*m, false, 0.95f).empty());
    }
};

QTEST_GUILESS_MAIN(TestSaeMatching)
#include "test_sae_matching.moc"
