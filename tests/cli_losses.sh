#!/usr/bin/env bash
# End to end with losses other than the default: a binary classifier with one
# output (bce_with_logits) trains, evaluates (2x2 confusion matrix, error
# rate) and predicts two class probabilities; a [loss] key that belongs to
# another type stops train with exit 3 (bad input) and its location.
# Usage: bash tests/cli_losses.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

# Two classes in 2-D, label = x + y > 0.
"$python" - <<'EOF'
import random
random.seed(3)
for name, n in (("train.csv", 300), ("test.csv", 100)):
    with open(name, "w") as f:
        for _ in range(n):
            x, y = random.uniform(-1, 1), random.uniform(-1, 1)
            if abs(x + y) > 0.1:
                f.write(f"{x:.4f},{y:.4f},{int(x + y > 0)}\n")
EOF

cat >binary.cfg <<EOF
[net]
input = 2
batch = 16
epochs = 10

[data]
format = csv
train = $work/train.csv
test = $work/test.csv

[optimizer]
lr = 0.1
momentum = 0.9

[loss]
type = bce_with_logits
pos_weight = 1.5

[dense]
units = 8
activation = tanh

[dense]
name = out
units = 1
EOF

run 0 info binary.cfg
contains out.txt "binary.cfg: input 2, 2 classes, loss bce_with_logits"
run 0 train binary.cfg --save binary.safetensors
test_accuracy=$(sed -n 's/^test loss [0-9.]* accuracy \([0-9.]*\)$/\1/p' out.txt)
"$python" -c "import sys; sys.exit(0 if float('$test_accuracy') >= 0.9 else 1)" ||
    fail "test accuracy '$test_accuracy' < 0.9: $(cat out.txt)"

run 0 eval binary.cfg --weights binary.safetensors --json
"$python" - "$test_accuracy" <<'EOF' || fail "eval --json: $(cat out.txt)"
import json, sys
e = json.load(open("out.txt"))
assert abs(e["accuracy"] - float(sys.argv[1])) < 1e-4, e
assert abs(e["error_rate"] - (1 - e["accuracy"])) < 1e-12, e
assert len(e["confusion"]) == 2 and sum(map(sum, e["confusion"])) == e["count"], e
EOF

# One output, shown as the probabilities of classes 0 and 1.
run 0 predict binary.cfg --weights binary.safetensors --input test.csv --json
"$python" - "$test_accuracy" <<'EOF' || fail "predict --json: $(cat out.txt)"
import json, sys
predictions = json.load(open("out.txt"))
labels = [int(line.rsplit(",", 1)[1]) for line in open("test.csv")]
for p in predictions:
    assert len(p["probabilities"]) == 2 and abs(sum(p["probabilities"]) - 1) < 1e-5, p
    assert p["class"] == int(p["probabilities"][1] > 0.5), p
agree = sum(p["class"] == label for p, label in zip(predictions, labels)) / len(labels)
assert abs(agree - float(sys.argv[1])) < 1e-4, (agree, sys.argv[1])
EOF
run 0 predict binary.cfg --weights binary.safetensors --input test.csv --top 1
contains out.txt "index  class  top 1"

# Strictness: a key of another type, a list of the wrong length.
run 3 train binary.cfg --set loss.label_smoothing=0.1
contains err.txt "binary.cfg (--set): [loss] label_smoothing: only applies to [loss] type softmax_cross_entropy"
run 3 train binary.cfg --set loss.pos_weight=1,2
contains err.txt "binary.cfg (--set): [loss] pos_weight: 2 values for the last layer's width 1"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "cli_losses: all passed"
