#!/usr/bin/env bash
# scripts/gpu_check.sh OUTDIR: the CUDA backend's checks on a lent GPU
# machine (docs/cuda.md), everything written to OUTDIR, in about 5 minutes:
#   1. unpacks the .debs `make gpu-debs` fetched into .deps/gpu (the machine
#      has nvcc, CMake and PyTorch but none of nerve's libraries) into a
#      private prefix with dpkg -x;
#   2. builds with -DNERVE_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90, without
#      the nerve command (it needs cairo): the library, the tests, the
#      benchmarks;
#   3. runs the CUDA tests (ctest -L cuda: every kernel against ref, 100-step
#      training parity of the MLP, LeNet, BN-CNN and LSTM, checkpoints moving
#      between GPU and CPU);
#   4. benchmarks the four bench models (bench/*.cfg) through nerve's CUDA
#      backend, the machine's PyTorch on the GPU (cudnn.benchmark on, TF32
#      off on both sides) and nerve's CPU backend, in the same run, and
#      prints samples/s and the ratios (OUTDIR/benchmarks.txt).
# Usage (on the device machine, .deps carried): bash scripts/gpu_check.sh $OUT
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: scripts/gpu_check.sh OUTDIR" >&2; exit 2; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$1" && out=$(cd "$1" && pwd)
gpu=$root/.deps/gpu
prefix=${NERVE_GPU_PREFIX:-/tmp/nerve-gpu-prefix}
build=${NERVE_GPU_BUILD:-/tmp/nerve-gpu-build}
exec > >(tee "$out/gpu_check.log") 2>&1
step() { echo "== $(date -u +%H:%M:%S) ($SECONDS s) $*"; }
[ -d "$gpu/debs" ] || { echo "no $gpu/debs: run 'make gpu-debs' first and carry .deps"; exit 2; }

step "machine"
have_gpu=true
nvidia-smi -L >/dev/null 2>&1 || have_gpu=false
{
    $have_gpu && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    $have_gpu || echo "no GPU (nvidia-smi finds none): the tests will skip, no benchmarks"
    nvcc --version | tail -2
    cmake --version | head -1
    python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda,
"cudnn", torch.backends.cudnn.version())' || echo "no PyTorch"
    nproc
} | tee "$out/machine.txt"

step "unpacking $(ls "$gpu"/debs/*.deb | wc -l) .debs into $prefix"
mkdir -p "$prefix"
for deb in "$gpu"/debs/*.deb; do dpkg -x "$deb" "$prefix" || exit 1; done
# Absolute links (usr/lib/.../libz.so -> /lib/...) must point into the prefix.
find "$prefix" -type l | while read -r link; do
    target=$(readlink "$link")
    case $target in /*) ln -sfn "$prefix$target" "$link" ;; esac
done
libdir=$prefix/usr/lib/x86_64-linux-gnu
# Only nerve's programs see the prefix's libraries (PyTorch keeps its own).
with_libs() { LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$@"; }
export PKG_CONFIG_PATH=$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$prefix
pkg_config=()
command -v pkg-config >/dev/null ||
    pkg_config=(-DPKG_CONFIG_EXECUTABLE="$prefix/usr/bin/pkgconf")

step "configure and build"
with_libs cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNERVE_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90 -DNERVE_BUILD_CLI=OFF -DCMAKE_PREFIX_PATH="$prefix/usr" \
    "${pkg_config[@]}" >"$out/configure.txt" 2>&1 ||
    { tail -30 "$out/configure.txt"; exit 1; }
grep "nerve:" "$out/configure.txt"
with_libs cmake --build "$build" -j"$(nproc)" --target nerve_cuda test_backend_ops test_backend_models \
    nerve_bench >"$out/build.txt" 2>&1 || { tail -40 "$out/build.txt"; exit 1; }

step "CUDA tests"
(cd "$build" && with_libs ctest -L cuda --output-on-failure --timeout 240) 2>&1 |
    tee "$out/tests.txt"
tests_status=${PIPESTATUS[0]}

if ! $have_gpu; then
    step "done: no GPU, so no benchmarks; tests exit $tests_status"
    exit "$tests_status"
fi
step "benchmarks"
data=$gpu/data
export NERVE_BENCH_DATA=$data NERVE_BENCH_TEXT=$data/jargon.txt.gz
threads=$(nproc)
: >"$out/benchmarks_raw.txt"
# model warmup steps infer1 infer256 (compare.py's work, fewer inference calls)
while read -r model warmup steps infer1 infer256; do
    cfg=$build/$model.cfg
    sed "s#/usr/share/datasets/fashion-mnist#$data#; s#/usr/share/doc/jargon-text#$data#" \
        "$root/bench/$model.cfg" >"$cfg"
    tokens=()
    [ "$model" = charlstm ] && tokens=(--tokens)
    common=(--warmup "$warmup" --steps "$steps" --infer1-calls "$infer1" --infer256-calls "$infer256")
    for side in nerve_cuda torch_cuda nerve_cpu; do
        case $side in
        nerve_cuda) line=$(NERVE_BACKEND=cuda with_libs "$build/bench/nerve_bench" "${common[@]}" \
                               "${tokens[@]}" "$cfg" 2>&1 | tail -1) ;;
        torch_cuda) line=$(python3 "$root/bench/bench_torch.py" --model "$model" --device cuda \
                               --threads "$threads" "${common[@]}" 2>&1 | tail -1) ;;
        nerve_cpu) line=$(NERVE_BACKEND=cpu with_libs "$build/bench/nerve_bench" --threads "$threads" \
                              "${common[@]}" "${tokens[@]}" "$cfg" 2>&1 | tail -1) ;;
        esac
        echo "$model $side $line" | tee -a "$out/benchmarks_raw.txt"
    done
done <<'MODELS'
mlp 100 938 2000 400
lenet 20 200 500 20
bn_cnn 10 100 200 20
charlstm 20 300 0 0
MODELS
python3 - "$out/benchmarks_raw.txt" <<'PY' | tee "$out/benchmarks.txt"
import re, sys
rows = {}
for line in open(sys.argv[1]):
    model, side, rest = (line.split(None, 2) + [""])[:3]
    rate = re.search(r"train_(?:samples|tokens)_per_s=([0-9.]+)", rest)
    rows.setdefault(model, {})[side] = float(rate.group(1)) if rate else None
def fmt(v):
    return f"{v:12.1f}" if v else f"{'failed':>12}"
def ratio(a, b):
    return f"{a / b:8.2f}x" if a and b else f"{'-':>9}"
print(f"{'training (samples/s; charlstm tokens/s)':44}")
print(f"{'model':10}{'nerve cuda':>12}{'torch cuda':>12}{'nerve/torch':>12}{'nerve cpu':>12}"
      f"{'cuda/cpu':>10}")
for model, r in rows.items():
    c, t, p = r.get("nerve_cuda"), r.get("torch_cuda"), r.get("nerve_cpu")
    print(f"{model:10}{fmt(c)}{fmt(t)}{ratio(c, t):>12}{fmt(p)}{ratio(c, p):>10}")
PY

step "done: tests exit $tests_status"
exit "$tests_status"
