#!/usr/bin/env bash
# The CUDA backend's check on a GPU machine, as one command (issue #21): builds
# the CUDA code, runs the agreement tests against the CPU path, benchmarks SAE
# training (d = 768/2304, F = 16k/131k, TopK and ReLU) and model prefill
# (GPT-2 small and a Llama shape, 8 x 128 tokens) against PyTorch CUDA of the
# same algorithm when torch.cuda is available, else against cuBLAS' own f32
# GEMM rate (and the CPU backend for prefill), and prints one table. Budget:
# about 8 minutes on one H100 with 16 cores.
#
#   bench/gpu_check.sh [BUILD_DIR]     (default: build-gpu; env: JOBS, CUDA_ARCH, QUICK=1)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build-gpu}"
JOBS="${JOBS:-$(nproc)}"
OUT="$BUILD/gpu_check"
PY="${PYTHON:-python3}"
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] || { echo "gpu_check: nvcc not found" >&2; exit 2; }
if [ -z "${CUDA_ARCH:-}" ]; then
    # The first GPU's compute capability (9.0 → 90); 90 when nvidia-smi cannot say.
    CUDA_ARCH="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')"
    CUDA_ARCH="${CUDA_ARCH:-90}"
fi
GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)
mkdir -p "$OUT"

log "configure + build ($JOBS jobs, sm_$CUDA_ARCH)"
t0=$(date +%s)
cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DMONO_BUILD_GUI=OFF \
    -DMONO_BUILD_TESTS=ON -DMONO_BUILD_BENCH=ON -DMONO_CUDA_ARCHITECTURES="$CUDA_ARCH" >"$OUT/configure.log"
cmake --build "$BUILD" -j "$JOBS" --target test_gpu_agreement test_device bench_gpu_sae_train \
    bench_gpu_model_forward monoscope-cli >"$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
build_s=$(( $(date +%s) - t0 ))

log "agreement tests"
set +e
(cd "$BUILD" && ctest -R '^(test_gpu_agreement|test_device)$' --output-on-failure -V) >"$OUT/tests.log" 2>&1
tests_rc=$?
set -e
grep -E "^(  |PASS|FAIL|SKIP|Totals)|relative error|identical|final loss|loss " "$OUT/tests.log" | sed 's/^[0-9]*: //' | head -80 >&2 || true

log "benchmark: Monoscope CUDA"
QUICK_ARG=()
[ "${QUICK:-0}" = 1 ] && QUICK_ARG=(--quick)
"$BUILD/bench/bench_gpu_sae_train" "${QUICK_ARG[@]}" | tee "$OUT/cuda.txt" >&2 || true

timeout 180 "$BUILD/bench/bench_gpu_model_forward" | tee -a "$OUT/cuda.txt" >&2 || true

log "benchmark: PyTorch CUDA reference"
torch_note="PyTorch CUDA"
if "$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 3)' 2>/dev/null; then
    "$PY" "$ROOT/bench/reference/sae_train_torch_cuda.py" "${QUICK_ARG[@]}" | tee "$OUT/torch.txt" >&2 || true
    timeout 120 "$PY" "$ROOT/bench/reference/gpt2_torch_cuda_prefill.py" | tee -a "$OUT/torch.txt" >&2 || true
else
    torch_note="none (no torch.cuda): ratio to the cuBLAS f32 GEMM rate"
    : >"$OUT/torch.txt"
fi

"$PY" - "$OUT/cuda.txt" "$OUT/torch.txt" "$tests_rc" "$build_s" "$torch_note" "$CUDA_ARCH" <<'PYEOF'
import re, sys
cuda_file, torch_file, tests_rc, build_s, torch_note, arch = sys.argv[1:]
def results(path):
    out = {}
    for line in open(path):
        m = re.match(r"RESULT (\S+) (\S+)", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out
c, t = results(cuda_file), results(torch_file)
print()
print(f"GPU check: build {build_s} s (sm_{arch}); agreement tests "
      f"{'PASSED' if tests_rc == '0' else 'FAILED (rc ' + tests_rc + ')'}; reference: {torch_note}")
print(f"{'SAE training, batch 4096, f32':34s} {'Monoscope tok/s':>16s} {'PyTorch tok/s':>14s} "
      f"{'ratio':>7s} {'6dF/GEMM':>9s}")
for d, F in [(768, 16384), (768, 131072), (2304, 16384), (2304, 131072)]:
    gemm = c.get(f"cuda_sgemm_{d}x{F}_gflops")
    for arch in ("relu", "topk"):
        mono = c.get(f"cuda_{arch}_{d}x{F}_tokens_per_s")
        ref = t.get(f"torch_cuda_{arch}_{d}x{F}_tokens_per_s")
        if mono is None and ref is None:
            continue
        ratio = f"{mono / ref:7.2f}" if mono and ref else f"{'-':>7s}"
        # 6·d·F flop per token (three GEMMs of the step's shape) against cuBLAS' rate.
        eff = f"{100 * 6 * d * F * mono / 1e9 / gemm:8.0f}%" if mono and gemm else f"{'-':>9s}"
        print(f"  {arch:5s} d {d:4d} x F {F:<6d}{'':12s} {mono or 0:16.0f} {ref or 0:14.0f} {ratio} {eff}")
for d, F in [(768, 16384), (768, 131072), (2304, 16384), (2304, 131072)]:
    g = c.get(f"cuda_sgemm_{d}x{F}_gflops")
    if g:
        print(f"  cuBLAS sgemm [4096,{d}]x[{d},{F}]: {g:.0f} GFLOP/s")
print(f"{'Prefill 8 x 128 tokens, f32':34s} {'Monoscope tok/s':>16s} {'PyTorch tok/s':>14s} "
      f"{'ratio':>7s} {'CPU tok/s':>10s} {'GFLOP/s':>8s} {'of GEMM':>8s}")
for m in ("gpt2", "llama"):
    mono = c.get(f"cuda_prefill_{m}_tok_per_s")
    ref = t.get(f"torch_cuda_prefill_{m}_tok_per_s")
    cpu = c.get(f"cpu_prefill_{m}_tok_per_s")
    gf, gemm = c.get(f"cuda_prefill_{m}_gflops"), c.get(f"cuda_prefill_{m}_sgemm_gflops")
    if mono is None:
        print(f"  {m}: no figure (see the log above)")
        continue
    ratio = f"{mono / ref:7.2f}" if ref else f"{'-':>7s}"
    share = f"{100 * gf / gemm:7.0f}%" if gf and gemm else f"{'-':>8s}"
    print(f"  {m:32s} {mono:16.0f} {ref or 0:14.0f} {ratio} {cpu or 0:10.0f} {gf or 0:8.0f} {share}")
PYEOF
exit "$tests_rc"
