#!/usr/bin/env python3
"""Writes a Gemma-2-shaped Hugging Face folder with random bf16 weights, for
bench/big_model.sh: config.json with the real gemma-2-2b or gemma-2-9b
dimensions, model-0000N-of-0000M.safetensors shards of about 4 GiB and
model.safetensors.index.json. Never committed: it writes where it is told
(/tmp by default in the script).

Weights are N(0, 0.02²) rounded to bf16, drawn once into a 16 Mi-value pool
and read from it at a random offset per tensor (generating 9·10⁹ normals would
take longer than the benchmark; the values only need to be finite and of a
realistic scale). Gemma stores norm weights w and multiplies by 1 + w: they
are zero here.

    make_random_gemma2.py {2b|9b} OUT_DIR
"""
import json
import os
import struct
import sys

import numpy as np

SHAPES = {
    # Hugging Face google/gemma-2-2b and google/gemma-2-9b config.json values.
    "2b": dict(hidden_size=2304, intermediate_size=9216, num_hidden_layers=26,
               num_attention_heads=8, num_key_value_heads=4, head_dim=256,
               query_pre_attn_scalar=256),
    "9b": dict(hidden_size=3584, intermediate_size=14336, num_hidden_layers=42,
               num_attention_heads=16, num_key_value_heads=8, head_dim=256,
               query_pre_attn_scalar=256),
}
SHARD_BYTES = 4 << 30


def config(size):
    c = dict(model_type="gemma2", architectures=["Gemma2ForCausalLM"], vocab_size=256000,
             max_position_embeddings=8192, bos_token_id=2, eos_token_id=1,
             hidden_activation="gelu_pytorch_tanh", hidden_act="gelu_pytorch_tanh",
             rms_norm_eps=1e-6, rope_theta=10000.0, sliding_window=4096,
             attn_logit_softcapping=50.0, final_logit_softcapping=30.0, attention_bias=False,
             tie_word_embeddings=True, torch_dtype="bfloat16")
    c.update(SHAPES[size])
    return c


def tensors(c):
    C, F, hd = c["hidden_size"], c["intermediate_size"], c["head_dim"]
    q, kv = c["num_attention_heads"] * hd, c["num_key_value_heads"] * hd
    out = [("model.embed_tokens.weight", (c["vocab_size"], C))]
    for L in range(c["num_hidden_layers"]):
        p = f"model.layers.{L}."
        out += [(p + "input_layernorm.weight", (C,)),
                (p + "self_attn.q_proj.weight", (q, C)),
                (p + "self_attn.k_proj.weight", (kv, C)),
                (p + "self_attn.v_proj.weight", (kv, C)),
                (p + "self_attn.o_proj.weight", (C, q)),
                (p + "post_attention_layernorm.weight", (C,)),
                (p + "pre_feedforward_layernorm.weight", (C,)),
                (p + "mlp.gate_proj.weight", (F, C)),
                (p + "mlp.up_proj.weight", (F, C)),
                (p + "mlp.down_proj.weight", (C, F)),
                (p + "post_feedforward_layernorm.weight", (C,))]
    out.append(("model.norm.weight", (C,)))
    return out


def bf16_pool(rng, n):
    f = (rng.standard_normal(n, dtype=np.float32) * 0.02).view(np.uint32)
    # Round to nearest even, keep the high half.
    return ((f + 0x7FFF + ((f >> 16) & 1)) >> 16).astype(np.uint16)


def write_shard(path, items, pool, rng):
    header, at = {}, 0
    for name, shape in items:
        n = 2 * int(np.prod(shape))
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [at, at + n]}
        at += n
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name, shape in items:
            n = int(np.prod(shape))
            if len(shape) == 1:
                f.write(np.zeros(n, np.uint16).tobytes())
                continue
            start = int(rng.integers(0, len(pool)))
            left = n
            while left:
                take = min(left, len(pool) - start)
                f.write(pool[start:start + take].tobytes())
                left -= take
                start = 0


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in SHAPES:
        sys.exit("usage: make_random_gemma2.py {2b|9b} OUT_DIR")
    size, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    c = config(size)
    rng = np.random.default_rng(0)
    pool = bf16_pool(rng, 16 << 20)
    shards, cur, cur_bytes = [], [], 0
    for name, shape in tensors(c):
        n = 2 * int(np.prod(shape))
        if cur and cur_bytes + n > SHARD_BYTES:
            shards.append(cur)
            cur, cur_bytes = [], 0
        cur.append((name, shape))
        cur_bytes += n
    shards.append(cur)
    weight_map, total = {}, 0
    for i, items in enumerate(shards):
        fname = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        write_shard(os.path.join(out, fname), items, pool, rng)
        for name, shape in items:
            weight_map[name] = fname
            total += 2 * int(np.prod(shape))
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=1)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(c, f, indent=1)
    params = sum(int(np.prod(s)) for _, s in tensors(c))
    print(f"{out}: gemma-2-{size} shape, {params / 1e9:.3f} B parameters, "
          f"{total / 2**30:.2f} GiB of bf16 in {len(shards)} shards")


if __name__ == "__main__":
    main()
