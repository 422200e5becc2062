#pragma once
// Named hook points, as in TransformerLens, where a forward pass hands an
// activation to callbacks that may read it or overwrite rows of it in place.
//
// Per block L (0-based), in the order a forward pass reaches them:
//   blocks.L.hook_resid_pre     [rows, d_model]  input of the block
//   <attention linear inputs>                    see below
//   blocks.L.hook_attn_out      [rows, d_model]  attention output (after its out projection)
//   blocks.L.hook_resid_mid     [rows, d_model]  resid_pre + attn_out
//   <MLP input linears>
//   blocks.L.mlp.hook_post      [rows, d_mlp]    MLP hidden after the activation
//                                                (Llama: act(gate) * up)
//   <MLP output linear input>
//   blocks.L.hook_mlp_out       [rows, d_model]  MLP output
//   blocks.L.hook_resid_post    [rows, d_model]  resid_mid + mlp_out (= resid_pre of L+1)
// After the last block:
//   ln_final.hook_normalized    [rows, d_model]  the final norm's output (unembedding input)
//
// Linear inputs are addressed by module name: the block the linear reads.
//   GPT-2: blocks.L.attn.c_attn [d_model]  (ln_1 output)
//          blocks.L.attn.c_proj [d_model]  (heads' outputs concatenated, TL's hook_z flattened)
//          blocks.L.mlp.c_fc    [d_model]  (ln_2 output)
//          blocks.L.mlp.c_proj  [d_mlp]    (same values as mlp.hook_post)
//   Llama, Mistral, Qwen 2/3, Gemma 2/3:
//          blocks.L.attn.q_proj / k_proj / v_proj [d_model] (input_layernorm output)
//          blocks.L.attn.o_proj [heads · head_dim]
//          blocks.L.mlp.gate_proj / up_proj [d_model] (the pre-MLP norm's output:
//          Llama post_attention_layernorm, Gemma pre_feedforward_layernorm)
//          blocks.L.mlp.down_proj [d_mlp]
//   GPT-NeoX: blocks.L.attn.query_key_value, attn.dense, mlp.dense_h_to_4h,
//          mlp.dense_4h_to_h (in the order of GPT-2's four).
// blocks.L.attn.hook_z is another name of the out projection's input
// (TransformerLens's hook_z with heads flattened), as SAELens and Gemma Scope
// attention SAEs name it; listHookNames lists the module name only.
// Gemma: hook_attn_out and hook_mlp_out are after the post-norms, i.e. what is
// added to the residual stream. GPT-NeoX with use_parallel_residual has no
// hook_resid_mid (attention and MLP both read resid_pre).
// A hook on one of several linears that share an input (q/k/v, gate/up) sees
// its own copy: replacing rows there changes only that linear's input.
// When the same buffer carries two names (resid_post of L and resid_pre of
// L+1; mlp.hook_post and the down projection's input) the hooks run in the
// order above and each sees what the previous one wrote.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"
#include "core/model/config.h"

namespace mono::model {

// Kinds of hook sites; a hook name is (layer, site).
enum class HookSite : int {
    kResidPre,
    kAttnIn,         // GPT-2 c_attn input; Llama q_proj input
    kKIn,            // Llama k_proj input (GPT-2: unused)
    kVIn,            // Llama v_proj input (GPT-2: unused)
    kAttnOutProjIn,  // c_proj / o_proj input
    kAttnOut,
    kResidMid,
    kMlpIn,  // c_fc / gate_proj input
    kUpIn,   // Llama up_proj input (GPT-2: unused)
    kMlpPost,
    kMlpOutProjIn,  // mlp.c_proj / down_proj input
    kMlpOut,
    kResidPost,
    kCount,
};
constexpr int kHookSitesPerLayer = static_cast<int>(HookSite::kCount);

struct HookId {
    int layer = -1;  // -1 with kResidPost means ln_final.hook_normalized
    HookSite site = HookSite::kResidPre;
    bool isFinalNorm() const { return layer < 0; }
};

// Every hook name of a model, in forward order (TransformerLens names plus linear inputs).
std::vector<std::string> listHookNames(const ModelConfig& config);
// Resolves a name; InvalidArgument naming the hook and the model's layer count when unknown.
Result<HookId> parseHookName(const ModelConfig& config, std::string_view name);
std::string hookName(const ModelConfig& config, HookId id);
// Width of the activation at a hook (d_model, d_mlp, or heads · head_dim at o_proj).
int hookWidth(const ModelConfig& config, HookId id);
// The name after "blocks.L." of a site in this model, or nullptr when the
// model has no such site (k_proj in GPT-2, resid_mid with a parallel residual).
// For linear inputs it is also the module's name (Model::linear).
const char* hookSiteSuffix(const ModelConfig& config, HookSite site);

// The rows of one sequence inside a hook's block.
struct SeqRows {
    int seq = 0;       // index of the sequence in the Batch
    int64_t row0 = 0;  // first row in the block
    int64_t rows = 0;
    int64_t pos0 = 0;  // position of the first row in its sequence (> 0 with a KV cache)
};

struct HookContext {
    std::string_view name;  // "blocks.3.hook_resid_post"
    HookId id;
    const std::vector<SeqRows>* seqs = nullptr;  // how the block's rows map to sequences
};

// A mutable row-major float block: row r is data[r*cols .. r*cols+cols).
struct ActivationBlock {
    float* data = nullptr;
    int64_t rows = 0;
    int64_t cols = 0;
    float* row(int64_t r) const { return data + r * cols; }
};

// Called on the forward pass's thread; may read the block and overwrite any
// subset of rows in place. Must not keep the pointer after returning.
using HookFn = std::function<void(const HookContext&, ActivationBlock)>;

// A replacement for the float GEMM of one linear module, for quantized
// execution (int8 kernels). The backend hands over the module's input (after
// its input hook ran) and weights and lets the callback write the output.
struct LinearCall {
    HookId id;  // the module's input hook: (layer, kAttnIn / kKIn / ... / kMlpOutProjIn)
    const float* x = nullptr;  // [rows, in], row stride ldx
    int64_t ldx = 0;
    int64_t rows = 0;
    int64_t in = 0;
    const float* w = nullptr;  // [out, in] contiguous: this module's rows only
    int64_t out = 0;
    const float* bias = nullptr;  // [out] or null
    float* y = nullptr;           // [rows, out], row stride ldy
    int64_t ldy = 0;
    const std::vector<SeqRows>* seqs = nullptr;  // how the rows map to sequences
};
// Returns true when it wrote y (then the backend applies the activation that
// follows, if any); false lets the backend run its own float GEMM.
using LinearFn = std::function<bool(const LinearCall&)>;

// A set of hooks for one or more forward passes: several names, several
// callbacks per name (run in the order added).
class Hooks {
public:
    void add(std::string name, HookFn fn) { m_hooks[std::move(name)].push_back(std::move(fn)); }
    void clear() { m_hooks.clear(); }
    bool empty() const { return m_hooks.empty(); }
    const std::map<std::string, std::vector<HookFn>>& all() const { return m_hooks; }

private:
    std::map<std::string, std::vector<HookFn>> m_hooks;
};

}  // namespace mono::model
