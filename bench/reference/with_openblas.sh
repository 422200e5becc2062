#!/usr/bin/env bash
# Runs a command with OpenBLAS first on the loader path, so that Debian's
# python3-torch (which calls libblas.so.3, the slow netlib reference BLAS when
# no OpenBLAS package is installed) uses a real BLAS. Nothing is installed
# system-wide: the library is taken from, in order, $MONO_OPENBLAS_DIR, the
# system's /usr/lib/x86_64-linux-gnu/openblas-{openmp,pthread}, or a copy of
# Debian's libopenblas0-openmp unpacked into BUILD_DIR/openblas (the .deb from
# the apt cache, else `apt-get download`). The OpenMP flavour shares torch's
# OpenMP threads. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for the
# command: this environment sets OPENBLAS_CORETYPE=Haswell, which forces AVX2
# kernels at half the AVX-512 rate (docs/BENCHMARKS.md, "Transformer runtime").
#
#   bench/reference/with_openblas.sh [--build BUILD_DIR] [--keep-env] COMMAND [ARGS...]
#       (BUILD_DIR defaults to build-bench in the repository root; --keep-env
#       leaves OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE as they are)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="$ROOT/build-bench"
if [ "${1:-}" = "--build" ]; then
    BUILD="$2"
    shift 2
fi
UNSET=(-u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
if [ "${1:-}" = "--keep-env" ]; then
    UNSET=()
    shift
fi
if [ $# -eq 0 ]; then
    echo "usage: $0 [--build BUILD_DIR] [--keep-env] COMMAND [ARGS...]" >&2
    exit 2
fi

find_openblas() {
    local arch=x86_64-linux-gnu d deb
    if [ -n "${MONO_OPENBLAS_DIR:-}" ]; then
        echo "$MONO_OPENBLAS_DIR"
        return
    fi
    for d in /usr/lib/$arch/openblas-openmp /usr/lib/$arch/openblas-pthread \
        "$BUILD/openblas/usr/lib/$arch/openblas-openmp"; do
        if [ -f "$d/libblas.so.3" ]; then
            echo "$d"
            return
        fi
    done
    mkdir -p "$BUILD/openblas"
    deb="$(ls /var/cache/apt/archives/libopenblas0-openmp_*.deb 2>/dev/null | head -n 1 || true)"
    if [ -z "$deb" ]; then
        (cd "$BUILD/openblas" && apt-get download libopenblas0-openmp >/dev/null 2>&1) || true
        deb="$(ls "$BUILD"/openblas/libopenblas0-openmp_*.deb 2>/dev/null | head -n 1 || true)"
    fi
    if [ -n "$deb" ]; then
        dpkg-deb -x "$deb" "$BUILD/openblas"
        echo "$BUILD/openblas/usr/lib/$arch/openblas-openmp"
    fi
}

OPENBLAS="$(find_openblas)"
if [ -z "$OPENBLAS" ]; then
    echo "with_openblas.sh: no OpenBLAS found or downloadable; running with the system libblas.so.3" >&2
    exec env "${UNSET[@]}" "$@"
fi
note="unset"
[ ${#UNSET[@]} -eq 0 ] && note="as they are"
echo "with_openblas.sh: BLAS $OPENBLAS/libblas.so.3 (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE $note)" >&2
exec env "${UNSET[@]}" \
    LD_LIBRARY_PATH="$OPENBLAS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$@"
