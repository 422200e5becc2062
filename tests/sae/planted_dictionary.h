#pragma once
// A planted-dictionary problem for SAE training tests: activations built from
// a known dictionary, and how many of its directions a trained decoder found.
// Legend: T planted atoms, D = d_in, N rows, F = d_sae.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "core/base/matrix.h"

namespace mono::test {

struct PlantedSpec {
    int64_t dIn = 64;      // D
    int64_t atoms = 512;   // T
    int64_t rows = 65536;  // N
    int active = 5;        // atoms per row, distinct
    float minCode = 0.5f;  // codes uniform in [minCode, maxCode]: non-negative
    float maxCode = 2.0f;
    float noise = 0.01f;  // Gaussian noise added to every entry
    uint64_t seed = 7;
    // Nested frequencies (for Matryoshka): with zipf > 0, atom a is drawn with
    // probability ∝ (a + 1)^−zipf, so each prefix of the dictionary holds its
    // most frequent atoms. 0: all atoms alike.
    double zipf = 0;
};

struct PlantedDictionary {
    Matrix atoms;  // [T, D] unit rows, random directions
    Matrix x;      // [N, D] codes · atoms + noise
};

inline PlantedDictionary makePlantedDictionary(const PlantedSpec& s) {
    std::mt19937_64 rng(s.seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    PlantedDictionary p;
    p.atoms.resize(s.atoms, s.dIn);
    for (int64_t i = 0; i < p.atoms.size(); ++i) p.atoms.data()[i] = normal(rng);
    p.atoms.rowwise().normalize();
    p.x.resize(s.rows, s.dIn);
    for (int64_t i = 0; i < p.x.size(); ++i) p.x.data()[i] = s.noise * normal(rng);
    std::uniform_int_distribution<int64_t> pick(0, s.atoms - 1);
    std::vector<double> weight(static_cast<size_t>(s.atoms));
    for (int64_t a = 0; a < s.atoms; ++a) weight[a] = std::pow(static_cast<double>(a + 1), -s.zipf);
    std::discrete_distribution<int64_t> pickZipf(weight.begin(), weight.end());
    std::uniform_real_distribution<float> code(s.minCode, s.maxCode);
    std::vector<int64_t> chosen;
    for (int64_t r = 0; r < s.rows; ++r) {
        chosen.clear();
        while (static_cast<int>(chosen.size()) < s.active) {
            const int64_t a = s.zipf > 0 ? pickZipf(rng) : pick(rng);
            if (std::find(chosen.begin(), chosen.end(), a) == chosen.end()) chosen.push_back(a);
        }
        for (int64_t a : chosen) p.x.row(r) += code(rng) * p.atoms.row(a);
    }
    return p;
}

// Fraction of planted atoms [T, D] whose best match among the decoder rows
// wDec [F, D] has cosine ≥ `cosine`.
inline double recoveredFraction(const Matrix& atoms, const Matrix& wDec, float cosine = 0.9f) {
    Matrix dec = wDec;
    dec.rowwise().normalize();
    const Matrix cos = atoms * dec.transpose();  // [T, F]
    int64_t hit = 0;
    for (int64_t t = 0; t < atoms.rows(); ++t) hit += cos.row(t).maxCoeff() >= cosine;
    return static_cast<double>(hit) / static_cast<double>(atoms.rows());
}

// Mean over the planted atoms of their best decoder-row cosine (for reports).
inline double meanBestCosine(const Matrix& atoms, const Matrix& wDec) {
    Matrix dec = wDec;
    dec.rowwise().normalize();
    const Matrix cos = atoms * dec.transpose();  // [T, F]
    double sum = 0;
    for (int64_t t = 0; t < atoms.rows(); ++t) sum += cos.row(t).maxCoeff();
    return sum / static_cast<double>(atoms.rows());
}

}  // namespace mono::test
