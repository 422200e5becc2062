#include "core/sae/jumprelu_sparsity.h"

namespace mono::sae {

const char* jumpReluSparsityName(JumpReluSparsity s) {
    return s == JumpReluSparsity::kTanh ? "tanh" : "step";
}

bool parseJumpReluSparsity(const std::string& name, JumpReluSparsity* out) {
    if (name == "step") {
        *out = JumpReluSparsity::kStep;
        return true;
    }
    if (name == "tanh") {
        *out = JumpReluSparsity::kTanh;
        return true;
    }
    return false;
}

}  // namespace mono::sae
