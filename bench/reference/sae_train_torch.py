#!/usr/bin/python3
"""PyTorch reference for bench/sae_train.cpp: the same SAE training step
(input scaling, b_dec subtraction, ReLU with the decoder-norm-weighted L1
penalty, or TopK with unit-norm decoder rows, parallel-gradient removal and
the aux-k term over dead latents; Adam) at the same shapes, on 2 threads.
Prints the BLAS library torch loaded, its f32 GEMM rate at the encoder's shape
[4096, d] x [d, F] (as bench_sae_train measures Eigen's), and tokens/s per
configuration: the median over the timed steps after warm-up steps.

Debian's python3-torch calls libblas.so.3, the netlib reference BLAS here
unless OpenBLAS is put first on the loader path; run it through the helper:

With --bf16 the loss runs under torch.autocast("cpu", dtype=torch.bfloat16),
PyTorch's mixed precision (bf16 GEMMs through oneDNN, float32 parameters and
Adam): the reference for bench_sae_train's bf16 rows.

usage: bench/reference/with_openblas.sh /usr/bin/python3 bench/reference/sae_train_torch.py [--quick] [--bf16]
"""
import contextlib
import os
import statistics
import sys
import time

import torch

torch.set_num_threads(2)
torch.manual_seed(0)
BATCH = 4096


class Sae(torch.nn.Module):
    def __init__(self, d, F, arch, k=32, l1=5.0, dec_norm=0.1):
        super().__init__()
        w_dec = torch.randn(F, d)
        w_dec /= w_dec.norm(dim=1, keepdim=True)
        if arch == "relu":
            w_dec *= dec_norm
        self.W_dec = torch.nn.Parameter(w_dec)
        self.W_enc = torch.nn.Parameter(w_dec.t().clone())
        self.b_enc = torch.nn.Parameter(torch.zeros(F))
        self.b_dec = torch.nn.Parameter(torch.zeros(d))
        self.arch, self.k, self.l1 = arch, k, l1
        self.k_aux = d // 2
        self.dead = torch.zeros(F, dtype=torch.bool)

    def loss(self, x):
        h = (x - self.b_dec) @ self.W_enc + self.b_enc
        if self.arch == "relu":
            f = torch.relu(h)
            x_hat = f @ self.W_dec + self.b_dec
            mse = (x_hat - x).pow(2).sum(1).mean()
            return mse + self.l1 * (f * self.W_dec.norm(dim=1)).sum(1).mean()
        vals, idx = torch.relu(h).topk(self.k, dim=1)
        x_hat = torch.zeros_like(h).scatter(1, idx, vals) @ self.W_dec + self.b_dec
        mse = (x_hat - x).pow(2).sum(1).mean()
        if self.dead.any():
            masked = torch.where(self.dead, torch.relu(h), torch.zeros_like(h))
            avals, aidx = masked.topk(min(self.k_aux, int(self.dead.sum())), dim=1)
            e_hat = torch.zeros_like(h).scatter(1, aidx, avals) @ self.W_dec
            mse = mse + (e_hat - (x - x_hat).detach()).pow(2).sum(1).mean() / 32
        return mse


def loaded_blas():
    libs = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "blas" in os.path.basename(path).lower():
                libs.add(path)
    return sorted(libs) or ["(no BLAS library mapped)"]


def gemm_gflops(m, k, n, reps):
    """The BLAS rate: into a preallocated output (a fresh [m, n] result per call
    costs page faults, about half the rate at d=128)."""
    a, b, c = torch.randn(m, k), torch.randn(k, n), torch.empty(m, n)
    torch.matmul(a, b, out=c)  # warm-up
    t0 = time.perf_counter()
    for _ in range(reps):
        torch.matmul(a, b, out=c)
    return 2.0 * m * k * n * reps / (time.perf_counter() - t0) / 1e9


def train(d, F, arch, steps, warmup, bf16):
    x_all = torch.randn(BATCH * 2, d)
    scale = d ** 0.5 / x_all[:BATCH].norm(dim=1).mean()
    sae = Sae(d, F, arch)
    with torch.no_grad():
        sae.b_dec.copy_((x_all[:BATCH] * scale).mean(0))
    opt = torch.optim.Adam(sae.parameters(), lr=4e-4)
    times = []
    for step in range(warmup + steps):
        t0 = time.perf_counter()
        x = x_all[torch.randint(0, x_all.shape[0], (BATCH,))] * scale
        opt.zero_grad(set_to_none=True)
        precision = (torch.autocast("cpu", dtype=torch.bfloat16) if bf16
                     else contextlib.nullcontext())
        with precision:
            loss = sae.loss(x)
        loss.backward()
        if arch == "topk":
            with torch.no_grad():
                w, g = sae.W_dec, sae.W_dec.grad
                g -= (g * w).sum(1, keepdim=True) * w
        opt.step()
        if arch == "topk":
            with torch.no_grad():
                sae.W_dec /= sae.W_dec.norm(dim=1, keepdim=True)
        times.append(time.perf_counter() - t0)
    return BATCH / statistics.median(times[warmup:])  # warm-up steps (allocation) excluded


def main():
    quick = "--quick" in sys.argv
    bf16 = "--bf16" in sys.argv
    prec = "bf16" if bf16 else "f32"
    # (d, F, timed steps, warm-up steps): one warm-up step at d=768, where a
    # step takes seconds; two at d=128.
    shapes = [(128, 4096, 4, 1)] if quick else [(768, 16384, 4, 1), (128, 4096, 10, 2)]
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}, "
          f"{'bf16 autocast' if bf16 else 'float32'}")
    gemm = {(d, F): gemm_gflops(BATCH, d, F, 3 if d >= 512 else 10) for d, F, _, _ in shapes}
    print("BLAS library loaded: " + ", ".join(loaded_blas()))
    print(f"{'arch':5s} {'d x F':13s} {'tokens/s':>12s} {'GFLOP/s 6dF':>12s} {'GEMM GF/s':>10s} "
          f"{'6dF / GEMM':>10s}  steps")
    for d, F, steps, warmup in shapes:
        for arch in ("relu", "topk"):
            tps = train(d, F, arch, steps, warmup, bf16)
            model = 6 * d * F * tps / 1e9
            print(f"{arch:5s} {d:4d} x {F:<6d} {tps:12.0f} {model:12.1f} {gemm[(d, F)]:10.1f} "
                  f"{100 * model / gemm[(d, F)]:9.0f}%  {steps} timed after {warmup} warm-up",
                  flush=True)
            print(f"RESULT torch_{prec}_{arch}_{d}x{F}_tokens_per_s {tps:.1f} tokens/s")
        print(f"RESULT torch_gemm_{d}x{F}_gflops {gemm[(d, F)]:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
