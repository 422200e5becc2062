#!/usr/bin/python3
"""PyTorch reference for bench/model_forward.cpp: the same GPT-2-small-shaped
model (12 layers, C 768, 12 heads, F 3072, V 50257, context 1024) with random
weights, in plain torch (nn.Linear, LayerNorm, GELU tanh, causal attention; no
transformers package), fp32, torch.no_grad(), two threads.

Measures, printing one `RESULT <name> <value> <unit>` line per metric (the same
names as bench_model_forward):
  prefill   8 sequences x 128 tokens, logits for every position (and without
            the unembedding: the final LayerNorm output), tokens/s
  decode    one sequence with a KV cache (implemented here): a 128-token prompt,
            then 128 greedy single-token steps, tokens/s of the steps
  gemm      F.linear at the shapes bench_common.h uses, GFLOP/s (the BLAS rate)

Run it with Debian's python3 (/usr/bin/python3, which has torch 1.13). Which
BLAS torch calls depends on the libblas.so.3 the loader finds: the script prints
the library it found, so run it through bench/run_model_bench.sh, which points
the loader at OpenBLAS.

Legend: B batch, T tokens, C d_model, H heads, D head_dim, F d_mlp, V vocab.
"""

import argparse
import math
import os
import re
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

C, N_LAYERS, H, F_MLP, V, CTX = 768, 12, 12, 3072, 50257, 1024
D = C // H
EPS = 1e-5


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(C, eps=EPS)
        self.c_attn = nn.Linear(C, 3 * C)  # rows q | k | v
        self.c_proj = nn.Linear(C, C)
        self.ln2 = nn.LayerNorm(C, eps=EPS)
        self.c_fc = nn.Linear(C, F_MLP)
        self.mlp_proj = nn.Linear(F_MLP, C)

    def attention(self, x, cache, pos):
        # x [B, T, C]; cache None or (k [B, H, CTX, D], v [B, H, CTX, D]) filled up to pos.
        B, T, _ = x.shape
        qkv = self.c_attn(x)  # [B, T, 3C]
        q, k, v = qkv.view(B, T, 3, H, D).permute(2, 0, 3, 1, 4)  # each [B, H, T, D]
        if cache is not None:
            kc, vc = cache
            kc[:, :, pos : pos + T] = k
            vc[:, :, pos : pos + T] = v
            k, v = kc[:, :, : pos + T], vc[:, :, : pos + T]  # [B, H, S, D], S = pos + T
        S = k.shape[2]
        scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(D))  # [B, H, T, S]
        if T > 1:
            # query t (absolute position pos + t) sees keys 0 .. pos + t
            mask = torch.ones(T, S, dtype=torch.bool).triu(diagonal=pos + 1)
            scores = scores.masked_fill(mask, float("-inf"))
        att = torch.softmax(scores, dim=-1)
        y = torch.matmul(att, v)  # [B, H, T, D]
        y = y.transpose(1, 2).reshape(B, T, C)
        return self.c_proj(y)

    def forward(self, x, cache=None, pos=0):
        x = x + self.attention(self.ln1(x), cache, pos)
        x = x + self.mlp_proj(F.gelu(self.c_fc(self.ln2(x)), approximate="tanh"))
        return x


