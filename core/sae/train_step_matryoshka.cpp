// Matryoshka BatchTopK (Bussmann et al. 2025, Nabeshima 2024): the nested
// prefixes W_dec[0 : w_m] of the dictionary each reconstruct the input on their
// own, from the same BatchTopK codes, and the loss sums their errors.
// Legend as in train_step.h; widths w_0 < … < w_{M−1} = F, e_m = x̂_m − x with
//   x̂_m = Σ_{i < w_m} f_i W_dec[i] + b_dec,   L = mean_b Σ_m ||e_m||² (+ aux-k).
// A latent of group g (w_{g−1} ≤ i < w_g) is in every prefix m ≥ g, so
//   ∂L/∂f_bi = G^g_b · W_dec[i],   G^g = (2/B) Σ_{m ≥ g} e_m,
// and ∂L/∂b_dec (through x̂) sums G^0, whose prefixes hold every latent's error.

#include "core/sae/train_step_phases.h"

namespace mono::sae {

bool isMatryoshka(const StepContext& c) {
    return c.s.prefixes.size() > 1;
}

double matryoshkaPrefixErrors(const StepContext& c) {
    StepBuffers& buf = c.buf;
    const std::vector<int64_t>& w = c.s.prefixes;
    const int64_t inner = static_cast<int64_t>(w.size()) - 1;  // prefixes short of F
    buf.prefixGrad.resize(inner);
    for (Matrix& m : buf.prefixGrad) m.resize(c.B, c.D);
    double sumSq = 0;
#pragma omp parallel for schedule(static) reduction(+ : sumSq)
    for (int64_t b = 0; b < c.B; ++b) {
        Eigen::RowVectorXf e = c.p.bDec - c.x.row(b);  // x̂ − x of the empty prefix
        int64_t j = buf.rowStart[b];
        const int64_t end = buf.rowStart[b + 1];
        for (int64_t m = 0; m < inner; ++m) {
            // The row's entries are in ascending latent order (active_entries.cpp).
            for (; j < end && buf.index[j] < w[m]; ++j)
                e.noalias() += buf.value[j] * c.p.wDec.row(buf.index[j]);
            buf.prefixGrad[m].row(b) = e;
            sumSq += static_cast<double>(e.squaredNorm());
        }
    }
    return sumSq / static_cast<double>(c.B);
}

void matryoshkaGradients(const StepContext& c) {
    StepBuffers& buf = c.buf;
    const int64_t inner = static_cast<int64_t>(buf.prefixGrad.size());
    const float twoOverB = 2.0f * c.invB;
    // G^{M−1} = ∂L/∂x̂ of the whole dictionary (buf.gX, already scaled);
    // G^g = (2/B) e_g + G^{g+1}, built from the widest inner prefix down.
    for (int64_t m = inner - 1; m >= 0; --m) {
        const Matrix& next = m + 1 < inner ? buf.prefixGrad[m + 1] : buf.gX;
        buf.prefixGrad[m] = twoOverB * buf.prefixGrad[m] + next;
    }
    buf.gradOfLatent.resize(c.F);
    int64_t g = 0;
    for (int64_t i = 0; i < c.F; ++i) {
        while (g < inner && i >= c.s.prefixes[g]) ++g;
        buf.gradOfLatent[i] = g < inner ? &buf.prefixGrad[g] : &buf.gX;
    }
}

}  // namespace mono::sae
