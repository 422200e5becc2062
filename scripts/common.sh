# Shared by scripts/test and scripts/demo: install what the build needs (Debian 12,
# as root, or through sudo), then configure and build with Ninja.
# Source it; it defines functions and changes nothing by itself.

MONO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MONO_JOBS="${MONO_JOBS:-2}"

# What the application needs to build and run (scripts/demo).
MONO_APT_PACKAGES=(
    build-essential cmake ninja-build pkg-config git
    qt6-base-dev qt6-svg-dev libqcustomplot-dev libqcustomplot2.1-qt6 libgl-dev
    libeigen3-dev libopenblas-openmp-dev nlohmann-json3-dev libsqlite3-dev zlib1g-dev
    libhnswlib-dev
    python3
)
# What the tests add (scripts/test): clang for the fuzz targets, and the
# PyTorch references that produced the committed golden outputs.
MONO_TEST_APT_PACKAGES=(clang python3-numpy python3-torch)

mono_log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# mono_install_deps [extra packages...]: installs MONO_APT_PACKAGES and the extras.
mono_install_deps() {
    local missing=()
    for pkg in "${MONO_APT_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        mono_log "build dependencies already installed"
        return 0
    fi
    mono_log "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq
    $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"
}

# mono_build BUILD_DIR [extra cmake args...]: the extra arguments override the
# cached ones, so a folder configured by one script is reconfigured by the other.
mono_build() {
    local dir="$1"
    shift
    local launcher=()
    command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    mono_log "configuring $dir"
    cmake -S "$MONO_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" "$@" \
        >"$dir.configure.log" 2>&1 \
        || { cat "$dir.configure.log"; return 1; }
    mono_log "building $dir (-j$MONO_JOBS)"
    cmake --build "$dir" -j "$MONO_JOBS"
}

# mono_configure_sanitized BUILD_DIR: the clang build with ASan + UBSan that
# serves both the libFuzzer targets (scripts/fuzz) and the hostile-input tests
# (scripts/test), so the core is compiled with sanitizers once. No GUI, no
# benchmarks. -O1 with line tables only, as OSS-Fuzz builds: the reports keep
# their file:line, and it compiles far faster than -O2 -g.
mono_configure_sanitized() {
    local dir="$1"
    local launcher=()
    command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    mkdir -p "$dir"
    mono_log "configuring $dir (clang, ASan + UBSan, fuzzer coverage)"
    CC=clang CXX=clang++ cmake -S "$MONO_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
        "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
        -DMONO_FUZZ=ON -DMONO_NATIVE=OFF -DMONO_BUILD_GUI=OFF -DMONO_BUILD_BENCH=OFF \
        -DMONO_BUILD_TESTS=ON "${launcher[@]}" >"$dir.configure.log" 2>&1 \
        || { cat "$dir.configure.log"; return 1; }
}
