#!/usr/bin/env bash
# What a resume may change and what it may not (docs/cli.md, "What a resume
# may change"): a new --lr takes effect at the resumed step (the recovery
# from a non-finite loss that docs/errors.md recommends), and the change is
# printed; the checkpoint remembers the run's epochs, so a plain resume runs
# to them; a resume with nothing left to train is an error, not a silent
# success; a run cut short by --steps says so.
# Usage: bash tests/cli_resume_changes.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

"$python" - <<'PY'
import random
random.seed(11)
def rows(n):
    out = []
    for _ in range(n):
        x = [random.uniform(-1, 1) for _ in range(4)]
        out.append(",".join(f"{v:.4f}" for v in x) + f",{int(sum(x[::2]) > sum(x[1::2]))}\n")
    return out
open("train.csv", "w").writelines(rows(400))
PY
cat >small.cfg <<CFG
[net]
input = 4
batch = 16
epochs = 3
seed = 1

[data]
format = csv
train = train.csv

[optimizer]
lr = 0.1

[dense]
name = hidden
units = 16
activation = relu

[dense]
name = out
units = 2
CFG

# --- a rate too high: the loss goes non-finite at step 24, after the
# checkpoint of step 20; the resume with a lower rate must not meet it again.
run 4 train small.cfg --threads 1 --lr 1000 --checkpoint nan.ckpt --every 20
contains err.txt "epoch 1, step 24: the loss is"
contains err.txt "last good checkpoint: nan.ckpt (step 20)"
run 0 train small.cfg --threads 1 --resume nan.ckpt --lr 0.05 --log resumed.csv --log-every 1
contains out.txt "resume changes lr 1e+03 -> 0.05, from step 21 on"
# Every step row of the resumed run used the new rate, the first one included.
"$python" - <<'PY' || fail "the resumed steps did not use lr 0.05: $(head -3 resumed.csv)"
import csv
rows = [r for r in csv.DictReader(open("resumed.csv")) if r["kind"] == "step"]
assert rows and int(rows[0]["step"]) == 21, rows[:1]
assert all(float(r["lr"]) == 0.05 for r in rows), [r["lr"] for r in rows[:3]]
PY

# --- a schedule changed on resume takes effect at once: a per-step
# exponential decay resumed at step 10 with another gamma uses lr * gamma^10.
cp small.cfg sched.cfg
printf '\n[schedule]\ntype = exponential\ninterval = step\ngamma = 0.9\n' >>sched.cfg
run 0 train sched.cfg --threads 1 --steps 10 --checkpoint sched.ckpt
run 0 train sched.cfg --threads 1 --resume sched.ckpt --set schedule.gamma=0.5 --steps 11 \
    --log sched.csv --log-every 1
contains out.txt "resume changes schedule exponential, interval step, gamma 0.9 -> exponential, interval step, gamma 0.5, from step 11 on"
"$python" - <<'PY' || fail "the resumed step's rate is not 0.1 * 0.5^10: $(cat sched.csv)"
import csv
rows = [r for r in csv.DictReader(open("sched.csv")) if r["kind"] == "step"]
assert abs(float(rows[0]["lr"]) / (0.1 * 0.5 ** 10) - 1) < 1e-5, rows[0]["lr"]
PY

# --- what a resume may not change: a one-line error naming the file.
run 3 train small.cfg --threads 1 --resume nan.ckpt --batch 8
contains err.txt "nan.ckpt: the checkpoint was trained with batch 16, this run has 8"
run 3 train small.cfg --threads 1 --resume nan.ckpt --seed 2
contains err.txt "nan.ckpt: the checkpoint was trained with seed 1, this run has 2"
run 3 train small.cfg --threads 1 --resume nan.ckpt --set optimizer.type=adam
contains err.txt "nan.ckpt: the checkpoint's optimizer is sgd, this run's is adam"
run 3 train small.cfg --threads 1 --resume nan.ckpt --set hidden.units=8
contains err.txt "nan.ckpt: tensor 'hidden.weight' has shape 16x4, the network expects 8x4"

# --- the checkpoint remembers --epochs: a plain resume runs to the run's 5
# epochs, not the cfg's 3.
run 0 train small.cfg --threads 1 --epochs 5 --steps 30 --checkpoint five.ckpt
contains out.txt "epoch 2/5 (5 of 25 steps)"
contains out.txt "stopped by --steps 30 in epoch 2/5, after step 5 of 25: the run is cut short"
run 0 train small.cfg --threads 1 --resume five.ckpt --checkpoint five.ckpt
contains out.txt "epoch 5/5"
grep -q "cut short" out.txt && fail "a finished run said it was cut short: $(cat out.txt)"
# Nothing left to train: an error, not a silent exit 0.
run 3 train small.cfg --threads 1 --resume five.ckpt
contains err.txt "five.ckpt: nothing to train: the checkpoint has done 125 steps (5 whole epochs) and this run ends after epoch 5"
run 3 train small.cfg --threads 1 --resume five.ckpt --epochs 1
contains err.txt "this run ends after epoch 1"
run 0 train small.cfg --threads 1 --resume five.ckpt --epochs 6 --on-nan skip
contains out.txt "resume changes epochs 5 -> 6, on-nan stop -> skip, from step 126 on"
contains out.txt "epoch 6/6"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
