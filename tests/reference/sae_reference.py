#!/usr/bin/python3
"""Writes the SAE interoperability fixtures under tests/data/sae/.

Independent of Monoscope's code: NumPy only, a tiny safetensors writer, and the
encode conventions of SAELens / Gemma Scope / sparsify as documented:
  x' = x - b_dec (when apply_b_dec_to_input);  h = x' W_enc + b_enc
  standard f = ReLU(h); topk keeps the k largest of ReLU(h);
  jumprelu f = ReLU(h) * [h > threshold];  x_hat = f W_dec + b_dec
Gemma Scope: jumprelu without the b_dec subtraction. sparsify: encoder.weight is
[d_sae, d_in] (PyTorch Linear), TopK, b_dec subtracted.

For each SAE it saves the NumPy encodings f and reconstructions x_hat of
inputs.npy, computed in float64 from the weights exactly as stored.

Run: /usr/bin/python3 tests/reference/sae_reference.py  (from the repository root)
"""
import json
import os
import struct

import numpy as np

D_IN, D_SAE, ROWS = 16, 48, 32
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sae")
rng = np.random.default_rng(1234)

DTYPES = {np.dtype("float32"): "F32", np.dtype("float16"): "F16", np.dtype("float64"): "F64"}


def write_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        data = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": DTYPES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def random_weights(dtype=np.float32):
    w_enc = (rng.standard_normal((D_IN, D_SAE)) / np.sqrt(D_IN)).astype(dtype)
    w_dec = (rng.standard_normal((D_SAE, D_IN)) / np.sqrt(D_SAE)).astype(dtype)
    b_enc = (0.1 * rng.standard_normal(D_SAE)).astype(dtype)
    b_dec = (0.2 * rng.standard_normal(D_IN)).astype(dtype)
    threshold = rng.uniform(0.05, 0.4, D_SAE).astype(dtype)
    return w_enc, w_dec, b_enc, b_dec, threshold


def encode(x, w_enc, b_enc, b_dec, arch, apply_b_dec=True, k=0, threshold=None):
    x = x.astype(np.float64)
    xp = x - b_dec.astype(np.float64) if apply_b_dec else x
    h = xp @ w_enc.astype(np.float64) + b_enc.astype(np.float64)
    if arch == "standard":
        return np.maximum(h, 0), h
    if arch == "topk":
        r = np.maximum(h, 0)
        f = np.zeros_like(r)
        idx = np.argsort(-r, axis=1)[:, :k]
        np.put_along_axis(f, idx, np.take_along_axis(r, idx, axis=1), axis=1)
        return f, h
    if arch == "jumprelu":
        return np.maximum(h, 0) * (h > threshold.astype(np.float64)), h
    raise ValueError(arch)


def well_separated(h, arch, k=0, threshold=None, gap=1e-3):
    """True when float32 rounding cannot change which latents are active."""
    if np.min(np.abs(h)) < gap:
        return False
    if arch == "topk":
        s = -np.sort(-np.maximum(h, 0), axis=1)
        if np.min(s[:, k - 1] - s[:, k]) < gap:
            return False
    if arch == "jumprelu" and np.min(np.abs(h - threshold.astype(np.float64))) < gap:
        return False
    return True


def make_inputs(check):
    x = rng.standard_normal((ROWS, D_IN)).astype(np.float32)
    for r in range(ROWS):
        while not check(x[r:r + 1]):
            x[r] = rng.standard_normal(D_IN).astype(np.float32)
    return x


def save_expected(name, x, f, w_dec, b_dec):
    x_hat = f @ w_dec.astype(np.float64) + b_dec.astype(np.float64)
    np.save(os.path.join(OUT, f"expected_{name}_f.npy"), f.astype(np.float32))
    np.save(os.path.join(OUT, f"expected_{name}_xhat.npy"), x_hat.astype(np.float32))


