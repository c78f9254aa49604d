#!/usr/bin/env bash
# The instruments through the CLI: the training set's per-class counts,
# nerve train --probe (activation
# statistics, plotted by nerve plot), --target-error (a target row and a
# message, --stop-at-target), the update_ratio columns of --log, and nerve
# eval's expected calibration error and --mc-samples; their usage errors.
# Usage: bash tests/cli_instruments.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

"$python" - <<'PY'
import random
random.seed(3)
with open("blobs.csv", "w") as f:
    for i in range(400):
        c = i % 2
        f.write(f"{random.gauss(2 * c - 1, 0.9):.4f},{random.gauss(2 * c - 1, 0.9):.4f},{c}\n")
PY
cat >net.cfg <<CFG
[net]
input = 2
batch = 20
epochs = 4
seed = 2
[data]
format = csv
train = $work/blobs.csv
test = $work/blobs.csv
label_column = last
validation = 100
[optimizer]
lr = 0.1
[dense]
name = fc1
units = 16
activation = tanh
[dropout]
name = drop
p = 0.3
[dense]
name = fc2
units = 16
activation = relu
[dense]
name = out
units = 2
CFG

run 0 train net.cfg --probe probe.csv --probe-every 5 --probe-size 16 --log log.csv \
    --target-error 0.3 --save w.safetensors --threads 1
contains out.txt "training samples per class: 0: 150, 1: 150 (largest/smallest 1.00)"
head -1 probe.csv | grep -q '^epoch,step,elapsed,mean:fc1,std:fc1,p15:fc1,p50:fc1,p85:fc1,saturated:fc1,zero:fc1,dead:fc1,mean:drop' ||
    fail "probe header: $(head -1 probe.csv | cut -c1-200)"
head -1 probe.csv | grep -qF ',hist:fc1:-0.95,' || fail "tanh's histogram is on [-1, 1]"
# 15 steps per epoch: step 0, every 5 steps, and each epoch's end: 1 + 4 x 3.
[ "$(($(wc -l <probe.csv) - 1))" = 13 ] || fail "probe rows: $(cut -d, -f1-2 probe.csv)"
head -1 log.csv | grep -qF ',update_ratio:fc1.weight,' || fail "no update_ratio column in the log"
contains err.txt "target training error 0.3 reached at epoch 1, step 15"
[ "$(grep -c '^target,1,15,' log.csv)" = 1 ] || fail "no target row for epoch 1: $(cut -d, -f1-3 log.csv)"
[ "$(grep -c '^epoch,' log.csv)" = 4 ] || fail "without --stop-at-target all epochs run"
# The checkpoint keeps the target reached: a resumed run does not report it
# again; one resumed before reaching it does.
run 0 train net.cfg --target-error 0.3 --steps 20 --checkpoint target_ck.safetensors --threads 1
contains err.txt "target training error 0.3 reached at epoch 1, step 15"
run 0 train net.cfg --target-error 0.3 --resume target_ck.safetensors --log resumed.csv --threads 1
grep -q "target training error" err.txt && fail "the resumed run reported the target again: $(cat err.txt)"
grep -q "^target," resumed.csv && fail "the resumed run wrote a target row"
run 0 train net.cfg --target-error 0.3 --steps 10 --checkpoint early_ck.safetensors --threads 1
grep -q "target training error" err.txt && fail "the target was reached before its epoch ended"
run 0 train net.cfg --target-error 0.3 --resume early_ck.safetensors --threads 1
contains err.txt "target training error 0.3 reached at epoch 1, step 15"
run 0 train net.cfg --target-error 0.3 --target-on val --stop-at-target --log stop.csv --threads 1
contains err.txt "target validation error 0.3 reached at epoch 1"
contains err.txt "training stops"
[ "$(grep -c '^epoch,' stop.csv)" = 1 ] || fail "--stop-at-target ran on"

# --eval-every: an eval row every 4 steps inside the epochs (15 steps each:
# steps 4, 8, 12, then 16, 20, 24, 28), drawn with --rows eval.
run 0 train net.cfg --eval-every 4 --log eval.csv --epochs 2 --threads 1
[ "$(grep -c '^eval,' eval.csv)" = 7 ] || fail "eval rows: $(cut -d, -f1-7 eval.csv)"
awk -F, '$1 == "eval" && !($6 > 0 && $7 > 0.5) { exit 1 }' eval.csv || fail "eval rows lack validation figures"
run 0 plot eval.csv --rows eval --x step --y val_accuracy --out eval.png
[ -s eval.png ] || fail "no eval.png"
run 2 plot eval.csv --rows evals --x step --y val_accuracy --out eval.png
contains err.txt "--rows must be epoch, step, eval, target or all"
sed '/^validation = /d' net.cfg >noval.cfg
run 3 train noval.cfg --eval-every 4
contains err.txt "needs a validation set"

