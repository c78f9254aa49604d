#!/usr/bin/env bash
# Early stopping and the best epoch's weights: --early-stop / [train]
# patience stop when the validation figure stalls, --save-best writes the
# best epoch's weights, --restore-best ends with them, and a checkpoint
# carries the early-stopping state across --resume.
# Usage: bash tests/cli_early_stop.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

# Random labels: the validation loss can only get worse once training fits noise.
"$python" - <<'PY'
import random
random.seed(5)
with open("noise.csv", "w") as f:
    for _ in range(300):
        f.write(",".join(f"{random.uniform(-1, 1):.4f}" for _ in range(8)) + f",{random.randint(0, 1)}\n")
PY
cat >noise.cfg <<EOF
[net]
input = 8
batch = 10
epochs = 40
seed = 2
[data]
format = csv
train = $work/noise.csv
label_column = last
validation = 100
[optimizer]
type = sgd
lr = 0.2
momentum = 0.9
[dense]
name = hidden
units = 32
activation = relu
[dense]
name = out
units = 2
EOF
# epochs_logged LOG: the number of epoch rows.
epochs_logged() { grep -c '^epoch,' "$1"; }

run 0 train noise.cfg --log full.csv --threads 1
[ "$(epochs_logged full.csv)" = 40 ] || fail "without early stopping all 40 epochs run"
run 0 train noise.cfg --early-stop 3 --log early.csv --save-best best.safetensors --restore-best \
    --save final.safetensors --threads 1
stopped=$(epochs_logged early.csv)
[ "$stopped" -lt 40 ] || fail "--early-stop 3 did not stop early"
contains err.txt "early stopping after epoch $stopped: no better val_loss for 3 epochs"
# The best epoch is the one of the least val_loss, 3 epochs before the stop.
best=$(awk -F, '$1 == "epoch" && (b == "" || $6 < b) { b = $6; e = $2 } END { print e }' early.csv)
[ "$best" -eq $((stopped - 3)) ] || fail "best epoch $best, stopped at $stopped"
contains err.txt "at epoch $best)"
cmp -s best.safetensors final.safetensors || fail "--restore-best did not end with the best weights"
# Without --restore-best the last epoch's weights are saved.
run 0 train noise.cfg --early-stop 3 --save-best best2.safetensors --save last.safetensors --threads 1
cmp -s best2.safetensors best.safetensors || fail "--save-best differs between identical runs"
cmp -s best2.safetensors last.safetensors && fail "the last epoch's weights equal the best's"

# [train] patience and monitor in the cfg; --monitor val_accuracy.
printf '\n[train]\npatience = 3\n' >>noise.cfg
run 0 train noise.cfg --log cfg.csv --threads 1
[ "$(epochs_logged cfg.csv)" = "$stopped" ] || fail "[train] patience = 3 stopped elsewhere than --early-stop 3"
run 0 train noise.cfg --monitor val_accuracy --early-stop 2 --threads 1
contains err.txt "no better val_accuracy for 2 epochs"

# Resumed from a checkpoint written before the stop, the run stops at the same epoch.
run 0 train noise.cfg --early-stop 3 --epochs $((stopped - 1)) --checkpoint run.ckpt --threads 1
run 0 train noise.cfg --early-stop 3 --resume run.ckpt --epochs 40 --log resumed.csv --threads 1
contains err.txt "early stopping after epoch $stopped:"

# Errors.
run 2 train noise.cfg --monitor val_error
contains err.txt "--monitor must be val_loss or val_accuracy"
run 3 train noise.cfg --early-stop 2 --set data.validation=0
contains err.txt "set [data] validation = N"
run 3 train noise.cfg --set train.patience=-1
contains err.txt "patience"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "cli_early_stop: all passed"
