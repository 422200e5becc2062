#!/usr/bin/env bash
# Real-size bf16-resident runs (issue #17): writes random Gemma-2-2B- and
# Gemma-2-9B-shaped bf16 checkpoints (bench/reference/make_random_gemma2.py;
# under $BIG_MODEL_DIR, default /tmp/monoscope-big-models, never in the
# repository), then in one run:
#   1. bench_big_model on the 2B shape: read bandwidth, load, peak RSS against
#      the weight bytes, prefill tok/s in bf16 and f32 compute, decode tok/s
#      against the bandwidth limit (bench/big_model.cpp says how);
#   2. the PyTorch reference prefill of the same shapes in bf16 and in f32
#      (bench/reference/gemma2_torch_prefill.py, one process each, through
#      with_openblas.sh: OpenBLAS OpenMP, OPENBLAS_CORETYPE unset), when
#      /usr/bin/python3 has torch;
#   3. the 9B shape: load bf16-resident and generate one token (bf16 compute),
#      peak RSS — it must stay within 24 GiB.
# The load average is printed with each step: the numbers of a busy machine
# are slower.
#
#   bench/big_model.sh [BUILD_DIR] [--skip-9b] [--skip-torch]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build"
SKIP_9B=0
SKIP_TORCH=0
for a in "$@"; do
    case "$a" in
        --skip-9b) SKIP_9B=1 ;;
        --skip-torch) SKIP_TORCH=1 ;;
        *) BUILD="$a" ;;
    esac
done
BENCH="$BUILD/bench/bench_big_model"
[ -x "$BENCH" ] || { echo "build bench_big_model first (ninja -C $BUILD bench_big_model)" >&2; exit 2; }
DATA="${BIG_MODEL_DIR:-/tmp/monoscope-big-models}"
PY=/usr/bin/python3
export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295

make_model() {
    [ -f "$DATA/gemma2-$1/config.json" ] || "$PY" "$ROOT/bench/reference/make_random_gemma2.py" "$1" "$DATA/gemma2-$1"
}

echo "== $(date -u +%FT%TZ) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(grep MemTotal /proc/meminfo)"
make_model 2b
echo "== gemma-2-2b shape, bf16-resident (load average $(cut -d' ' -f1-3 /proc/loadavg))"
"$ROOT/bench/reference/with_openblas.sh" --build "$BUILD" "$BENCH" "$DATA/gemma2-2b" --prompt 64 --steps 12

if [ "$SKIP_TORCH" = 0 ] && "$PY" -c "import torch" 2>/dev/null; then
    for dt in bf16 f32; do
        echo "== PyTorch gemma-2-2b shape, $dt (load average $(cut -d' ' -f1-3 /proc/loadavg))"
        "$ROOT/bench/reference/with_openblas.sh" --build "$BUILD" \
            "$PY" "$ROOT/bench/reference/gemma2_torch_prefill.py" 2b "$dt" 64
    done
fi

if [ "$SKIP_9B" = 0 ]; then
    make_model 9b
    echo "== gemma-2-9b shape, bf16-resident, one token (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    "$ROOT/bench/reference/with_openblas.sh" --build "$BUILD" "$BENCH" "$DATA/gemma2-9b" \
        --prompt 4 --steps 1 --no-f32 --no-bandwidth
fi
