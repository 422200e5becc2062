#pragma once
// A GPT-2 language model with a hand-written backward pass, for training the
// small embedded model. Templated on the scalar: float trains, double checks
// the gradients against finite differences.
//
// Letters: B batch, T positions, C width (d_model), NH heads, hs = C / NH,
// F = 4C MLP width, V vocabulary, L layers, N = B·T rows.
// Architecture (as Hugging Face GPT-2, so core/model runs the saved weights):
//   x = wte[token] + wpe[pos]
//   per layer: x += proj(attn(LN1(x)));  x += down(gelu_tanh(up(LN2(x))))
//   logits = LN_f(x) · wteᵀ   (tied unembedding)
// Linear weights are stored [out, in] (PyTorch nn.Linear); the Hugging Face
// export transposes them to Conv1D's [in, out].
//
// Threads: the GEMMs run on Eigen's OpenMP threads, attention on an OpenMP loop
// over batch × heads, row-wise steps on OpenMP loops. Results are the same on
// every run with the same thread count. One model per thread of the caller.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/lmtrain/aligned.h"

namespace mono::lmtrain {

struct GptShape {
    int vocab = 0;   // V
    int ctx = 0;     // maximum T (rows of wpe)
    int dModel = 0;  // C
    int layers = 0;  // L
    int heads = 0;   // NH
    int dMlp() const { return 4 * dModel; }
    // InvalidArgument naming the bad size (heads must divide d_model).
    Status validate() const;
    int64_t parameterCount() const;
    bool operator==(const GptShape&) const = default;
};

// One parameter tensor inside the flat parameter vector.
struct ParamTensor {
    std::string name;            // "wte", "h.0.attn.c_attn.weight", ... (HF names)
    std::vector<int64_t> shape;  // [out, in] for linear weights
    int64_t offset = 0;          // into the flat vector
    int64_t size = 0;
    bool decay = false;         // matrices get weight decay; biases and LayerNorm gains do not
    bool linearWeight = false;  // stored [out, in]; HF Conv1D wants it transposed
};
// The tensors in their fixed order: wte, wpe, then per layer ln_1, attn.c_attn,
// attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj (weight, bias each), then ln_f.
std::vector<ParamTensor> paramLayout(const GptShape& shape);

template <class S>
class Gpt {
public:
    explicit Gpt(const GptShape& shape);
    ~Gpt();
    Gpt(const Gpt&) = delete;
    Gpt& operator=(const Gpt&) = delete;

    const GptShape& shape() const { return m_shape; }
    const std::vector<ParamTensor>& layout() const { return m_layout; }

    // GPT-2's initialisation: N(0, 0.02) for embeddings and linear weights,
    // N(0, 0.02/sqrt(2L)) for the two projections into the residual stream,
    // LayerNorm gains 1, biases 0. Deterministic in `seed`.
    void initialize(uint64_t seed);

    // Runs tokens [B, T] (T ≤ ctx, every id < V) and returns the mean
    // cross-entropy against targets [B, T], or 0 when targets is null. Keeps
    // what backward() needs. Ids are the caller's to check.
    S forward(const int32_t* tokens, const int32_t* targets, int B, int T);
    // The logits [B·T, V] of the last forward.
    const S* logits() const;
    // d(mean loss)/d(params) of the last forward (which had targets) into grads.
    void backward();

    AlignedVector<S> params;  // every tensor, layout() order
    AlignedVector<S> grads;   // same layout, written by backward()

private:
    struct Acts;
    GptShape m_shape;
    std::vector<ParamTensor> m_layout;
    std::unique_ptr<Acts> m_acts;
};

extern template class Gpt<float>;
extern template class Gpt<double>;

}  // namespace mono::lmtrain