# [data] class_limit: an imbalanced training set from a balanced one (the
# first samples of each class), counts printed; what validation holds out
# is taken first.
run 0 train net.cfg --set data.class_limit=1:30 --epochs 1 --threads 1
contains out.txt "180 train, 100 validation"
contains out.txt "training samples per class: 0: 150, 1: 30 (largest/smallest 5.00)"
run 0 train net.cfg --set 'data.class_limit=*:0.5, 0:100' --epochs 1 --threads 1
contains out.txt "training samples per class: 0: 100, 1: 75 (largest/smallest 1.33)"
run 0 train net.cfg --set data.class_limit=0:0 --epochs 1 --threads 1
contains out.txt "training samples per class: 0: 0, 1: 150 (a class has no training sample)"
run 3 train net.cfg --set data.class_limit=2:10
contains err.txt "[data] class_limit names class 2, but $work/blobs.csv has 2 classes (0 to 1)"
run 3 train net.cfg --set data.class_limit=1:1.5
contains err.txt "class 1: '1.5' is neither a count (a whole number) nor a fraction in (0, 1]"
run 3 train net.cfg --set data.class_limit=1
contains err.txt "'1' is not CLASS:LIMIT"
run 3 train net.cfg --set 'data.class_limit=1:3,1:4'
contains err.txt "class 1 is limited twice"

# [noise]: activation noise in training, the identity in evaluation (the
# test figures of two evaluations of the same weights agree); a [noise]
# that changes nothing is refused.
sed 's/^\[dropout\]$/[noise]\nscale = 0.3\nshift = 0.2\n[dropout]/' net.cfg >noisy.cfg
run 0 train noisy.cfg --epochs 2 --save noisy.safetensors --threads 1
grep -q "^test loss [0-9.]* accuracy 0\.[5-9]" out.txt || fail "noisy training: $(cat out.txt)"
run 0 eval noisy.cfg --weights noisy.safetensors --json
cp out.txt noisy_eval.json
run 0 eval net.cfg --weights noisy.safetensors --json
"$python" -c '
import json, sys
a, b = json.load(open("noisy_eval.json")), json.load(open("out.txt"))
sys.exit(0 if a["loss"] == b["loss"] and a["accuracy"] == b["accuracy"] else 1)' ||
    fail "[noise] is not the identity in evaluation: $(cat noisy_eval.json) against $(cat out.txt)"
sed 's/^\[dropout\]$/[noise]\n[dropout]/' net.cfg >silent.cfg
run 3 train silent.cfg
contains err.txt "[noise] needs scale or shift above 0"

# --eval-test and --eval-train: the test set and the training set (eval
# mode) at every epoch's end. The last epoch's test figures are those of the
# final weights, which the closing test line reports too.
run 0 train net.cfg --eval-test --eval-train --log curves.csv --epochs 2 --threads 1
contains out.txt "train (eval) loss"
grep -q "^epoch 2/2 .* test loss [0-9.]* acc [0-9.]*" out.txt || fail "no test figures on the epoch line: $(cat out.txt)"
"$python" - <<'PY' || fail "--eval-test/--eval-train columns: $(cut -d, -f1-18 curves.csv)"
import csv, re
rows = list(csv.DictReader(open("curves.csv")))
epochs = [r for r in rows if r["kind"] == "epoch"]
assert len(epochs) == 2
for r in epochs:
    assert 0.5 < float(r["test_accuracy"]) <= 1 and float(r["test_loss"]) > 0
    assert 0.5 < float(r["train_eval_accuracy"]) <= 1 and float(r["train_eval_loss"]) > 0
last = open("out.txt").read()
loss, accuracy = re.search(r"^test loss (\S+) accuracy (\S+)$", last, re.M).groups()
assert abs(float(epochs[-1]["test_loss"]) - float(loss)) < 1e-4, (epochs[-1]["test_loss"], loss)
assert abs(float(epochs[-1]["test_accuracy"]) - float(accuracy)) < 1e-4
PY
run 0 plot curves.csv --y train_accuracy,train_eval_accuracy,test_accuracy --out curves.png
[ -s curves.png ] || fail "no curves.png"
sed '/^test = /d' net.cfg >notest.cfg
run 2 train notest.cfg --eval-test
contains err.txt "--eval-test evaluates the test set at every epoch's end: set [data] test"

# --state-grads: ||dL/dh_t|| per time step of each recurrent op, every 5
# steps (10 steps per epoch, 2 epochs: 4 rows), drawn as a heat map. The
# final state is the layer's output (return = last): its step T-1 gets the
# loss's gradient directly, the others only through the later steps.
cat >rnn.cfg <<CFG
[net]
input = 8x2
batch = 20
epochs = 2
seed = 1
[data]
format = adding
length = 8
train_samples = 200
test_samples = 0
[loss]
type = mse
[rnn]
name = rnn
hidden = 6
return = last
[dense]
name = out
units = 1
CFG
run 0 train rnn.cfg --state-grads sg.csv --state-grads-every 5 --threads 1
head -1 sg.csv | grep -q '^epoch,step,elapsed,dh:rnn_l0:0,dh:rnn_l0:1,.*,dh:rnn_l0:7$' ||
    fail "state gradients header: $(head -1 sg.csv)"
