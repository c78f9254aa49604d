#!/usr/bin/env bash
# End to end: three small MLPs trained with different seeds on CSV blobs,
# evaluated as an ensemble (and one member with a config of its own): each
# member's accuracy is that of `nerve eval`, the ensemble's is that of the
# members' `nerve predict --json` probabilities averaged, and it is no worse
# than the worst member; mismatched members and missing files are errors.
# Usage: bash tests/cli_ensemble.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

# Three overlapping Gaussian blobs in 4-D: members trained briefly disagree.
"$python" - <<'EOF'
import random
random.seed(3)
for name, n in (("train.csv", 600), ("test.csv", 300)):
    with open(name, "w") as f:
        for i in range(n):
            label = i % 3
            x = [random.gauss(0.8 * (label - 1) * (1 if k % 2 else -1), 1.0) for k in range(4)]
            f.write(",".join(f"{v:.4f}" for v in x) + f",{label}\n")
EOF
[ -s train.csv ] || { echo "FAIL: $python could not write the data"; exit 1; }

# mlp.cfg UNITS OUTPUTS > FILE
mlp() {
    cat <<EOF
[net]
input = 4
batch = 32
epochs = 2
seed = 1

[data]
format = csv
train = $work/train.csv
test = $work/test.csv
label_column = last
header = 0
normalize = standardize

[optimizer]
type = sgd
lr = 0.05
momentum = 0.9

[loss]
type = softmax_cross_entropy

[dense]
name = hidden
units = $1
activation = relu

[dense]
name = out
units = $2
EOF
}
mlp 8 3 >mlp.cfg
mlp 16 3 >wide.cfg
mlp 8 4 >four.cfg

for seed in 1 2 3; do
    run 0 train mlp.cfg --seed "$seed" --save "s$seed.safetensors"
done
run 0 train wide.cfg --seed 4 --save wide.safetensors
run 0 train four.cfg --steps 1 --save four.safetensors

# Each member alone, and its probabilities on the test samples.
for seed in 1 2 3; do
    run 0 eval mlp.cfg --weights "s$seed.safetensors" --json
    cp out.txt "eval$seed.json"
    run 0 predict mlp.cfg --weights "s$seed.safetensors" --input test.csv --json
    cp out.txt "predict$seed.json"
done
run 0 predict wide.cfg --weights wide.safetensors --input test.csv --json
cp out.txt predict_wide.json

# check_ensemble ENSEMBLE.json PREDICT.json... : the members' figures are
# nerve eval's, the ensemble's accuracy and loss those of the averaged
# probabilities, and the ensemble beats or ties its worst member.
check_ensemble() {
    "$python" - "$@" <<'EOF' || fail "ensemble figures: $(cat "$1")"
import json, math, sys
ensemble = json.load(open(sys.argv[1]))
predictions = [json.load(open(path)) for path in sys.argv[2:]]
labels = [int(line.rsplit(",", 1)[1]) for line in open("test.csv")]
members = ensemble["members"]
assert len(members) == len(predictions), len(members)
correct, nll = 0, 0.0
for i, label in enumerate(labels):
    p = [sum(pred[i]["probabilities"][c] for pred in predictions) / len(predictions)
         for c in range(3)]
    correct += max(range(3), key=lambda c: p[c]) == label
    nll -= math.log(p[label]) / len(labels)
got = ensemble["ensemble"]
assert got["count"] == len(labels), got["count"]
assert abs(got["accuracy"] - correct / len(labels)) < 1e-6, (got["accuracy"], correct)
assert abs(got["loss"] - nll) < 1e-4, (got["loss"], nll)
assert got["accuracy"] >= min(m["accuracy"] for m in members), got["accuracy"]
for m, pred in zip(members, predictions):
    right = sum(max(range(3), key=lambda c: row["probabilities"][c]) == label
                for row, label in zip(pred, labels))
    assert abs(m["accuracy"] - right / len(labels)) < 1e-6, (m["accuracy"], right)
EOF
}

run 0 eval mlp.cfg --weights s1.safetensors,s2.safetensors,s3.safetensors --json
cp out.txt ensemble.json
check_ensemble ensemble.json predict1.json predict2.json predict3.json
"$python" - <<'EOF' || fail "members' figures differ from nerve eval's: $(cat ensemble.json)"
import json
members = json.load(open("ensemble.json"))["members"]
for i, m in enumerate(members, 1):
    alone = json.load(open(f"eval{i}.json"))
    assert m["accuracy"] == alone["accuracy"] and m["loss"] == alone["loss"], (m, alone)
    assert m["weights"] == f"s{i}.safetensors" and m["cfg"] == "mlp.cfg", m
EOF

# The table: a line per member, then the ensemble's figures.
run 0 eval mlp.cfg --weights s1.safetensors,s2.safetensors,s3.safetensors
for i in 1 2 3; do
    grep -Eq "^member $i  loss [0-9.]+  accuracy [0-9.]+  s$i.safetensors$" out.txt ||
        fail "no line for member $i: $(cat out.txt)"
done
contains out.txt "ensemble of 3 (probabilities averaged)"
contains out.txt "test.csv: 300 samples"
ensemble_accuracy=$("$python" -c 'import json; print("%.4f" % json.load(open("ensemble.json"))["ensemble"]["accuracy"])')
grep -Eq "^loss [0-9.]+  accuracy $ensemble_accuracy  error rate" out.txt ||
    fail "table accuracy is not $ensemble_accuracy: $(cat out.txt)"

# A member with a config of its own (a wider hidden layer), same samples.
run 0 eval mlp.cfg --weights s1.safetensors,wide.cfg:wide.safetensors --json
cp out.txt mixed.json
check_ensemble mixed.json predict1.json predict_wide.json
"$python" -c 'import json; m = json.load(open("mixed.json"))["members"][1]; assert m["cfg"] == "wide.cfg" and m["weights"] == "wide.safetensors", m' ||
    fail "the second member's cfg: $(cat mixed.json)"

# One model is still today's table; --data applies to every member.
run 0 eval mlp.cfg --weights s1.safetensors
grep -q "^member" out.txt && fail "a single model printed member lines: $(cat out.txt)"
head -n 200 test.csv >small.csv
run 0 eval mlp.cfg --weights s1.safetensors,wide.cfg:wide.safetensors --data small.csv --json
"$python" -c 'import json; e = json.load(open("out.txt")); assert e["ensemble"]["count"] == 200 and all(m["count"] == 200 for m in e["members"]), e' ||
    fail "--data for every member: $(cat out.txt)"

# Mismatches and missing files name the member or file.
run 3 eval mlp.cfg --weights s1.safetensors,four.cfg:four.safetensors
contains err.txt "ensemble member four.cfg:four.safetensors: 4 classes (0: regression), member s1.safetensors has 3"
[ "$(wc -l <err.txt)" -eq 1 ] || fail "a mismatch takes one line: $(cat err.txt)"
run 3 eval mlp.cfg --weights s1.safetensors,missing.safetensors
contains err.txt "missing.safetensors"
run 3 eval mlp.cfg --weights s1.safetensors,missing.cfg:s2.safetensors
contains err.txt "missing.cfg"
run 3 eval mlp.cfg --weights s1.safetensors,wide.safetensors
contains err.txt "wide.safetensors"
run 2 eval mlp.cfg --weights s1.safetensors,,s2.safetensors
contains err.txt "--weights item 2 ('') is not W or CFG:W"
run 2 eval mlp.cfg --weights wide.cfg:
contains err.txt "is not W or CFG:W"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "cli_ensemble: all passed"
