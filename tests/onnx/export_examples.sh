#!/usr/bin/env bash
# export_examples.sh checker|runtime|roundtrip NERVE FIXTURE SOURCE_DIR
# Exports every example (examples/*.cfg) and every layer model of
# tests/onnx/models with weights from its seed (onnx_fixture), twice, and
# requires byte-identical files. Then
#   checker: onnx.checker.check_model(full_check=True) (python3-onnx) and the
#            initializers equal to the weights under their names;
#   runtime: ONNX Runtime (onnxruntime-node, scripts/deps.sh onnx) on random
#            samples against nerve predict: max abs difference <= 1e-5, or
#            1e-4 for recurrent networks;
#   roundtrip: nerve import of the export, run by nerve predict, against the
#            original (1e-5); a model using a composite the importer does not
#            read back (GELU, swish, maxout, ...: docs/onnx.md) must be refused
#            with a message naming the node.
# Prints one table row per model; exits 77 when the tool is not installed.
set -euo pipefail
mode=$1 nerve=$2 fixture=$3 src=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ $mode == roundtrip ]]; then
  :
elif [[ $mode == checker ]]; then
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
printf '%-32s %-8s %-12s %10s %10s\n' model result max_diff bytes 4xparams
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
  elif [[ $mode == roundtrip ]]; then
    "$nerve" predict "$cfg" "${set_flags[@]}" --weights "$work/$name.st" --input "$work/$name.csv" \
      --json > "$work/$name.json"
    if ! "$nerve" import "$work/$name.onnx" --cfg "$work/$name.imported.cfg" \
         --weights "$work/$name.imported.st" 2> "$work/$name.err"; then
      # only these use composites the importer does not read back
      if [[ " activations activations_all conv_all " == *" $name "* ]] &&
         grep -q "node '.*' (.*, opset 17)" "$work/$name.err"; then
        checked=refused; diff="($(sed 's/.*(\([A-Za-z]*\), opset.*/\1/' "$work/$name.err"))"
      else
        cat "$work/$name.err"; checked=FAIL; status=1
      fi
    else
      "$nerve" predict "$work/$name.imported.cfg" --weights "$work/$name.imported.st" \
        --input "$work/$name.csv" --json > "$work/$name.imported.json"
      if diff=$(/usr/bin/python3 - "$work/$name.json" "$work/$name.imported.json" <<'PY'
import json, sys
def flat(v):
    return [z for x in v for z in flat(x)] if isinstance(v, list) else [v]
def load(path):
    return [z for s in json.load(open(path)) for z in flat(s.get("probabilities", s.get("outputs")))]
a, b = load(sys.argv[1]), load(sys.argv[2])
worst = max(abs(x - y) for x, y in zip(a, b)) if len(a) == len(b) else float("inf")
print("%.2e" % worst)
sys.exit(worst > 1e-5)
PY
      ); then checked=imported; else echo "$name: the import predicts differently: $diff"; status=1; fi
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
  printf '%-32s %-8s %-12s %10d %10d\n' "$name" "$checked" "$diff" \
    "$(stat -c %s "$work/$name.onnx")" $((4 * params))
done
exit $status
