#!/usr/bin/env bash
# Class names (issue 19 item 8, issue 18's metadata part): string labels in
# a CSV become the classes (the distinct values, sorted), [data]
# class_names names numbered ones; the weights keep the names, eval shows
# them in its per-class table and confusion matrix, predict in its table
# and --json, and an ONNX export in its metadata_props.
# Usage: bash tests/cli_class_names.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

# Three well separated blobs labelled by name; the test file lacks "setosa"
# and lists the others in another order.
"$python" - <<'PY'
import random
random.seed(5)
centres = {"versicolor": (0, 3), "setosa": (-3, -3), "virginica": (3, 0)}
rows = []
for i in range(90):
    name = list(centres)[i % 3]
    x, y = centres[name]
    rows.append(f"{x + random.gauss(0, 0.3):.4f},{y + random.gauss(0, 0.3):.4f},{name}\n")
open("train.csv", "w").writelines(rows)
test = [r for r in rows[:30] if "setosa" not in r]
test.sort(key=lambda r: r.split(",")[2], reverse=True)
open("test.csv", "w").writelines(test)
open("numbered.csv", "w").writelines(
    r.rsplit(",", 1)[0] + "," + str(sorted(centres).index(r.strip().rsplit(",", 1)[1])) + "\n"
    for r in rows)
open("unknown.csv", "w").write("0,0,rose\n")
PY

cat >net.cfg <<CFG
[net]
input = 2
batch = 10
epochs = 20

[data]
format = csv
train = train.csv
test = test.csv

[optimizer]
lr = 0.1

[dense]
units = 3
CFG
run 0 train net.cfg --save w.safetensors
contains out.txt "test loss"
"$python" - <<'PY' || fail "the weights do not keep the class names"
import json, struct, sys
raw = open("w.safetensors", "rb").read()
meta = json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])["__metadata__"]
sys.exit(json.loads(meta["nerve.classes"]) != ["setosa", "versicolor", "virginica"])
PY

run 0 eval net.cfg --weights w.safetensors
contains out.txt "accuracy 1.0000"
contains out.txt "0 setosa"
contains out.txt "1 versicolor"
contains out.txt "2 virginica"
run 0 eval net.cfg --weights w.safetensors --json
contains out.txt '"class_names": ["setosa", "versicolor", "virginica"]'

printf '3,0\n-3,-3\n' >points.csv
run 0 predict net.cfg --weights w.safetensors --input points.csv
contains out.txt "virginica"
contains out.txt "setosa"
run 0 predict net.cfg --weights w.safetensors --input points.csv --top 2 --json
contains out.txt '"name": "virginica"'
contains out.txt '"name": "setosa"'

# A label the model does not know, and names against numbered weights.
run 3 eval net.cfg --weights w.safetensors --data unknown.csv
contains err.txt "unknown.csv: class 'rose' is not one of the model's 3 classes (setosa, versicolor, virginica)"
sed 's/train.csv/numbered.csv/; /^test =/d' net.cfg >numbered.cfg
run 0 train numbered.cfg --save n.safetensors
run 3 eval numbered.cfg --weights n.safetensors --data test.csv
contains err.txt "the labels are class names (such as 'versicolor'), but the model's classes are numbered"

# [data] class_names names numbered classes; its count must be the network's.
run 0 train numbered.cfg --save n.safetensors --set "data.class_names=setosa, versicolor, virginica"
run 0 eval numbered.cfg --weights n.safetensors --data numbered.csv
contains out.txt "2 virginica"
run 3 train numbered.cfg --set "data.class_names=a, b"
contains err.txt "[data] class_names: names 2 classes, the network has 3"
run 3 train numbered.cfg --set "data.class_names=a, b, a"
contains err.txt "'a' is named twice"

# ONNX: the names in metadata_props.
run 0 export net.cfg --weights w.safetensors --onnx m.onnx
if "$python" -c "import onnx" 2>/dev/null; then
    "$python" - <<'PY' || fail "metadata_props has no class_names"
import json, onnx, sys
props = {p.key: p.value for p in onnx.load("m.onnx").metadata_props}
sys.exit(json.loads(props.get("class_names", "[]")) != ["setosa", "versicolor", "virginica"])
PY
else
    grep -qaF '["setosa","versicolor","virginica"]' m.onnx || fail "m.onnx has no class names"
fi

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
