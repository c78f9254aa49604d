#!/usr/bin/env bash
# make bench: nerve against PyTorch on the same networks (docs/benchmarks.md):
# the MLP, LeNet, the BN-CNN and the char-LSTM in turn, or those named by NERVE_BENCH_MODELS
# (e.g. NERVE_BENCH_MODELS=lenet). Expects a Release build in build/ (or
# $NERVE_BUILD_DIR); extra arguments go to bench/compare.py (--rounds,
# --steps, --warmup, --threads, ...).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${NERVE_BUILD_DIR:-$root/build}
for model in ${NERVE_BENCH_MODELS:-mlp lenet bn_cnn charlstm}; do
  /usr/bin/python3 "$root/bench/compare.py" --nerve "$build_dir/bench/nerve_bench" \
    --model "$model" "$@"
  echo
done
