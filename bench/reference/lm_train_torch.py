#!/ usr / bin / python3
"""PyTorch reference for bench/lm_train.cpp: the same GPT-2 training step
(token + position embeddings, pre-LayerNorm blocks with causal multi-head
attention and a tanh-GELU MLP, tied unembedding, mean cross-entropy; global-norm
gradient clipping at 1.0; AdamW with betas (0.9, 0.95), eps 1e-8 and weight
decay 0.1 on the matrices only) at the same shapes and batch, on random tokens,
on 2 threads. Attention uses torch's fused scaled_dot_product_attention when
this torch has it, else the plain masked softmax. Prints tokens/s.

usage: /usr/bin/python3 bench/reference/lm_train_torch.py [--steps S] [--vocab V]
       [--layers L] [--d-model C] [--heads H] [--ctx T] [--batch B] [--threads N]
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
for name, default in [("steps", 20), ("vocab", 4096), ("layers", 4), ("d-model", 128),
                      ("heads", 4), ("ctx", 128), ("batch", 16), ("threads", 2)]:
    p.add_argument("--" + name, type=int, default=default)
args = p.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)


class Block(torch.nn.Module):
    def __init__(self, C, H):
        super().__init__()
        self.ln_1 = torch.nn.LayerNorm(C, eps=1e-5)
        self.c_attn = torch.nn.Linear(C, 3 * C)
        self.c_proj = torch.nn.Linear(C, C)
        self.ln_2 = torch.nn.LayerNorm(C, eps=1e-5)
        self.c_fc = torch.nn.Linear(C, 4 * C)
        self.mlp_proj = torch.nn.Linear(4 * C, C)
        self.H = H

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.H, C // self.H).transpose(1, 2) for t in (q, k, v))
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) / math.sqrt(C // self.H)
            mask = torch.ones(T, T, dtype=torch.bool).tril()
            att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
            y = att @ v
        x = x + self.c_proj(y.transpose(1, 2).reshape(B, T, C))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class Gpt(torch.nn.Module):
    def __init__(self, V, T, C, L, H):
        super().__init__()
        self.wte = torch.nn.Embedding(V, C)
        self.wpe = torch.nn.Embedding(T, C)
        self.h = torch.nn.ModuleList(Block(C, H) for _ in range(L))
        self.ln_f = torch.nn.LayerNorm(C, eps=1e-5)
        for name, w in self.named_parameters():
            if w.dim() == 2:
                std = 0.02 / math.sqrt(2 * L) if name.endswith("proj.weight") else 0.02
                torch.nn.init.normal_(w, 0.0, std)
            elif name.endswith("bias"):
                torch.nn.init.zeros_(w)

    def forward(self, idx, targets):
        B, T = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for block in self.h:
            x = block(x)
        logits = self.ln_f(x) @ self.wte.weight.t()
        return F.cross_entropy(logits.view(B * T, -1), targets.view(B * T))


V, T, C, L, H, B = args.vocab, args.ctx, args.d_model, args.layers, args.heads, args.batch
model = Gpt(V, T, C, L, H)
decay = [w for w in model.parameters() if w.dim() == 2]
no_decay = [w for w in model.parameters() if w.dim() < 2]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                         {"params": no_decay, "weight_decay": 0.0}],
                        lr=1e-3, betas=(0.9, 0.95), eps=1e-8)


def step():
    idx = torch.randint(0, V, (B, T))
    tgt = torch.randint(0, V, (B, T))
    loss = model(idx, tgt)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss.item()


step()  # warm-up
times = []
for _ in range(args.steps):
    t0 = time.perf_counter()
    step()
    times.append(time.perf_counter() - t0)
times.sort()
median = times[len(times) // 2]
params = sum(w.numel() for w in model.parameters())
print(f"torch {torch.__version__}: vocab {V}, layers {L}, d_model {C}, heads {H}, ctx {T}, "
      f"batch {B}, {params} params, {torch.get_num_threads()} threads, "
      f"sdpa {hasattr(F, 'scaled_dot_product_attention')}")
print(f"step: median {median * 1e3:.1f} ms (min {times[0] * 1e3:.1f}, max {times[-1] * 1e3:.1f}) "
      f"over {len(times)} steps")
print(f"RESULT lm_train_torch_tokens_per_s {B * T / median:.2f} tokens/s")
print(f"RESULT lm_train_torch_tokens_per_s_best {B * T / times[0]:.2f} tokens/s")
