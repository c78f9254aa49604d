#!/usr/bin/env bash
# nerve inspect: per-tensor statistics of a weights file, distinct rows (a
# constant-initialised layer keeps one), filter grids, and its errors.
# Usage: bash tests/cli_inspect.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

"$python" - <<'PY'
import random
random.seed(4)
with open("train.csv", "w") as f:
    for _ in range(200):
        x = [random.uniform(-1, 1) for _ in range(8)]
        f.write(",".join(f"{v:.4f}" for v in x) + f",{int(sum(x) > 0)}\n")
PY
cfg() { # INIT BIAS_INIT
    cat <<EOF
[net]
input = 8
batch = 20
epochs = 3
seed = 1
[data]
format = csv
train = $work/train.csv
label_column = last
[optimizer]
type = sgd
lr = 0.1
[dense]
name = hidden
units = 4
activation = tanh
init = $1
bias_init = $2
[dense]
name = out
units = 2
init = $1
bias_init = $2
EOF
}
cfg "constant(0.05)" "constant(0.05)" >constant.cfg
cfg default default >random.cfg
run 0 train constant.cfg --save constant.safetensors --threads 1
run 0 train random.cfg --save random.safetensors --threads 1

run 0 inspect constant.safetensors --json
"$python" - <<'PY' || fail "inspect --json (constant): $(cat out.txt)"
import json
t = {x["name"]: x for x in json.load(open("out.txt"))}
assert t["hidden.weight"]["shape"] == [4, 8] and t["hidden.weight"]["rows"] == 4
assert t["hidden.weight"]["distinct_rows"] == 1, t["hidden.weight"]  # symmetry never broken
assert t["hidden.bias"]["distinct_rows"] is None
assert t["hidden.weight"]["min"] <= t["hidden.weight"]["mean"] <= t["hidden.weight"]["max"]
PY
run 0 inspect random.safetensors --json
"$python" - <<'PY' || fail "inspect --json (random): $(cat out.txt)"
import json, math
t = {x["name"]: x for x in json.load(open("out.txt"))}
assert t["hidden.weight"]["distinct_rows"] == 4
assert t["out.weight"]["distinct_rows"] == 2
assert t["hidden.weight"]["std"] > 0 and t["hidden.weight"]["zero_fraction"] == 0
PY
run 0 inspect random.safetensors
grep -Eq '^hidden.weight +4x8 .* 4 +4$' out.txt || fail "inspect table: $(cat out.txt)"

# A 2-D weight as tiles of 2x4: 4 units in a 2x2 grid, zoom 1, 2-pixel gaps: 10x6.
run 0 inspect random.safetensors --grid hidden.weight --tile 2x4 --zoom 1 --out grid.png
size=$("$python" -c "
import struct; d = open('grid.png', 'rb').read()
print('%dx%d' % struct.unpack('>II', d[16:24]) if d[:8] == b'\x89PNG\r\n\x1a\n' else 'invalid')")
[ "$size" = 10x6 ] || fail "grid size $size"

run 3 inspect random.safetensors --grid nothing --out x.png
contains err.txt "no tensor 'nothing'"
run 2 inspect random.safetensors --grid hidden.weight --tile 3x3 --out x.png
contains err.txt "H x W must be the 8 inputs"
run 2 inspect random.safetensors --grid hidden.weight
contains err.txt "--grid and --out go together"
run 3 inspect train.csv
[ -s err.txt ] || fail "inspect of a CSV said nothing"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "cli_inspect: all passed"
