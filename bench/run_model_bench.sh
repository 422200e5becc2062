#!/usr/bin/env bash
# Runs bench_model_forward and its PyTorch reference (bench/reference/gpt2_torch_bench.py)
# one after the other on this machine and prints one table with the ratios and
# the goals of the transformer runtime (docs/BENCHMARKS.md, "Transformer runtime").
#
#   bench/run_model_bench.sh [-n ROUNDS] [BUILD_DIR]     (defaults: 1 round, build-bench)
#
# Each round runs Monoscope, then PyTorch twice: with the environment as it is
# and with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (for that command only;
# they can force a slower OpenBLAS kernel). The table shows the median over
# rounds of each program's own median, and the ratio uses the faster PyTorch.
#
# PyTorch's BLAS: Debian's python3-torch calls libblas.so.3, which is the
# reference (netlib) BLAS unless an OpenBLAS package is installed;
# bench/reference/with_openblas.sh puts OpenBLAS first on the loader path
# (nothing is installed system-wide). The reference prints the library it loaded.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS=1
if [ "${1:-}" = "-n" ]; then
    ROUNDS="$2"
    shift 2
fi
BUILD="${1:-$ROOT/build-bench}"
PY=/usr/bin/python3  # Debian's python3 with python3-torch
OUT="$BUILD/model_bench"
mkdir -p "$OUT"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# ---- build
if [ ! -f "$BUILD/build.ninja" ]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DMONO_BUILD_GUI=OFF -DMONO_BUILD_TESTS=OFF >/dev/null
fi
ninja -C "$BUILD" -j2 bench_model_forward >/dev/null
BENCH="$BUILD/bench/bench_model_forward"

# ---- OpenBLAS for torch: bench/reference/with_openblas.sh finds or unpacks it
WITH_OPENBLAS="$ROOT/bench/reference/with_openblas.sh"

# ---- rounds
for ((r = 1; r <= ROUNDS; ++r)); do
    log "round $r/$ROUNDS: load $(cut -d' ' -f1-3 /proc/loadavg)"
    log "bench_model_forward"
    "$BENCH" | tee "$OUT/mono.$r.txt"
    log "PyTorch, environment as is (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}," \
        "OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset})"
    "$WITH_OPENBLAS" --build "$BUILD" --keep-env \
        "$PY" "$ROOT/bench/reference/gpt2_torch_bench.py" | tee "$OUT/torch_env.$r.txt"
    log "PyTorch, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset"
    "$WITH_OPENBLAS" --build "$BUILD" \
        "$PY" "$ROOT/bench/reference/gpt2_torch_bench.py" | tee "$OUT/torch_unset.$r.txt"
done

# ---- the table: medians over rounds, ratios, goals
"$PY" - "$OUT" "$ROUNDS" <<'EOF'
import statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])

def load(kind):
    vals = {}
    for r in range(1, rounds + 1):
        for line in open(f"{out}/{kind}.{r}.txt"):
            p = line.split()
            if len(p) >= 3 and p[0] == "RESULT":
                vals.setdefault(p[1], []).append(float(p[2]))
    return {k: (statistics.median(v), min(v), max(v)) for k, v in vals.items()}

mono, tenv, tuns = load("mono"), load("torch_env"), load("torch_unset")
def med(d, k): return d[k][0] if k in d else float("nan")
def best_torch(k): return max(med(tenv, k), med(tuns, k))

rows = [("prefill 8x128, all logits (compared)", "prefill_logits_tok_per_s", "tok/s"),
        ("prefill 8x128, no unembedding", "prefill_nologits_tok_per_s", "tok/s"),
        ("prompt 128 tokens, last logits", "prompt_tok_per_s", "tok/s"),
        ("decode 128 steps, last logits", "decode_tok_per_s", "tok/s"),
        ("f32 GEMM rate (Eigen / torch BLAS)", "gemm_gflops", "GFLOP/s"),
        ("bf16: prefill 8x128, all logits", "bf16_prefill_logits_tok_per_s", "tok/s"),
        ("bf16: prefill 8x128, no unembedding", "bf16_prefill_nologits_tok_per_s", "tok/s"),
        ("bf16: prompt 128 tokens, last logits", "bf16_prompt_tok_per_s", "tok/s"),
        ("bf16: decode 128 steps, last logits", "bf16_decode_tok_per_s", "tok/s")]
print(f"\nmedians over {rounds} round(s)")
print(f"{'metric':40} {'Monoscope':>10} {'torch env':>10} {'torch unset':>11} {'ratio':>6}  unit")
for label, key, unit in rows:
    m, bt = med(mono, key), best_torch(key)
    print(f"{label:40} {m:10.1f} {med(tenv, key):10.1f} {med(tuns, key):11.1f} {m / bt:6.2f}  {unit}")
    if rounds > 1:
        lo, hi = mono[key][1], mono[key][2]
        print(f"{'  (Monoscope min..max over rounds)':40} {lo:10.1f}..{hi:.1f}")

g = med(mono, "gemm_gflops")
print(f"\nprefill achieved {med(mono, 'prefill_logits_gflops'):.1f} GFLOP/s (all logits), "
      f"{med(mono, 'prefill_nologits_gflops'):.1f} GFLOP/s (no unembedding); GEMM rate {g:.1f}")
print(f"copy bandwidth {med(mono, 'copy_gbps'):.1f} GB/s (read {med(mono, 'read_gbps'):.1f}); "
      f"weights per decode step {med(mono, 'decode_weight_bytes') / 1e6:.1f} MB; "
      f"bandwidth limit {med(mono, 'decode_bandwidth_limit_tok_per_s'):.1f} tok/s")

goals = [
    ("prefill >= 1.5x PyTorch (all logits), f32 vs f32",
     med(mono, "prefill_logits_tok_per_s") / best_torch("prefill_logits_tok_per_s"), 1.5, "x"),
    ("  same, Monoscope bf16 vs PyTorch f32",
     med(mono, "bf16_prefill_logits_tok_per_s") / best_torch("prefill_logits_tok_per_s"), 1.5, "x"),
    ("  same, Monoscope bf16 vs PyTorch bf16",
     med(mono, "bf16_prefill_logits_tok_per_s") / best_torch("bf16_prefill_logits_tok_per_s"), 1.5, "x"),
    ("prefill >= 50% of the GEMM rate (all logits)",
     med(mono, "prefill_logits_gemm_fraction"), 0.5, "%"),
    ("decode >= 60% of the bandwidth limit",
     med(mono, "decode_bandwidth_fraction"), 0.6, "%"),
    ("  same, bf16 (half the weight bytes)",
     med(mono, "bf16_decode_bandwidth_fraction"), 0.6, "%"),
]
print()
for name, v, goal, kind in goals:
    shown = f"{v:.2f}x" if kind == "x" else f"{100 * v:.1f}%"
    print(f"{name:48} {shown:>8}  {'MET' if v >= goal else 'MISSED'}")
EOF
