#pragma once
// The two forms of JumpReLU's sparsity penalty (train_step_jumprelu.cpp has the
// formulas). Legend: f_bi the code, h_bi the pre-activation, θ_i the threshold,
// n_i = ||W_dec[i]||, λ the coefficient, c the tanh scale.

#include <string>

namespace mono::sae {

enum class JumpReluSparsity {
    // λ Σ_i H(h_i − θ_i): the paper's L0; only θ feels it (straight-through).
    kStep,
    // λ Σ_i tanh(c f_i n_i): Anthropic's (January 2025) smooth L0, which also
    // reaches the encoder through f (SAELens' "tanh" mode).
    kTanh,
};

// "step", "tanh"; parse returns false on anything else.
const char* jumpReluSparsityName(JumpReluSparsity s);
bool parseJumpReluSparsity(const std::string& name, JumpReluSparsity* out);

}  // namespace mono::sae
