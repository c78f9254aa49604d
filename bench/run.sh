#!/usr/bin/env bash
# make bench: nerve against PyTorch on the same MLP (docs/benchmarks.md).
# Expects a Release build in build/ (or $NERVE_BUILD_DIR); extra arguments go
# to bench/compare.py (--rounds, --steps, --warmup, --threads).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${NERVE_BUILD_DIR:-$root/build}
exec /usr/bin/python3 "$root/bench/compare.py" \
  --nerve "$build_dir/bench/nerve_bench_mlp" --cfg "$root/bench/mlp.cfg" "$@"
