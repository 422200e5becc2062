#!/usr/bin/python3
"""Writes the SAE quality-metric fixture under tests/data/quality/.

An independent NumPy implementation of the metrics Monoscope computes in
core/sae/quality_metrics.cpp and core/sae/absorption.cpp, following SAEBench's
definitions (docs/SAE.md, "Quality metrics"):
  shrinkage   l2_ratio = mean ||x_hat|| / ||x||; relative reconstruction bias
              = mean ||x_hat||^2 / mean <x, x_hat>
  alive       fraction of features active on at least one row
  decoder     max over other features of cos(W_dec[i], W_dec[j])
  KL fidelity (KL_zero - KL_sae) / KL_zero from three sets of logits
  absorption  SAEBench's absorption fraction and full absorption on a planted
              first-letter task (a 26-way logistic probe trained by gradient
              descent, main features by the F1 rule), see absorption.h.

The planted data: four letters a-d with orthonormal directions u_L and v_j; words of letter
L sit at 3 u_L plus noise; four triples of 'a' words also carry a direction v_j.
Features 0-3 read u_L; features 4-7 each read one v_j that three 'a' words
carry, decode to 2 u_a + v_j, and inhibit feature 0: they absorb 'a' on those
words (too few to count as a split of 'a'). Features 8.. are noise.

Run: /usr/bin/python3 tests/reference/quality_reference.py  (from the repository root)
"""
import json
import os
import struct

import numpy as np

D_IN, D_SAE, WORDS, LETTERS, ABSORBERS = 16, 48, 240, 4, 4
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "quality")
rng = np.random.default_rng(2024)

TEST_EVERY, PROBE_STEPS, PROBE_L2 = 5, 1000, 1e-4
MAX_K, F1_JUMP = 10, 0.03
FULL_COS, FRACTION_COS, SHARE, MAX_ABSORBERS = 0.025, 0.1, 0.4, 3


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def unit(v):
    return v / np.linalg.norm(v)


def planted():
    q = np.linalg.qr(rng.standard_normal((D_IN, LETTERS + ABSORBERS)))[0].T  # orthonormal rows
    u, v = q[:LETTERS], q[LETTERS:]
    letters = np.arange(WORDS) % LETTERS
    x = 3.0 * u[letters] + 0.4 * rng.standard_normal((WORDS, D_IN))
    # Absorber j owns three 'a' words, one of them held out by the probe split.
    a_words = np.where(letters == 0)[0]
    held = a_words[a_words % TEST_EVERY == TEST_EVERY - 1]
    kept = a_words[a_words % TEST_EVERY != TEST_EVERY - 1]
    w_enc = 0.1 * rng.standard_normal((D_IN, D_SAE))
    w_dec = rng.standard_normal((D_SAE, D_IN))
    b_enc = -1.0 + 0.1 * rng.standard_normal(D_SAE)
    for letter in range(LETTERS):
        w_enc[:, letter] = u[letter]
        w_dec[letter] = u[letter]
    w_enc[:, 0] = u[0] - 2.0 * v.sum(0)
    for j in range(ABSORBERS):
        x[[held[j], kept[2 * j], kept[2 * j + 1]]] += 3.0 * v[j]
        w_enc[:, LETTERS + j] = 1.5 * v[j]
        w_dec[LETTERS + j] = unit(2.0 * u[0] + v[j])
    w_dec = w_dec / np.linalg.norm(w_dec, axis=1, keepdims=True)
    b_dec = 0.05 * rng.standard_normal(D_IN)
    f32 = lambda a: a.astype(np.float32)
    return f32(x), letters, f32(w_enc), f32(w_dec), f32(b_enc), f32(b_dec)


def encode(x, w_enc, b_enc, b_dec):
    return np.maximum((x - b_dec) @ w_enc + b_enc, 0)


