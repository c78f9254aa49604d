#!/usr/bin/env bash
# End to end: nerve pretrain. On 16 standardised features that lie near a
# 3-dimensional surface, each hidden layer's reconstruction error falls; the
# saved file holds pre-trained hidden layers, the output layer as initialised
# and the normalisation statistics; nerve train --init fine-tunes it to well
# above chance. A network without a hidden layer, one with an unsupported
# layer and bad flags are one-line errors.
# Usage: bash tests/cli_pretrain.sh NERVE_BINARY SOURCE_DIR
nerve=$1
source "$2/tests/shell_support.sh"

"$python" - <<'EOF'
import math, random
random.seed(4)
for name, n in (("train.csv", 600), ("test.csv", 300)):
    with open(name, "w") as f:
        for _ in range(n):
            z = [random.gauss(0, 1) for _ in range(3)]
            x = [5 + 3 * math.tanh(z[0] * math.sin(k) + z[1] * math.cos(0.5 * k) + z[2] * (k % 3 - 1))
                 for k in range(16)]
            y = max(range(3), key=lambda c: z[c])
            f.write(",".join(f"{v:.4f}" for v in x) + f",{y}\n")
EOF
[ -s train.csv ] || { echo "FAIL: $python could not write the data"; exit 1; }

# net FILE LAYERS: a 16-input classifier with the given layer sections.
net() {
    cat >"$1" <<EOF
[net]
input = 16
batch = 20
epochs = 15
seed = 2

[data]
format = csv
train = $work/train.csv
test = $work/test.csv
label_column = last
header = 0
normalize = standardize
validation = 100

[optimizer]
type = sgd
lr = 0.05
momentum = 0.9

[loss]
type = softmax_cross_entropy
$2
EOF
}
net deep.cfg "
[dense]
name = fc1
units = 12
activation = tanh

[dense]
name = fc2
units = 8
activation = sigmoid

[dense]
name = out
units = 3"

run 0 pretrain deep.cfg --epochs 10 --save pre.safetensors --threads 1
contains out.txt "deep.cfg: pre-training on 500 samples, 10 epochs per layer, batch 20, noise 0, lr 0.05"
contains out.txt "layer 1/2 fc1: epoch 10/10 loss"
contains out.txt "layer 1/2 fc1 (16 -> 12, linear decoder): reconstruction MSE"
contains out.txt "layer 2/2 fc2 (12 -> 8, linear decoder): reconstruction MSE"
contains out.txt "saved weights to pre.safetensors"
# Each layer's error after is well below its error before.
sed -n 's/.*reconstruction MSE \([0-9.]*\) -> \([0-9.]*\) in.*/\1 \2/p' out.txt >mse.txt
[ "$(wc -l <mse.txt)" -eq 2 ] || fail "two reconstruction lines expected: $(cat out.txt)"
while read -r before after; do
    "$python" -c "import sys; sys.exit(not ($after < 0.5 * $before))" ||
        fail "reconstruction MSE $before -> $after does not fall by half"
done <mse.txt

# The initial weights (no epoch), to compare with.
run 0 train deep.cfg --epochs 0 --save init.safetensors --threads 1
"$python" - <<'EOF' || fail "pre-trained weights: $(cat compare.txt)"
import json, struct, sys
def tensors(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    meta = header.pop("__metadata__", {})
    return {k: data[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in header.items()}, meta
pre, pre_meta = tensors("pre.safetensors")
init, init_meta = tensors("init.safetensors")
problems = []
for name in ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"):
    if pre[name] == init[name]: problems.append(name + " is not pre-trained")
for name in ("out.weight", "out.bias"):
    if pre[name] != init[name]: problems.append(name + " changed")
for key in ("nerve.normalize.mean", "nerve.normalize.std"):
    if pre_meta.get(key) != init_meta.get(key) or pre_meta.get(key) in (None, "0", "1"):
        problems.append(f"{key}: {pre_meta.get(key)} vs {init_meta.get(key)}")
open("compare.txt", "w").write("; ".join(problems))
sys.exit(1 if problems else 0)
EOF

# Fine-tuning from the pre-trained weights.
run 0 train deep.cfg --init pre.safetensors --threads 1
accuracy=$(sed -n 's/^test loss [0-9.]* accuracy \([0-9.]*\)$/\1/p' out.txt)
"$python" -c "import sys; sys.exit(not (float('${accuracy:-0}') > 0.7))" ||
    fail "fine-tuned accuracy ${accuracy:-none} is not well above chance (1/3)"

# Denoising, on a network whose codes are sigmoids: the decoder above them is a sigmoid.
net sig.cfg "
[dense]
name = fc1
units = 12
activation = sigmoid

[dropout]
p = 0.2

[dense]
name = fc2
units = 8
activation = sigmoid

[dense]
name = out
units = 3"
run 0 pretrain sig.cfg --epochs 2 --noise 0.3 --batch 50 --lr 0.1 --seed 9 --save sig.safetensors \
    --threads 1
contains out.txt "batch 50, noise 0.3, lr 0.1"
contains out.txt "layer 2/2 fc2 (12 -> 8, sigmoid decoder)"

# What it cannot do, and bad flags: one line each.
one_line() { [ "$(wc -l <err.txt)" -eq 1 ] || fail "not one line: $(cat err.txt)"; }
net flat.cfg "
[dense]
name = out
units = 3"
run 3 pretrain flat.cfg --save x.safetensors
contains err.txt "nerve: pretrain: no hidden layer to pre-train: 'out' is the output layer, which stays as initialised"
one_line
net bn.cfg "
[dense]
name = fc1
units = 8

[batchnorm]
name = bn

[dense]
name = out
units = 3"
run 3 pretrain bn.cfg --save x.safetensors
contains err.txt "layer 'bn' is a [batchnorm]: only [dense] layers can be pre-trained"
one_line
run 2 pretrain deep.cfg
contains err.txt "nerve pretrain: --save W is required"
one_line
run 2 pretrain deep.cfg --save x.safetensors --noise 1
contains err.txt "--noise must be below 1, got 1"
one_line
run 2 pretrain deep.cfg --save x.safetensors --epochs 0
contains err.txt "--epochs"
one_line
run 2 pretrain deep.cfg --save x.safetensors --steps 3
contains err.txt "--steps"
one_line
[ -e x.safetensors ] && fail "a failed pretrain wrote x.safetensors"

[ "$failures" -eq 0 ] || exit 1
echo "cli_pretrain: ok (reconstruction MSE $(tr '\n' ' ' <mse.txt); fine-tuned accuracy $accuracy)"
