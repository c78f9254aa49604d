#!/usr/bin/env bash
# End to end with token sequences: a network of [one_hot] then [dense] over
# the steps trains on CSV rows of 6 token ids (per-step one-hot targets, mse),
# evaluates and predicts; the same layers read as a per-step classifier
# predict a class per step (a row per sample, JSON with each step's
# probabilities); a token id outside the vocabulary stops predict and eval
# with exit 3 and the file, sample and step.
# Usage: bash tests/cli_sequence.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

# Sequences that follow the permutation 0 -> 2 -> 3 -> 1 -> 0: each row holds
# 6 ids, then the one-hot vectors of the 6 tokens that follow them.
"$python" - <<'EOF'
import random
random.seed(5)
perm = [2, 0, 3, 1]
def rows(n):
    for _ in range(n):
        token, ids, targets = random.randrange(4), [], []
        for _ in range(6):
            ids.append(token)
            token = perm[token]
            targets += [int(c == token) for c in range(4)]
        yield ids, targets
with open("train.csv", "w") as f:
    for ids, targets in rows(64):
        f.write(",".join(map(str, ids + targets)) + "\n")
with open("ids.csv", "w") as f:
    f.write("0,2,3,1,0,2\n3,1,0,2,3,1\n")
EOF

cat >steps.cfg <<EOF
[net]
input = 6
batch = 16
epochs = 60

[data]
format = csv
train = $work/train.csv
test = $work/train.csv
targets = 24

[optimizer]
type = adam
lr = 0.05

[loss]
type = mse

[one_hot]
name = onehot
classes = 4

[dense]
name = out
units = 4
EOF
sed -e 's/^type = mse$/type = softmax_cross_entropy/' -e '/^targets = 24$/d' steps.cfg >classes.cfg

run 0 train steps.cfg --save steps.safetensors
run 0 eval steps.cfg --weights steps.safetensors
contains out.txt "64 samples"
run 0 predict steps.cfg --weights steps.safetensors --input ids.csv
contains out.txt "index  outputs"

run 0 info classes.cfg
contains out.txt "4 classes, loss softmax_cross_entropy"
run 0 predict classes.cfg --weights steps.safetensors --input ids.csv
contains out.txt "index  classes (one per step)"
contains out.txt "0      2 3 1 0 2 3"
contains out.txt "1      1 0 2 3 1 0"
run 0 predict classes.cfg --weights steps.safetensors --input ids.csv --json
"$python" - <<'EOF' || fail "predict --json: $(cat out.txt)"
import json
rows = json.load(open("out.txt"))
assert [row["classes"] for row in rows] == [[2, 3, 1, 0, 2, 3], [1, 0, 2, 3, 1, 0]]
for row in rows:
    assert len(row["probabilities"]) == 6
    assert all(len(p) == 4 and abs(sum(p) - 1) < 1e-4 for p in row["probabilities"])
EOF
run 2 predict classes.cfg --weights steps.safetensors --input ids.csv --top 2
contains err.txt "--top is for one class per sample; classes.cfg predicts one per step"

printf '0,2,3,1,0,2\n3,1,4,2,3,1\n' >bad.csv
run 3 predict classes.cfg --weights steps.safetensors --input bad.csv
contains err.txt "bad.csv: sample 1, step 2: token id 4 is not an integer in [0, 4)"
sed '3s/^[0-9]*,/2.5,/' train.csv >bad_train.csv
run 3 eval steps.cfg --weights steps.safetensors --data bad_train.csv
contains err.txt "bad_train.csv: sample 2, step 0: token id 2.5 is not an integer in [0, 4)"

[ "$failures" -eq 0 ] || exit 1
echo "cli_sequence: all passed"