def activation_quality(x, f, x_hat):
    nx = np.linalg.norm(x, axis=1)
    ratio = np.linalg.norm(x_hat, axis=1) / np.where(nx < 1e-4, 1.0, nx)
    return {"l0": float((f != 0).sum(1).mean()), "l2_ratio": float(ratio.mean()),
            "relative_reconstruction_bias": float((x_hat ** 2).sum(1).mean() / (x * x_hat).sum(1).mean()),
            "fraction_alive": float((f != 0).any(0).mean())}


def decoder_quality(w_dec):
    n = np.linalg.norm(w_dec, axis=1, keepdims=True)
    c = (w_dec / n) @ (w_dec / n).T
    np.fill_diagonal(c, -np.inf)
    m = c.max(1)
    return {"max_decoder_cosine": m.tolist(), "mean": float(m.mean()), "max": float(m.max()),
            "fraction_above_09": float((m > 0.9).mean())}


def log_softmax(z):
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def kl_sum(clean, other):
    lp, lq = log_softmax(clean.astype(np.float64)), log_softmax(other.astype(np.float64))
    return float(np.maximum((np.exp(lp) * (lp - lq)).sum(1), 0).sum())


def train_probe(x, letters, train):
    xt = x[train]
    mean = xt.mean(0)
    xs = x - mean
    scale = np.sqrt((xs[train] ** 2).sum() / (train.sum() * x.shape[1]))
    xs = xs / scale
    xt = xs[train]
    y = np.eye(26)[letters[train]]
    lr = 1.0 / np.linalg.eigvalsh(xt.T @ xt / len(xt)).max()
    w, b = np.zeros((x.shape[1], 26)), np.zeros(26)
    for _ in range(PROBE_STEPS):
        z = xt @ w + b
        z = np.exp(z - z.max(1, keepdims=True))
        g = (z / z.sum(1, keepdims=True) - y) / len(xt)
        w = w - lr * (xt.T @ g + PROBE_L2 * w)
        b = b - lr * g.sum(0)
    return w, (xs @ w + b).argmax(1)


def main_features(codes, letters, train, letter):
    pos, neg = train & (letters == letter), train & (letters != letter)
    score = codes[pos].mean(0) - codes[neg].mean(0)
    order = np.argsort(-score, kind="stable")
    chosen, previous, s = 1, 0.0, np.zeros(len(codes))
    for k in range(1, min(MAX_K, codes.shape[1]) + 1):
        s = s + codes[:, order[k - 1]]
        pred, actual = s[train] > 0, letters[train] == letter
        tp, fp, fn = (pred & actual).sum(), (pred & ~actual).sum(), (~pred & actual).sum()
        f1 = 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else 0.0
        if k > 1:
            if f1 - previous <= F1_JUMP:
                break
            chosen = k
        previous = f1
    return [int(i) for i in order[:chosen]]


def score_word(a, cos, main, probe_proj):
    proj = a * cos
    main_proj = proj[main].sum()
    mask = np.ones(len(a), bool)
    mask[main] = False
    mask &= (cos >= FRACTION_COS) & (proj > 0)
    absorbers = np.sort(proj[mask])[::-1][:MAX_ABSORBERS].sum()
    if main_proj >= probe_proj or absorbers / probe_proj < SHARE:
        fraction = 0.0
    elif main_proj <= 0:
        fraction = 1.0
    else:
        absorbed = min(absorbers, probe_proj - main_proj)
        fraction = float(np.clip(absorbed / (absorbed + main_proj), 0, 1))
    top = int(np.argmax(proj))
    full = bool(np.all(np.abs(a[main]) < 1e-8) and cos[top] >= FULL_COS and probe_proj > 0
                and proj[top] / probe_proj >= SHARE)
    return fraction, full, top


