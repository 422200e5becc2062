#!/usr/bin/python3
"""Tiny random models of every family beyond GPT-2 / Llama and their golden outputs.

For each family this writes a Hugging Face folder (config.json and safetensors
tensors under the hub's exact names, with the hub's config keys) and a
golden.npz with the logits and two hook activations of one token sequence,
computed in float64 by an independent forward written here from the published
architectures (no transformers package). tests/model/test_families.cpp loads
each folder with Monoscope and compares.

The models are small but every feature is exercised and made to matter:
  gemma2        bf16 tensors, sqrt(d_model) embedding scale, (1 + w) RMSNorm x4,
                GeGLU (tanh GELU), query_pre_attn_scalar != head_dim, explicit
                head_dim != d_model / heads, GQA, attention and final soft-caps
                that saturate, even layers sliding with a window shorter than
                the sequence, tied embeddings.
  gemma3_text   plus per-head (1 + w) q/k norms, sliding_window_pattern, a
                separate RoPE base on sliding layers, linear RoPE scaling on
                global layers, final soft-cap only.
  gemma3        the same weights inside a multimodal gemma3 config
                (text_config, layer_types, language_model.model.* names).
  neox_parallel GPT-NeoX: per-head fused q|k|v, partial rotary (rotary_pct),
                LayerNorm with bias, erf GELU, untied embed_out, parallel
                residual, and the buffers Pythia checkpoints carry.
  neox_sequential  the same with use_parallel_residual false.
  qwen2         q/k/v biases, GQA, two shards with model.safetensors.index.json,
                sliding_window present but off (use_sliding_window false).
  qwen3         per-head plain-w q/k RMSNorm, explicit head_dim, no biases, tied.
  mistral       sliding window 3 on every layer, GQA, explicit head_dim.

usage: /usr/bin/python3 tests/reference/families_reference.py [tests/data/families]
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../data/families")
TOKENS = [3, 17, 42, 5, 60, 9, 33, 1, 48, 21, 7, 55]  # any ids < vocab
VOCAB = 64

# ---------------------------------------------------------------- files


def write_safetensors(path, tensors):
    """tensors: name -> (dtype string, shape, raw bytes)."""
    header, offset, blobs = {}, 0, []
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def encode(t, dtype):
    """A float64 tensor stored as F32 or BF16; returns (entry, the float64 value it stores)."""
    if dtype == "BF16":
        b = t.to(torch.bfloat16)
        raw = b.view(torch.int16).numpy().tobytes()
        return ("BF16", tuple(t.shape), raw), b.double()
    f = t.float()
    return ("F32", tuple(t.shape), f.numpy().tobytes()), f.double()


def save_model(folder, config, weights, dtype="F32", shards=1, extra=None):
    """Writes config.json and the tensors; returns the float64 values as stored."""
    os.makedirs(folder, exist_ok=True)
    for old in os.listdir(folder):
        os.remove(os.path.join(folder, old))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    entries, stored = {}, {}
    for name, t in weights.items():
        entries[name], stored[name] = encode(t, dtype)
    entries.update(extra or {})
    if shards == 1:
        write_safetensors(os.path.join(folder, "model.safetensors"), entries)
        return stored
    names = list(entries)
    per = (len(names) + shards - 1) // shards
    weight_map = {}
    for s in range(shards):
        file = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        part = {n: entries[n] for n in names[s * per:(s + 1) * per]}
        write_safetensors(os.path.join(folder, file), part)
        weight_map.update({n: file for n in part})
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=2)
    return stored


# ---------------------------------------------------------------- math (float64)


def rms_norm(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def gelu_erf(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def silu(x):
    return x / (1.0 + torch.exp(-x))


def rope(x, positions, dims, theta, factor=1.0):
    """Rotate-half RoPE on the first `dims` of x [heads, T, hd]; positions / factor."""
    half = dims // 2
    inv = 1.0 / theta ** (torch.arange(0, dims, 2, dtype=torch.float64) / dims)
    ang = (positions.double() / factor)[:, None] * inv[None, :]  # [T, half]
    cos, sin = torch.cos(ang), torch.sin(ang)
    a, b, rest = x[..., :half], x[..., half:dims], x[..., dims:]
    return torch.cat([a * cos - b * sin, a * sin + b * cos, rest], dim=-1)


def attend(q, k, v, scale, window=0, softcap=0.0):
    """q [H, T, hd], k/v [Hkv, T, hd]: causal softmax attention, optional window and cap."""
    H, T, _ = q.shape
    group = H // k.shape[0]
    k = k.repeat_interleave(group, dim=0)
    v = v.repeat_interleave(group, dim=0)
    s = (q @ k.transpose(1, 2)) * scale
    if softcap:
        s = softcap * torch.tanh(s / softcap)
    i = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    allowed = j <= i
    if window:
        allowed &= j > i - window  # the query and window - 1 keys before it
    s = s.masked_fill(~allowed, float("-inf"))
    return torch.softmax(s, dim=-1) @ v  # [H, T, hd]


def softcap_frac(x, cap):
    """Share of values beyond 0.5·cap (where tanh bends clearly): proof the cap bites."""
    return float((x.abs() > 0.5 * cap).double().mean())


# ---------------------------------------------------------------- forwards


def llama_like(cfg, w, ids, family, prefix="model."):
    """Mistral, Qwen 2/3, Gemma 2/3 (HF semantics). Returns logits and hooks."""
    gemma = family in ("gemma2", "gemma3")
    C, H, Hkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim", C // H)
    eps, T = cfg["rms_norm_eps"], len(ids)
    L = cfg["num_hidden_layers"]
    pos = torch.arange(T)
    norm = (lambda x, n: rms_norm(x, 1.0 + w[n], eps)) if gemma else (lambda x, n: rms_norm(x, w[n], eps))
    act = gelu_tanh if gemma else silu
    x = w[prefix + "embed_tokens.weight"][ids]
    if gemma:
        x = x * torch.tensor(math.sqrt(C), dtype=torch.float32).double()
    scale = cfg["query_pre_attn_scalar"] ** -0.5 if gemma else hd**-0.5
    hooks, caps = {}, []
    for layer in range(L):
        p = f"{prefix}layers.{layer}."
        sliding, theta, factor = layer_kind(cfg, family, layer)
        h = norm(x, p + "input_layernorm.weight")
        proj = lambda n: h @ w[p + f"self_attn.{n}_proj.weight"].T + w.get(p + f"self_attn.{n}_proj.bias", 0.0)
        q = proj("q").view(T, H, hd).transpose(0, 1)
        k = proj("k").view(T, Hkv, hd).transpose(0, 1)
        v = proj("v").view(T, Hkv, hd).transpose(0, 1)
        if family in ("qwen3", "gemma3"):
            q = norm(q, p + "self_attn.q_norm.weight")
            k = norm(k, p + "self_attn.k_norm.weight")
        q, k = rope(q, pos, hd, theta, factor), rope(k, pos, hd, theta, factor)
        cap = cfg.get("attn_logit_softcapping") or 0.0
        if cap:
            caps.append(softcap_frac((q @ k.repeat_interleave(H // Hkv, 0).transpose(1, 2)) * scale, cap))
        z = attend(q, k, v, scale, cfg["sliding_window"] if sliding else 0, cap)
        z = z.transpose(0, 1).reshape(T, H * hd)
        attn_out = z @ w[p + "self_attn.o_proj.weight"].T + w.get(p + "self_attn.o_proj.bias", 0.0)
        if gemma:
            attn_out = norm(attn_out, p + "post_attention_layernorm.weight")
        if layer == 0:
            hooks["blocks.0.hook_attn_out"] = attn_out
        x = x + attn_out
        h2 = norm(x, p + ("pre_feedforward_layernorm.weight" if gemma else "post_attention_layernorm.weight"))
        gate = h2 @ w[p + "mlp.gate_proj.weight"].T
        up = h2 @ w[p + "mlp.up_proj.weight"].T
        mlp_out = (act(gate) * up) @ w[p + "mlp.down_proj.weight"].T
        if gemma:
            mlp_out = norm(mlp_out, p + "post_feedforward_layernorm.weight")
        x = x + mlp_out
    hooks[f"blocks.{L - 1}.hook_resid_post"] = x
    hf = norm(x, prefix + "norm.weight")
    head = w["lm_head.weight"] if "lm_head.weight" in w else w[prefix + "embed_tokens.weight"]
    logits = hf @ head.T
    final_cap = cfg.get("final_logit_softcapping") or 0.0
    if final_cap:
        caps.append(softcap_frac(logits, final_cap))
        logits = final_cap * torch.tanh(logits / final_cap)
    return logits, hooks, caps


def layer_kind(cfg, family, layer):
    """(sliding?, RoPE base, RoPE linear factor) of one layer, per family rules."""
    theta = cfg.get("rope_theta", 10000.0)
    if family == "gemma2":
        return layer % 2 == 0, theta, 1.0
    if family == "gemma3":
        if "layer_types" in cfg:
            sliding = cfg["layer_types"][layer] == "sliding_attention"
        else:
            sliding = (layer + 1) % cfg["sliding_window_pattern"] != 0
        if sliding:
            return True, cfg["rope_local_base_freq"], 1.0
        return False, theta, (cfg.get("rope_scaling") or {}).get("factor", 1.0)
    if family == "mistral":
        return cfg.get("sliding_window") is not None, theta, 1.0
    if family in ("qwen2", "qwen3"):
        on = cfg.get("use_sliding_window", False) and layer >= cfg.get("max_window_layers", 28)
        return on, theta, 1.0
    raise ValueError(family)


def gpt_neox(cfg, w, ids):
    C, H, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    hd, T, L = C // H, len(ids), cfg["num_hidden_layers"]
    rot = int(hd * cfg["rotary_pct"])
    pos = torch.arange(T)
    ln = lambda x, n: layer_norm(x, w[n + ".weight"], w[n + ".bias"], eps)
    lin = lambda x, n: x @ w[n + ".weight"].T + w[n + ".bias"]
    x = w["gpt_neox.embed_in.weight"][ids]
    hooks = {}
    for layer in range(L):
        p = f"gpt_neox.layers.{layer}."
        qkv = lin(ln(x, p + "input_layernorm"), p + "attention.query_key_value").view(T, H, 3 * hd)
        q, k, v = (qkv[..., i * hd:(i + 1) * hd].transpose(0, 1) for i in range(3))
        q = rope(q, pos, rot, cfg["rotary_emb_base"])
        k = rope(k, pos, rot, cfg["rotary_emb_base"])
        z = attend(q, k, v, hd**-0.5).transpose(0, 1).reshape(T, C)
        attn_out = lin(z, p + "attention.dense")
        if layer == 0:
            hooks["blocks.0.hook_attn_out"] = attn_out
        mlp = lambda h: lin(gelu_erf(lin(h, p + "mlp.dense_h_to_4h")), p + "mlp.dense_4h_to_h")
        if cfg["use_parallel_residual"]:
            x = mlp(ln(x, p + "post_attention_layernorm")) + attn_out + x
        else:
            x = x + attn_out
            x = mlp(ln(x, p + "post_attention_layernorm")) + x
    hooks[f"blocks.{L - 1}.hook_resid_post"] = x
    return ln(x, "gpt_neox.final_layer_norm") @ w["embed_out.weight"].T, hooks, []


# ---------------------------------------------------------------- models


def randn(g, *shape, std=1.0):
    return torch.randn(*shape, generator=g, dtype=torch.float64) * std


def llama_like_weights(g, cfg, family, prefix="model.", std=0.3):
    C, H, Hkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd, F = cfg.get("head_dim", C // H), cfg["intermediate_size"]
    gemma = family in ("gemma2", "gemma3")
    norm_w = (lambda n: randn(g, n, std=0.3)) if gemma else (lambda n: 1.0 + randn(g, n, std=0.3))
    w = {prefix + "embed_tokens.weight": randn(g, VOCAB, C, std=1.0 if not gemma else 0.3)}
    for layer in range(cfg["num_hidden_layers"]):
        p = f"{prefix}layers.{layer}."
        for n, rows in (("q", H * hd), ("k", Hkv * hd), ("v", Hkv * hd)):
            w[p + f"self_attn.{n}_proj.weight"] = randn(g, rows, C, std=std)
            if family == "qwen2":
                w[p + f"self_attn.{n}_proj.bias"] = randn(g, rows, std=0.5)
        w[p + "self_attn.o_proj.weight"] = randn(g, C, H * hd, std=std)
        if family in ("qwen3", "gemma3"):
            w[p + "self_attn.q_norm.weight"] = norm_w(hd)
            w[p + "self_attn.k_norm.weight"] = norm_w(hd)
        w[p + "input_layernorm.weight"] = norm_w(C)
        w[p + "post_attention_layernorm.weight"] = norm_w(C)
        if gemma:
            w[p + "pre_feedforward_layernorm.weight"] = norm_w(C)
            w[p + "post_feedforward_layernorm.weight"] = norm_w(C)
        w[p + "mlp.gate_proj.weight"] = randn(g, F, C, std=std)
        w[p + "mlp.up_proj.weight"] = randn(g, F, C, std=std)
        w[p + "mlp.down_proj.weight"] = randn(g, C, F, std=std)
    w[prefix + "norm.weight"] = norm_w(C)
    if not cfg.get("tie_word_embeddings", not gemma):
        w["lm_head.weight"] = randn(g, VOCAB, C, std=0.5)
    return w


def neox_weights(g, cfg):
    C, F = cfg["hidden_size"], cfg["intermediate_size"]
    w = {"gpt_neox.embed_in.weight": randn(g, VOCAB, C)}
    for layer in range(cfg["num_hidden_layers"]):
        p = f"gpt_neox.layers.{layer}."
        for n in ("input_layernorm", "post_attention_layernorm"):
            w[p + n + ".weight"] = 1.0 + randn(g, C, std=0.2)
            w[p + n + ".bias"] = randn(g, C, std=0.2)
        for n, (o, i) in (("attention.query_key_value", (3 * C, C)), ("attention.dense", (C, C)),
                          ("mlp.dense_h_to_4h", (F, C)), ("mlp.dense_4h_to_h", (C, F))):
            w[p + n + ".weight"] = randn(g, o, i, std=0.3)
            w[p + n + ".bias"] = randn(g, o, std=0.3)
    w["gpt_neox.final_layer_norm.weight"] = 1.0 + randn(g, C, std=0.2)
    w["gpt_neox.final_layer_norm.bias"] = randn(g, C, std=0.2)
    w["embed_out.weight"] = randn(g, VOCAB, C, std=0.5)
    return w


def neox_buffers(cfg):
    """The non-persistent buffers older Pythia checkpoints still carry: read and skipped."""
    n = cfg["max_position_embeddings"]
    hd = cfg["hidden_size"] // cfg["num_attention_heads"]
    rot = int(hd * cfg["rotary_pct"])
    out = {}
    for layer in range(cfg["num_hidden_layers"]):
        p = f"gpt_neox.layers.{layer}.attention."
        mask = np.tril(np.ones((n, n), dtype=np.uint8)).reshape(1, 1, n, n)
        out[p + "bias"] = ("BOOL", mask.shape, mask.tobytes())
        out[p + "masked_bias"] = ("F32", (), np.array(-1e9, dtype=np.float32).tobytes())
        inv = 1.0 / (10000.0 ** (np.arange(0, rot, 2, dtype=np.float32) / rot))
        out[p + "rotary_emb.inv_freq"] = ("F32", inv.shape, inv.astype(np.float32).tobytes())
    return out


def configs():
    base = {"vocab_size": VOCAB, "max_position_embeddings": 32, "bos_token_id": 1, "eos_token_id": 2}
    gemma2 = dict(base, model_type="gemma2", architectures=["Gemma2ForCausalLM"], hidden_size=32,
                  intermediate_size=48, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2,
                  head_dim=16, hidden_activation="gelu_pytorch_tanh", hidden_act="gelu_pytorch_tanh",
                  rms_norm_eps=1e-6, rope_theta=10000.0, query_pre_attn_scalar=12, sliding_window=3,
                  attn_logit_softcapping=4.0, final_logit_softcapping=3.0, attention_bias=False,
                  tie_word_embeddings=True, torch_dtype="bfloat16")
    gemma3 = dict(base, model_type="gemma3_text", architectures=["Gemma3ForCausalLM"], hidden_size=32,
                  intermediate_size=48, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=1,
                  head_dim=16, hidden_activation="gelu_pytorch_tanh", rms_norm_eps=1e-6, rope_theta=1000.0,
                  rope_local_base_freq=50.0, rope_scaling={"rope_type": "linear", "factor": 4.0},
                  query_pre_attn_scalar=16, sliding_window=4, sliding_window_pattern=3,
                  attn_logit_softcapping=None, final_logit_softcapping=2.5, tie_word_embeddings=True)
    neox = dict(base, model_type="gpt_neox", architectures=["GPTNeoXForCausalLM"], hidden_size=32,
                intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, hidden_act="gelu",
                rotary_pct=0.25, rotary_emb_base=10000, layer_norm_eps=1e-5, use_parallel_residual=True,
                tie_word_embeddings=False, max_position_embeddings=16)
    qwen2 = dict(base, model_type="qwen2", architectures=["Qwen2ForCausalLM"], hidden_size=32,
                 intermediate_size=48, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                 hidden_act="silu", rms_norm_eps=1e-6, rope_theta=10000.0, use_sliding_window=False,
                 sliding_window=2, max_window_layers=0, tie_word_embeddings=False, rope_scaling=None)
    qwen3 = dict(base, model_type="qwen3", architectures=["Qwen3ForCausalLM"], hidden_size=32,
                 intermediate_size=48, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                 head_dim=12, hidden_act="silu", rms_norm_eps=1e-6, rope_theta=10000.0, attention_bias=False,
                 use_sliding_window=False, sliding_window=None, max_window_layers=2, tie_word_embeddings=True)
    mistral = dict(base, model_type="mistral", architectures=["MistralForCausalLM"], hidden_size=32,
                   intermediate_size=48, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                   head_dim=12, hidden_act="silu", rms_norm_eps=1e-5, rope_theta=10000.0, sliding_window=3,
                   tie_word_embeddings=False)
    return gemma2, gemma3, neox, qwen2, qwen3, mistral


def write_golden(folder, logits, hooks, caps):
    arrays = {"tokens": np.array(TOKENS, dtype=np.int32), "logits": logits.numpy().astype(np.float32)}
    for name, a in hooks.items():
        arrays[name] = a.numpy().astype(np.float32)
    np.savez(os.path.join(folder, "golden.npz"), **arrays)
    bite = ", ".join(f"{c:.2f}" for c in caps)
    print(f"{os.path.basename(folder)}: logits {tuple(logits.shape)}, max |logit| "
          f"{float(logits.abs().max()):.3f}" + (f", share beyond cap/2: {bite}" if caps else ""))


def main():
    g = torch.Generator().manual_seed(20261207)
    ids = torch.tensor(TOKENS)
    gemma2, gemma3, neox, qwen2, qwen3, mistral = configs()

    w = save_model(os.path.join(OUT, "gemma2"), gemma2, llama_like_weights(g, gemma2, "gemma2", std=0.6),
                   dtype="BF16")
    write_golden(os.path.join(OUT, "gemma2"), *llama_like(gemma2, w, ids, "gemma2"))

    w3 = llama_like_weights(g, gemma3, "gemma3")
    w = save_model(os.path.join(OUT, "gemma3_text"), gemma3, w3)
    write_golden(os.path.join(OUT, "gemma3_text"), *llama_like(gemma3, w, ids, "gemma3"))
    # The same text model inside a multimodal config, with explicit layer_types.
    text = dict(gemma3)
    text["layer_types"] = ["sliding_attention" if (i + 1) % 3 else "full_attention" for i in range(4)]
    del text["sliding_window_pattern"]
    mm = {"model_type": "gemma3", "architectures": ["Gemma3ForConditionalGeneration"], "text_config": text,
          "vision_config": {"model_type": "siglip_vision_model"}, "tie_word_embeddings": True}
    w = save_model(os.path.join(OUT, "gemma3_multimodal"), mm,
                   {"language_model." + k: v for k, v in w3.items()})
    write_golden(os.path.join(OUT, "gemma3_multimodal"),
                 *llama_like(text, w, ids, "gemma3", prefix="language_model.model."))

    for name, parallel in (("neox_parallel", True), ("neox_sequential", False)):
        cfg = dict(neox, use_parallel_residual=parallel)
        w = save_model(os.path.join(OUT, name), cfg, neox_weights(g, cfg), extra=neox_buffers(cfg))
        write_golden(os.path.join(OUT, name), *gpt_neox(cfg, w, ids))

    w = save_model(os.path.join(OUT, "qwen2"), qwen2, llama_like_weights(g, qwen2, "qwen2"), shards=2)
    write_golden(os.path.join(OUT, "qwen2"), *llama_like(qwen2, w, ids, "qwen2"))
    w = save_model(os.path.join(OUT, "qwen3"), qwen3, llama_like_weights(g, qwen3, "qwen3"))
    write_golden(os.path.join(OUT, "qwen3"), *llama_like(qwen3, w, ids, "qwen3"))
    w = save_model(os.path.join(OUT, "mistral"), mistral, llama_like_weights(g, mistral, "mistral"))
    write_golden(os.path.join(OUT, "mistral"), *llama_like(mistral, w, ids, "mistral"))


if __name__ == "__main__":
    main()