[ "$(cut -d, -f2 sg.csv | tr '\n' ' ')" = "step 5 10 15 20 " ] || fail "state gradient rows: $(cut -d, -f1-3 sg.csv)"
awk -F, 'NR > 1 { for (i = 4; i <= NF; i++) if (!($i > 0)) exit 1 }' sg.csv || fail "a state gradient norm is not positive: $(cat sg.csv)"
run 0 plot sg.csv --y "dh:rnn_l0:*" --heatmap --log-y --out sg.png
[ -s sg.png ] || fail "no sg.png"
run 0 train rnn.cfg --state-grads sg_epochs.csv --epochs 1 --threads 1
[ "$(cut -d, -f2 sg_epochs.csv | tr '\n' ' ')" = "step 10 " ] || fail "without --state-grads-every, one row per epoch: $(cat sg_epochs.csv)"
run 3 train net.cfg --state-grads sg_none.csv
contains err.txt "need a recurrent layer"
run 2 train rnn.cfg --state-grads-every 5
contains err.txt "--state-grads-every needs --state-grads FILE.csv"

# A resumed run continues its probe file: the rows up to the checkpoint's
# step are kept (a row the interrupted run wrote after it is dropped), and
# the file ends as an uninterrupted run's (elapsed aside).
run 0 train net.cfg --probe full_probe.csv --probe-every 5 --probe-size 16 --epochs 2 --threads 1
run 0 train net.cfg --probe part.csv --probe-every 5 --probe-size 16 --epochs 2 --threads 1 \
    --steps 20 --checkpoint probe_ck.safetensors
echo "2,25,1.5,written after the checkpoint" >>part.csv
run 0 train net.cfg --probe part.csv --probe-every 5 --probe-size 16 --epochs 2 --threads 1 \
    --resume probe_ck.safetensors
cmp -s <(cut -d, -f1,2,4- full_probe.csv) <(cut -d, -f1,2,4- part.csv) ||
    fail "the resumed probe differs: $(cut -d, -f1-4 part.csv) against $(cut -d, -f1-4 full_probe.csv)"
awk -F, 'NR > 2 && $3 < last { exit 1 } { last = $3 }' part.csv || fail "elapsed goes back: $(cut -d, -f1-3 part.csv)"
sed -i '1s/mean:fc1/mean:other/' part.csv
run 3 train net.cfg --probe part.csv --epochs 2 --threads 1 --resume probe_ck.safetensors
contains err.txt "part.csv: not this network's activation statistics"

# The probe's columns plot like a metrics log's.
run 0 plot probe.csv --x step --y 'std:*' --out std.png
[ -s std.png ] || fail "no std.png"
run 0 plot probe.csv --y 'hist:fc1:*' --heatmap --out hist.png
[ -s hist.png ] || fail "no hist.png"

run 0 eval net.cfg --weights w.safetensors
contains out.txt "expected calibration error 0."
run 0 eval net.cfg --weights w.safetensors --mc-samples 4 --json
"$python" - <<'PY' || fail "eval --json: $(cat out.txt)"
import json
e = json.load(open("out.txt"))
assert 0 <= e["ece"] < 1 and len(e["calibration"]) == 15
assert sum(b["count"] for b in e["calibration"]) == e["count"]
mc = e["mc_dropout"]
assert mc["samples"] == 4 and mc["count"] == e["count"] and mc["loss"] != e["loss"]
PY
run 0 eval net.cfg --weights w.safetensors --mc-samples 4
contains out.txt "Monte-Carlo dropout: 4 passes, probabilities averaged"

# Usage errors and refusals.
run 2 train net.cfg --stop-at-target
contains err.txt "need --target-error"
run 2 train net.cfg --target-error 0.1 --target-on test
contains err.txt "--target-on must be train or val"
run 2 train net.cfg --probe-every 3
contains err.txt "need --probe FILE.csv"
run 3 train net.cfg --target-error 2
contains err.txt "between 0 and 1"
run 2 eval net.cfg --weights w.safetensors,w.safetensors --mc-samples 2
contains err.txt "one model"
sed '/^\[dropout\]/,/^p = /d' net.cfg >plain.cfg
run 0 train plain.cfg --save plain.safetensors --epochs 1 --threads 1
run 3 eval plain.cfg --weights plain.safetensors --mc-samples 2
contains err.txt "dropout layer"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "cli_instruments: all passed"
