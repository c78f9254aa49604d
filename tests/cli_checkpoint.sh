#!/usr/bin/env bash
# Checkpoints end to end: a run stopped after some steps and resumed in a
# fresh process saves byte-identical weights to an uninterrupted one; a
# checkpoint loads as weights (nerve eval); a checkpoint that does not match
# the cfg and bad flags are one-line errors; SIGTERM and SIGINT finish the
# step, write the checkpoint and exit 143 / 130, and the run resumes from it;
# SIGKILL at random moments of a run that checkpoints every step never leaves
# a checkpoint that does not load, and leftover temporary files do not stop
# the next run; a non-finite loss stops with exit 4 (or is skipped).
# Usage: bash tests/cli_checkpoint.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

"$python" - <<'EOF'
import random
random.seed(11)
def rows(n, features):
    out = []
    for _ in range(n):
        x = [random.uniform(-1, 1) for _ in range(features)]
        out.append(",".join(f"{v:.4f}" for v in x) + f",{int(sum(x[::2]) > sum(x[1::2]))}\n")
    return out
open("train.csv", "w").writelines(rows(400, 4))
open("test.csv", "w").writelines(rows(100, 4))
open("big.csv", "w").writelines(rows(2000, 64))
EOF
[ -s big.csv ] || { echo "FAIL: $python could not write the data"; exit 1; }

cat >small.cfg <<EOF
[net]
input = 4
batch = 16
epochs = 3
seed = 1

[data]
format = csv
train = $work/train.csv
test = $work/test.csv
validation = 50
label_column = last
header = 0

[optimizer]
type = adam
lr = 0.01

[schedule]
type = plateau
patience = 0

[dense]
name = hidden
units = 16
activation = relu

[dropout]
p = 0.2

[dense]
name = out
units = 2
EOF

# --- resume in a fresh process: the same bytes as an uninterrupted run.
run 0 train small.cfg --threads 1 --save full.safetensors
run 0 train small.cfg --threads 1 --steps 7 --checkpoint ck.safetensors
[ -s ck.safetensors ] || fail "--checkpoint wrote no file"
run 0 train small.cfg --threads 1 --resume ck.safetensors --save resumed.safetensors
contains out.txt "resuming ck.safetensors: epoch 1, step 7 of the epoch, 7 steps done"
cmp -s full.safetensors resumed.safetensors || fail "resumed weights differ from an uninterrupted run's"
# --every: checkpoints inside epochs, the last one after the end.
run 0 train small.cfg --threads 1 --checkpoint every.safetensors --every 5 --steps 12
run 0 train small.cfg --threads 1 --resume every.safetensors --save every_resumed.safetensors
cmp -s full.safetensors every_resumed.safetensors || fail "--every 5: resumed weights differ"
# A checkpoint is also weights.
run 0 eval small.cfg --weights ck.safetensors
contains out.txt "accuracy"

# --- a checkpoint that does not match, and bad flags.
run 3 train small.cfg --resume ck.safetensors --set hidden.units=12
contains err.txt "ck.safetensors: tensor 'hidden.weight' has shape 16x4, the network expects 12x4"
run 3 train small.cfg --resume ck.safetensors --set optimizer.type=sgd
contains err.txt "ck.safetensors: the checkpoint's optimizer is adam, this run's is sgd"
run 3 train small.cfg --resume full.safetensors
contains err.txt "full.safetensors: not a checkpoint"
run 2 train small.cfg --every 5
contains err.txt "--every needs --checkpoint FILE"
run 2 train small.cfg --resume ck.safetensors --init full.safetensors
contains err.txt "--resume continues a run: it cannot take --init"
run 2 train small.cfg --on-nan maybe
contains err.txt "--on-nan expects stop or skip, got 'maybe'"

# --- numerical stops: exit 4, naming the step and the layer.
run 4 train small.cfg --lr 1e30 --checkpoint nan.safetensors --every 1
contains err.txt "the loss is"
contains err.txt "layer '"
contains err.txt "last good checkpoint: nan.safetensors (step "
run 4 train small.cfg --lr 1e30 --on-nan skip
contains err.txt "nerve: warning: epoch "
contains err.txt "10 consecutive steps skipped, the limit"

