#!/usr/bin/env bash
# export_examples.sh checker|runtime NERVE FIXTURE SOURCE_DIR
# Exports every example (examples/*.cfg) and every layer model of
# tests/onnx/models with weights from its seed (onnx_fixture), twice, and
# requires byte-identical files. Then
#   checker: onnx.checker.check_model(full_check=True) (python3-onnx) and the
#            initializers equal to the weights under their names;
#   runtime: ONNX Runtime (onnxruntime-node, scripts/deps.sh onnx) on random
#            samples against nerve predict: max abs difference <= 1e-5, or
#            1e-4 for recurrent networks.
# Prints one table row per model; exits 77 when the tool is not installed.
set -euo pipefail
mode=$1 nerve=$2 fixture=$3 src=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ $mode == checker ]]; then
  /usr/bin/python3 -c 'import onnx' 2>/dev/null || { echo "SKIP: python3-onnx not installed"; exit 77; }
else
  export NODE_PATH=${NERVE_ORT_NODE_PATH:-$src/.deps/onnx/node_modules}
  if ! command -v node >/dev/null || [[ ! -d $NODE_PATH/onnxruntime-node ]]; then
    echo "SKIP: onnxruntime-node not installed (scripts/deps.sh onnx)"; exit 77
  fi
  node -e "require('onnxruntime-node')" || { echo "SKIP: onnxruntime-node does not load here"; exit 77; }
fi

# Settings a model needs to load on its own (the GAN generator trains
# through nerve gan, which sets its loss).
overrides() {
  case $(basename "$1") in
    fashion_dcgan_generator.cfg|fashion_gan_mlp_generator.cfg) echo loss.type=mse ;;
  esac
}

status=0
printf '%-32s %-8s %-10s %10s %10s\n' model checker max_diff bytes 4xparams
for cfg in "$src"/examples/*.cfg "$src"/tests/onnx/models/*.cfg; do
  name=$(basename "$cfg" .cfg)
  sets=() set_flags=()
  for s in $(overrides "$cfg"); do sets+=("$s"); set_flags+=(--set "$s"); done
  read -r shape params < <("$fixture" "$cfg" "$work/$name.st" "$work/$name.csv" 5 "${sets[@]}")
  "$nerve" export "$cfg" "${set_flags[@]}" --weights "$work/$name.st" --onnx "$work/$name.onnx"
  "$nerve" export "$cfg" "${set_flags[@]}" --weights "$work/$name.st" --onnx "$work/$name.again.onnx"
  if ! cmp -s "$work/$name.onnx" "$work/$name.again.onnx"; then
    echo "$name: two exports differ"; status=1
  fi
  checked=- diff=-
  if [[ $mode == checker ]]; then
    if checked=$(/usr/bin/python3 "$src/tests/onnx/check_model.py" "$work/$name.onnx" "$work/$name.st" 2>&1); then
      checked=ok
    else
      echo "$checked"; checked=FAIL; status=1
    fi
  else
    tolerance=1e-5
    grep -qE '^\[(lstm|gru|rnn)\]' "$cfg" && tolerance=1e-4
    "$nerve" predict "$cfg" "${set_flags[@]}" --weights "$work/$name.st" --input "$work/$name.csv" \
      --json > "$work/$name.json"
    if ! diff=$(node "$src/tests/onnx/ort_compare.js" "$work/$name.onnx" "$work/$name.csv" "$shape" \
                 "$work/$name.json" "$tolerance"); then
      echo "$name: ONNX Runtime differs from nerve predict: $diff (tolerance $tolerance)"
      diff="FAIL"; status=1
    fi
  fi
  printf '%-32s %-8s %-10s %10d %10d\n' "$name" "$checked" "$diff" \
    "$(stat -c %s "$work/$name.onnx")" $((4 * params))
done
exit $status
