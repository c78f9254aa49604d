#!/usr/bin/env bash
# Installs the Debian packages nerve needs, and nothing else.
#   scripts/deps.sh [build]  compiler, cmake, libraries, test framework, Fashion-MNIST
#   scripts/deps.sh bench    the above plus PyTorch, NumPy and OpenBLAS with its headers (fixtures,
#                            benchmarks, make bench-gemm)
#   scripts/deps.sh fuzz     the above plus clang and its libFuzzer and OpenMP runtimes (make fuzz)
#   scripts/deps.sh onnx     the above plus python3-onnx, PyTorch, ONNX's node tests, Node.js and
#                            ONNX Runtime (npm onnxruntime-node, into .deps/onnx; the ONNX tests)
#   scripts/deps.sh lab      the above plus chromium (the lab report's browser test)
# As root it installs what is missing; otherwise it prints the command and fails.
set -euo pipefail

set_name=${1:-build}
# libgomp1, libasan8 and libubsan1 come with gcc (libgcc-12-dev depends on them);
# libc6-dev is only a Recommends of gcc, hence named. python3 runs the CLI tests'
# helpers (writing PNG and checking JSON), nothing at build time. jargon-text
# is the English corpus of the character language model (examples/charlm_lstm.cfg,
# the char-LSTM benchmark): the Jargon File, 1.6 million characters. Open MPI
# (libopenmpi-dev, openmpi-bin: mpirun) is the transport of data-parallel
# training (docs/distributed.md) and its tests. libcairo2-dev draws nerve
# plot's charts (docs/dependencies.md).
packages=(cmake make gcc libc6-dev pkg-config zlib1g-dev libjansson-dev libdnnl-dev
          libstb-dev libcmocka-dev dataset-fashion-mnist jargon-text python3
          libopenmpi-dev openmpi-bin libcairo2-dev)
case "$set_name" in
  build) ;;
  # libopenblas0-openmp: PyTorch's BLAS. python3-torch is content with any
  # libblas.so.3, and the reference BLAS it gets otherwise made its linear
  # layers ~50x slower than OpenBLAS here: no fair comparison. Its headers
  # (libopenblas-openmp-dev) are for make bench-gemm, which times it beside oneDNN.
  bench) packages+=(python3-torch python3-numpy libopenblas0-openmp libopenblas-openmp-dev) ;;
  # libFuzzer ships only with clang (libclang-rt-14-dev holds libclang_rt.fuzzer);
  # clang's -fopenmp needs LLVM's OpenMP runtime, not gcc's libgomp.
  fuzz) packages+=(clang libclang-rt-14-dev libomp-14-dev) ;;
  # onnxruntime-node's package holds the CPU runtime itself: --ignore-scripts
  # skips only its optional CUDA download, so the tests run offline once it is
  # installed. libonnx-testdata: ONNX's node tests and models (docs/onnx.md).
  # (npm: Debian's package, unless an npm, e.g. NodeSource's nodejs, is already there)
  onnx) packages+=(python3-onnx python3-torch python3-numpy libonnx-testdata nodejs)
        command -v npm >/dev/null || packages+=(npm) ;;
  # the headless browser that opens the lab report (tests/cli_lab_report_browser.sh)
  lab) packages+=(chromium) ;;
  *) echo "usage: $0 [build|bench|fuzz|onnx|lab]" >&2; exit 2 ;;
esac

# The npm package goes beside the sources, not into the system: ONNX Runtime
# is a test tool only. Pinned: the version the tests were checked with.
ORT_VERSION=1.20.1
install_ort() {
  local dir; dir="$(cd "$(dirname "$0")/.." && pwd)/.deps/onnx"
  [[ -f $dir/node_modules/onnxruntime-node/package.json ]] &&
    grep -q "\"version\": \"$ORT_VERSION\"" "$dir/node_modules/onnxruntime-node/package.json" && return 0
  command -v npm >/dev/null || { echo "deps: npm missing, ONNX Runtime not installed" >&2; return 1; }
  mkdir -p "$dir"
  echo "deps: npm install onnxruntime-node@$ORT_VERSION into $dir"
  npm install --prefix "$dir" --ignore-scripts --no-audit --no-fund --no-save \
    "onnxruntime-node@$ORT_VERSION" >/dev/null
}
missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == installed ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "deps: all present"
  [[ $set_name != onnx ]] || install_ort
  exit 0
fi

# Recommends are not needed: libdnnl-dev's (OpenCL headers) are unused by the
# CPU sgemm, python3-torch's (libtorch-dev, build-essential, ninja, pybind11)
# only serve C++ extensions.
install=(apt-get install -y --no-install-recommends "${missing[@]}")
if [[ $(id -u) -ne 0 ]]; then
  echo "deps: missing ${missing[*]}" >&2
  echo "deps: run: sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive ${install[*]}" >&2
  exit 1
fi

echo "deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${install[@]}" -qq
[[ $set_name != onnx ]] || install_ort