# --- signals. A model large enough that steps and checkpoint writes take a
# while (about 0.6 M parameters, a 7 MB checkpoint with Adam's moments).
cat >big.cfg <<EOF
[net]
input = 64
batch = 32
epochs = 1000
seed = 2

[data]
format = csv
train = $work/big.csv
test = $work/test.csv
label_column = last
header = 0

[optimizer]
type = adam
lr = 0.001

[dense]
units = 768
activation = relu

[dense]
units = 768
activation = relu

[dense]
units = 2
EOF
"$python" -c "
import random
random.seed(3)
print(''.join(','.join(f'{random.uniform(-1,1):.3f}' for _ in range(64)) + ',1\n' for _ in range(20)), end='')
" >bigtest.csv
sed -i "s|test = $work/test.csv|test = $work/bigtest.csv|" big.cfg

# Waits until FILE holds PATTERN (at most 60 s).
wait_for() {
    for _ in $(seq 600); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# Waits until FILE exists (at most 60 s).
wait_for_file() {
    for _ in $(seq 600); do
        [ -f "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

for signal in TERM INT; do
    rm -f sig.safetensors
    "$nerve" train big.cfg --threads 1 --checkpoint sig.safetensors --every 3 >sig_out.txt 2>sig_err.txt &
    pid=$!
    wait_for sig_out.txt "parameters;" || fail "SIG$signal: the training did not start"
    sleep 1
    kill -s "$signal" "$pid"
    wait "$pid"
    code=$?
    expected=$([ "$signal" = TERM ] && echo 143 || echo 130)
    [ "$code" -eq "$expected" ] || fail "SIG$signal: exit $code, expected $expected: $(cat sig_err.txt)"
    contains sig_err.txt "checkpoint written to sig.safetensors (continue with --resume sig.safetensors)"
    steps=$(sed -n 's/.*stopped at epoch [0-9]*, step \([0-9]*\):.*/\1/p' sig_err.txt)
    [ -n "$steps" ] || { fail "SIG$signal: no step in $(cat sig_err.txt)"; continue; }
    run 0 train big.cfg --threads 1 --resume sig.safetensors --steps $((steps + 2))
    contains out.txt "steps done"
done

# SIGKILL at random moments: the checkpoint in place always loads and
# resumes; the temporary files of killed writes are left beside it.
rm -f kill.safetensors
for round in 1 2 3 4 5 6; do
    resume=()
    [ -f kill.safetensors ] && resume=(--resume kill.safetensors)
    "$nerve" train big.cfg --threads 1 --checkpoint kill.safetensors --every 1 "${resume[@]}" \
        >kill_out.txt 2>kill_err.txt &
    pid=$!
    wait_for kill_out.txt "parameters;" || fail "round $round: the training did not start: $(cat kill_err.txt)"
    wait_for_file kill.safetensors || fail "round $round: no checkpoint written: $(cat kill_err.txt)"
    sleep "0.$((RANDOM % 9 + 1))"
    kill -s KILL "$pid"
    wait "$pid" 2>/dev/null
    [ -f kill.safetensors ] || { fail "round $round: no checkpoint after the kill"; continue; }
    run 0 eval big.cfg --weights kill.safetensors
done
steps=$("$python" - <<'EOF'
import json, struct
with open("kill.safetensors", "rb") as f:
    size = struct.unpack("<Q", f.read(8))[0]
    print(json.loads(f.read(size))["__metadata__"]["nerve.checkpoint.global_step"])
EOF
)
run 0 train big.cfg --threads 1 --resume kill.safetensors --checkpoint kill.safetensors \
    --steps $((steps + 2))
contains out.txt "$steps steps done"
litter=$(ls kill.safetensors.tmp* 2>/dev/null | wc -l)
echo "cli_checkpoint: $litter temporary file(s) left by killed writes"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
