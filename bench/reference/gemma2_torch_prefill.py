#!/usr/bin/env python3
"""PyTorch reference for bench/big_model.sh: the prefill of a Gemma-2-shaped
model (the same dimensions as make_random_gemma2.py writes) with random
weights held in DTYPE, in the same process as nothing else. A plain
re-implementation of Gemma 2's forward (embedding × √C, RMSNorm with 1 + w,
GQA attention with RoPE and soft-capping, sandwich norms, GELU-tanh gated MLP,
tied unembedding of the last position, final soft-cap), written for speed
measurement only: no checkpoint is read, so the weights cost DTYPE's size.

    gemma2_torch_prefill.py {2b|9b} {bf16|f32} [T]

Prints `RESULT torch_prefill_<dtype> <tokens/s> tok/s` (median of 2 after one
warm-up) and the process's peak resident memory.
"""
import math
import os
import resource
import sys
import time

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from make_random_gemma2 import SHAPES  # noqa: E402


def rms(x, w, eps=1e-6):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps) * (1.0 + w.float())).to(x.dtype)


def rope(x, pos, theta=10000.0):
    d = x.shape[-1]
    inv = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
    ang = pos[:, None].float() * inv[None, :]
    cos, sin = torch.cat([ang.cos()] * 2, -1).to(x.dtype), torch.cat([ang.sin()] * 2, -1).to(x.dtype)
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


class Gemma2:
    def __init__(self, c, dtype):
        C, F, hd = c["hidden_size"], c["intermediate_size"], c["head_dim"]
        self.H, self.Hkv, self.hd, self.C = c["num_attention_heads"], c["num_key_value_heads"], hd, C
        self.scale = c["query_pre_attn_scalar"] ** -0.5

        def w(*shape):
            return torch.empty(*shape, dtype=dtype).normal_(0.0, 0.02)

        self.emb = w(256000, C)
        self.layers = []
        for _ in range(c["num_hidden_layers"]):
            self.layers.append(dict(
                q=w(self.H * hd, C), k=w(self.Hkv * hd, C), v=w(self.Hkv * hd, C),
                o=w(C, self.H * hd), gate=w(F, C), up=w(F, C), down=w(C, F),
                n=[torch.zeros(C, dtype=dtype) for _ in range(4)]))
        self.norm = torch.zeros(C, dtype=dtype)

    def forward(self, ids):
        T = ids.shape[0]
        pos = torch.arange(T)
        x = self.emb[ids] * torch.tensor(math.sqrt(self.C), dtype=self.emb.dtype)
        mask = torch.full((T, T), float("-inf")).triu(1)
        for L in self.layers:
            h = rms(x, L["n"][0])
            q = (h @ L["q"].T).view(T, self.H, self.hd).transpose(0, 1)
            k = (h @ L["k"].T).view(T, self.Hkv, self.hd).transpose(0, 1)
            v = (h @ L["v"].T).view(T, self.Hkv, self.hd).transpose(0, 1)
            q, k = rope(q, pos), rope(k, pos)
            g = self.H // self.Hkv
            k, v = k.repeat_interleave(g, 0), v.repeat_interleave(g, 0)
            s = (q @ k.transpose(1, 2)).float() * self.scale
            s = torch.tanh(s / 50.0) * 50.0 + mask
            a = (torch.softmax(s, -1).to(x.dtype) @ v).transpose(0, 1).reshape(T, -1)
            x = x + rms(a @ L["o"].T, L["n"][1])
            h = rms(x, L["n"][2])
            m = torch.nn.functional.gelu(h @ L["gate"].T, approximate="tanh") * (h @ L["up"].T)
            x = x + rms(m @ L["down"].T, L["n"][3])
        x = rms(x, self.norm)
        logits = (x[-1:] @ self.emb.T).float()
        return torch.tanh(logits / 30.0) * 30.0


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in SHAPES or sys.argv[2] not in ("bf16", "f32"):
        sys.exit("usage: gemma2_torch_prefill.py {2b|9b} {bf16|f32} [T]")
    size, name = sys.argv[1], sys.argv[2]
    T = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    dtype = torch.bfloat16 if name == "bf16" else torch.float32
    # torch counts one thread here by default; Monoscope's bench uses every core.
    torch.set_num_threads(os.cpu_count())
    from make_random_gemma2 import config
    torch.manual_seed(0)
    t0 = time.time()
    model = Gemma2(config(size), dtype)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {name} weights built in "
          f"{time.time() - t0:.1f} s")
    ids = torch.tensor([2 + (i * 7919) % 255998 for i in range(T)])
    times = []
    with torch.inference_mode():
        for i in range(3):
            t0 = time.time()
            model.forward(ids)
            if i > 0:
                times.append(time.time() - t0)
    times.sort()
    print(f"RESULT torch_prefill_{name} {T / times[len(times) // 2]:.3f} tok/s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"RESULT torch_peak_rss_{name} {peak:.3f} GiB")


if __name__ == "__main__":
    main()