class Gpt2(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Parameter(torch.empty(V, C))  # [V, C], tied unembedding
        self.wpe = nn.Parameter(torch.empty(CTX, C))  # [CTX, C]
        self.blocks = nn.ModuleList(Block() for _ in range(N_LAYERS))
        self.ln_f = nn.LayerNorm(C, eps=EPS)

    def init_random(self, seed):
        # Like Model::random: N(0, 0.02^2) weights, biases 0, norms 1.
        g = torch.Generator().manual_seed(seed)
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif "ln" in name:
                nn.init.ones_(p)
            else:
                with torch.no_grad():
                    p.copy_(torch.randn(p.shape, generator=g) * 0.02)

    def forward(self, tokens, logits="all", caches=None, pos=0):
        # tokens [B, T] -> logits [B, T, V] ("all"), [B, 1, V] of the last position
        # ("last"), or the final hidden states [B, T, C] ("none")
        T = tokens.shape[1]
        x = self.wte[tokens] + self.wpe[pos : pos + T]  # [B, T, C]
        for i, block in enumerate(self.blocks):
            x = block(x, None if caches is None else caches[i], pos)
        x = self.ln_f(x)
        if logits == "none":
            return x
        return F.linear(x if logits == "all" else x[:, -1:], self.wte)

    def new_cache(self, batch, dtype=torch.float32):
        return [
            (torch.zeros(batch, H, CTX, D, dtype=dtype), torch.zeros(batch, H, CTX, D, dtype=dtype))
            for _ in range(N_LAYERS)
        ]


def time_repeated(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    seconds = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - t0)
    return statistics.median(seconds), min(seconds), max(seconds)


def result(name, value, unit):
    print(f"RESULT {name} {value:.6g} {unit}", flush=True)


def loaded_blas():
    libs = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "blas" in os.path.basename(path).lower():
                libs.add(path)
    return sorted(libs) or ["(no BLAS library mapped)"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("--steps", type=int, default=128)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--f32-only", action="store_true", help="skip the bfloat16 run")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    blas_info = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"built with BLAS_INFO={blas_info.group(1) if blas_info else '?'}")
    print("OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s" % (
        os.environ.get("OPENBLAS_CORETYPE", "(unset)"), os.environ.get("OPENBLAS_L2_SIZE", "(unset)")))
    print(f"load average {os.getloadavg()[0]:.2f}")

    # ---- the BLAS rate at bench_common.h's shapes (loads the BLAS library too)
    best = 0.0
    for m, k, n in [(1024, 768, 3072), (1024, 3072, 768), (2048, 2048, 2048)]:
        x, w = torch.randn(m, k), torch.randn(n, k)
        med, _, _ = time_repeated(lambda: F.linear(x, w), 2, 7)
        gf = 2.0 * m * k * n / med / 1e9
        best = max(best, gf)
        print(f"gemm {m}x{k}x{n}: {gf:.1f} GFLOP/s")
    print("BLAS library loaded: " + ", ".join(loaded_blas()))
    result("gemm_gflops", best, "GFLOP/s")

    model = Gpt2()
    model.init_random(seed=0)
    model.eval()
    g = torch.Generator().manual_seed(1)

    measure(model, args, g, prefix="", dtype=torch.float32)
    if not args.f32_only:
        # The same model in bfloat16 (oneDNN kernels where torch has them), for
        # comparison with Monoscope's bf16 compute mode.
        print(f"bf16: oneDNN available {torch.backends.mkldnn.is_available()}")
        measure(model.to(torch.bfloat16), args, torch.Generator().manual_seed(1), "bf16_",
                torch.bfloat16)


def measure(model, args, g, prefix, dtype):
    # ---- prefill: B x T tokens, logits for all positions / no unembedding
    tokens = torch.randint(0, V, (args.batch, args.seq), generator=g)
    n_tok = args.batch * args.seq
    for name, want_logits in [("prefill_logits", "all"), ("prefill_nologits", "none")]:
        med, lo, hi = time_repeated(lambda: model(tokens, logits=want_logits), 1, args.reps)
        print(f"{prefix}{name}: median {med * 1e3:.1f} ms (min {lo * 1e3:.1f}, max {hi * 1e3:.1f})")
        result(prefix + name + "_tok_per_s", n_tok / med, "tok/s")

    # ---- decode: one sequence, KV cache, prompt then greedy single-token steps
    prompt = torch.randint(0, V, (1, args.prompt), generator=g)
    caches = model.new_cache(1, dtype)
    prompt_times, step_times = [], []
    for rep in range(args.reps + 1):  # the first is a warm-up
        t0 = time.perf_counter()
        logits = model(prompt, "last", caches, pos=0)  # [1, 1, V]
        t1 = time.perf_counter()
        nxt = logits[:, -1].argmax(dim=-1, keepdim=True)  # [1, 1]
        for s in range(args.steps):
            logits = model(nxt, "last", caches, pos=args.prompt + s)  # [1, 1, V]
            nxt = logits[:, -1].argmax(dim=-1, keepdim=True)
        t2 = time.perf_counter()
        if rep > 0:
            prompt_times.append(t1 - t0)
            step_times.append(t2 - t1)
    step_med = statistics.median(step_times)
    print(f"{prefix}decode: {args.steps} steps median {step_med * 1e3:.1f} ms "
          f"(min {min(step_times) * 1e3:.1f}, max {max(step_times) * 1e3:.1f})")
    result(prefix + "prompt_tok_per_s", args.prompt / statistics.median(prompt_times), "tok/s")
    result(prefix + "decode_tok_per_s", args.steps / step_med, "tok/s")


if __name__ == "__main__":
    main()
