#!/usr/bin/env bash
# make bench: nerve against PyTorch on the same networks (docs/benchmarks.md):
# the MLP, LeNet, the BN-CNN, the ResNet and the char-LSTM in turn, or those named by NERVE_BENCH_MODELS
# (e.g. NERVE_BENCH_MODELS=lenet). Expects a Release build in build/ (or
# $NERVE_BUILD_DIR); extra arguments go to bench/compare.py (--rounds,
# --steps, --warmup, --threads, ...).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${NERVE_BUILD_DIR:-$root/build}
for model in ${NERVE_BENCH_MODELS:-mlp lenet bn_cnn resnet charlstm}; do
  /usr/bin/python3 "$root/bench/compare.py" --nerve "$build_dir/bench/nerve_bench" \
    --model "$model" "$@"
  echo
done

# Inference beside ONNX Runtime (docs/onnx.md, docs/benchmarks.md): each
# model trained briefly, exported, and run by onnxruntime-node on 2 threads
# (scripts/deps.sh onnx installs it); nerve's and PyTorch's inference rates
# are in the tables above. Skipped when ONNX Runtime is not installed.
export NODE_PATH=${NERVE_ORT_NODE_PATH:-$root/.deps/onnx/node_modules}
if command -v node >/dev/null && [[ -d $NODE_PATH/onnxruntime-node ]]; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  declare -A shapes=([mlp]=784 [lenet]=1x28x28 [bn_cnn]=1x28x28)
  for model in mlp lenet bn_cnn; do
    [[ " ${NERVE_BENCH_MODELS:-mlp lenet bn_cnn} " == *" $model "* ]] || continue
    "$build_dir/nerve" train "$root/bench/$model.cfg" --steps 20 --save "$scratch/$model.st" >/dev/null
    "$build_dir/nerve" export "$root/bench/$model.cfg" --weights "$scratch/$model.st" \
      --onnx "$scratch/$model.onnx"
    echo "$model: $(node "$root/bench/bench_ort.js" "$scratch/$model.onnx" "${shapes[$model]}" 2000 40)"
  done
else
  echo "ONNX Runtime not installed (scripts/deps.sh onnx): no inference comparison with it"
fi
