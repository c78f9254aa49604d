#!/usr/bin/env bash
# A step row of the metrics log has the step's own values (docs/cli.md):
# its accuracy is its batch's, not the epoch's running mean, so the mean of
# an epoch's step rows is the epoch row's figure (equal batches).
# Usage: bash tests/cli_step_rows.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

"$python" - <<'PY'
import random
random.seed(5)
with open("train.csv", "w") as f:
    for _ in range(400):
        x = [random.uniform(-1, 1) for _ in range(4)]
        f.write(",".join(f"{v:.4f}" for v in x) + f",{int(x[0] + x[1] > 0)}\n")
PY
cat >rows.cfg <<CFG
[net]
input = 4
batch = 16
epochs = 2

[data]
format = csv
train = $work/train.csv

[optimizer]
lr = 0.2

[dense]
units = 8
activation = relu

[dense]
units = 2
CFG
run 0 train rows.cfg --threads 1 --log log.csv --log-every 1
"$python" - <<'PY' || fail "step rows are not the steps' own: $(head -5 log.csv)"
import csv
rows = list(csv.DictReader(open("log.csv")))
for epoch in ("1", "2"):
    steps = [r for r in rows if r["kind"] == "step" and r["epoch"] == epoch]
    end = [r for r in rows if r["kind"] == "epoch" and r["epoch"] == epoch][0]
    assert len(steps) == 25
    for key in ("train_loss", "train_accuracy"):
        mean = sum(float(r[key]) for r in steps) / len(steps)
        assert abs(mean - float(end[key])) < 1e-4, (key, mean, end[key])
    # each step's accuracy is a count out of its 16 samples
    assert all(abs(float(r["train_accuracy"]) * 16 - round(float(r["train_accuracy"]) * 16)) < 1e-3
               for r in steps)
PY

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
