#!/usr/bin/python3
"""PyTorch reference for bench/sae_train.cpp: the same SAE training step
(input scaling, b_dec subtraction, ReLU with the decoder-norm-weighted L1
penalty, or TopK with unit-norm decoder rows, parallel-gradient removal and
the aux-k term over dead latents; Adam) at the same shapes, on 2 threads.
Prints tokens/s per configuration.

usage: /usr/bin/python3 bench/reference/sae_train_torch.py [--quick]
"""
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


def train(d, F, arch, steps):
    x_all = torch.randn(BATCH * 2, d)
    scale = d ** 0.5 / x_all[:BATCH].norm(dim=1).mean()
    sae = Sae(d, F, arch)
    with torch.no_grad():
        sae.b_dec.copy_((x_all[:BATCH] * scale).mean(0))
    opt = torch.optim.Adam(sae.parameters(), lr=4e-4)
    times = []
    for step in range(steps + 1):
        t0 = time.perf_counter()
        x = x_all[torch.randint(0, x_all.shape[0], (BATCH,))] * scale
        opt.zero_grad(set_to_none=True)
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
    return BATCH * steps / sum(times[1:])  # the first step (allocation) is excluded


def main():
    quick = "--quick" in sys.argv
    shapes = [(128, 4096, 4, 4)] if quick else [(768, 16384, 4, 8), (128, 4096, 12, 24)]
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}")
    for d, F, relu_steps, topk_steps in shapes:
        for arch, steps in (("relu", relu_steps), ("topk", topk_steps)):
            tps = train(d, F, arch, steps)
            print(f"{arch:5s} {d:4d} x {F:<6d} {tps:12.0f} tokens/s  "
                  f"({6 * d * F * tps / 1e9:.1f} GFLOP/s by 6dF)", flush=True)


if __name__ == "__main__":
    main()
