#!/usr/bin/env bash
# nerve export and nerve import without any ONNX tool: usage errors, a layer
# ONNX cannot express and a file that is not ONNX (each one message and its
# exit code), --batch, determinism, and an export imported back predicting
# as the original (tests/onnx/ checks the files against ONNX's own tools).
# Usage: bash tests/cli_onnx.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

expect() {
    local code=$1 pattern=$2
    shift 2
    run "$code" "$@"
    grep -qF -- "$pattern" out.txt err.txt ||
        fail "nerve $*: no '$pattern' in: $(cat out.txt err.txt)"
}

cat >net.cfg <<'EOF2'
[net]
input = 1x6x6
[data]
format = csv
scale = 255
[conv2d]
name = conv
filters = 3
kernel = 3
activation = relu
[batchnorm]
name = bn
[flatten]
[dense]
name = out
units = 4
EOF2
sed 's/^name = bn$/name = bn\ntrack_running_stats = 0/' net.cfg >batch_stats.cfg
# weights: one training step on four samples
printf '%s\n' "$(seq -s, 1 36),0" "$(seq -s, 2 37),1" "$(seq -s, 3 38),2" "$(seq -s, 4 39),3" >train.csv
run 0 train net.cfg --set data.train=train.csv --steps 1 --batch 4 --save w.st
run 0 train batch_stats.cfg --set data.train=train.csv --steps 1 --batch 4 --save b.st
# pooling ONNX cannot express: a ceil_mode max pool on 5x5 (kernel 2, stride
# 2, padding 1) whose last window starts in the right padding (PyTorch drops
# it, ONNX keeps it), and a ceil_mode average pool counting the padding whose
# last window runs past the padded 6x6 (the divisors differ)
pool_cfg() {
    printf '[net]\ninput = 1x6x6\n[data]\nformat = csv\n[conv2d]\nfilters = 1\nkernel = %s\n' "$1"
    printf '[%s]\nname = pool\nceil_mode = 1\n%s[flatten]\n[dense]\nunits = 4\n' "$2" "$3"
}
pool_cfg 2 maxpool2d $'kernel = 2\nstride = 2\npadding = 1\n' >maxpool.cfg
pool_cfg 1 avgpool2d $'kernel = 3\nstride = 2\npadding = 1\ncount_include_pad = 1\n' >avgpool.cfg
for pool in maxpool avgpool; do
    run 0 train $pool.cfg --set data.train=train.csv --steps 1 --batch 4 --save $pool.st
done

expect 2 "missing --weights" export net.cfg --onnx a.onnx
expect 2 "missing --onnx" export net.cfg --weights w.st
expect 2 "--batch: 'zero' is neither" export net.cfg --weights w.st --onnx a.onnx --batch zero
expect 2 "--opset" export net.cfg --weights w.st --onnx a.onnx --opset 18
expect 3 "layer 'bn' (batch_norm): without running statistics" \
    export batch_stats.cfg --weights b.st --onnx b.onnx
[[ ! -e b.onnx ]] || fail "a refused export left b.onnx"
expect 3 "layer 'pool' (max_pool2d): with ceil_mode its last window would start in the right padding" \
    export maxpool.cfg --weights maxpool.st --onnx p.onnx
expect 3 "layer 'pool' (avg_pool2d): with ceil_mode a window runs past the padded input" \
    export avgpool.cfg --weights avgpool.st --onnx p.onnx
[[ ! -e p.onnx ]] || fail "a refused export left p.onnx"
expect 2 "missing --cfg" import a.onnx --weights x.st
echo "not a protobuf" >bad.onnx
expect 3 "bad.onnx:" import bad.onnx --cfg x.cfg --weights x.st

run 0 export net.cfg --weights w.st --onnx a.onnx
run 0 export net.cfg --weights w.st --onnx again.onnx
cmp -s a.onnx again.onnx || fail "two exports of the same model differ"
run 0 export net.cfg --weights w.st --onnx fixed.onnx --batch 8 --logits --no-normalize
cmp -s a.onnx fixed.onnx && fail "--batch 8 --logits --no-normalize changed nothing"

run 0 import a.onnx --cfg imported.cfg --weights imported.st
run 0 predict net.cfg --weights w.st --input train.csv --json
mv out.txt want.json
run 0 predict imported.cfg --weights imported.st --input train.csv --json
# the same up to rounding: the import normalises as (x - mean) / std, the
# original as x / 255
"$python" - want.json out.txt <<'PY' || fail "the imported model predicts otherwise: $(cat want.json out.txt)"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
sys.exit(max(abs(x - y) for s, t in zip(a, b)
             for x, y in zip(s["probabilities"], t["probabilities"])) > 1e-6)
PY
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "cli_onnx: all passed"
