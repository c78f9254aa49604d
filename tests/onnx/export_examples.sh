#!/usr/bin/env bash
# export_examples.sh export NERVE FIXTURE SOURCE_DIR DIR
# export_examples.sh checker|runtime|roundtrip NERVE SOURCE_DIR DIR
#
# export (the CTest fixture onnx_exports, which the others share): every
# example (examples/*.cfg) and every layer model of tests/onnx/models, with
# weights from its seed (onnx_fixture) and 5 random samples, exported twice
# (the two files must be byte-identical) and run by nerve predict, into DIR.
# Then, on those files:
#   checker: onnx.checker.check_model(full_check=True) (python3-onnx) and the
#            initializers equal to the weights under their names;
#   runtime: ONNX Runtime (onnxruntime-node, scripts/deps.sh onnx) on the
#            samples against nerve predict: max abs difference <= 1e-5, or
#            1e-4 for recurrent networks; prints the table of docs/onnx.md;
#   roundtrip: nerve import of every export, run by nerve predict, against the
#            original (1e-5): composites included (GELU, swish, maxout, ...).
# Exits 77 when the tool is not installed.
set -euo pipefail
mode=$1 nerve=$2
if [[ $mode == export ]]; then fixture=$3 src=$4 dir=$5; else src=$3 dir=$4; fi

models() { ls "$src"/examples/*.cfg "$src"/tests/onnx/models/*.cfg; }

# Settings a model needs to load on its own (the GAN generator trains
# through nerve gan, which sets its loss).
overrides() {
  case $(basename "$1") in
    fashion_dcgan_generator.cfg|fashion_gan_mlp_generator.cfg) echo loss.type=mse ;;
  esac
}

set_flags() { for s in $(overrides "$1"); do printf -- '--set\n%s\n' "$s"; done; }

if [[ $mode == export ]]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  status=0
  for cfg in $(models); do
    name=$(basename "$cfg" .cfg)
    mapfile -t flags < <(set_flags "$cfg")
    "$fixture" "$cfg" "$dir/$name.st" "$dir/$name.csv" 5 $(overrides "$cfg") > "$dir/$name.info"
    "$nerve" export "$cfg" "${flags[@]}" --weights "$dir/$name.st" --onnx "$dir/$name.onnx"
    "$nerve" export "$cfg" "${flags[@]}" --weights "$dir/$name.st" --onnx "$dir/$name.again.onnx"
    if ! cmp -s "$dir/$name.onnx" "$dir/$name.again.onnx"; then
      echo "$name: two exports differ"; status=1
    fi
    rm "$dir/$name.again.onnx"
    "$nerve" predict "$cfg" "${flags[@]}" --weights "$dir/$name.st" --input "$dir/$name.csv" \
      --json > "$dir/$name.json"
    echo "$cfg" > "$dir/$name.cfgpath"
  done
  echo "exported $(ls "$dir"/*.onnx | wc -l) models into $dir"
  exit $status
fi

[[ -d $dir ]] || { echo "no exports in $dir (the onnx_exports test makes them)"; exit 1; }
names=()
for f in "$dir"/*.cfgpath; do names+=("$(basename "$f" .cfgpath)"); done

if [[ $mode == checker ]]; then
  /usr/bin/python3 -c 'import onnx' 2>/dev/null || { echo "SKIP: python3-onnx not installed"; exit 77; }
  args=()
  for name in "${names[@]}"; do args+=("$dir/$name.onnx" "$dir/$name.st"); done
  exec /usr/bin/python3 "$src/tests/onnx/check_model.py" "${args[@]}"
elif [[ $mode == runtime ]]; then
  export NODE_PATH=${NERVE_ORT_NODE_PATH:-$src/.deps/onnx/node_modules}
  if ! command -v node >/dev/null || [[ ! -d $NODE_PATH/onnxruntime-node ]]; then
    echo "SKIP: onnxruntime-node not installed (scripts/deps.sh onnx)"; exit 77
  fi
  node -e "require('onnxruntime-node')" || { echo "SKIP: onnxruntime-node does not load here"; exit 77; }
  list=$dir/runtime.list
  : > "$list"
  for name in "${names[@]}"; do
    tolerance=1e-5
    grep -qE '^\[(lstm|gru|rnn)\]' "$(cat "$dir/$name.cfgpath")" && tolerance=1e-4
    read -r shape params < "$dir/$name.info"
    echo "$name $dir/$name.onnx $dir/$name.csv $shape $dir/$name.json $tolerance" \
         "$(stat -c %s "$dir/$name.onnx") $((4 * params))" >> "$list"
  done
  exec node "$src/tests/onnx/ort_compare.js" "$list"
elif [[ $mode == roundtrip ]]; then
  status=0 imported=()
  for name in "${names[@]}"; do
    if "$nerve" import "$dir/$name.onnx" --cfg "$dir/$name.imported.cfg" \
         --weights "$dir/$name.imported.st"; then
      "$nerve" predict "$dir/$name.imported.cfg" --weights "$dir/$name.imported.st" \
        --input "$dir/$name.csv" --json > "$dir/$name.imported.json"
      imported+=("$name")
    else
      echo "$name: nerve import refused its export"; status=1
    fi
  done
  /usr/bin/python3 - "$dir" "${imported[@]}" <<'PY' || status=1
import json, sys
def flat(v):
    return [z for x in v for z in flat(x)] if isinstance(v, list) else [v]
def load(path):
    return [z for s in json.load(open(path)) for z in flat(s.get("probabilities", s.get("outputs")))]
status = 0
for name in sys.argv[2:]:
    a = load(f"{sys.argv[1]}/{name}.json")
    b = load(f"{sys.argv[1]}/{name}.imported.json")
    worst = max(abs(x - y) for x, y in zip(a, b)) if len(a) == len(b) else float("inf")
    ok = worst <= 1e-5
    status |= not ok
    print(f"{name:32s} imported {worst:.2e} {'ok' if ok else 'FAIL: predicts differently'}")
sys.exit(status)
PY
  exit $status
else
  echo "usage: $0 export|checker|runtime|roundtrip ..." >&2
  exit 2
fi
