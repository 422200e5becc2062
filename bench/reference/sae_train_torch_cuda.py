#!/usr/bin/python3
"""PyTorch CUDA reference for bench/gpu_sae_train.cpp: the SAE training step of
bench/reference/sae_train_torch.py (b_dec subtraction, ReLU with the
decoder-norm-weighted L1 penalty, or TopK with unit-norm decoder rows and
parallel-gradient removal; Adam) on the GPU in float32 with TF32 off, at
batch 4096 and the shapes of bench_gpu_sae_train. Prints tokens/s per
configuration (median over the timed steps, each ended by a synchronize) as
RESULT lines; exits with status 3 when torch has no CUDA device.

usage: python3 bench/reference/sae_train_torch_cuda.py [--quick]
"""
import statistics
import sys
import time

import torch

BATCH = 4096


class Sae(torch.nn.Module):
    def __init__(self, d, F, arch, k=32, l1=5.0, dec_norm=0.1):
        super().__init__()
        w_dec = torch.randn(F, d, device="cuda")
        w_dec /= w_dec.norm(dim=1, keepdim=True)
        if arch == "relu":
            w_dec *= dec_norm
        self.W_dec = torch.nn.Parameter(w_dec)
        self.W_enc = torch.nn.Parameter(w_dec.t().clone())
        self.b_enc = torch.nn.Parameter(torch.zeros(F, device="cuda"))
        self.b_dec = torch.nn.Parameter(torch.zeros(d, device="cuda"))
        self.arch, self.k, self.l1 = arch, k, l1

    def loss(self, x):
        h = (x - self.b_dec) @ self.W_enc + self.b_enc
        if self.arch == "relu":
            f = torch.relu(h)
            x_hat = f @ self.W_dec + self.b_dec
            mse = (x_hat - x).pow(2).sum(1).mean()
            return mse + self.l1 * (f * self.W_dec.norm(dim=1)).sum(1).mean()
        vals, idx = torch.relu(h).topk(self.k, dim=1)
        x_hat = torch.zeros_like(h).scatter(1, idx, vals) @ self.W_dec + self.b_dec
        return (x_hat - x).pow(2).sum(1).mean()


def train(d, F, arch, steps, warmup):
    x = torch.randn(BATCH, d, device="cuda")
    x *= d ** 0.5 / x.norm(dim=1).mean()
    sae = Sae(d, F, arch)
    opt = torch.optim.Adam(sae.parameters(), lr=4e-4)
    times = []
    for _ in range(warmup + steps):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
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
        loss.item()  # the step's loss reaches the host, as the trainer's does
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    del sae, opt
    torch.cuda.empty_cache()
    return BATCH / statistics.median(times[warmup:])


def main():
    if not torch.cuda.is_available():
        print("torch has no CUDA device")
        sys.exit(3)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    quick = "--quick" in sys.argv
    shapes = [(768, 16384)] if quick else [(768, 16384), (768, 131072), (2304, 16384),
                                           (2304, 131072)]
    print(f"PyTorch {torch.__version__} on {torch.cuda.get_device_name()}, batch {BATCH}, "
          "float32, TF32 off")
    for d, F in shapes:
        for arch in ("relu", "topk"):
            tps = train(d, F, arch, steps=5, warmup=2)
            print(f"RESULT torch_cuda_{arch}_{d}x{F}_tokens_per_s {tps:.1f} tokens/s", flush=True)


if __name__ == "__main__":
    main()
