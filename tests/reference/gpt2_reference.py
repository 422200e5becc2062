#!/usr/bin/python3
"""Golden outputs of GPT-2 for the C++ runtime's test (tests/model/test_model.cpp).

A GPT-2 forward pass in a few lines of PyTorch (no transformers package),
computed in float64 from tiny-random-gpt2's model.safetensors, writing the
logits and the activation at every hook point (TransformerLens names plus the
input of every linear module) for one short token sequence.

usage: /usr/bin/python3 tests/reference/gpt2_reference.py \
           [../shared/models/tiny-random-gpt2] [tests/data/tiny_gpt2/golden.npz]
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../../shared/models/tiny-random-gpt2")
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "../data/tiny_gpt2/golden.npz")
# Token ids of the golden sequence (any ids < vocab work: the weights are random).
TOKENS = [98, 5, 17, 300, 999, 0, 42, 7, 512, 88, 250, 3]


def read_safetensors(path):
    """name -> float64 tensor. Layout: u64 header length, JSON header, data."""
    dtypes = {"F32": np.float32, "F16": np.float16, "F64": np.float64}
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        a = np.frombuffer(data[begin:end], dtype=dtypes[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(a.astype(np.float64))
    return out


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def main():
    cfg = json.load(open(os.path.join(MODEL, "config.json")))
    w = read_safetensors(os.path.join(MODEL, "model.safetensors"))
    p = "transformer." if "transformer.wte.weight" in w else ""
    C, H, eps = cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
    hd = C // H
    T = len(TOKENS)
    ids = torch.tensor(TOKENS)
    ln = lambda x, name: torch.nn.functional.layer_norm(x, (C,), w[name + ".weight"], w[name + ".bias"], eps)
    conv1d = lambda x, name: x @ w[name + ".weight"] + w[name + ".bias"]  # Conv1D: [in, out]

    hooks = {}
    x = w[p + "wte.weight"][ids] + w[p + "wpe.weight"][torch.arange(T)]  # [T, C]
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    for L in range(cfg["n_layer"]):
        b, m = f"{p}h.{L}.", f"blocks.{L}."
        hooks[m + "hook_resid_pre"] = x.clone()
        h = ln(x, b + "ln_1")
        hooks[m + "attn.c_attn"] = h
        q, k, v = conv1d(h, b + "attn.c_attn").split(C, dim=1)
        q, k, v = (t.view(T, H, hd).transpose(0, 1) for t in (q, k, v))  # [H, T, hd]
        scores = (q @ k.transpose(1, 2)) / math.sqrt(hd)
        scores = scores.masked_fill(mask, float("-inf"))
        z = (torch.softmax(scores, dim=-1) @ v).transpose(0, 1).reshape(T, C)
        hooks[m + "attn.c_proj"] = z
        attn_out = conv1d(z, b + "attn.c_proj")
        hooks[m + "hook_attn_out"] = attn_out
        x = x + attn_out
        hooks[m + "hook_resid_mid"] = x.clone()
        h2 = ln(x, b + "ln_2")
        hooks[m + "mlp.c_fc"] = h2
        post = gelu_new(conv1d(h2, b + "mlp.c_fc"))
        hooks[m + "mlp.hook_post"] = post
        hooks[m + "mlp.c_proj"] = post
        mlp_out = conv1d(post, b + "mlp.c_proj")
        hooks[m + "hook_mlp_out"] = mlp_out
        x = x + mlp_out
        hooks[m + "hook_resid_post"] = x.clone()
    hf = ln(x, p + "ln_f")
    hooks["ln_final.hook_normalized"] = hf
    logits = hf @ w[p + "wte.weight"].T  # tied: [T, V]

    arrays = {"tokens": np.array(TOKENS, dtype=np.int32), "logits": logits.numpy().astype(np.float32)}
    for name, a in hooks.items():
        arrays[name] = a.numpy().astype(np.float32)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    np.savez(OUT, **arrays)
    print(f"wrote {OUT}: {len(arrays)} arrays, logits {arrays['logits'].shape}")


if __name__ == "__main__":
    main()
