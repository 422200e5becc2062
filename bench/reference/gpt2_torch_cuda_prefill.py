#!/usr/bin/python3
"""PyTorch CUDA reference for bench/gpu_model_forward.cpp's GPT-2 row: the
GPT-2-small-shaped model of gpt2_torch_bench.py (same code, random weights)
on the GPU in float32 with TF32 off, prefill of 8 sequences x 128 tokens with
logits for every position; the median of 10 timed passes after one warm-up,
each ended by a synchronize. Exits with status 3 when torch has no CUDA device.

usage: python3 bench/reference/gpt2_torch_cuda_prefill.py
"""
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2_torch_bench import V, Gpt2  # noqa: E402


def main():
    if not torch.cuda.is_available():
        print("torch has no CUDA device")
        sys.exit(3)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.set_grad_enabled(False)
    model = Gpt2()
    model.init_random(seed=0)  # on the CPU generator, as gpt2_torch_bench.py
    model = model.cuda().eval()
    tokens = torch.randint(0, V, (8, 128), generator=torch.Generator().manual_seed(1)).cuda()
    # The attention mask is made inside the forward: on the GPU too.
    if hasattr(torch, "set_default_device"):
        torch.set_default_device("cuda")
    else:
        torch.set_default_tensor_type(torch.cuda.FloatTensor)
    times = []
    for rep in range(11):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        model(tokens, logits="all")
        torch.cuda.synchronize()
        if rep > 0:
            times.append(time.perf_counter() - t0)
    print(f"RESULT torch_cuda_prefill_gpt2_tok_per_s {8 * 128 / statistics.median(times):.1f} tok/s")


if __name__ == "__main__":
    main()