def absorption(x, letters, codes, w_dec):
    x = x.astype(np.float64)
    train = np.arange(len(x)) % TEST_EVERY != TEST_EVERY - 1
    w, predicted = train_probe(x, letters, train)
    unit_dec = w_dec / np.linalg.norm(w_dec, axis=1, keepdims=True)
    F = codes.shape[1]
    absorbed, absorbed_by = np.zeros(F, int), np.zeros((F, 26), int)
    main_letter = -np.ones(F, int)
    rows = []
    for letter in range(26):
        tps = np.where(~train & (letters == letter) & (predicted == letter))[0]
        if not (train & (letters == letter)).any() or len(tps) == 0:
            continue
        main = main_features(codes, letters, train, letter)
        for f in main:
            if main_letter[f] < 0:
                main_letter[f] = letter
        direction = unit(w[:, letter])
        cos = unit_dec @ direction
        fractions, full = 0.0, 0
        for i in tps:
            fr, is_full, top = score_word(codes[i], cos, main, float(x[i] @ direction))
            fractions += fr
            if is_full:
                full += 1
                absorbed[top] += 1
                absorbed_by[top, letter] += 1
        rows.append({"letter": letter, "probe_true_positives": int(len(tps)), "main_features": main,
                     "mean_absorption_fraction": fractions / len(tps),
                     "full_absorption_rate": full / len(tps)})
    held = ~train
    return {"probe_test_accuracy": float((predicted[held] == letters[held]).mean()),
            "mean_absorption_fraction": float(np.mean([r["mean_absorption_fraction"] for r in rows])),
            "mean_full_absorption": float(np.mean([r["full_absorption_rate"] for r in rows])),
            "mean_split_features": float(np.mean([len(r["main_features"]) for r in rows])),
            "letters": rows, "absorbed_count": absorbed.tolist(),
            "absorbed_letter": [int(np.argmax(c)) if c.any() else -1 for c in absorbed_by],
            "main_letter": main_letter.tolist()}


def main():
    os.makedirs(OUT, exist_ok=True)
    x, letters, w_enc, w_dec, b_enc, b_dec = planted()
    sae_dir = os.path.join(OUT, "sae")
    os.makedirs(sae_dir, exist_ok=True)
    cfg = {"architecture": "standard", "d_in": D_IN, "d_sae": D_SAE, "dtype": "float32",
           "device": "cpu", "apply_b_dec_to_input": True, "normalize_activations": "none",
           "metadata": {"model_name": "planted", "hook_name": "blocks.0.hook_resid_post",
                        "context_size": 16, "prepend_bos": True, "sae_lens_version": "6.0.0"}}
    with open(os.path.join(sae_dir, "cfg.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(sae_dir, "sae_weights.safetensors"),
                      {"W_enc": w_enc, "W_dec": w_dec, "b_enc": b_enc, "b_dec": b_dec})
    np.save(os.path.join(OUT, "words.npy"), x)

    x64 = x.astype(np.float64)
    codes = encode(x64, w_enc.astype(np.float64), b_enc.astype(np.float64), b_dec.astype(np.float64))
    x_hat = codes @ w_dec.astype(np.float64) + b_dec.astype(np.float64)
    logits = [rng.standard_normal((12, 20)).astype(np.float32) for _ in range(3)]
    logits[1] = (logits[0] + 0.3 * logits[1]).astype(np.float32)  # the SAE-spliced run: close
    kl_sae, kl_zero = kl_sum(logits[0], logits[1]), kl_sum(logits[0], logits[2])
    expected = {
        "letters": letters.tolist(),
        "activation": activation_quality(x64, codes, x_hat),
        "decoder": decoder_quality(w_dec.astype(np.float64)),
        "kl": {"clean": logits[0].tolist(), "sae": logits[1].tolist(), "zero": logits[2].tolist(),
               "kl_sae_sum": kl_sae, "kl_zero_sum": kl_zero,
               "kl_fidelity": (kl_zero - kl_sae) / kl_zero},
        "absorption": absorption(x, letters, codes, w_dec.astype(np.float64)),
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    a = expected["absorption"]
    print("absorption fraction %.4f, full %.4f, probe accuracy %.3f, letters %s" % (
        a["mean_absorption_fraction"], a["mean_full_absorption"], a["probe_test_accuracy"],
        [(r["letter"], r["main_features"], round(r["mean_absorption_fraction"], 3)) for r in a["letters"]]))


if __name__ == "__main__":
    main()