def saelens_v6(folder, arch, weights, k=0, hook="blocks.3.hook_resid_post"):
    os.makedirs(folder, exist_ok=True)
    w_enc, w_dec, b_enc, b_dec, threshold = weights
    cfg = {
        "architecture": arch, "d_in": D_IN, "d_sae": D_SAE,
        "dtype": {np.dtype("float32"): "float32", np.dtype("float16"): "float16"}[w_enc.dtype],
        "device": "cpu", "apply_b_dec_to_input": True, "normalize_activations": "none",
        "reshape_activations": "none",
        "metadata": {"model_name": "tiny-test-model", "hook_name": hook, "hook_head_index": None,
                     "context_size": 128, "prepend_bos": True, "dataset_path": "test/corpus",
                     "sae_lens_version": "6.0.0"},
    }
    if arch == "topk":
        cfg["k"] = k
    tensors = {"W_enc": w_enc, "W_dec": w_dec, "b_enc": b_enc, "b_dec": b_dec}
    if arch == "jumprelu":
        tensors["threshold"] = threshold
    with open(os.path.join(folder, "cfg.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(folder, "sae_weights.safetensors"), tensors, {"format": "pt"})
    sparsity = np.log10(rng.uniform(1e-4, 0.2, D_SAE) + 1e-10).astype(np.float32)
    write_safetensors(os.path.join(folder, "sparsity.safetensors"), {"sparsity": sparsity})


def main():
    os.makedirs(OUT, exist_ok=True)
    sets = []

    # SAELens v6: standard (f32), topk (f32), jumprelu (f16 weights).
    std_w = random_weights()
    topk_w = random_weights()
    jump_w = random_weights(np.float16)
    saelens_v6(os.path.join(OUT, "saelens_v6_standard"), "standard", std_w)
    saelens_v6(os.path.join(OUT, "saelens_v6_topk"), "topk", topk_w, k=6)
    saelens_v6(os.path.join(OUT, "saelens_v6_jumprelu"), "jumprelu", jump_w)
    sets += [("saelens_v6_standard", std_w, "standard", True, 0),
             ("saelens_v6_topk", topk_w, "topk", True, 6),
             ("saelens_v6_jumprelu", jump_w, "jumprelu", True, 0)]

    # SAELens before 6.0: flat cfg, TopK through activation_fn_str.
    pre_w = random_weights()
    folder = os.path.join(OUT, "saelens_pre6_topk")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "cfg.json"), "w") as f:
        json.dump({"architecture": "standard", "d_in": D_IN, "d_sae": D_SAE, "dtype": "float32",
                   "device": "cpu", "model_name": "tiny-test-model",
                   "hook_point": "blocks.1.hook_resid_pre", "hook_point_layer": 1, "hook_layer": 1,
                   "activation_fn_str": "topk", "activation_fn_kwargs": {"k": 4},
                   "apply_b_dec_to_input": True, "normalize_activations": False,
                   "context_size": 64, "prepend_bos": True, "dataset_path": "test/corpus",
                   "finetuning_scaling_factor": False}, f, indent=2)
    w_enc, w_dec, b_enc, b_dec, _ = pre_w
    write_safetensors(os.path.join(folder, "sae_weights.safetensors"),
                      {"W_enc": w_enc, "W_dec": w_dec, "b_enc": b_enc, "b_dec": b_dec})
    sets.append(("saelens_pre6_topk", pre_w, "topk", True, 4))

    # Gemma Scope params.npz: lower-case w_ keys for W_enc to cover both spellings.
    gs_w = random_weights()
    folder = os.path.join(OUT, "gemma-scope-test-res", "layer_3", "width_48", "average_l0_9")
    os.makedirs(folder, exist_ok=True)
    w_enc, w_dec, b_enc, b_dec, threshold = gs_w
    np.savez(os.path.join(folder, "params.npz"), w_enc=w_enc, W_dec=w_dec, b_enc=b_enc,
             b_dec=b_dec, threshold=threshold)
    sets.append(("gemma_scope", gs_w, "jumprelu", False, 0))

    # sparsify: <hook>/cfg.json + sae.safetensors, encoder stored [d_sae, d_in].
    sp_w = random_weights()
    folder = os.path.join(OUT, "sparsify", "layers.2")
    os.makedirs(folder, exist_ok=True)
    w_enc, w_dec, b_enc, b_dec, _ = sp_w
    with open(os.path.join(folder, "cfg.json"), "w") as f:
        json.dump({"expansion_factor": 3, "normalize_decoder": True, "num_latents": D_SAE,
                   "k": 5, "multi_topk": False, "skip_connection": False, "d_in": D_IN}, f)
    write_safetensors(os.path.join(folder, "sae.safetensors"),
                      {"encoder.weight": np.ascontiguousarray(w_enc.T), "encoder.bias": b_enc,
                       "W_dec": w_dec, "b_dec": b_dec})
    sets.append(("sparsify", sp_w, "topk", True, 5))

    def check(rows):
        for _, w, arch, apply_b_dec, k in sets:
            _, h = encode(rows, w[0], w[2], w[3], arch, apply_b_dec, k, w[4])
            if not well_separated(h, arch, k, w[4]):
                return False
        return True

    x = make_inputs(check)
    np.save(os.path.join(OUT, "inputs.npy"), x)
    for name, w, arch, apply_b_dec, k in sets:
        f, _ = encode(x, w[0], w[2], w[3], arch, apply_b_dec, k, w[4])
        save_expected(name, x, f, w[1], w[3])
        print(f"{name:22s} {arch:9s} mean L0 {np.mean(np.sum(f > 0, axis=1)):.2f}")


if __name__ == "__main__":
    main()
